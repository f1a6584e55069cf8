//! Dates and months as residents say them, relative to the session's `today`.
//!
//! Absolute forms (`2025-03-05`, `2025-03` for a month, `2025/3/5`, `2025.3.5`, `26.3.5`, `20250305`, `2025年3月5日`, `二〇二五年
//! 三月`), partial ones (`3月5号`, `十月十五号`, `15号`, `3月份`), relative ones (`昨天`, `前天`,
//! `大前天`, `上周五`, `上个月15号`, `上个月底`, `三天前`, `半个月前`, `两个月前`, `去年8月份`,
//! `下个月`) and parts of a month or year (`月初`, `月中`, `月底`, `年初`, `年底`).
//!
//! Choices, so the flow can rely on them:
//! * A day or month without a year is the most recent such day/month **not after today**: the
//!   dates residents report (失业时间, 合同开始时间) lie in the past. An explicit year or a
//!   relative word (`下个月`, `明年`) can still point to the future.
//! * Parts of a month are days: 初 = 1st, 上旬 = 5th, 中/中旬 = 15th, 下旬 = 25th, 底/末 = last
//!   day; 年初 = 1 January, 年底 = 31 December. They answer a date field approximately, which the
//!   flow confirms in its summary anyway.
//! * A month-only answer (`去年8月份`) is no date: [`parse_date`] gives `Nothing`, while
//!   [`parse_date_like`] gives `DateLike::Month` and [`parse_month`] gives the month. A full date
//!   answers a month question with its month.
//! * Impossible dates (`2月30日`, `13月`) are dropped, not clamped. Festivals and vague counts
//!   (`几天前`, `春节后`) are not understood.
//! * Several different dates in one reply are `Ambiguous` (in text order), unless the reply
//!   corrects itself (`不是三月五号，是三月六号`), when only the corrected part counts.

use std::sync::LazyLock;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use regex::{Captures, Regex};

use super::numerals::{parse_int, parse_number};
use super::{Parsed, correction_tail, normalize};

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    /// Year (e.g. 2025).
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
}

impl YearMonth {
    /// The month, if `month` is 1–12.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        (1..=12)
            .contains(&month)
            .then_some(YearMonth { year, month })
    }

    /// The month `date` falls in.
    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// This month shifted by `delta` months.
    pub fn offset(self, delta: i32) -> YearMonth {
        let idx = self.year * 12 + self.month as i32 - 1 + delta;
        YearMonth {
            year: idx.div_euclid(12),
            month: idx.rem_euclid(12) as u32 + 1,
        }
    }

    fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }

    fn last_day(self) -> Option<NaiveDate> {
        self.offset(1).first_day()?.pred_opt()
    }

    fn day(self, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, d)
    }
}

impl std::fmt::Display for YearMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A date or, when the resident named only a month, that month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateLike {
    /// A calendar day.
    Day(NaiveDate),
    /// A month without a day.
    Month(YearMonth),
}

impl DateLike {
    /// The month of either reading.
    pub fn month(self) -> YearMonth {
        match self {
            DateLike::Day(d) => YearMonth::of(d),
            DateLike::Month(m) => m,
        }
    }
}

/// A date field's value: needs a day (see the module docs for month-only answers).
pub fn parse_date(text: &str, today: NaiveDate) -> Parsed<NaiveDate> {
    let days: Vec<NaiveDate> = candidates(text, today)
        .into_iter()
        .filter_map(|c| match c {
            DateLike::Day(d) => Some(d),
            DateLike::Month(_) => None,
        })
        .collect();
    Parsed::from_candidates(days)
}

/// A date or a month, whichever the resident gave.
pub fn parse_date_like(text: &str, today: NaiveDate) -> Parsed<DateLike> {
    Parsed::from_candidates(candidates(text, today))
}

/// A month field's value (`今年3月`, `2025年3月`, `下个月`, `从去年十月开始`); a full date gives
/// its month.
pub fn parse_month(text: &str, today: NaiveDate) -> Parsed<YearMonth> {
    Parsed::from_candidates(
        candidates(text, today)
            .into_iter()
            .map(DateLike::month)
            .collect(),
    )
}

const DNUM: &str = r"[0-9]{1,2}|[一二三四五六七八九十廿卅]{1,3}";
const MNUM: &str = r"[0-9]{1,2}|[一二三四五六七八九十]{1,3}";
const YEAR: &str = r"(?:(?P<y>[0-9]{4}|[0-9]{2}|[〇零○一二三四五六七八九]{2,4})\s*年|(?P<ry>大前年|前年|去年|今年|明年|后年))";
const PART: &str = r"(?P<part>上旬|中旬|下旬|初|中|底|末)";

