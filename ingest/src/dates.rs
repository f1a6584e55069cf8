//! Dates as written in Chinese documents: `2024年5月1日`, `二〇二四年四月二十二日`,
//! `2024-05-01`, `2024.5.1`, `2024/5/1`.

use std::sync::LazyLock;

use chrono::{Datelike, Months, NaiveDate};
use regex::Regex;

use crate::numerals::parse_chinese_number;
use crate::re;

/// Chinese-numeral characters usable in a written date.
const CN: &str = "〇零○一二三四五六七八九十两";

/// One date found in a text, with its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundDate {
    /// Byte offset where the date starts.
    pub start: usize,
    /// Byte offset after the date.
    pub end: usize,
    /// The date, `None` when it looks like a date but is not a real one (`2月30日`).
    pub date: Option<NaiveDate>,
}

static DATE_RE: LazyLock<Regex> = LazyLock::new(|| {
    let cn = format!("[{CN}]");
    re(&format!(
        r"(?x)
        (?P<y>\d{{4}}|{cn}{{4}})\s*年\s*(?P<m>\d{{1,2}}|{cn}{{1,3}})\s*月\s*(?P<d>\d{{1,2}}|{cn}{{1,4}})\s*[日号]
        |(?P<y2>\d{{4}})\s*(?P<sep>[-./])\s*(?P<m2>\d{{1,2}})\s*[-./]\s*(?P<d2>\d{{1,2}})(?:[^\d]|$)
        "
    ))
});

fn num(s: &str) -> Option<u32> {
    let v = if s.chars().all(|c| c.is_ascii_digit()) {
        s.parse::<u64>().ok()?
    } else {
        parse_chinese_number(s)?
    };
    u32::try_from(v).ok()
}

/// Finds every date in `text`, in order.
pub fn find_dates(text: &str) -> Vec<FoundDate> {
    DATE_RE
        .captures_iter(text)
        .filter_map(|c| {
            let all = c.get(0)?;
            let (y, m, d, end) = if let Some(y) = c.name("y") {
                (
                    y.as_str(),
                    c.name("m")?.as_str(),
                    c.name("d")?.as_str(),
                    all.end(),
                )
            } else {
                let d2 = c.name("d2")?;
                (
                    c.name("y2")?.as_str(),
                    c.name("m2")?.as_str(),
                    d2.as_str(),
                    d2.end(),
                )
            };
            let date = match (num(y), num(m), num(d)) {
                (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d),
                _ => None,
            };
            Some(FoundDate {
                start: all.start(),
                end,
                date,
            })
        })
        .collect()
}

/// Parses the first date in `text`, if any.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    find_dates(text).into_iter().find_map(|f| f.date)
}

/// Whether the whole (trimmed) line is a single date, e.g. the 成文 line at the end.
pub fn is_date_line(line: &str) -> bool {
    let t = line.trim();
    let found = find_dates(t);
    found.len() == 1
        && found[0].start == 0
        && t[found[0].end..].trim().is_empty()
        && found[0].date.is_some()
}

/// `start + n years - 1 day`: the last day of an 有效期 of `n` years.
pub fn add_years_minus_day(start: NaiveDate, years: u32) -> Option<NaiveDate> {
    start
        .checked_add_months(Months::new(years * 12))?
        .pred_opt()
}

/// `YYYY-MM-DD`.
pub fn fmt_date(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn arabic_and_chinese_forms() {
        assert_eq!(
            parse_date("本办法自2024年5月1日起施行"),
            Some(d(2024, 5, 1))
        );
        assert_eq!(parse_date("二〇二四年四月二十二日"), Some(d(2024, 4, 22)));
        assert_eq!(parse_date("二○一九年十二月三十一日"), Some(d(2019, 12, 31)));
        assert_eq!(parse_date("2024 年 5 月 1 日"), Some(d(2024, 5, 1)));
        assert_eq!(parse_date("发布日期：2023-11-05"), Some(d(2023, 11, 5)));
        assert_eq!(parse_date("2023.1.9"), Some(d(2023, 1, 9)));
        assert_eq!(parse_date("2023/01/09 10:00"), Some(d(2023, 1, 9)));
        assert_eq!(parse_date("二〇二一年十月一日起"), Some(d(2021, 10, 1)));
        assert_eq!(parse_date("没有日期"), None);
    }

    #[test]
    fn impossible_dates_are_found_but_not_parsed() {
        let f = find_dates("2024年2月30日");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].date, None);
    }

    #[test]
    fn date_lines() {
        assert!(is_date_line("  2024年4月22日 "));
        assert!(is_date_line("二〇二四年四月二十二日"));
        assert!(!is_date_line("自2024年4月22日起施行"));
    }

    #[test]
    fn validity_years() {
        assert_eq!(add_years_minus_day(d(2024, 5, 1), 5), Some(d(2029, 4, 30)));
        assert_eq!(add_years_minus_day(d(2024, 3, 1), 1), Some(d(2025, 2, 28)));
    }

    fn cn_digits(n: u32) -> String {
        n.to_string()
            .chars()
            .map(|c| {
                ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九']
                    [c.to_digit(10).unwrap_or(0) as usize]
            })
            .collect()
    }

    proptest! {
        #[test]
        fn chinese_written_dates_round_trip(y in 1950i32..2100, m in 1u32..=12, day in 1u32..=28) {
            let s = format!("{}年{}月{}日", cn_digits(y as u32), crate::numerals::to_chinese_number(m as u64), crate::numerals::to_chinese_number(day as u64));
            prop_assert_eq!(parse_date(&s), Some(d(y, m, day)));
            let a = format!("前文{}年{}月{}日后文", y, m, day);
            prop_assert_eq!(parse_date(&a), Some(d(y, m, day)));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = find_dates(&s);
        }
    }
}
