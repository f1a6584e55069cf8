//! Money amounts in yuan: `5200`, `5,200元`, `5.2k`, `3千`, `1.2万`, `五千二`, `两千一百五`,
//! `一万二`, `3800.50`, ranges `四五千` (ambiguous) and hedges `大概五千左右` / `五千多` (the
//! round figure said).
//!
//! Numbers that are not money are skipped: IDs, phones and bank cards (the project's PII
//! detector finds them), dates (`2025-03-05`, `3月5号`), counts and durations (`3个月`, `45岁`,
//! `2个人`, `第3`). Several different amounts are `Ambiguous` in text order (`税前8000税后6500`:
//! which one the form wants is the flow's question to ask); a self-correction
//! (`不是3800，是4200`) counts only its corrected part. `没有收入` and the like are `Value(0.0)`.

use std::sync::LazyLock;

use regex::Regex;

use super::numerals::{cn_digit, cn_unit, parse_number};
use super::{Parsed, correction_tail, normalize};

static RE_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<num>[0-9零〇一二两三四五六七八九十廿](?:[0-9零〇一二两三四五六七八九十百千万,.]*[0-9零〇一二两三四五六七八九十百千万])?)\s*(?P<suf>[kK]|[wW]|块钱|块|元|圆|rmb|RMB)?",
    )
    .expect("static regex")
});
static RE_DATEISH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9]{2,4}\s*[-/.]\s*[0-9]{1,2}\s*[-/.]\s*[0-9]{1,2}|[0-9]{1,2}\s*/\s*[0-9]{1,2}(?:[日号]|$)")
        .expect("static regex")
});

/// Words that mean "no income at all".
const ZERO: &[&str] = &[
    "没有收入",
    "没收入",
    "无收入",
    "零收入",
    "没有工资",
    "没工资",
    "没有任何收入",
];

/// Characters after a number that make it a count, a date or a time, not money.
fn non_money_after(c: char) -> bool {
    matches!(
        c,
        '月' | '年'
            | '日'
            | '号'
            | '天'
            | '岁'
            | '个'
            | '人'
            | '周'
            | '次'
            | '点'
            | '%'
            | '倍'
            | '小'
            | '分'
            | '楼'
            | '室'
            | '期'
            | '季'
            | '遍'
            | '口'
            | '家'
            | '级'
            | '层'
            | '位'
            | '条'
            | '项'
            | '本'
            | '张'
            | '份'
            | '套'
            | '间'
            | '斤'
            | '公'
            | '米'
            | '里'
            | '名'
            | '星'
            | '礼'
    )
}

/// The amount in yuan this reply states.
pub fn parse_amount(text: &str) -> Parsed<f64> {
    let norm = normalize(text);
    let text = correction_tail(&norm);
    if text.len() > 4096 {
        return Parsed::Nothing;
    }
    if ZERO.iter().any(|z| text.contains(z)) {
        return Parsed::Value(0.0);
    }
    let masked = mask(text);
    let mut cands: Vec<f64> = Vec::new();
    let mut ranges: Vec<Vec<f64>> = Vec::new();
    for caps in RE_TOKEN.captures_iter(&masked) {
        let (Some(all), Some(num)) = (caps.get(0), caps.name("num")) else {
            continue;
        };
        let before = masked[..all.start()].chars().next_back();
        if before == Some('第') {
            continue;
        }
        let suf = caps.name("suf").map(|s| s.as_str());
        let after = masked[all.end()..].trim_start().chars().next();
        let money_suffix = matches!(suf, Some("块钱" | "块" | "元" | "圆" | "rmb" | "RMB"));
        if !money_suffix && after.is_some_and(non_money_after) {
            continue;
        }
        let s = num.as_str();
        let mult = match suf {
            Some("k" | "K") => 1000.0,
            Some("w" | "W") => 10_000.0,
            _ => 1.0,
        };
        if let Some(r) = range(s) {
            ranges.push(r.into_iter().map(|v| v * mult).collect());
            continue;
        }
        let has_cn_unit = s.chars().any(|c| cn_unit(c).is_some());
        let all_cn = !s.chars().any(|c| c.is_ascii_digit());
        // A lone Chinese digit (`一下`, `一般`, `两个`) is a word, not an amount.
        if all_cn && !has_cn_unit && !money_suffix {
            continue;
        }
        for part in split_commas(s) {
            if let Some(v) = parse_number(&part) {
                let v = v * mult;
                if v > 0.0 && v.is_finite() && v < 1e9 {
                    cands.push(v);
                }
            }
        }
    }
    if cands.is_empty() && ranges.len() == 1 {
        return Parsed::Ambiguous(ranges.remove(0));
    }
    for r in ranges {
        cands.extend(r);
    }
    Parsed::from_candidates(cands)
}

