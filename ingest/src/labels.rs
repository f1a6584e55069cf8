//! Recognising numbering labels at the start of a line: 第X编/章/节/条 and the notice
//! numbering 一、 / （一） / 1. / （1）.

use std::sync::LazyLock;

use regex::Regex;

use crate::numerals::parse_chinese_number;
use crate::re;

/// The kind of a numbering label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LabelKind {
    /// 第X编
    Part,
    /// 第X章
    Chapter,
    /// 第X节
    Section,
    /// 第X条
    Article,
    /// 一、
    Top,
    /// （一）
    Sub,
    /// 1.
    Arabic,
    /// （1）
    ParenArabic,
}

/// A label found at the start of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// What sort of label.
    pub kind: LabelKind,
    /// Its number (第十一条 → 11; 之一 suffixes keep the base number).
    pub number: u64,
    /// The label exactly as printed, trimmed (`第十一条`, `二、`, `（一）`).
    pub text: String,
    /// Byte length of the label in the line (including the separator for 一、).
    pub len: usize,
    /// Whether the label carries a 之一/之二 suffix (inserted articles).
    pub inserted: bool,
}

static ZHANG_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^第\s*([一二三四五六七八九十百千零〇两0-9]+)\s*([编章节条])(之[一二三四五六七八九十]+)?")
});
static TOP_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^([一二三四五六七八九十]{1,3})\s*[、．]"));
static SUB_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[（(]\s*([一二三四五六七八九十]{1,3})\s*[）)]"));
static ARABIC_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d{1,2})\s*[\.．、]"));
static PAREN_ARABIC_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^[（(]\s*(\d{1,2})\s*[）)]"));

/// Parses the numbering label at the start of `line` (after leading whitespace).
pub fn parse_label(line: &str) -> Option<Label> {
    let t = line.trim_start();
    let offset = line.len() - t.len();
    if let Some(c) = ZHANG_RE.captures(t) {
        let all = c.get(0)?;
        let number = parse_chinese_number(c.get(1)?.as_str())?;
        let kind = match c.get(2)?.as_str() {
            "编" => LabelKind::Part,
            "章" => LabelKind::Chapter,
            "节" => LabelKind::Section,
            _ => LabelKind::Article,
        };
        let text: String = all
            .as_str()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        return Some(Label {
            kind,
            number,
            text,
            len: offset + all.end(),
            inserted: c.get(3).is_some(),
        });
    }
    let simple = |re: &Regex, kind: LabelKind| -> Option<Label> {
        let c = re.captures(t)?;
        let all = c.get(0)?;
        let n = c.get(1)?.as_str();
        let number = if n.chars().all(|c| c.is_ascii_digit()) {
            n.parse().ok()?
        } else {
            parse_chinese_number(n)?
        };
        // A decimal number ("1.5倍") is not a list label.
        if kind == LabelKind::Arabic
            && all.as_str().ends_with('.')
            && t[all.end()..].starts_with(|c: char| c.is_ascii_digit())
        {
            return None;
        }
        let text: String = all
            .as_str()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let text = text.replace('(', "（").replace(')', "）");
        Some(Label {
            kind,
            number,
            text,
            len: offset + all.end(),
            inserted: false,
        })
    };
    simple(&TOP_RE, LabelKind::Top)
        .or_else(|| simple(&SUB_RE, LabelKind::Sub))
        .or_else(|| simple(&PAREN_ARABIC_RE, LabelKind::ParenArabic))
        .or_else(|| simple(&ARABIC_RE, LabelKind::Arabic))
}

/// Whether a line opens a structural unit (label, 附件 heading, markdown heading),
/// so a hard line break before it must be kept.
pub fn starts_structure(line: &str) -> bool {
    let t = line.trim_start();
    parse_label(t).is_some() || t.starts_with('#') || t.starts_with("附件") || t.starts_with("附：")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn article_labels() {
        let l = parse_label("第十一条　申领人应当……").unwrap();
        assert_eq!(
            (l.kind, l.number, l.text.as_str()),
            (LabelKind::Article, 11, "第十一条")
        );
        let l = parse_label("第 3 条 内容").unwrap();
        assert_eq!(
            (l.kind, l.number, l.text.as_str()),
            (LabelKind::Article, 3, "第3条")
        );
        let l = parse_label("第二章 申领条件").unwrap();
        assert_eq!((l.kind, l.number), (LabelKind::Chapter, 2));
        let l = parse_label("第一节 一般规定").unwrap();
        assert_eq!(l.kind, LabelKind::Section);
        let l = parse_label("第十条之一 新增条款").unwrap();
        assert!(l.inserted);
        assert_eq!(l.number, 10);
    }

    #[test]
    fn notice_labels() {
        assert_eq!(parse_label("二、申领条件").unwrap().kind, LabelKind::Top);
        let s = parse_label("（三）其他情形").unwrap();
        assert_eq!(
            (s.kind, s.number, s.text.as_str()),
            (LabelKind::Sub, 3, "（三）")
        );
        assert_eq!(parse_label("(三)其他情形").unwrap().text, "（三）");
        assert_eq!(parse_label("2. 携带材料").unwrap().kind, LabelKind::Arabic);
        assert_eq!(
            parse_label("（2）原件").unwrap().kind,
            LabelKind::ParenArabic
        );
        assert!(parse_label("1.5倍计发").is_none());
        assert!(parse_label("本办法").is_none());
        assert!(parse_label("第一次申领").is_none());
    }

    proptest! {
        #[test]
        fn article_numbers_round_trip(n in 1u64..500) {
            let line = format!("第{}条　内容", crate::numerals::to_chinese_number(n));
            let l = parse_label(&line).unwrap();
            prop_assert_eq!(l.kind, LabelKind::Article);
            prop_assert_eq!(l.number, n);
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = parse_label(&s);
        }
    }
}