static RE_NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<y>[0-9]{4}|[0-9]{2})\s*(?P<s>[-/.])\s*(?P<m>[0-9]{1,2})\s*[-/.]\s*(?P<d>[0-9]{1,2})",
    )
    .expect("static regex")
});
static RE_YM_NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<y>[0-9]{4})\s*[-/.]\s*(?P<m>[0-9]{1,2})").expect("static regex")
});
static RE_COMPACT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]{8}").expect("static regex"));
static RE_YMD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:{YEAR}\s*的?\s*)?(?P<m>{MNUM})\s*月份?\s*(?:(?P<d>{DNUM})\s*(?P<dsuf>日|号|號)?|{PART})?"
    ))
    .expect("static regex")
});
static RE_MD_SLASH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<m>[0-9]{1,2})\s*/\s*(?P<d>[0-9]{1,2})(?P<dsuf>日|号)?").expect("static regex")
});
static RE_YEAR_PART: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:{YEAR}\s*的?\s*)?(?P<yp>年底|年末|年尾|年初|年头)|(?P<ry2>前年|去年|今年)(?P<yp2>底|末|初)"
    ))
    .expect("static regex")
});
static RE_REL_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?P<rm>上上个月|上上月|上个月|上月|这个月|本月|这月|当月|下个月|下月)\s*的?\s*(?:(?P<d>{DNUM})\s*(?:日|号|號)|{PART})?"
    ))
    .expect("static regex")
});
static RE_MONTH_PART: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"月(?P<part>初|中旬|中|底|末)").expect("static regex"));
static RE_WEEKDAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<wk>上上|上|这|本|下)?\s*个?\s*(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])")
        .expect("static regex")
});
static RE_AGO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<n>[0-9]{1,3}|[一二两三四五六七八九十]{1,3}|半)\s*(?P<u>天|日|个星期|星期|个礼拜|礼拜|周|个多月|个半月|个月|月|年)\s*多?\s*(?:之前|以前|前)")
        .expect("static regex")
});
static RE_REL_DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"大大前天|大前天|前天|昨天|昨日|昨儿|今天|今日|今儿").expect("static regex")
});
static RE_DAY_ONLY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r"(?P<d>{DNUM})\s*(?:日|号|號)")).expect("static regex"));

struct Scan<'a> {
    text: &'a str,
    today: NaiveDate,
    taken: Vec<(usize, usize)>,
    found: Vec<(usize, DateLike)>,
}

impl Scan<'_> {
    fn free(&self, s: usize, e: usize) -> bool {
        self.taken.iter().all(|&(a, b)| e <= a || s >= b)
    }

    fn run(&mut self, re: &Regex, f: impl Fn(&Self, &Captures) -> Option<Option<DateLike>>) {
        for caps in re.captures_iter(self.text) {
            let Some(m) = caps.get(0) else { continue };
            if m.as_str().is_empty() || !self.free(m.start(), m.end()) {
                continue;
            }
            // Some(None): the span is a date expression but an impossible one; it still hides
            // its digits from the patterns after it.
            if let Some(v) = f(self, &caps) {
                self.taken.push((m.start(), m.end()));
                if let Some(v) = v {
                    self.found.push((m.start(), v));
                }
            }
        }
    }

    fn digit_before(&self, pos: usize) -> bool {
        self.text[..pos]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_digit())
    }

    fn digit_after(&self, pos: usize) -> bool {
        self.text[pos..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
    }
}

