//! Chinese numerals: `十一`, `一百二十三`, `二〇二四`, `两千零五` → integers.

/// Value of one Chinese (or Arabic, full-width) digit character.
pub fn digit_value(c: char) -> Option<u64> {
    Some(match c {
        '〇' | '零' | '○' | 'O' | 'o' | '0' | '０' => 0,
        '一' | '壹' | '1' | '１' => 1,
        '二' | '两' | '贰' | '2' | '２' => 2,
        '三' | '叁' | '3' | '３' => 3,
        '四' | '肆' | '4' | '４' => 4,
        '五' | '伍' | '5' | '５' => 5,
        '六' | '陆' | '6' | '６' => 6,
        '七' | '柒' | '7' | '７' => 7,
        '八' | '捌' | '8' | '８' => 8,
        '九' | '玖' | '9' | '９' => 9,
        _ => return None,
    })
}

fn unit_value(c: char) -> Option<u64> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1000,
        _ => return None,
    })
}

/// Whether `c` may appear in a Chinese numeral (digits, units, 万).
pub fn is_numeral_char(c: char) -> bool {
    digit_value(c).is_some() || unit_value(c).is_some() || c == '万'
}

/// Parses a Chinese or Arabic numeral.
///
/// Positional forms (`一百二十三`, `十一`, `两千零五`, `一万零三百`) and digit-by-digit
/// forms (`二〇二四`, `2024`) are both accepted. Returns `None` for anything else,
/// including the empty string and malformed unit sequences (`十十`).
pub fn parse_chinese_number(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let has_unit = s.chars().any(|c| unit_value(c).is_some() || c == '万');
    if !has_unit {
        // Digit-by-digit: 二〇二四, 2024.
        let mut v: u64 = 0;
        for c in s.chars() {
            v = v.checked_mul(10)?.checked_add(digit_value(c)?)?;
        }
        return Some(v);
    }
    let mut total: u64 = 0; // completed 万 groups
    let mut section: u64 = 0; // below 万
    let mut digit: Option<u64> = None;
    let mut last_unit = u64::MAX;
    for c in s.chars() {
        if let Some(d) = digit_value(c) {
            if digit.is_some() && d != 0 {
                return None; // two digits in a row in positional form
            }
            digit = if d == 0 { None } else { Some(d) };
            if d == 0 {
                // 零 only marks a gap.
                continue;
            }
        } else if let Some(u) = unit_value(c) {
            if u >= last_unit {
                return None;
            }
            let d = match digit {
                Some(d) => d,
                // 十一 = 11: a leading 十 means 一十.
                None if section == 0 && u == 10 => 1,
                None => return None,
            };
            section += d * u;
            digit = None;
            last_unit = u;
        } else if c == '万' {
            section += digit.take().unwrap_or(0);
            if section == 0 && total == 0 {
                return None;
            }
            total = (total + section).checked_mul(10_000)?;
            section = 0;
            last_unit = u64::MAX;
        } else {
            return None;
        }
    }
    section += digit.unwrap_or(0);
    Some(total + section)
}

/// Writes `n` (1..=9999) as a Chinese numeral the way documents number articles
/// (`十一`, `一百二十三`, `二十`).
pub fn to_chinese_number(n: u64) -> String {
    const D: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    if n == 0 {
        return "零".into();
    }
    if n >= 10_000 {
        return n.to_string();
    }
    let parts = [
        (n / 1000, '千'),
        (n / 100 % 10, '百'),
        (n / 10 % 10, '十'),
        (n % 10, ' '),
    ];
    let mut out = String::new();
    let mut pending_zero = false;
    for (i, (d, unit)) in parts.iter().enumerate() {
        if *d == 0 {
            if !out.is_empty() {
                pending_zero = true;
            }
            continue;
        }
        if pending_zero {
            out.push('零');
            pending_zero = false;
        }
        // 十一 rather than 一十一 when the number starts at the tens.
        if !(i == 2 && *d == 1 && out.is_empty()) {
            out.push(D[*d as usize]);
        }
        if *unit != ' ' {
            out.push(*unit);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse_chinese_number("十一"), Some(11));
        assert_eq!(parse_chinese_number("十"), Some(10));
        assert_eq!(parse_chinese_number("二十"), Some(20));
        assert_eq!(parse_chinese_number("一百二十三"), Some(123));
        assert_eq!(parse_chinese_number("一百零五"), Some(105));
        assert_eq!(parse_chinese_number("两千零五"), Some(2005));
        assert_eq!(parse_chinese_number("二〇二四"), Some(2024));
        assert_eq!(parse_chinese_number("二○一九"), Some(2019));
        assert_eq!(parse_chinese_number("2024"), Some(2024));
        assert_eq!(parse_chinese_number("一万零三百"), Some(10300));
        assert_eq!(parse_chinese_number("三十一"), Some(31));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_chinese_number(""), None);
        assert_eq!(parse_chinese_number("十十"), None);
        assert_eq!(parse_chinese_number("百十"), None);
        assert_eq!(parse_chinese_number("条"), None);
        assert_eq!(parse_chinese_number("二三十"), None);
    }

    proptest! {
        #[test]
        fn round_trips(n in 1u64..10_000) {
            prop_assert_eq!(parse_chinese_number(&to_chinese_number(n)), Some(n));
        }

        #[test]
        fn digit_by_digit_years(y in 1900u64..2100) {
            let s: String = y.to_string().chars().map(|c| ['〇','一','二','三','四','五','六','七','八','九'][c.to_digit(10).unwrap_or(0) as usize]).collect();
            prop_assert_eq!(parse_chinese_number(&s), Some(y));
        }

        #[test]
        fn never_panics(s in "[一二三四五六七八九十百千万零〇两0-9a]{0,12}") {
            let _ = parse_chinese_number(&s);
        }
    }
}
