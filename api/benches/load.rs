//! `cargo bench -p zhiban-api --bench load`: the service under load from real load tools.
//!
//! 1. Locust (`api/benches/load/locustfile.py`) drives `ZHIBAN_LOAD_USERS` (default 2,000)
//!    concurrent residents through 失业登记 to 提交 — six turns each, every turn through the
//!    scripted OpenAI-compatible model (`zhiban-llmsim`) on the wire — against the service
//!    started as `zhiban serve` starts it (reference case system in-process, sessions in SQLite
//!    or in `ZHIBAN_LOAD_SESSIONS`, e.g. `postgres://…`). The residents are synthetic (valid
//!    check digits, written for this run). Service overhead is read from the service's own
//!    `/metrics`: server-side time per request, and the model's share of it.
//! 2. wrk (`api/benches/load/qa.lua`) posts `/v1/qa` for 20 s with 64 connections, no model.
//! 3. Memory per idle session: resident set size before and after creating 5,000 sessions.
//!
//! `ZHIBAN_LOAD_THINK=lo,hi` makes each resident wait a uniform lo–hi seconds before each
//! answer (default `0,0`: back to back, which saturates the machine and measures queueing).
//!
//! Needs `locust` and `wrk` (`pip install locust`, `apt-get install wrk`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zhiban_agent_core::materials::TextOnlyReader;
use zhiban_api::config::Config;
use zhiban_api::serve::launch::{ServeOptions, start};

const SURNAMES: &[&str] = &[
    "赵", "钱", "孙", "李", "周", "吴", "郑", "王", "冯", "陈", "褚", "卫", "蒋", "沈", "韩", "杨",
];
const GIVEN: &[&str] = &[
    "子涵", "浩然", "雨桐", "思远", "欣怡", "俊杰", "佳琪", "宇轩", "梓萱", "明哲", "若曦", "嘉树",
];

/// A synthetic 居民身份证 number with a valid GB 11643 check digit.
fn id_number(birth: &str, seq: u32) -> String {
    let body = format!("310104{birth}{seq:03}");
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
    format!("{body}{check}")
}

fn residents(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let day = 1 + (i / 900) % 28;
            let month = 1 + (i / (900 * 28)) % 12;
            let birth = format!("1990{month:02}{day:02}");
            let seq = (i % 900) as u32 + 100;
            let name = format!(
                "{}{}",
                SURNAMES[i % SURNAMES.len()],
                GIVEN[(i / SURNAMES.len()) % GIVEN.len()]
            );
            let gender = if seq % 2 == 1 { "男" } else { "女" };
            json!({
                "name": name,
                "id_number": id_number(&birth, seq),
                "gender": gender,
                "birth_date": format!("1990-{month:02}-{day:02}"),
                "hukou": "本市城镇",
                "district": "徐汇区",
                "street": "田林街道",
                "employment": [{
                    "employer": "上海申城物流有限公司", "employer_district": "徐汇区",
                    "industry": "物流", "start_month": "2019-04", "contract_end": "2026-08-31",
                    "monthly_wage": 7800, "separation_date": "2026-08-31",
                    "separation_reason": "劳动合同期满终止"
                }],
                "_note": "合成居民（负载测试），证件号码校验位有效，非真实人员"
            })
        })
        .collect()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Quantile `q` of a Prometheus histogram given as cumulative (le, count) pairs, by linear
/// interpolation inside the bucket.
fn quantile(buckets: &[(f64, f64)], q: f64) -> f64 {
    let total = buckets.last().map_or(0.0, |b| b.1);
    if total == 0.0 {
        return 0.0;
    }
    let want = q * total;
    let mut prev = (0.0, 0.0);
    for &(le, c) in buckets {
        if c >= want {
            if le.is_infinite() {
                return prev.0;
            }
            let span = (c - prev.1).max(1e-9);
            return prev.0 + (le - prev.0) * (want - prev.1) / span;
        }
        prev = (le, c);
    }
    prev.0
}