fn candidates(text: &str, today: NaiveDate) -> Vec<DateLike> {
    let norm = normalize(text);
    let text = correction_tail(&norm);
    if text.len() > 4096 {
        return Vec::new();
    }
    let mut sc = Scan {
        text,
        today,
        taken: Vec::new(),
        found: Vec::new(),
    };
    sc.run(&RE_NUMERIC, |sc, c| {
        let m = c.get(0)?;
        if sc.digit_before(m.start()) || sc.digit_after(m.end()) {
            return None;
        }
        let y = year_of(c, sc.today)?;
        let mo: u32 = c.name("m")?.as_str().parse().ok()?;
        let d: u32 = c.name("d")?.as_str().parse().ok()?;
        Some(NaiveDate::from_ymd_opt(y, mo, d).map(DateLike::Day))
    });
    sc.run(&RE_COMPACT, |sc, c| {
        let m = c.get(0)?;
        if sc.digit_before(m.start()) || sc.digit_after(m.end()) {
            return None;
        }
        let s = m.as_str();
        let y: i32 = s[..4].parse().ok()?;
        if !(1900..=2100).contains(&y) {
            return None;
        }
        let d = NaiveDate::from_ymd_opt(y, s[4..6].parse().ok()?, s[6..].parse().ok()?)?;
        Some(Some(DateLike::Day(d)))
    });
    sc.run(&RE_YM_NUMERIC, |sc, c| {
        let m = c.get(0)?;
        if sc.digit_before(m.start()) || sc.digit_after(m.end()) {
            return None;
        }
        let y: i32 = c.name("y")?.as_str().parse().ok()?;
        let mo: u32 = c.name("m")?.as_str().parse().ok()?;
        if !(1900..=2100).contains(&y) {
            return None;
        }
        Some(YearMonth::new(y, mo).map(DateLike::Month))
    });
    sc.run(&RE_YMD, |sc, c| ymd(sc, c));
    sc.run(&RE_MD_SLASH, |sc, c| {
        let m = c.get(0)?;
        if sc.digit_before(m.start()) || sc.digit_after(m.end()) {
            return None;
        }
        let mo = parse_int(c.name("m")?.as_str())? as u32;
        let d = parse_int(c.name("d")?.as_str())? as u32;
        Some(recent_day(today, mo, d).map(DateLike::Day))
    });
    sc.run(&RE_YEAR_PART, |sc, c| {
        let (year, explicit) = match year_of(c, sc.today) {
            Some(y) => (Some(y), true),
            None => match c.name("ry2") {
                Some(r) => (Some(rel_year(r.as_str(), today)?), true),
                None => (None, false),
            },
        };
        let part = c.name("yp").or(c.name("yp2"))?.as_str();
        let end = matches!(part, "年底" | "年末" | "年尾" | "底" | "末");
        let year = match year {
            Some(y) => y,
            None if end && !(today.month() == 12 && today.day() == 31) => today.year() - 1,
            None => today.year(),
        };
        let _ = explicit;
        let d = if end {
            NaiveDate::from_ymd_opt(year, 12, 31)
        } else {
            NaiveDate::from_ymd_opt(year, 1, 1)
        };
        Some(d.map(DateLike::Day))
    });
    sc.run(&RE_REL_MONTH, |sc, c| {
        // "就按这个月份" points back at a month just named (the one proposed), not at the
        // current month; the span is hidden and yields no reading.
        if matches!(c.name("rm")?.as_str(), "这个月" | "这月")
            && c.get(0)
                .is_some_and(|m| m.as_str() == c.name("rm").map_or("", |r| r.as_str()))
            && sc.text[c.get(0)?.end()..].starts_with('份')
        {
            return Some(None);
        }
        let base = YearMonth::of(sc.today);
        let ym = base.offset(match c.name("rm")?.as_str() {
            "上上个月" | "上上月" => -2,
            "上个月" | "上月" => -1,
            "下个月" | "下月" => 1,
            _ => 0,
        });
        Some(day_in(ym, c))
    });
    sc.run(&RE_MONTH_PART, |sc, c| {
        let part = c.name("part")?.as_str();
        let this = YearMonth::of(sc.today);
        let d = part_day(this, part)?;
        let d = if d > sc.today {
            part_day(this.offset(-1), part)?
        } else {
            d
        };
        Some(Some(DateLike::Day(d)))
    });
    sc.run(&RE_WEEKDAY, |sc, c| {
        let wd = match c.name("wd")?.as_str() {
            "一" | "1" => Weekday::Mon,
            "二" | "2" => Weekday::Tue,
            "三" | "3" => Weekday::Wed,
            "四" | "4" => Weekday::Thu,
            "五" | "5" => Weekday::Fri,
            "六" | "6" => Weekday::Sat,
            _ => Weekday::Sun,
        };
        let monday = sc.today.checked_sub_days(Days::new(u64::from(
            sc.today.weekday().num_days_from_monday(),
        )))?;
        let this_week = monday.checked_add_days(Days::new(u64::from(wd.num_days_from_monday())))?;
        let d = match c.name("wk").map(|m| m.as_str()) {
            Some("上上") => this_week.checked_sub_days(Days::new(14))?,
            Some("上") => this_week.checked_sub_days(Days::new(7))?,
            Some("下") => this_week.checked_add_days(Days::new(7))?,
            Some(_) => this_week,
            None if this_week > sc.today => this_week.checked_sub_days(Days::new(7))?,
            None => this_week,
        };
        Some(Some(DateLike::Day(d)))
    });
    sc.run(&RE_AGO, |sc, c| {
        let n_str = c.name("n")?.as_str();
        let unit = c.name("u")?.as_str();
        let t = sc.today;
        let d = if n_str == "半" {
            match unit {
                "个月" | "月" => t.checked_sub_days(Days::new(15)),
                "年" => t.checked_sub_months(Months::new(6)),
                _ => return None,
            }
        } else {
            let n = parse_int(n_str)?;
            if n > 200 {
                return None;
            }
            let n32 = n as u32;
            match unit {
                "天" | "日" => t.checked_sub_days(Days::new(n)),
                "个星期" | "星期" | "个礼拜" | "礼拜" | "周" => {
                    t.checked_sub_days(Days::new(7 * n))
                }
                "个半月" => t
                    .checked_sub_months(Months::new(n32))
                    .and_then(|d| d.checked_sub_days(Days::new(15))),
                "个月" | "个多月" | "月" => t.checked_sub_months(Months::new(n32)),
                _ => t.checked_sub_months(Months::new(12 * n32)),
            }
        };
        Some(d.map(DateLike::Day))
    });
    sc.run(&RE_REL_DAY, |sc, c| {
        let back = match c.get(0)?.as_str() {
            "大大前天" => 4,
            "大前天" => 3,
            "前天" => 2,
            "昨天" | "昨日" | "昨儿" => 1,
            _ => 0,
        };
        Some(
            sc.today
                .checked_sub_days(Days::new(back))
                .map(DateLike::Day),
        )
    });
    sc.run(&RE_DAY_ONLY, |sc, c| {
        let m = c.get(0)?;
        if sc.digit_before(m.start()) {
            return None;
        }
        let d = parse_int(c.name("d")?.as_str())? as u32;
        if !(1..=31).contains(&d) {
            return Some(None);
        }
        let mut ym = YearMonth::of(sc.today);
        for _ in 0..3 {
            if let Some(date) = ym.day(d)
                && date <= sc.today
            {
                return Some(Some(DateLike::Day(date)));
            }
            ym = ym.offset(-1);
        }
        Some(None)
    });
    let mut found = sc.found;
    found.sort_by_key(|(s, _)| *s);
    found.into_iter().map(|(_, v)| v).collect()
}

