//! Runs every row of `tests/data/utterances.toml` through its parser, prints one accuracy line
//! per parser and fails on any mismatch.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;
use zhiban_agent_core::understand::{
    Act, DateLike, Parsed, classify, find_id_number, find_mobile, find_name, free_text,
    match_choice, option_set, parse_amount, parse_date, parse_date_like, parse_month, parse_yes_no,
};

#[derive(Deserialize)]
struct Table {
    default_today: String,
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct Row {
    p: String,
    f: String,
    text: String,
    want: String,
    today: Option<String>,
    set: Option<String>,
    hint: Option<String>,
    rest: Option<String>,
}

fn show<T: ToString>(p: Parsed<T>) -> String {
    match p {
        Parsed::Value(v) => v.to_string(),
        Parsed::Ambiguous(vs) => format!(
            "ambiguous:{}",
            vs.iter().map(T::to_string).collect::<Vec<_>>().join("|")
        ),
        Parsed::Nothing => "nothing".to_string(),
    }
}

fn show_date_like(d: DateLike) -> String {
    match d {
        DateLike::Day(d) => d.to_string(),
        DateLike::Month(m) => m.to_string(),
    }
}

fn opt(s: Option<String>) -> String {
    s.unwrap_or_else(|| "nothing".to_string())
}

/// What the parser said, in the row's notation, and the row's expectation in the same form.
fn run(row: &Row, today: NaiveDate) -> (String, String) {
    let t = row.text.as_str();
    match row.p.as_str() {
        "date" => (show(parse_date(t, today)), row.want.clone()),
        "date_like" => (
            show(parse_date_like(t, today).map(show_date_like)),
            row.want.clone(),
        ),
        "month" => (show(parse_month(t, today)), row.want.clone()),
        "amount" => {
            let got = show(parse_amount(t));
            // Compare numbers as numbers: "3800.5" and "3800.50" are the same amount.
            let norm = |s: &str| -> String {
                let body = s.strip_prefix("ambiguous:").unwrap_or(s);
                let nums: Option<Vec<f64>> = body.split('|').map(|x| x.parse().ok()).collect();
                match nums {
                    Some(ns) if body != "nothing" => {
                        let joined = ns
                            .iter()
                            .map(|n| format!("{n}"))
                            .collect::<Vec<_>>()
                            .join("|");
                        if s.starts_with("ambiguous:") {
                            format!("ambiguous:{joined}")
                        } else {
                            joined
                        }
                    }
                    _ => s.to_string(),
                }
            };
            (norm(&got), norm(&row.want))
        }
        "yesno" => (show(parse_yes_no(t)), row.want.clone()),
        "choice" => {
            let set = row.set.as_deref().expect("choice rows name their set");
            let opts = option_set(set).unwrap_or_else(|| panic!("unknown option set {set}"));
            (
                show(match_choice(t, opts).map(|i| opts[i].label)),
                row.want.clone(),
            )
        }
        "free_text" => (opt(free_text(t)), row.want.clone()),
        "id" => (opt(find_id_number(t)), row.want.clone()),
        "mobile" => (opt(find_mobile(t)), row.want.clone()),
        "name" => (opt(find_name(t)), row.want.clone()),
        "acts" => {
            let acts = classify(t);
            let mut names: Vec<&str> = acts
                .iter()
                .map(|a| match a {
                    Act::Cancel => "cancel",
                    Act::Handoff => "handoff",
                    Act::Correction { .. } => "correction",
                    Act::Question => "question",
                    Act::Affirm => "affirm",
                    Act::Deny => "deny",
                    Act::Inform => "inform",
                })
                .collect();
            names.sort_unstable();
            let mut got = names.join("+");
            let mut want: Vec<&str> = row.want.split('+').collect();
            want.sort_unstable();
            let mut want = want.join("+");
            if let Some(Act::Correction { field_hint, rest }) =
                acts.iter().find(|a| matches!(a, Act::Correction { .. }))
            {
                got.push_str(&format!(
                    " hint={} rest={}",
                    field_hint.as_deref().unwrap_or(""),
                    rest
                ));
            }
            if row.hint.is_some() || row.rest.is_some() {
                want.push_str(&format!(
                    " hint={} rest={}",
                    row.hint.as_deref().unwrap_or(""),
                    row.rest.as_deref().unwrap_or("")
                ));
            }
            (got, want)
        }
        other => panic!("unknown parser {other}"),
    }
}

#[test]
fn every_utterance_parses_as_written() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/utterances.toml"
    ))
    .expect("read the table");
    let table: Table = toml::from_str(&src).expect("parse the table");
    assert!(
        table.rows.len() >= 300,
        "the table has {} rows",
        table.rows.len()
    );
    let default_today: NaiveDate = table.default_today.parse().expect("default_today");
    let mut stats: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for row in &table.rows {
        let today = row
            .today
            .as_deref()
            .map(|d| d.parse().expect("row today"))
            .unwrap_or(default_today);
        let (got, want) = run(row, today);
        let key = match &row.set {
            Some(s) => format!("{}:{s}", row.p),
            None => row.p.clone(),
        };
        let e = stats.entry(key).or_default();
        e.1 += 1;
        if got == want {
            e.0 += 1;
        } else {
            failures.push(format!(
                "[{} / {}] {:?} (today {today}): got {got:?}, want {want:?}",
                row.p, row.f, row.text
            ));
        }
    }
    for (k, (ok, n)) in &stats {
        println!(
            "{k:<32} {ok:>3}/{n:<3} {:.1}%",
            100.0 * *ok as f64 / *n as f64
        );
    }
    let total: usize = stats.values().map(|v| v.1).sum();
    println!("{:<32} {:>3}/{total}", "all", total - failures.len());
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
