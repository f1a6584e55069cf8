//! PII detection in free text: resident IDs, legacy IDs, mobiles, landlines, bank cards and
//! unified social credit codes.
//!
//! The text is NFKC-normalised (full-width digits become ASCII) and digit groups separated by
//! spaces or hyphens are joined before the checks; spans are reported in byte offsets of the
//! ORIGINAL text, so callers can cut and replace without re-normalising. Names and addresses
//! need a tool schema (or NER) and are not detected here.

use chrono::{Datelike, NaiveDate};
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroizing;

use crate::token::PiiKind;

/// One PII value found in a text.
pub struct Detection {
    /// What it is.
    pub kind: PiiKind,
    /// Start byte offset in the original text.
    pub start: usize,
    /// End byte offset in the original text (exclusive).
    pub end: usize,
    /// The normalised value (ASCII digits, separators removed, `X` upper-case); wiped on drop.
    pub value: Zeroizing<String>,
}

impl std::fmt::Debug for Detection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detection")
            .field("kind", &self.kind)
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

/// A normalised character and the byte range of the original character it came from.
#[derive(Clone, Copy)]
struct NChar {
    c: char,
    start: usize,
    end: usize,
}

struct Run {
    digits: String,
    first: usize,
    last: usize,
    has_x: bool,
    /// Part of a hyphenated code that starts with letters (`SL-310117-20240102-2301`): such
    /// digits are a case or file number, and their groups can join into a string that passes
    /// the ID or Luhn check by chance.
    code: bool,
}

const MAX_GAP: usize = 3;

/// Finds PII in `text`; results are ordered and non-overlapping.
pub fn detect(text: &str) -> Vec<Detection> {
    let chars = normalise(text);
    let mut consumed = vec![false; chars.len()];
    let mut found = credit_codes(&chars, &mut consumed);
    let runs = digit_runs(&chars, &consumed);

    let mut i = 0;
    while i < runs.len() {
        // The chain of runs linked to run i by short separator gaps.
        let mut chain_end = i;
        while chain_end + 1 < runs.len()
            && !runs[chain_end].has_x
            && linkable(&chars, &runs[chain_end], &runs[chain_end + 1])
        {
            chain_end += 1;
        }
        let mut k = i;
        while k <= chain_end {
            // Code runs are a prefix of their chain (a code run follows only a letter or another
            // code run), so a group that starts after them never contains one.
            if runs[k].code {
                k += 1;
                continue;
            }
            let mut matched = false;
            // Every run holds at least one digit and a match has at most 19, so at most 19 runs.
            for j in (k..=chain_end.min(k + 18)).rev() {
                let group = &runs[k..=j];
                let total: usize = group.iter().map(|r| r.digits.len()).sum();
                if total > 19 {
                    continue;
                }
                let joined: String = group.iter().map(|r| r.digits.as_str()).collect();
                let joined = Zeroizing::new(joined);
                if let Some(kind) = classify(&joined, group) {
                    let first = group[0].first;
                    let last = group[group.len() - 1].last;
                    let mut start = chars[first].start;
                    if kind == PiiKind::Landline && first > 0 && chars[first - 1].c == '(' {
                        start = chars[first - 1].start;
                    }
                    found.push(Detection {
                        kind,
                        start,
                        end: chars[last].end,
                        value: joined,
                    });
                    k = j + 1;
                    matched = true;
                    break;
                }
            }
            if !matched {
                k += 1;
            }
        }
        i = chain_end + 1;
    }
    found.sort_by_key(|d| d.start);
    found
}

fn normalise(text: &str) -> Vec<NChar> {
    let mut out = Vec::with_capacity(text.len());
    for (start, ch) in text.char_indices() {
        let end = start + ch.len_utf8();
        if ch.is_ascii() {
            out.push(NChar { c: ch, start, end });
        } else {
            for c in std::iter::once(ch).nfkc() {
                out.push(NChar { c, start, end });
            }
        }
    }
    out
}

fn is_hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}'
    )
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || is_hyphen(c) || matches!(c, '(' | ')')
}

