//! Chinese numerals as residents type them: formal (`两千一百五十`), colloquial with the last
//! unit elided (`五千二` = 5200, `一万二` = 12000), digit by digit (`二〇二五`), mixed with
//! Arabic digits (`3千5`, `5.2万`), and the old tens `廿`/`卅`.
//!
//! Shared by the date and amount parsers, so the elision rule lives in one place.

/// The value of a single Chinese digit character (`〇零一…九两幺`), or `None`.
pub fn cn_digit(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' | '○' => 0,
        '一' | '壹' | '幺' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// The multiplier of a unit character (`十百千万亿`, also `拾佰仟`), or `None`.
pub fn cn_unit(c: char) -> Option<u64> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1000,
        '万' | '萬' => 10_000,
        '亿' => 100_000_000,
        _ => return None,
    })
}

/// Whether `c` can be part of a Chinese numeral (digit, unit, `廿`, `卅`).
pub fn is_cn_numeral_char(c: char) -> bool {
    cn_digit(c).is_some() || cn_unit(c).is_some() || matches!(c, '廿' | '卅' | '卌')
}

#[derive(Clone, Copy, Debug)]
enum Tok {
    Num(f64, bool),
    Unit(u64),
    Zero,
}

/// Parses a whole string that is one number: Chinese, Arabic (with an optional decimal
/// point), or both mixed (`3千5`, `1万2千`, `5.2万`). Returns `None` for anything else,
/// including an empty string, so callers can try it on candidate spans.
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    let mut toks: Vec<Tok> = Vec::with_capacity(8);
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() {
            let mut end = i + 1;
            let mut seen_dot = false;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_digit() {
                    end = j + 1;
                    chars.next();
                } else if d == '.' && !seen_dot {
                    seen_dot = true;
                    end = j + 1;
                    chars.next();
                } else {
                    break;
                }
            }
            let lit = &s[i..end];
            let v: f64 = lit.trim_end_matches('.').parse().ok()?;
            toks.push(Tok::Num(v, true));
        } else if c == '零' || c == '〇' || c == '○' {
            toks.push(Tok::Zero);
        } else if let Some(d) = cn_digit(c) {
            toks.push(Tok::Num(f64::from(d), false));
        } else if let Some(u) = cn_unit(c) {
            toks.push(Tok::Unit(u));
        } else if c == '廿' {
            toks.push(Tok::Num(2.0, false));
            toks.push(Tok::Unit(10));
        } else if c == '卅' {
            toks.push(Tok::Num(3.0, false));
            toks.push(Tok::Unit(10));
        } else if c == '卌' {
            toks.push(Tok::Num(4.0, false));
            toks.push(Tok::Unit(10));
        } else {
            return None;
        }
    }
    eval(&toks)
}

/// Integer form of [`parse_number`]: `None` unless the value is a whole number ≥ 0.
pub fn parse_int(s: &str) -> Option<u64> {
    let v = parse_number(s)?;
    if v >= 0.0 && v.fract() == 0.0 && v < 1e15 {
        Some(v as u64)
    } else {
        None
    }
}

fn eval(toks: &[Tok]) -> Option<f64> {
    if toks.is_empty() {
        return None;
    }
    // No units at all: digit by digit (`二〇二五`, `三八零零`), or a single Arabic literal.
    if !toks.iter().any(|t| matches!(t, Tok::Unit(_))) {
        if let [Tok::Num(v, _)] = toks {
            return Some(*v);
        }
        let mut out = 0f64;
        for t in toks {
            match t {
                Tok::Num(v, false) => out = out * 10.0 + v,
                Tok::Zero => out *= 10.0,
                // Two Arabic literals or a decimal inside a digit string: not one number.
                Tok::Num(_, true) | Tok::Unit(_) => return None,
            }
        }
        return Some(out);
    }
    let mut total = 0f64; // everything above the current 万/亿 group
    let mut section = 0f64; // the current group below 万
    let mut pending: Option<f64> = None;
    let mut last_unit: u64 = 0; // the last unit seen, for the elided trailing digit
    let mut after_zero = false;
    for t in toks {
        match *t {
            Tok::Num(v, _) => {
                if pending.is_some() {
                    return None;
                }
                pending = Some(v);
            }
            Tok::Zero => {
                if pending.is_some() {
                    return None;
                }
                after_zero = true;
            }
            Tok::Unit(u) if u >= 10_000 => {
                let v = section + pending.take().unwrap_or(0.0);
                let v = if v == 0.0 && total == 0.0 { 1.0 } else { v };
                if u == 100_000_000 {
                    total = (total + v) * u as f64;
                } else {
                    if total != 0.0 && total % 100_000_000.0 != 0.0 {
                        return None; // 万 after 万
                    }
                    total += v * u as f64;
                }
                section = 0.0;
                last_unit = u;
                after_zero = false;
            }
            Tok::Unit(u) => {
                // Units inside a group must descend (千 then 百 then 十).
                if section != 0.0 && last_unit != 0 && last_unit < 10_000 && u >= last_unit {
                    return None;
                }
                let d = pending.take().unwrap_or(1.0);
                section += d * u as f64;
                last_unit = u;
                after_zero = false;
            }
        }
    }
    if let Some(d) = pending {
        // `五千二`: a bare digit right after a unit counts in the next unit down.
        if !after_zero && last_unit >= 100 && d < 10.0 && d.fract() == 0.0 {
            section += d * (last_unit / 10) as f64;
        } else {
            section += d;
        }
    }
    Some(total + section)
}

const DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/// The formal Chinese reading of `n` (`10` → `十`, `1010` → `一千零一十`, `12000` →
/// `一万二千`). Supports `n < 10^12`; larger values are written digit by digit.
pub fn to_chinese(n: u64) -> String {
    if n == 0 {
        return "零".to_string();
    }
    if n >= 1_000_000_000_000 {
        return n
            .to_string()
            .chars()
            .map(|c| DIGITS[c.to_digit(10).unwrap_or(0) as usize])
            .collect();
    }
    let mut out = String::new();
    let yi = n / 100_000_000;
    let wan = (n / 10_000) % 10_000;
    let low = n % 10_000;
    let mut need_zero = false;
    let mut started = false;
    for (group, unit) in [(yi, Some('亿')), (wan, Some('万')), (low, None)] {
        if group == 0 {
            if started {
                need_zero = true;
            }
            continue;
        }
        if started && (need_zero || group < 1000) {
            out.push('零');
        }
        write_group(&mut out, group, !started);
        if let Some(u) = unit {
            out.push(u);
        }
        started = true;
        need_zero = false;
    }
    out
}

fn write_group(out: &mut String, g: u64, leading: bool) {
    let parts = [
        (g / 1000, '千'),
        ((g / 100) % 10, '百'),
        ((g / 10) % 10, '十'),
    ];
    let mut zero = false;
    let mut wrote = false;
    for (d, u) in parts {
        if d == 0 {
            if wrote {
                zero = true;
            }
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        // `十五`, not `一十五`, when the ten leads the whole number.
        if !(u == '十' && d == 1 && !wrote && leading) {
            out.push(DIGITS[d as usize]);
        }
        out.push(u);
        wrote = true;
    }
    let ones = g % 10;
    if ones != 0 {
        if zero {
            out.push('零');
        }
        out.push(DIGITS[ones as usize]);
    }
}

/// Chinese digits written one by one (`2025` → `二〇二五`), as years are read.
pub fn to_chinese_digits(n: u64) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '0' => '〇',
            d => DIGITS[d.to_digit(10).unwrap_or(0) as usize],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colloquial_and_formal() {
        for (s, v) in [
            ("五千二", 5200.0),
            ("两千一百五", 2150.0),
            ("两千一百五十", 2150.0),
            ("一万二", 12000.0),
            ("一万二千", 12000.0),
            ("三百五", 350.0),
            ("十五", 15.0),
            ("十", 10.0),
            ("一百零五", 105.0),
            ("一千零一十", 1010.0),
            ("二〇二五", 2025.0),
            ("廿五", 25.0),
            ("3千", 3000.0),
            ("3千5", 3500.0),
            ("5.2万", 52000.0),
            ("1万2", 12000.0),
            ("3800.50", 3800.5),
            ("一万零五百", 10500.0),
            ("十万", 100_000.0),
        ] {
            assert_eq!(parse_number(s), Some(v), "{s}");
        }
        for s in ["", "五五千千", "abc", "3 4", "一万万"] {
            assert_eq!(parse_number(s), None, "{s}");
        }
    }

    #[test]
    fn formal_writing() {
        assert_eq!(to_chinese(0), "零");
        assert_eq!(to_chinese(10), "十");
        assert_eq!(to_chinese(15), "十五");
        assert_eq!(to_chinese(110), "一百一十");
        assert_eq!(to_chinese(1010), "一千零一十");
        assert_eq!(to_chinese(10500), "一万零五百");
        assert_eq!(to_chinese(12000), "一万二千");
        assert_eq!(to_chinese(100_000), "十万");
        assert_eq!(to_chinese_digits(2025), "二〇二五");
    }
}
