//! Property tests of the understanding parsers: no input panics, and values written in the
//! styles residents use parse back to themselves.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use zhiban_agent_core::understand::numerals::{parse_int, to_chinese, to_chinese_digits};
use zhiban_agent_core::understand::{
    Parsed, YearMonth, classify, find_id_number, find_mobile, find_name, free_text, match_choice,
    option_set, parse_amount, parse_date, parse_date_like, parse_month, parse_yes_no,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 4, 15).unwrap()
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9０-９一二两三四五六七八九十百千万年月日号天前后上下个周星期底初中是不要没对，。？ kKw.,/-]{0,40}",
        "\\PC{0,60}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn nothing_panics(text in any_text(), days in 0i64..40_000) {
        let t = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Duration::days(days);
        let _ = parse_date(&text, t);
        let _ = parse_date_like(&text, t);
        let _ = parse_month(&text, t);
        let _ = parse_amount(&text);
        let _ = parse_yes_no(&text);
        for set in ["unemployment_reason", "health_status", "id_type"] {
            let _ = match_choice(&text, option_set(set).unwrap());
        }
        let _ = free_text(&text);
        let _ = classify(&text);
        let _ = find_id_number(&text);
        let _ = find_mobile(&text);
        let _ = find_name(&text);
        let _ = parse_int(&text);
    }

    #[test]
    fn chinese_numerals_round_trip(n in 0u64..100_000) {
        prop_assert_eq!(parse_int(&to_chinese(n)), Some(n), "{}", to_chinese(n));
        prop_assert_eq!(parse_int(&to_chinese_digits(n)), Some(n));
        prop_assert_eq!(parse_int(&n.to_string()), Some(n));
    }

    #[test]
    fn dates_round_trip_in_six_styles(days in 0i64..(365 * 40), style in 0usize..6) {
        let date = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(days);
        let (y, m, d) = (date.year(), date.month(), date.day());
        let text = match style {
            0 => format!("{y}-{m:02}-{d:02}"),
            1 => format!("{y}/{m}/{d}"),
            2 => format!("{y}.{m}.{d}"),
            3 => format!("{y}年{m}月{d}日"),
            4 => format!(
                "{}年{}月{}号",
                to_chinese_digits(y as u64),
                to_chinese(u64::from(m)),
                to_chinese(u64::from(d))
            ),
            _ => format!("是{y}年{m}月{d}号那天"),
        };
        prop_assert_eq!(parse_date(&text, today()), Parsed::Value(date), "{}", text);
        prop_assert_eq!(
            parse_month(&text, today()),
            Parsed::Value(YearMonth { year: y, month: m }),
            "{}",
            text
        );
    }

    #[test]
    fn yearless_days_are_the_latest_not_after_today(days in 0i64..730) {
        let date = today() - chrono::Duration::days(days);
        let text = format!("{}月{}号", date.month(), date.day());
        let got = parse_date(&text, today()).value();
        prop_assert!(got.is_some(), "{}", text);
        let got = got.unwrap();
        prop_assert!(got <= today());
        prop_assert_eq!((got.month(), got.day()), (date.month(), date.day()));
        prop_assert!(today() - got < chrono::Duration::days(366));
    }

    #[test]
    fn amounts_round_trip(n in 1u64..100_000, style in 0usize..6) {
        let v = (n * 10) as f64; // residents quote whole tens
        let text = match style {
            0 => format!("{}", n * 10),
            1 => format!("{}元", n * 10),
            2 => format!("每月{}块", n * 10),
            3 => to_chinese(n * 10),
            4 => {
                let s = (n * 10).to_string();
                let mut out = String::new();
                for (i, c) in s.chars().enumerate() {
                    if i > 0 && (s.len() - i) % 3 == 0 {
                        out.push(',');
                    }
                    out.push(c);
                }
                format!("工资{out}元")
            }
            _ => format!("大概{}左右", to_chinese(n * 10)),
        };
        prop_assert_eq!(parse_amount(&text), Parsed::Value(v), "{}", text);
    }

    #[test]
    fn valid_ids_are_found_however_typed(
        region in proptest::sample::select(vec!["310110", "310104", "310115", "320502"]),
        days in 0i64..(365 * 60),
        seq in 0u32..1000,
        style in 0usize..4,
    ) {
        let birth = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Duration::days(days);
        let body = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
        let check = zhiban_pii::detect::resident_id_check_char(&body).unwrap();
        let id = format!("{body}{check}");
        let typed = match style {
            0 => id.clone(),
            1 => format!("{} {} {}", &id[..6], &id[6..14], &id[14..]),
            2 => id
                .chars()
                .map(|c| if c.is_ascii_digit() {
                    char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()
                } else { c })
                .collect(),
            _ => format!("身份证号是{}", id.to_lowercase()),
        };
        prop_assert_eq!(find_id_number(&typed), Some(id));
    }
}
