//! Every tool round-trips against an in-process casesim, over REST and over SOAP, with the same
//! answers; PII never comes back in plaintext while casesim always receives plaintext.

mod common;

use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tempfile::TempDir;
use zhiban_pii::{PiiKind, detect};
use zhiban_tools::{Access, CallContext, ToolRuntime, Transport};

/// Plain arguments for every tool, built from the seeded data. `submit_resident` differs per run
/// because 失业登记 refuses a second active registration.
async fn plain_calls(
    sim: &zhiban_casesim::Casesim,
    submit_resident: i64,
) -> Vec<(&'static str, Value)> {
    let (id, name, _, _) = resident(sim, 42).await;
    let unreg: (String, String) = sqlx::query_as("SELECT id_number, name FROM residents WHERE id NOT IN (SELECT resident_id FROM unemployment_registrations) AND id >= ? ORDER BY id LIMIT 1")
        .bind(submit_resident)
        .fetch_one(sim.pool())
        .await
        .unwrap();
    let (sid, sname, smobile, saddr) = resident(sim, submit_resident).await;
    let road: String = sqlx::query_scalar("SELECT name FROM roads ORDER BY id LIMIT 1 OFFSET 500")
        .fetch_one(sim.pool())
        .await
        .unwrap();
    let rated_case: String =
        sqlx::query_scalar("SELECT case_no FROM ratings ORDER BY rating_id LIMIT 1")
            .fetch_one(sim.pool())
            .await
            .unwrap();
    let (app_no, street): (String, String) = sqlx::query_as(
        "SELECT application_no, street FROM assessments ORDER BY application_no LIMIT 1",
    )
    .fetch_one(sim.pool())
    .await
    .unwrap();
    let ticket: String = sqlx::query_scalar(
        "SELECT ticket_no FROM cases WHERE ticket_no IS NOT NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(sim.pool())
    .await
    .unwrap();
    let who = json!({"name": name, "id_number": id});
    let with = |extra: Value| {
        let mut v = who.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let submit = |extra: Value| {
        let mut v = json!({"name": sname, "id_number": sid, "mobile": smobile, "street": "测试街道", "remark": "往返测试"});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    vec![
        ("applicant_verify", with(json!({"id_type": "居民身份证"}))),
        ("unemployment_eligibility", who.clone()),
        (
            "unemployment_date_check",
            with(json!({"unemployment_date": "2026-10-08"})),
        ),
        (
            "unemployment_submit",
            json!({"name": unreg.1, "id_number": unreg.0, "mobile": smobile, "unemployment_date": "2026-10-08", "unemployment_reason": "劳动合同期满终止", "job_intention": "仓储管理", "health_status": "健康", "claim_unemployment_benefit": "否", "address": saddr}),
        ),
        ("rural_subsidy_eligibility", who.clone()),
        (
            "rural_subsidy_start_check",
            with(json!({"start_month": "2026-09"})),
        ),
        (
            "rural_subsidy_submit",
            submit(
                json!({"start_month": "2026-09", "monthly_wage": 6000, "bank_card": "6222020200112345678"}),
            ),
        ),
        ("elderly_subsidy_eligibility", who.clone()),
        ("elderly_assessment_info", who.clone()),
        ("elderly_subsidy_submit", submit(json!({"address": saddr}))),
        ("zhinei_eligibility", who.clone()),
        ("zhinei_submit", submit(json!({}))),
        ("disability_care_eligibility", who.clone()),
        (
            "disability_care_submit",
            submit(
                json!({"application_date": "2026-11-10", "guardian_name": "监护人甲", "guardian_mobile": "13812345678"}),
            ),
        ),
        ("road_search", json!({"query": road, "limit": 5})),
        ("case_trajectory", json!({"case_no": rated_case})),
        (
            "ltc_registration_query",
            json!({"application_no": app_no, "street": street}),
        ),
        ("matter_catalog", json!({"channel": "全市通办"})),
        ("rating_info", json!({"case_no": rated_case})),
        ("current_ticket_matters", json!({"ticket_no": ticket})),
        (
            "pending_trajectory",
            json!({"source": "一网通办", "limit": 5}),
        ),
    ]
}

async fn run_all(
    rt: &ToolRuntime,
    ctx: &CallContext,
    calls: &[(&'static str, Value)],
) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    for (tool, plain) in calls {
        let args = tokenize(rt, ctx, tool, plain.clone());
        // What the agent side holds has no plaintext PII.
        assert!(detect(&args.to_string()).is_empty(), "{tool}: {args}");
        let v = rt
            .invoke(ctx, tool, args)
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e} ({})", e.code()));
        out.push((*tool, v));
    }
    out
}

/// Known plaintext values the results must not show.
async fn secrets(sim: &zhiban_casesim::Casesim) -> Vec<String> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id_number, name, mobile FROM residents")
            .fetch_all(sim.pool())
            .await
            .unwrap();
    rows.into_iter()
        .flat_map(|(a, b, c)| [a, b, c])
        .filter(|s| s.chars().count() >= 2)
        .collect()
}

#[tokio::test]
async fn every_tool_round_trips_over_rest_and_soap_without_leaking_plaintext() {
    let sim = sim().await;
    let dir = TempDir::new().unwrap();
    let vault = vault();
    let (rest_rt, audit_path) = runtime(&sim, Transport::Rest, &vault, &dir, |_| {});
    let (soap_rt, _) = runtime(&sim, Transport::Soap, &vault, &dir, |_| {});
    let ctx = ctx("roundtrip");
    let rest_calls = plain_calls(&sim, 100).await;
    let soap_calls = plain_calls(&sim, 300).await;
    let covered: BTreeSet<&str> = rest_calls.iter().map(|c| c.0).collect();
    let all: BTreeSet<&str> = rest_rt.registry().iter().map(|t| t.id).collect();
    assert_eq!(covered, all, "every registered tool is exercised");

    sim.clear_requests();
    let rest = run_all(&rest_rt, &ctx, &rest_calls).await;
    let rest_log = sim.requests();
    sim.clear_requests();
    let soap = run_all(&soap_rt, &ctx, &soap_calls).await;
    let soap_log = sim.requests();
    assert!(rest_log.iter().all(|r| r.transport == "rest") && rest_log.len() == 21);
    assert!(soap_log.iter().all(|r| r.transport == "soap") && soap_log.len() == 21);

    // 1. Casesim received plaintext, never a token.
    for (log, calls) in [(&rest_log, &rest_calls), (&soap_log, &soap_calls)] {
        for r in log.iter() {
            assert!(
                !r.body.contains("⟦PII"),
                "{}: token reached the line system",
                r.operation
            );
            let plain = &calls.iter().find(|c| c.0 == r.operation).unwrap().1;
            if let Some(id) = plain.get("id_number").and_then(Value::as_str) {
                assert!(
                    r.body.contains(id),
                    "{}: plaintext ID missing in what casesim received",
                    r.operation
                );
            }
            if let Some(name) = plain.get("name").and_then(Value::as_str) {
                assert!(
                    r.body.contains(name),
                    "{}: plaintext name missing",
                    r.operation
                );
            }
        }
    }

    // 2. Nothing handed back holds plaintext PII: no detector hit and no known value.
    let secrets = secrets(&sim).await;
    let mut sealed_fields = 0;
    for (tool, v) in rest.iter().chain(soap.iter()) {
        let text = v.to_string();
        assert!(
            detect(&text).is_empty(),
            "{tool}: detector found PII in {text}"
        );
        for s in secrets.iter().filter(|s| s.chars().count() >= 3) {
            assert!(!text.contains(s.as_str()), "{tool}: plaintext value leaked");
        }
        sealed_fields += text.matches("⟦PII:").count();
    }
    assert!(
        sealed_fields > 20,
        "results carry sealed fields ({sealed_fields})"
    );

    // 3. REST and SOAP agree (compared after opening the tokens) for every read tool.
    for ((tool, r), (_, s)) in rest.iter().zip(soap.iter()) {
        let spec = rest_rt.registry().get(tool).unwrap();
        if spec.access == Access::Write {
            assert!(
                r["case_no"].as_str().unwrap().starts_with("SL")
                    && s["case_no"].as_str().unwrap().starts_with("SL")
            );
            assert_ne!(r["case_no"], s["case_no"]);
            continue;
        }
        let r = rest_rt.reveal(&ctx, tool, r).await.unwrap();
        let s = soap_rt.reveal(&ctx, tool, s).await.unwrap();
        assert_eq!(r, s, "{tool}: REST and SOAP differ");
    }
    let verify = rest_rt.registry().get("applicant_verify").unwrap();
    assert_eq!(verify.name, "申请人核实");
    let first = rest_rt
        .reveal(&ctx, "applicant_verify", &rest[0].1)
        .await
        .unwrap();
    assert_eq!(first["match_level"], "完全匹配");
    assert_eq!(first["id_number"], rest_calls[0].1["id_number"]);

    // 4. The audit log holds kinds, never values, and verifies.
    let audit = std::fs::read_to_string(&audit_path).unwrap();
    assert!(
        audit.contains("\"decrypt\"") && audit.contains("\"write\"") && audit.contains("ID_CARD")
    );
    for s in secrets.iter().filter(|s| s.chars().count() >= 3) {
        assert!(!audit.contains(s.as_str()));
    }
    let report = zhiban_pii::AuditLog::verify(&audit_path).unwrap();
    assert!(report.intact, "{report:?}");
    // One write entry per submit, and a decrypt entry for every call that carried PII.
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, report.entries);
    let writes = lines.iter().filter(|l| l["action"] == "write").count();
    let with_pii = rest_calls
        .iter()
        .filter(|(t, a)| {
            rest_rt
                .registry()
                .get(t)
                .unwrap()
                .pii_args
                .iter()
                .any(|f| a.get(&f.path).is_some())
        })
        .count();
    let decrypts = lines
        .iter()
        .filter(|l| l["action"] == "decrypt" && l["actor"] == "clerk-007")
        .count();
    assert_eq!(writes, 5);
    assert!(decrypts >= with_pii, "{decrypts} < {with_pii}");
    sim.stop().await;
}

#[tokio::test]
async fn the_boundary_refuses_plaintext_foreign_tokens_and_wrong_kinds() {
    let e = env(Transport::Rest, |_| {}).await;
    let (id, name, _, _) = resident(&e.sim, 9).await;
    let c = ctx("s1");
    // Plaintext in a PII field never goes out.
    let err =
        e.rt.invoke(
            &c,
            "applicant_verify",
            json!({"name": name, "id_number": id}),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "plaintext_pii");
    // A token sealed for another session does not open.
    let other = ctx("s2");
    let args = json!({"name": seal(&e.rt, &other, PiiKind::Name, &name), "id_number": seal(&e.rt, &other, PiiKind::IdCard, &id)});
    let err = e.rt.invoke(&c, "applicant_verify", args).await.unwrap_err();
    assert_eq!(err.code(), "invalid_token");
    assert!(err.to_string().contains("令牌无效"));
    // A mobile token where an ID is expected is refused.
    let args = json!({"name": seal(&e.rt, &c, PiiKind::Name, &name), "id_number": seal(&e.rt, &c, PiiKind::Mobile, "13912345678")});
    assert_eq!(
        e.rt.invoke(&c, "applicant_verify", args)
            .await
            .unwrap_err()
            .code(),
        "wrong_pii_kind"
    );
    // None of these reached casesim.
    assert!(e.sim.requests().is_empty());
    // A business refusal comes back in Chinese, with no plaintext.
    let args = json!({"name": seal(&e.rt, &c, PiiKind::Name, "查无此人"), "id_number": seal(&e.rt, &c, PiiKind::IdCard, "11010519491231002X")});
    let err =
        e.rt.invoke(&c, "unemployment_eligibility", args)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "business");
    assert!(err.to_string().contains("未查询到"), "{err}");
    // Unknown tools and bad arguments are typed errors.
    assert_eq!(
        e.rt.invoke(&c, "nope", json!({})).await.unwrap_err().code(),
        "unknown_tool"
    );
    assert_eq!(
        e.rt.invoke(&c, "road_search", json!({"limit": 3}))
            .await
            .unwrap_err()
            .code(),
        "invalid_arguments"
    );
    e.sim.stop().await;
}

