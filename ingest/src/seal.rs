//! Red seals lifted off a scanned page before OCR.
//!
//! A 公文's 印章 is stamped in red over the 落款: the issuer and the 成文 date under it
//! are exactly what metadata needs, and tesseract reads the overlap as noise
//! ("2026年各/月20日"). Black text stays dark in every channel, a seal is bright in red
//! and dark in green and blue, so whitening the pixels that are clearly red leaves
//! the text beneath readable. Grey and black pages pass through untouched.

use std::io::{BufReader, BufWriter};
use std::path::Path;

use png::{BitDepth, ColorType, Transformations};

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

/// Writes a copy of the PNG at `src` to `dst` with seal-red pixels turned white.
/// Returns `Ok(false)` (and writes nothing) when the image is not in colour or has
/// no red in it: the caller then OCRs the original.
///
/// # Errors
/// [`Error::ToolFailed`] when the PNG cannot be decoded or written, I/O errors.
pub fn lift_seals(src: &Path, dst: &Path) -> Result<bool> {
    let mut decoder = png::Decoder::new(BufReader::new(std::fs::File::open(src)?));
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| png_error("图像过大"))?;
    let mut buf = vec![0; size];
    let info = reader.next_frame(&mut buf).map_err(png_error)?;
    buf.truncate(info.buffer_size());
    let channels = match info.color_type {
        ColorType::Rgb => 3,
        ColorType::Rgba => 4,
        _ => return Ok(false),
    };
    let mut changed = 0usize;
    for px in buf.chunks_exact_mut(channels) {
        if is_seal_red(px[0], px[1], px[2]) {
            px[..3].fill(255);
            changed += 1;
        }
    }
    if changed == 0 {
        return Ok(false);
    }
    let out = BufWriter::new(std::fs::File::create(dst)?);
    let mut enc = png::Encoder::new(out, info.width, info.height);
    enc.set_color(info.color_type);
    enc.set_depth(BitDepth::Eight);
    let mut writer = enc.write_header().map_err(png_error)?;
    writer.write_image_data(&buf).map_err(png_error)?;
    writer.finish().map_err(png_error)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let dec = png::Decoder::new(BufReader::new(std::fs::File::open(path).unwrap()));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        buf
    }

    #[test]
    fn red_is_lifted_black_and_paper_stay() {
        let dir = tempfile::tempdir().unwrap();
        let (src, dst) = (dir.path().join("a.png"), dir.path().join("b.png"));
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