/// Whether the run starting at `first` continues a lettered code: `SL-310117` (letters, then
/// hyphens), or `-20240102` right after a run that already does (hyphens only, no spaces, so
/// a phone written after a case number with a space is still found).
fn continues_code(chars: &[NChar], first: usize, prev: Option<&Run>) -> bool {
    let mut j = first;
    while j > 0 && first - j < MAX_GAP && is_hyphen(chars[j - 1].c) {
        j -= 1;
    }
    if j == first {
        return false;
    }
    match prev {
        Some(p) if p.last + 1 == j => p.code,
        _ => j > 0 && chars[j - 1].c.is_ascii_alphabetic(),
    }
}

/// The length of an international prefix glued to a mobile: `+86` or `0086` and then exactly
/// 11 digits of a mainland mobile (`+8613812345678`). The prefix stays out of the span, since
/// it is not personal, and the value is the national number.
fn country_prefix(chars: &[NChar], first: usize, digits: &str) -> usize {
    let plus = first > 0 && chars[first - 1].c == '+';
    if digits.len() == 13 && digits.starts_with("86") && plus && is_mobile(&digits[2..]) {
        2
    } else if digits.len() == 15 && digits.starts_with("0086") && is_mobile(&digits[4..]) {
        4
    } else {
        0
    }
}

fn linkable(chars: &[NChar], a: &Run, b: &Run) -> bool {
    let gap = b.first.saturating_sub(a.last + 1);
    (1..=MAX_GAP).contains(&gap) && chars[a.last + 1..b.first].iter().all(|n| is_separator(n.c))
}

/// Maximal ASCII digit runs not already claimed, with an ID check character `X` attached.
fn digit_runs(chars: &[NChar], consumed: &[bool]) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].c.is_ascii_digit() || consumed[i] {
            i += 1;
            continue;
        }
        let mut first = i;
        let mut digits = String::new();
        while i < chars.len() && chars[i].c.is_ascii_digit() && !consumed[i] {
            digits.push(chars[i].c);
            i += 1;
        }
        let code = continues_code(chars, first, runs.last());
        let prefix = country_prefix(chars, first, &digits);
        if prefix > 0 {
            first += prefix;
            digits.drain(..prefix);
        }
        let mut last = i - 1;
        let mut has_x = false;
        if i < chars.len()
            && matches!(chars[i].c, 'X' | 'x')
            && !consumed[i]
            && chars
                .get(i + 1)
                .is_none_or(|n| !n.c.is_ascii_alphanumeric())
        {
            digits.push('X');
            last = i;
            has_x = true;
            i += 1;
        }
        runs.push(Run {
            digits,
            first,
            last,
            has_x,
            code,
        });
    }
    runs
}

fn classify(s: &str, group: &[Run]) -> Option<PiiKind> {
    let all_digits = s.bytes().all(|b| b.is_ascii_digit());
    match s.len() {
        18 if is_resident_id(s) => return Some(PiiKind::IdCard),
        15 if all_digits && is_legacy_id(s) => return Some(PiiKind::LegacyIdCard),
        11 if all_digits && is_mobile(s) => return Some(PiiKind::Mobile),
        _ => {}
    }
    if !all_digits {
        return None;
    }
    if (16..=19).contains(&s.len()) && luhn_valid(s) {
        return Some(PiiKind::BankCard);
    }
    if is_landline(s, group) {
        return Some(PiiKind::Landline);
    }
    None
}

/// GB 11643 check: 17 digits + check character over weights 2^(17-i) mod 11, and a real
/// birth date between 1900 and today.
pub fn is_resident_id(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return false;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17]
        .iter()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    if b[17].to_ascii_uppercase() != check {
        return false;
    }
    real_birth_date(&s[6..10], &s[10..12], &s[12..14])
}

/// The check character a 17-digit body needs (for generating synthetic test IDs).
pub fn resident_id_check_char(body17: &str) -> Option<char> {
    let b = body17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b.iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    Some(char::from(b"10X98765432"[(sum % 11) as usize]))
}