/// `四五千` → [4000, 5000]: two consecutive digits before a unit.
fn range(s: &str) -> Option<Vec<f64>> {
    let mut it = s.chars();
    let a = cn_digit(it.next()?)?;
    let b = cn_digit(it.next()?)?;
    let rest: String = it.collect();
    if b != a + 1 || a == 0 {
        return None;
    }
    let first = rest.chars().next()?;
    cn_unit(first)?;
    let lo = parse_number(&format!("{a}{rest}"))?;
    let hi = parse_number(&format!("{b}{rest}"))?;
    Some(vec![lo, hi])
}

/// `5,200` is one number; `3000,4000` is two.
fn split_commas(s: &str) -> Vec<String> {
    if !s.contains(',') {
        return vec![s.to_string()];
    }
    let groups: Vec<&str> = s.split(',').collect();
    let grouped = groups
        .first()
        .is_some_and(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()))
        && groups[1..].iter().enumerate().all(|(i, g)| {
            let digits = g.split('.').next().unwrap_or("");
            digits.len() == 3
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (i + 2 == groups.len() || !g.contains('.'))
        });
    if grouped {
        vec![s.replace(',', "")]
    } else {
        groups.into_iter().map(str::to_string).collect()
    }
}

/// The text with PII and date spans blanked out, so their digits are not read as money.
fn mask(text: &str) -> String {
    let mut spans: Vec<(usize, usize)> = zhiban_pii::detect(text)
        .iter()
        .map(|d| (d.start, d.end))
        .collect();
    spans.extend(RE_DATEISH.find_iter(text).map(|m| (m.start(), m.end())));
    if spans.is_empty() {
        return text.to_string();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e) in spans {
        if s < pos {
            pos = pos.max(e);
            continue;
        }
        out.push_str(&text[pos..s]);
        out.push(' ');
        pos = e;
    }
    out.push_str(&text[pos.min(text.len())..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_examples() {
        for (s, v) in [
            ("五千二", 5200.0),
            ("两千一百五", 2150.0),
            ("5.2k", 5200.0),
            ("5.2K", 5200.0),
            ("5,200元", 5200.0),
            ("5200块", 5200.0),
            ("一万二", 12000.0),
            ("3千", 3000.0),
            ("3800.50", 3800.5),
            ("大概五千左右", 5000.0),
            ("不是3800，是4200", 4200.0),
            ("工资五千二左右", 5200.0),
            ("每个月到手两千一百五", 2150.0),
            ("月薪1.2万", 12000.0),
        ] {
            assert_eq!(parse_amount(s), Parsed::Value(v), "{s}");
        }
        assert_eq!(
            parse_amount("四五千"),
            Parsed::Ambiguous(vec![4000.0, 5000.0])
        );
        assert_eq!(
            parse_amount("税前8000税后6500"),
            Parsed::Ambiguous(vec![8000.0, 6500.0])
        );
        assert_eq!(parse_amount("我干了3个月"), Parsed::Nothing);
        assert_eq!(parse_amount("电话13812345678"), Parsed::Nothing);
        assert_eq!(parse_amount("2025-03-05"), Parsed::Nothing);
    }
}
