//! Decoding text files: UTF-8 (with or without BOM), else GB18030; binaries refused.

use crate::error::{Error, Result};

/// Share of control / replacement characters above which bytes are not text.
const MAX_JUNK_RATIO: f64 = 0.01;

fn junk_ratio(s: &str) -> f64 {
    let total = s.chars().count().max(1);
    let junk = s
        .chars()
        .filter(|&c| {
            c == '\u{fffd}' || (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        })
        .count();
    junk as f64 / total as f64
}

/// Decodes file bytes: strips a UTF-8 BOM, accepts valid UTF-8 (and UTF-16 with a
/// BOM), falls back to GB18030, and refuses bytes that decode to junk.
///
/// # Errors
/// [`Error::Empty`] for empty or blank files, [`Error::NotText`] for binaries.
pub fn decode_text(bytes: &[u8]) -> Result<String> {
    if bytes.contains(&0) && !(bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]))
    {
        return Err(Error::NotText);
    }
    let (text, had_errors) = if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        (
            String::from_utf8_lossy(rest).into_owned(),
            std::str::from_utf8(rest).is_err(),
        )
    } else if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        let (cow, _, err) = encoding_rs::UTF_16LE.decode(bytes);
        (cow.into_owned(), err)
    } else {
        match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_string(), false),
            Err(_) => {
                let (cow, _, err) = encoding_rs::GB18030.decode(bytes);
                (cow.into_owned(), err)
            }
        }
    };
    if text.trim().is_empty() {
        return Err(Error::Empty);
    }
    if had_errors && junk_ratio(&text) > MAX_JUNK_RATIO || junk_ratio(&text) > MAX_JUNK_RATIO {
        return Err(Error::NotText);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(decode_text("上海市".as_bytes()).unwrap(), "上海市");
        let mut bom = vec![0xef, 0xbb, 0xbf];
        bom.extend_from_slice("第一条".as_bytes());
        assert_eq!(decode_text(&bom).unwrap(), "第一条");
        let (gb, _, _) =
            encoding_rs::GB18030.encode("上海市人力资源和社会保障局关于失业登记的通知");
        assert_eq!(
            decode_text(&gb).unwrap(),
            "上海市人力资源和社会保障局关于失业登记的通知"
        );
    }

    #[test]
    fn binary_and_empty_are_refused() {
        let bin: Vec<u8> = (0..2048u32).map(|i| (i * 7 % 256) as u8).collect();
        assert!(matches!(decode_text(&bin), Err(Error::NotText)));
        assert!(matches!(decode_text(b""), Err(Error::Empty)));
        assert!(matches!(decode_text(b"  \n "), Err(Error::Empty)));
    }
}