fn rel_year(word: &str, today: NaiveDate) -> Option<i32> {
    Some(
        today.year()
            + match word {
                "大前年" => -3,
                "前年" => -2,
                "去年" => -1,
                "今年" => 0,
                "明年" => 1,
                "后年" => 2,
                _ => return None,
            },
    )
}

/// The explicit or relative year of a match, if it names one.
fn year_of(c: &Captures, today: NaiveDate) -> Option<i32> {
    if let Some(y) = c.name("y") {
        let v = parse_int(y.as_str())? as i32;
        return Some(match y.as_str().chars().count() {
            2 => {
                // Two-digit years: this century unless that is more than a year ahead.
                if 2000 + v <= today.year() + 1 {
                    2000 + v
                } else {
                    1900 + v
                }
            }
            _ => v,
        });
    }
    rel_year(c.name("ry")?.as_str(), today)
}

fn part_day(ym: YearMonth, part: &str) -> Option<NaiveDate> {
    match part {
        "初" => ym.first_day(),
        "上旬" => ym.day(5),
        "中" | "中旬" => ym.day(15),
        "下旬" => ym.day(25),
        _ => ym.last_day(),
    }
}

/// A day, a month part or nothing inside month `ym`.
fn day_in(ym: YearMonth, c: &Captures) -> Option<DateLike> {
    if let Some(d) = c.name("d") {
        let d = parse_int(d.as_str())? as u32;
        return ym.day(d).map(DateLike::Day);
    }
    if let Some(p) = c.name("part") {
        return part_day(ym, p.as_str()).map(DateLike::Day);
    }
    Some(DateLike::Month(ym))
}

/// The most recent `month`/`day` not after today (searching back far enough for 29 February).
fn recent_day(today: NaiveDate, month: u32, day: u32) -> Option<NaiveDate> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    (0..9).find_map(|back| {
        NaiveDate::from_ymd_opt(today.year() - back, month, day).filter(|d| *d <= today)
    })
}

