//! Understanding without a model: deterministic parsers that turn one free Chinese reply of a
//! resident into the value of the one field the flow asked for.
//!
//! Every parser is pure (no I/O, no clock: "today" is passed in), never panics, and answers
//! with [`Parsed`]: a single value, several readings it cannot choose between, or nothing.
//! Text is normalised once per call ([`normalize`]: full-width ASCII to ASCII, so `３月５号` and
//! `？` read like `3月5号` and `?`). Corrections inside one reply ("不是3800，是4200") are read
//! by their corrected part ([`correction_tail`]), which every value parser applies first.

pub mod acts;
pub mod amounts;
pub mod choice;
pub mod dates;
pub mod ids;
pub mod numerals;
pub mod yesno;

pub use acts::{Act, classify};
pub use amounts::parse_amount;
pub use choice::{Choice, free_text, match_choice, option_set};
pub use dates::{DateLike, YearMonth, parse_date, parse_date_like, parse_month};
pub use ids::{find_id_number, find_mobile, find_name};
pub use yesno::parse_yes_no;

use std::borrow::Cow;

/// Outcome of parsing one field from one utterance.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<T> {
    /// Exactly one reading.
    Value(T),
    /// Several readings (in the order they appear in the text); the flow should ask back.
    Ambiguous(Vec<T>),
    /// The utterance does not answer this field.
    Nothing,
}

impl<T> Parsed<T> {
    /// The single value, if there is one.
    pub fn value(self) -> Option<T> {
        match self {
            Parsed::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Whether nothing was understood.
    pub fn is_nothing(&self) -> bool {
        matches!(self, Parsed::Nothing)
    }

    /// Maps the value(s).
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Parsed<U> {
        match self {
            Parsed::Value(v) => Parsed::Value(f(v)),
            Parsed::Ambiguous(vs) => Parsed::Ambiguous(vs.into_iter().map(f).collect()),
            Parsed::Nothing => Parsed::Nothing,
        }
    }
}

impl<T: PartialEq> Parsed<T> {
    /// Builds the outcome of a list of candidates: none, one, or several distinct ones.
    pub fn from_candidates(mut cands: Vec<T>) -> Parsed<T> {
        let mut uniq: Vec<T> = Vec::with_capacity(cands.len());
        for c in cands.drain(..) {
            if !uniq.contains(&c) {
                uniq.push(c);
            }
        }
        match uniq.len() {
            0 => Parsed::Nothing,
            1 => Parsed::Value(uniq.remove(0)),
            _ => Parsed::Ambiguous(uniq),
        }
    }
}

/// Full-width ASCII (`０-９`, `Ａ-Ｚ`, `，？：`) to ASCII and the ideographic space to a space;
/// borrows when there is nothing to change, which is the common case for typed digits.
pub fn normalize(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| ('\u{FF01}'..='\u{FF5E}').contains(&c) || c == '\u{3000}')
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                _ => c,
            })
            .collect(),
    )
}

/// Markers after which a resident restates a value they got wrong, longest first so `说错了`
/// wins over `错了`.
const CORRECTION_MARKERS: &[&str] = &[
    "刚才说错了",
    "我说错了",
    "说错了",
    "搞错了",
    "写错了",
    "填错了",
    "弄错了",
    "打错了",
    "记错了",
    "更正一下",
    "更正",
    "改一下",
    "改成",
    "改为",
    "应该是",
    "其实是",
    "不对",
    "错了",
];

/// The part of `text` that carries the corrected value, if the text corrects itself:
/// `不是3800，是4200` → `4200`, `不对，失业时间是三月五号` → `失业时间是三月五号`… `三月五号`
/// stays for the value parsers to find. Returns the whole text when there is no correction.
pub fn correction_tail(text: &str) -> &str {
    // 不是X(，)是Y / 不是X而是Y: the value is Y.
    if let Some(p) = text.find("不是") {
        let after = &text[p + "不是".len()..];
        let rel = after.find("而是").map(|q| q + "而是".len()).or_else(|| {
            // The restating 是 comes after a pause or straight after the wrong value.
            after.char_indices().find_map(|(i, c)| {
                if c == '是' && i > 0 {
                    Some(i + '是'.len_utf8())
                } else {
                    None
                }
            })
        });
        if let Some(rel) = rel {
            let tail = &after[rel..];
            if tail.chars().any(|c| !is_pause(c)) {
                return tail;
            }
        }
    }
    let mut best: Option<usize> = None;
    for m in CORRECTION_MARKERS {
        if let Some(p) = text.rfind(m) {
            let end = p + m.len();
            if best.is_none_or(|b| end > b) {
                best = Some(end);
            }
        }
    }
    if let Some(end) = best {
        let tail = &text[end..];
        if tail.chars().any(|c| !is_pause(c)) {
            return tail;
        }
    }
    text
}

/// Punctuation and spaces that only pause a sentence.
pub(crate) fn is_pause(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | '.'
                | '!'
                | '?'
                | ';'
                | ':'
                | '，'
                | '。'
                | '！'
                | '？'
                | '；'
                | '：'
                | '、'
                | '~'
                | '…'
                | '"'
                | '\''
                | '“'
                | '”'
                | '‘'
                | '’'
                | '('
                | ')'
                | '（'
                | '）'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_full_width() {
        assert_eq!(normalize("３月５号？"), "3月5号?");
        assert!(matches!(normalize("3月5号"), Cow::Borrowed(_)));
    }

    #[test]
    fn finds_the_corrected_part() {
        assert_eq!(correction_tail("不是3800，是4200"), "4200");
        assert_eq!(correction_tail("不是3800而是4200"), "4200");
        assert_eq!(correction_tail("刚才说错了，是4200"), "，是4200");
        assert_eq!(correction_tail("五千二"), "五千二");
        assert_eq!(correction_tail("不是"), "不是");
    }
}