#[tokio::test]
async fn reveal_opens_results_for_the_operator_and_audits_it() {
    let e = env(Transport::Soap, |_| {}).await;
    let (id, name, _, _) = resident(&e.sim, 11).await;
    let c = ctx("cli");
    let args = tokenize(
        &e.rt,
        &c,
        "申请人核实",
        json!({"name": name, "id_number": id}),
    );
    let sealed = e.rt.invoke(&c, "申请人核实", args).await.unwrap();
    assert!(sealed["name"].as_str().unwrap().starts_with("⟦PII:NAME:"));
    let before = zhiban_pii::AuditLog::verify(&e.audit_path).unwrap().entries;
    let plain = e.rt.reveal(&c, "applicant_verify", &sealed).await.unwrap();
    assert_eq!(plain["name"], name.as_str());
    assert_eq!(plain["found"], true);
    // The reveal is one more decrypt entry; a value without tokens is returned as is, unaudited.
    let none =
        e.rt.reveal(&c, "applicant_verify", &json!({"found": true}))
            .await
            .unwrap();
    assert_eq!(none, json!({"found": true}));
    // Another session's tokens do not open.
    let err =
        e.rt.reveal(&ctx("other"), "applicant_verify", &sealed)
            .await
            .unwrap_err();
    assert_eq!(err.code(), "invalid_token");
    let list = zhiban_tools::cli::tool_list(e.rt.registry());
    assert_eq!(list["total"], 21);
    assert!(list["tools"][0]["args_schema"]["properties"].is_object());
    let rt = e.rt;
    drop(rt);
    let report = zhiban_pii::AuditLog::verify(&e.audit_path).unwrap();
    // reveal (one) + the failed reveal (audited before opening: one).
    assert_eq!(report.entries, before + 2, "{report:?}");
    e.sim.stop().await;
}