fn ymd(sc: &Scan, c: &Captures) -> Option<Option<DateLike>> {
    let m_str = c.name("m")?.as_str();
    let month = parse_int(m_str)? as u32;
    let whole = c.get(0)?;
    if m_str.as_bytes()[0].is_ascii_digit() && sc.digit_before(c.name("m")?.start()) {
        return None;
    }
    if !(1..=12).contains(&month) {
        return Some(None);
    }
    let year = year_of(c, sc.today);
    // A day without 日/号 right before more digits (`3月份5000`) is not a day.
    let day = match c.name("d") {
        Some(d) if c.name("dsuf").is_some() || !sc.digit_after(whole.end()) => {
            Some(parse_number(d.as_str())? as u32)
        }
        _ => None,
    };
    let part = c.name("part").map(|p| p.as_str());
    let ym = match year {
        Some(y) => YearMonth::new(y, month)?,
        None => {
            let this = YearMonth::of(sc.today);
            let same = YearMonth::new(this.year, month)?;
            if same > this { same.offset(-12) } else { same }
        }
    };
    if let Some(d) = day {
        let date = match year {
            Some(_) => ym.day(d),
            None => recent_day(sc.today, month, d),
        };
        return Some(date.map(DateLike::Day));
    }
    if let Some(p) = part {
        let mut date = part_day(ym, p);
        if year.is_none() && date.is_some_and(|d| d > sc.today) {
            date = part_day(ym.offset(-12), p);
        }
        return Some(date.map(DateLike::Day));
    }
    Some(Some(DateLike::Month(ym)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    // A Wednesday.
    const TODAY: (i32, u32, u32) = (2025, 6, 18);

    fn today() -> NaiveDate {
        d(TODAY.0, TODAY.1, TODAY.2)
    }

    #[test]
    fn absolute_forms() {
        for s in [
            "2025-03-05",
            "2025/3/5",
            "2025.3.5",
            "20250305",
            "2025年3月5日",
            "2025年3月5号",
            "二〇二五年三月五日",
            "25年3月5号",
        ] {
            assert_eq!(parse_date(s, today()), Parsed::Value(d(2025, 3, 5)), "{s}");
        }
    }

    #[test]
    fn partial_and_relative() {
        let t = today();
        for (s, want) in [
            ("3月5号", d(2025, 3, 5)),
            ("十月十五号那天合同到期", d(2024, 10, 15)),
            ("我是上个月底被公司辞退的", d(2025, 5, 31)),
            ("上月初", d(2025, 5, 1)),
            ("月中", d(2025, 6, 15)),
            ("月底", d(2025, 5, 31)),
            ("前天", d(2025, 6, 16)),
            ("昨天", d(2025, 6, 17)),
            ("大前天", d(2025, 6, 15)),
            ("上周五", d(2025, 6, 13)),
            ("上个月15号", d(2025, 5, 15)),
            ("半个月前", d(2025, 6, 3)),
            ("两个月前", d(2025, 4, 18)),
            ("三天前", d(2025, 6, 15)),
            ("年底", d(2024, 12, 31)),
            ("年初", d(2025, 1, 1)),
            ("去年底", d(2024, 12, 31)),
            ("20号", d(2025, 5, 20)),
        ] {
            assert_eq!(parse_date(s, t), Parsed::Value(want), "{s}");
        }
    }

    #[test]
    fn months_and_invalid() {
        let t = today();
        assert_eq!(parse_date("大概去年8月份吧", t), Parsed::Nothing);
        assert_eq!(
            parse_date_like("大概去年8月份吧", t),
            Parsed::Value(DateLike::Month(YearMonth {
                year: 2024,
                month: 8
            }))
        );
        assert_eq!(
            parse_month("从去年十月开始", t),
            Parsed::Value(YearMonth {
                year: 2024,
                month: 10
            })
        );
        assert_eq!(
            parse_month("下个月", t),
            Parsed::Value(YearMonth {
                year: 2025,
                month: 7
            })
        );
        assert_eq!(parse_date("2月30日", t), Parsed::Nothing);
        assert_eq!(parse_date("今年春节后", t), Parsed::Nothing);
        assert_eq!(
            parse_date("不是三月五号，是三月六号", t),
            Parsed::Value(d(2025, 3, 6))
        );
        assert_eq!(
            YearMonth {
                year: 2025,
                month: 3
            }
            .to_string(),
            "2025-03"
        );
    }
}