/// Sums the `_bucket` series of `name` whose labels contain `filter`, by `le`.
fn histogram(metrics: &str, name: &str, filter: &str) -> Vec<(f64, f64)> {
    let mut by_le: BTreeMap<String, f64> = BTreeMap::new();
    let prefix = format!("{name}_bucket{{");
    for line in metrics
        .lines()
        .filter(|l| l.starts_with(&prefix) && l.contains(filter))
    {
        let Some(le) = line.split("le=\"").nth(1).and_then(|r| r.split('"').next()) else {
            continue;
        };
        let v: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        *by_le.entry(le.to_string()).or_default() += v;
    }
    let mut v: Vec<(f64, f64)> = by_le
        .into_iter()
        .map(|(le, c)| {
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap_or(0.0)
                },
                c,
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v
}

fn counter(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .sum()
}

fn main() {
    let users: usize = std::env::var("ZHIBAN_LOAD_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tmp = tempfile::tempdir().unwrap();
    let people = residents(users);
    let fixtures = tmp.path().join("residents.jsonl");
    {
        let mut f = std::fs::File::create(&fixtures).unwrap();
        for p in &people {
            writeln!(f, "{p}").unwrap();
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let script = zhiban_llmsim::Script::from_json(
            r#"{"rules": [{"when": {"regex": "确认"}, "reply": {"tool_call": {"name": "submit", "arguments": {}}}}],
                "default": {"text": "好的"}}"#,
        )
        .unwrap();
        let sim = zhiban_llmsim::start(zhiban_llmsim::Config {
            script,
            ..Default::default()
        })
        .await
        .unwrap();
        let sessions = std::env::var("ZHIBAN_LOAD_SESSIONS")
            .unwrap_or_else(|_| format!("sqlite://{}", tmp.path().join("sessions.db").display()));
        let opts = ServeOptions {
            bind: "127.0.0.1:0".parse().unwrap(),
            today: Some("2026-11-15".parse().unwrap()),
            casesim_fixtures: Some(fixtures.clone()),
            casesim_bind: None,
            casesim_url: None,
            sessions: sessions.clone(),
            ttl: Duration::from_secs(3600),
            var_dir: tmp.path().join("var"),
            index_dir: tmp.path().join("index"),
            data_dir: repo.join("data/policies"),
            reader: Arc::new(TextOnlyReader),
            llm: Some(zhiban_agent_core::llm::LlmConfig::new(
                sim.base_url(),
                "load-key",
                "zhiban-sim",
            )),
            auth: None,
            cors_origins: Vec::new(),
            tls: None,
        };
        let app = start(&Config::default(), opts, std::future::pending())
            .await
            .unwrap();
        let base = format!("http://{}", app.addr);
        println!("service at {base}, sessions in {sessions}, {users} residents");

        // Memory per idle session, measured first so that the load does not hide it.
        let http = reqwest::Client::new();
        let before = rss_kib();
        let idle = 5000;
        for i in 0..idle {
            let r = http
                .post(format!("{base}/v1/agents/unemployment_registration/sessions"))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "idle session {i}");
        }
        let after = rss_kib();
        println!(
            "idle sessions {idle}: RSS {before} KiB → {after} KiB, {:.2} KiB per session (sessions live in the store, not in memory)",
            (after.saturating_sub(before)) as f64 / idle as f64
        );
        // 1. Locust.
        let csv = tmp.path().join("locust");
        let t0 = Instant::now();
        let out = tokio::process::Command::new("locust")
            .arg("-f")
            .arg(repo.join("api/benches/load/locustfile.py"))
            .args(["--headless", "--only-summary", "--host", &base])
            .args(["-u", &users.to_string(), "-r", "200", "--run-time", "900s"])
            .arg("--csv")
            .arg(&csv)
            .env("ZHIBAN_LOAD_RESIDENTS", &fixtures)
            .env(
                "ZHIBAN_LOAD_THINK",
                std::env::var("ZHIBAN_LOAD_THINK").unwrap_or_else(|_| "0,0".into()),
            )
            .output()
            .await
            .expect("locust (pip install locust)");
        let wall = t0.elapsed();
        let stats = std::fs::read_to_string(format!("{}_stats.csv", csv.display()))
            .unwrap_or_default();
        println!("locust exit {:?} after {:.1} s", out.status.code(), wall.as_secs_f64());
        // Locust prints its summary tables (client-side times, failures) to stderr at exit.
        let log = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = log
            .lines()
            .filter(|l| l.contains('|') || l.contains("Aggregated") || l.contains("Percentage"))
            .collect();
        for line in tail.iter().rev().take(40).rev() {
            println!("  {line}");
        }
        for line in stats.lines().filter(|l| l.contains("Aggregated")) {
            println!("  csv: {line}");
        }
        let failures = std::fs::read_to_string(format!("{}_failures.csv", csv.display()))
            .unwrap_or_default();
        if failures.lines().count() > 1 {
            println!("failures:\n{failures}");
        }
        let metrics = reqwest::get(format!("{base}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let all = histogram(&metrics, "zhiban_http_request_duration_seconds", "/v1/");
        let turns = histogram(
            &metrics,
            "zhiban_http_request_duration_seconds",
            "route=\"/v1/sessions/{id}/messages\"",
        );
        let llm = histogram(&metrics, "zhiban_llm_call_duration_seconds", "");
        let submitted = counter(
            &metrics,
            "zhiban_flow_outcomes_total{agent=\"unemployment_registration\",state=\"submitted\"}",
        );
        let server_errors = counter(&metrics, "zhiban_http_requests_total{")
            - metrics
                .lines()
                .filter(|l| l.starts_with("zhiban_http_requests_total{") && !l.contains("status=\"5"))
                .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
                .sum::<f64>();
        println!(
            "flows submitted {submitted} / {users}; 5xx {server_errors}; requests {}",
            all.last().map_or(0.0, |b| b.1)
        );
        println!(
            "server-side time, all /v1 requests: p50 {:.1} ms, p99 {:.1} ms; turns: p50 {:.1} ms, p99 {:.1} ms",
            quantile(&all, 0.5) * 1e3,
            quantile(&all, 0.99) * 1e3,
            quantile(&turns, 0.5) * 1e3,
            quantile(&turns, 0.99) * 1e3
        );
        println!(
            "model calls {}: p50 {:.2} ms, p99 {:.2} ms (part of the turn times above)",
            llm.last().map_or(0.0, |b| b.1),
            quantile(&llm, 0.5) * 1e3,
            quantile(&llm, 0.99) * 1e3
        );

        // 2. wrk on /v1/qa.
        let questions = tmp.path().join("questions.txt");
        {
            let gold = std::fs::read_to_string(repo.join("data/eval/qa_gold.jsonl")).unwrap();
            let mut f = std::fs::File::create(&questions).unwrap();
            for line in gold.lines() {
                if let Ok(v) = serde_json::from_str::<Value>(line)
                    && let Some(q) = v["question"].as_str()
                {
                    writeln!(f, "{}", serde_json::to_string(q).unwrap()).unwrap();
                }
            }
        }
        let out = tokio::process::Command::new("wrk")
            .args(["-t2", "-c64", "-d20s", "--latency", "-s"])
            .arg(repo.join("api/benches/load/qa.lua"))
            .arg(format!("{base}/v1/qa"))
            .env("ZHIBAN_QA_QUESTIONS", &questions)
            .output()
            .await
            .expect("wrk (apt-get install wrk)");
        println!("wrk /v1/qa:\n{}", String::from_utf8_lossy(&out.stdout));

        app.stop().await;
        sim.shutdown().await;
    });
}