/// 15-digit first-generation ID: six-digit region, YYMMDD birth date (19YY), three-digit sequence.
pub fn is_legacy_id(s: &str) -> bool {
    s.len() == 15
        && s.bytes().all(|b| b.is_ascii_digit())
        && !s.starts_with('0')
        && real_birth_date(&format!("19{}", &s[6..8]), &s[8..10], &s[10..12])
}

fn real_birth_date(y: &str, m: &str, d: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return false;
    };
    let today = chrono::Utc::now().date_naive();
    (1900..=today.year()).contains(&y)
        && NaiveDate::from_ymd_opt(y, m, d).is_some_and(|date| date <= today)
}

/// Mainland mobile: 11 digits, `1[3-9]` prefix.
pub fn is_mobile(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
}

/// Landline with area code: `010`/`02x` + 8 digits, or a 4-digit `0xxx` + 7–8 digits. When the
/// number came in groups, the first group must be exactly the area code.
fn is_landline(s: &str, group: &[Run]) -> bool {
    let b = s.as_bytes();
    if b.len() < 10 || b[0] != b'0' || b[1] == b'0' {
        return false;
    }
    let area_len = if matches!(b[1], b'1' | b'2') { 3 } else { 4 };
    if group.len() > 1 && group[0].digits.len() != area_len {
        return false;
    }
    let subscriber = &b[area_len..];
    let ok_len = if area_len == 3 {
        subscriber.len() == 8
    } else {
        matches!(subscriber.len(), 7 | 8)
    };
    ok_len && (b'2'..=b'9').contains(&subscriber[0])
}

