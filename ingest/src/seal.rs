//! Red seals lifted off a scanned page before OCR.
//!
//! A 公文's 印章 is stamped in red over the 落款: the issuer and the 成文 date under it
//! are exactly what metadata needs, and tesseract reads the overlap as noise
//! ("2026年各/月20日"). Black text stays dark in every channel, a seal is bright in red
//! and dark in green and blue, so whitening the pixels that are clearly red leaves
//! the text beneath readable. Grey and black pages pass through untouched.

use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

use png::{ColorType, Transformations};

use crate::error::{Error, Result};

/// Whether an RGB pixel belongs to a red seal (or red ink) rather than black text.
fn is_seal_red(r: u8, g: u8, b: u8) -> bool {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    r >= 110 && r - g >= 45 && r - b >= 45
}

fn png_error(e: impl std::fmt::Display) -> Error {
    Error::ToolFailed {
        tool: "png",
        message: e.to_string(),
    }
}

/// An 8-bit RGB raster.
struct Rgb {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

fn read_png(src: &Path) -> Result<Option<Rgb>> {
    let mut decoder = png::Decoder::new(BufReader::new(std::fs::File::open(src)?));
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| png_error("图像过大"))?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(png_error)?;
    buf.truncate(info.buffer_size());
    let pixels = match info.color_type {
        ColorType::Rgb => buf,
        ColorType::Rgba => buf
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        _ => return Ok(None),
    };
    Ok(Some(Rgb {
        width: info.width,
        height: info.height,
        pixels,
    }))
}

/// Reads a binary PPM (`P6`, maxval 255), the raster `pdftoppm` writes by default.
fn read_ppm(src: &Path) -> Result<Option<Rgb>> {
    let bytes = std::fs::read(src)?;
    let bad = || png_error("PPM 文件头无法解析");
    if !bytes.starts_with(b"P6") {
        return Ok(None);
    }
    // Three numbers after the magic, blanks and `#` comments between them, then
    // exactly one blank before the raster.
    let mut at = 2;
    let mut fields = [0u64; 3];
    for field in &mut fields {
        loop {
            match bytes.get(at) {
                Some(b'#') => {
                    while bytes.get(at).is_some_and(|b| *b != b'\n') {
                        at += 1;
                    }
                }
                Some(b) if b.is_ascii_whitespace() => at += 1,
                Some(_) => break,
                None => return Err(bad()),
            }
        }
        let start = at;
        while bytes.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        *field = std::str::from_utf8(&bytes[start..at])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(bad)?;
    }
    let [width, height, maxval] = fields;
    if maxval != 255 || !bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let data = &bytes[at + 1..];
    let need = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(3))
        .ok_or_else(bad)?;
    if (data.len() as u64) < need {
        return Err(bad());
    }
    Ok(Some(Rgb {
        width: u32::try_from(width).map_err(|_| bad())?,
        height: u32::try_from(height).map_err(|_| bad())?,
        pixels: data[..need as usize].to_vec(),
    }))
}

/// Writes a copy of the PNG or PPM at `src` to `dst` (as PPM, which tesseract reads and
/// which costs no compression) with seal-red pixels turned white. Returns `Ok(false)`
/// (and writes nothing) when the image is not in colour or has no red in it: the caller
/// then OCRs the original.
///
/// # Errors
/// [`Error::ToolFailed`] when the image cannot be decoded, I/O errors.
pub fn lift_seals(src: &Path, dst: &Path) -> Result<bool> {
    let is_ppm = src
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ppm"));
    let image = if is_ppm {
        read_ppm(src)?
    } else {
        read_png(src)?
    };
    let Some(mut image) = image else {
        return Ok(false);
    };
    let mut changed = 0usize;
    for px in image.pixels.chunks_exact_mut(3) {
        if is_seal_red(px[0], px[1], px[2]) {
            px.fill(255);
            changed += 1;
        }
    }
    if changed == 0 {
        return Ok(false);
    }
    let mut out = BufWriter::new(std::fs::File::create(dst)?);
    write!(out, "P6\n{} {}\n255\n", image.width, image.height)?;
    out.write_all(&image.pixels)?;
    out.flush()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    use png::BitDepth;

    fn write_rgb(path: &Path, w: u32, h: u32, px: &[u8]) {
        let out = BufWriter::new(std::fs::File::create(path).unwrap());
        let mut enc = png::Encoder::new(out, w, h);
        enc.set_color(ColorType::Rgb);
        enc.set_depth(BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(px).unwrap();
        wr.finish().unwrap();
    }

    fn read_rgb(path: &Path) -> Vec<u8> {
        read_ppm(path).unwrap().unwrap().pixels
    }

    #[test]
    fn red_is_lifted_black_and_paper_stay() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a.png"), dir.path().join("b.ppm"));
        // black text, seal red, aged paper, dark red where seal ink covers text
        let px = [20, 20, 20, 200, 40, 40, 235, 225, 205, 90, 10, 10];
        write_rgb(&src, 4, 1, &px);
        assert!(lift_seals(&src, &dst).unwrap());
        assert_eq!(
            read_rgb(&dst),
            vec![20, 20, 20, 255, 255, 255, 235, 225, 205, 90, 10, 10]
        );
    }

    #[test]
    fn a_ppm_page_is_read_with_its_comment() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a.ppm"), dir.path().join("b.ppm"));
        let mut bytes = b"P6\n# pdftoppm\n2 1\n255\n".to_vec();
        bytes.extend([200, 40, 40, 20, 20, 20]);
        std::fs::write(&src, bytes).unwrap();
        assert!(lift_seals(&src, &dst).unwrap());
        assert_eq!(read_rgb(&dst), vec![255, 255, 255, 20, 20, 20]);
        // A raster shorter than its header says is an error, not a panic.
        std::fs::write(&src, b"P6 4 4 255\n\x01\x02").unwrap();
        assert!(lift_seals(&src, &dst).is_err());
    }

    #[test]
    fn a_page_without_red_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a.png"), dir.path().join("b.png"));
        write_rgb(&src, 2, 1, &[20, 20, 20, 240, 240, 240]);
        assert!(!lift_seals(&src, &dst).unwrap());
        assert!(!dst.exists());
    }

    #[test]
    fn a_broken_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("a.png");
        std::fs::write(&src, b"not a png").unwrap();
        assert!(lift_seals(&src, &dir.path().join("b.png")).is_err());
    }
}