/// Luhn (mod 10) check over an all-digit string.
pub fn luhn_valid(s: &str) -> bool {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = s
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

const CREDIT_CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100 unified social credit code: 18 characters from the 31-symbol set (no I, O, Z, S, V)
/// with check character 31 - (Σ c_i·3^(i-1) mod 31) mod 31.
pub fn is_credit_code(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let mut values = [0u32; 18];
    for (i, c) in b.iter().enumerate() {
        match CREDIT_CHARSET
            .iter()
            .position(|x| x == &c.to_ascii_uppercase())
        {
            Some(v) => values[i] = v as u32,
            None => return false,
        }
    }
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: u32 = values[..17].iter().zip(W).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    values[17] == check
}

/// The check character for a 17-character credit-code body (for synthetic test data).
pub fn credit_code_check_char(body17: &str) -> Option<char> {
    let b = body17.as_bytes();
    if b.len() != 17 {
        return None;
    }
    const W: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut sum = 0u32;
    for (c, w) in b.iter().zip(W) {
        sum += CREDIT_CHARSET.iter().position(|x| x == c)? as u32 * w;
    }
    Some(char::from(CREDIT_CHARSET[((31 - sum % 31) % 31) as usize]))
}

/// Credit codes: whole ASCII-alphanumeric words of 18 characters that pass GB 32100 and are not
/// also a valid resident ID (all-digit codes can collide; the ID reading wins).
fn credit_codes(chars: &[NChar], consumed: &mut [bool]) -> Vec<Detection> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].c.is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let first = i;
        while i < chars.len() && chars[i].c.is_ascii_alphanumeric() {
            i += 1;
        }
        if i - first == 18 {
            let word: String = chars[first..i]
                .iter()
                .map(|n| n.c.to_ascii_uppercase())
                .collect();
            let word = Zeroizing::new(word);
            // A word that is also a valid resident ID (possible: digits and X are in the
            // GB 32100 alphabet) is left for the ID check.
            if is_credit_code(&word) && !is_resident_id(&word) {
                for c in consumed.iter_mut().take(i).skip(first) {
                    *c = true;
                }
                out.push(Detection {
                    kind: PiiKind::CreditCode,
                    start: chars[first].start,
                    end: chars[i - 1].end,
                    value: word,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Synthetic IDs (fictional people), valid by the GB 11643 checksum.
    const ID_A: &str = "11010519491231002X";
    const ID_B: &str = "110101199003074514";

    fn kinds(text: &str) -> Vec<(PiiKind, String, String)> {
        detect(text)
            .into_iter()
            .map(|d| {
                (
                    d.kind,
                    text[d.start..d.end].to_string(),
                    d.value.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn id_checksum_and_date() {
        assert!(is_resident_id(ID_A));
        assert!(is_resident_id(ID_B));
        assert!(is_resident_id(&ID_A.to_lowercase()));
        assert!(!is_resident_id("110101199003074515"));
        // Right checksum but 30 February.
        let body = "11010119900230123";
        let bad_date = format!("{body}{}", resident_id_check_char(body).unwrap());
        assert!(!is_resident_id(&bad_date));
        let future = "11010130000101123";
        assert!(!is_resident_id(&format!(
            "{future}{}",
            resident_id_check_char(future).unwrap()
        )));
        assert!(is_legacy_id("110105491231002"));
        assert!(!is_legacy_id("110105491331002"));
    }

    #[test]
    fn credit_code_and_luhn() {
        let body = "91310000MA1K4AB0C";
        let code = format!("{body}{}", credit_code_check_char(body).unwrap());
        assert!(is_credit_code(&code));
        let mut wrong = code.clone().into_bytes();
        wrong[17] = if wrong[17] == b'1' { b'2' } else { b'1' };
        assert!(!is_credit_code(std::str::from_utf8(&wrong).unwrap()));
        assert!(!is_credit_code("91310000MA1K4AB0CI"));
        assert!(luhn_valid("4111111111111111"));
        assert!(!luhn_valid("4111111111111112"));
    }

    #[test]
    fn finds_each_kind_with_original_offsets() {
        let body = "91310000MA1K4AB0C";
        let code = format!("{body}{}", credit_code_check_char(body).unwrap());
        let text = format!(
            "申请人身份证{ID_A}，手机 138 1234 5678，座机(021)6234-5678，杭州 0571-88886666，\
             卡号 4111-1111-1111-1111，单位代码{code}，老证 110105491231002。"
        );
        let got = kinds(&text);
        let want = vec![
            (PiiKind::IdCard, ID_A.to_string(), ID_A.to_string()),
            (
                PiiKind::Mobile,
                "138 1234 5678".into(),
                "13812345678".into(),
            ),
            (
                PiiKind::Landline,
                "(021)6234-5678".into(),
                "02162345678".into(),
            ),
            (
                PiiKind::Landline,
                "0571-88886666".into(),
                "057188886666".into(),
            ),
            (
                PiiKind::BankCard,
                "4111-1111-1111-1111".into(),
                "4111111111111111".into(),
            ),
            (PiiKind::CreditCode, code.clone(), code.clone()),
            (
                PiiKind::LegacyIdCard,
                "110105491231002".into(),
                "110105491231002".into(),
            ),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn full_width_digits_map_back_to_original_bytes() {
        let fw: String = ID_B
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
            .collect();
        let text = format!("证件：{fw}。电话：１３９－１２３４－５６７８");
        let got = kinds(&text);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (PiiKind::IdCard, fw.clone(), ID_B.to_string()));
        assert_eq!(got[1].0, PiiKind::Mobile);
        assert_eq!(got[1].1, "１３９－１２３４－５６７８");
        assert_eq!(got[1].2, "13912345678");
    }

    #[test]
    fn leaves_ordinary_numbers_alone() {
        for text in [
            "2024-01-15 申请，编号 12 号",
            "金额 12345678 元",
            "电话 1381234567（少一位）",
            "流水号 138123456789",
            "ID 110101199003074515 校验位错误",
            "第 3 页 共 7 页",
        ] {
            assert!(detect(text).is_empty(), "{text}: {:?}", kinds(text));
        }
    }

    #[test]
    fn adjacent_groups_do_not_swallow_a_neighbouring_number() {
        let got = kinds("共 3 人 12 13812345678");
        assert_eq!(
            got,
            vec![(PiiKind::Mobile, "13812345678".into(), "13812345678".into())]
        );
        let got = kinds(&format!("{ID_B} 13812345678"));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn lettered_case_numbers_are_codes_not_ids_or_cards() {
        // The generator's case numbers are built so their digits pass a check by chance:
        // 310117-20240102-2301 passes Luhn, and a body with its GB 11643 check char passes
        // as an ID born on 2024-01-02.
        let body = "31011720240102230";
        let id_like = format!("{body}{}", resident_id_check_char(body).unwrap());
        assert!(is_resident_id(&id_like));
        assert!(luhn_valid("310117202401022301"));
        let id_case = format!(
            "SL-{}-{}-{}",
            &id_like[..6],
            &id_like[6..14],
            &id_like[14..]
        );
        for case in ["SL-310117-20240102-2301", id_case.as_str()] {
            let text = format!("办件编号{case}，卡号6222 0212 3456 7890 128。");
            assert_eq!(
                kinds(&text),
                vec![(
                    PiiKind::BankCard,
                    "6222 0212 3456 7890 128".into(),
                    "6222021234567890128".into()
                )],
                "{text}"
            );
        }
        // A phone after the case number, split off by a space, is still a phone; so is an ID
        // after a dash that follows digits rather than letters.
        let got = kinds("办件编号SL-310117-20240102-2301 13812345678");
        assert_eq!(
            got,
            vec![(PiiKind::Mobile, "13812345678".into(), "13812345678".into())]
        );
        let got = kinds(&format!("序号12-{ID_B}"));
        assert_eq!(got, vec![(PiiKind::IdCard, ID_B.into(), ID_B.into())]);
    }

    #[test]
    fn mobiles_with_a_country_code() {
        for (text, span) in [
            ("电话+8613812345678。", "13812345678"),
            ("电话 008613812345678。", "13812345678"),
            ("电话 +86 138 1234 5678。", "138 1234 5678"),
            ("电话 +86-138-1234-5678。", "138-1234-5678"),
            (
                "电话（＋８６）１３８１２３４５６７８",
                "１３８１２３４５６７８",
            ),
        ] {
            assert_eq!(
                kinds(text),
                vec![(PiiKind::Mobile, span.into(), "13812345678".into())],
                "{text}"
            );
        }
        // Without the plus, 86 + 11 digits is just a 13-digit number.
        assert!(detect("单号8613812345678").is_empty());
    }

    #[test]
    fn landlines_in_the_usual_spellings() {
        for (text, span) in [
            ("座机021-64001234。", "021-64001234"),
            ("座机(021)64001234。", "(021)64001234"),
            ("座机（021）64001234。", "（021）64001234"),
            ("座机021 6400 1234。", "021 6400 1234"),
            ("座机0571-8888666。", "0571-8888666"),
        ] {
            let got = kinds(text);
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            assert_eq!(got[0].0, PiiKind::Landline, "{text}");
            assert_eq!(got[0].1, span, "{text}");
        }
    }

    #[test]
    fn long_chains_of_short_groups_stay_linear() {
        // 100k one-digit groups joined by spaces: a quadratic scan would not finish.
        let text = "7 ".repeat(100_000);
        let started = std::time::Instant::now();
        assert!(detect(&text).is_empty());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        #[test]
        fn lettered_hyphenated_codes_are_never_pii(
            letters in "[A-Z]{1,4}",
            groups in proptest::collection::vec("[0-9]{1,8}", 1..5),
            before in "[\\p{Han}，：]{0,6}",
        ) {
            let text = format!("{before}{letters}-{}。", groups.join("-"));
            let got = kinds(&text);
            proptest::prop_assert!(got.is_empty(), "{text}: {got:?}");
        }

        #[test]
        fn a_plus86_mobile_is_found_without_its_prefix(
            second in 3u8..=9,
            rest in 0u64..1_000_000_000,
            sep in proptest::sample::select(vec!["", " ", "-"]),
        ) {
            let m = format!("1{second}{rest:09}");
            let text = format!("联系电话+86{sep}{m}，谢谢");
            let got = kinds(&text);
            proptest::prop_assert_eq!(got, vec![(PiiKind::Mobile, m.clone(), m)]);
        }
    }
}
