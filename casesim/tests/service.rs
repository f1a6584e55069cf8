//! Casesim end to end: seeding, rules against the seeded data, REST and SOAP, faults, idempotency.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::time::Instant;
use tower::ServiceExt;
use zhiban_casesim::{Config, ops::OPERATIONS, soap, state};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 15).unwrap()
}

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn rest(op: &str, args: Value, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::post(format!("/rest/{op}")).header("content-type", "application/json");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::from(args.to_string())).unwrap()
}

#[tokio::test]
async fn seeds_quickly_with_the_promised_volumes() {
    let t = Instant::now();
    let st = state(&Config::fixed(today())).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    println!("seeded in {secs:.2}s");
    assert!(secs < 10.0, "seeding took {secs}s");
    let pool = &st.ops.db.pool;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM residents")
        .fetch_one(pool)
        .await
        .unwrap();
    let roads: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM roads")
        .fetch_one(pool)
        .await
        .unwrap();
    let districts: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT district) FROM roads")
        .fetch_one(pool)
        .await
        .unwrap();
    let households: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT household_id) FROM residents")
        .fetch_one(pool)
        .await
        .unwrap();
    let rated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ratings")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(
        n >= 5000 && roads >= 3000 && districts == 16 && households > 1000 && rated > 100,
        "{n} {roads} {districts} {households} {rated}"
    );
    let ids: Vec<String> = sqlx::query_scalar("SELECT id_number FROM residents")
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(
        ids.iter()
            .all(|i| zhiban_casesim::synth::id_number_valid(i))
    );
}

/// Every matter has both eligible and ineligible residents in the seed, so tests can use both.
#[tokio::test]
async fn every_matter_has_eligible_and_ineligible_residents() {
    let st = state(&Config::fixed(today())).await.unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id_number FROM residents ORDER BY id")
        .fetch_all(&st.ops.db.pool)
        .await
        .unwrap();
    for op in [
        "unemployment_eligibility",
        "rural_subsidy_eligibility",
        "elderly_subsidy_eligibility",
        "zhinei_eligibility",
        "disability_care_eligibility",
    ] {
        let (mut yes, mut no) = (0, 0);
        for id in &ids {
            let v = st
                .ops
                .call(op, &json!({"id_number": id}), None)
                .await
                .unwrap();
            if v["eligible"] == true {
                yes += 1
            } else {
                no += 1
            }
        }
        println!("{op}: {yes} eligible, {no} not");
        assert!(yes >= 5 && no >= 5, "{op}: {yes}/{no}");
    }
}

#[tokio::test]
async fn rest_and_soap_give_the_same_answers() {
    let st = state(&Config::fixed(today())).await.unwrap();
    let app = zhiban_casesim::router(st.clone());
    let (id, name): (String, String) =
        sqlx::query_as("SELECT id_number, name FROM residents WHERE id = 42")
            .fetch_one(&st.ops.db.pool)
            .await
            .unwrap();
    let args = json!({"name": name, "id_number": id, "id_type": "居民身份证"});
    let (s1, b1) = send(&app, rest("applicant_verify", args.clone(), &[])).await;
    assert_eq!(s1, StatusCode::OK, "{b1}");
    let rest_v: Value = serde_json::from_str(&b1).unwrap();
    assert_eq!(rest_v["result"]["match_level"], "完全匹配");
    let env = soap::request_envelope("applicant_verify", &args);
    let req = Request::post("/soap")
        .header("content-type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"urn:zhiban:casesim#applicant_verify\"")
        .body(Body::from(env))
        .unwrap();
    let (s2, b2) = send(&app, req).await;
    assert_eq!(s2, StatusCode::OK, "{b2}");
    let el = soap::body_element(&b2).unwrap();
    assert_eq!(el.name, "applicant_verifyResponse");
    assert_eq!(soap::to_json(&el), rest_v["result"]);
    // A business error is a 422 over REST and a soap:Client fault over SOAP.
    let bad = json!({"name": "无名", "id_number": "110105194912310021"});
    let (s3, _) = send(&app, rest("applicant_verify", bad.clone(), &[])).await;
    assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY);
    let req = Request::post("/soap")
        .header("SOAPAction", "applicant_verify")
        .body(Body::from(soap::request_envelope("applicant_verify", &bad)))
        .unwrap();
    let (s4, b4) = send(&app, req).await;
    assert_eq!(s4, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        b4.contains("soap:Client") && b4.contains("INVALID_ARGUMENT"),
        "{b4}"
    );
    assert_eq!(st.log.all().len(), 4);
    assert_eq!(OPERATIONS.len(), 21);
}

#[tokio::test]
async fn idempotency_key_never_creates_a_second_case_even_with_duplicate_delivery() {
    let st = state(&Config::fixed(today())).await.unwrap();
    let app = zhiban_casesim::router(st.clone());
    let (id, name): (String, String) =
        sqlx::query_as("SELECT id_number, name FROM residents WHERE id = 7")
            .fetch_one(&st.ops.db.pool)
            .await
            .unwrap();
    let args = json!({"name": name, "id_number": id, "mobile": "13900000000"});
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&st.ops.db.pool)
        .await
        .unwrap();
    let mut case_nos = Vec::new();
    for _ in 0..3 {
        let (s, b) = send(
            &app,
            rest(
                "zhinei_submit",
                args.clone(),
                &[("Idempotency-Key", "k-1"), ("X-Casesim-Fault", "duplicate")],
            ),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let v: Value = serde_json::from_str(&b).unwrap();
        case_nos.push(v["result"]["case_no"].as_str().unwrap().to_string());
    }
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&st.ops.db.pool)
        .await
        .unwrap();
    assert_eq!(after - before, 1);
    assert!(case_nos.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        st.log.all().iter().filter(|r| r.duplicate_delivery).count(),
        3
    );
    // Without a key, duplicate delivery does create two cases: the fault is real.
    let (s, _) = send(
        &app,
        rest(
            "zhinei_submit",
            args.clone(),
            &[("X-Casesim-Fault", "duplicate")],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let again: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases")
        .fetch_one(&st.ops.db.pool)
        .await
        .unwrap();
    assert_eq!(again - after, 2);
    // The same key with different content is refused.
    let other = json!({"name": name, "id_number": id, "mobile": "13900000001"});
    let (s, b) = send(
        &app,
        rest("zhinei_submit", other, &[("Idempotency-Key", "k-1")]),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b.contains("IDEMPOTENCY_CONFLICT"));
}

#[tokio::test]
async fn injected_faults_behave_as_documented() {
    let st = state(&Config::fixed(today())).await.unwrap();
    let app = zhiban_casesim::router(st.clone());
    let q = json!({"query": "长宁"});
    let (s, b) = send(
        &app,
        rest("road_search", q.clone(), &[("X-Casesim-Fault", "error")]),
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b}");
    let (s, _) = send(
        &app,
        rest("road_search", q.clone(), &[("X-Casesim-Fault", "lost")]),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    let t = Instant::now();
    let (s, _) = send(
        &app,
        rest(
            "road_search",
            q.clone(),
            &[("X-Casesim-Fault", "latency=150ms")],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(t.elapsed().as_millis() >= 150);
    let (s, b) = send(
        &app,
        rest("road_search", q.clone(), &[("X-Casesim-Fault", "nonsense")]),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let recs = st.log.all();
    assert_eq!(
        recs.iter().map(|r| r.outcome).collect::<Vec<_>>(),
        vec!["error", "lost", "none"]
    );
    let (s, b) = send(
        &app,
        Request::get("/_requests?operation=road_search")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["total"], 3);
}

#[tokio::test]
async fn road_search_is_fuzzy_and_scoped() {
    let st = state(&Config::fixed(today())).await.unwrap();
    let (name, district): (String, String) = sqlx::query_as(
        "SELECT name, district FROM roads WHERE kind = '路' ORDER BY id LIMIT 1 OFFSET 100",
    )
    .fetch_one(&st.ops.db.pool)
    .await
    .unwrap();
    let exact = st
        .ops
        .call("road_search", &json!({"query": name}), None)
        .await
        .unwrap();
    assert_eq!(exact["roads"][0]["name"], name.as_str());
    // Drop the suffix and a character: still found among the top hits.
    let core: String = name.chars().take(2).collect();
    let fuzzy = st
        .ops
        .call(
            "road_search",
            &json!({"query": format!("{core}路"), "district": district, "limit": 50}),
            None,
        )
        .await
        .unwrap();
    assert!(
        fuzzy["roads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == name.as_str()),
        "{fuzzy}"
    );
    assert!(
        fuzzy["roads"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["district"] == district.as_str())
    );
}

#[tokio::test]
async fn queries_answer_from_the_seed() {
    let st = state(&Config::fixed(today())).await.unwrap();
    let ops = &st.ops;
    let case_no: String = sqlx::query_scalar("SELECT case_no FROM ratings LIMIT 1")
        .fetch_one(&ops.db.pool)
        .await
        .unwrap();
    let r = ops
        .call("rating_info", &json!({"case_no": case_no}), None)
        .await
        .unwrap();
    assert_eq!(r["ratings"][0].as_object().unwrap().len(), 9);
    let t = ops
        .call("case_trajectory", &json!({"case_no": case_no}), None)
        .await
        .unwrap();
    assert!(t["cases"][0]["trajectory"].as_array().unwrap().len() >= 4);
    let ticket: String =
        sqlx::query_scalar("SELECT ticket_no FROM cases WHERE ticket_no IS NOT NULL LIMIT 1")
            .fetch_one(&ops.db.pool)
            .await
            .unwrap();
    let m = ops
        .call(
            "current_ticket_matters",
            &json!({"ticket_no": ticket}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(m["matters"][0].as_object().unwrap().len(), 17, "{m}");
    let (no, street): (String, String) =
        sqlx::query_as("SELECT application_no, street FROM assessments LIMIT 1")
            .fetch_one(&ops.db.pool)
            .await
            .unwrap();
    let l = ops
        .call(
            "ltc_registration_query",
            &json!({"application_no": no, "street": street}),
            None,
        )
        .await
        .unwrap();
    assert_eq!(l["records"][0]["application_no"], no.as_str());
    let e = ops
        .call(
            "ltc_registration_query",
            &json!({"application_no": no, "street": "不存在街道"}),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "OUT_OF_SCOPE");
    let c = ops
        .call("matter_catalog", &json!({"channel": "长三角"}), None)
        .await
        .unwrap();
    assert!(
        c["total"].as_u64().unwrap() > 3
            && c["matters"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["channels"].as_array().unwrap().contains(&json!("长三角")))
    );
    let p = ops
        .call("pending_trajectory", &json!({"source": "一网通办"}), None)
        .await
        .unwrap();
    assert!(
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] != "已办结")
    );
}

/// A caller that gives up mid-request (client timeout, closed connection) drops the handler's
/// future. The database must outlive that: the in-memory store lives on one connection, and a
/// query cancelled half-way used to cost that connection and, with it, every table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_abandoned_mid_flight_leave_the_database_intact() {
    let st = state(&Config::fixed(today())).await.unwrap();
    let app = zhiban_casesim::router(st.clone());
    let residents = |pool: sqlx::SqlitePool| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM residents")
            .fetch_one(&pool)
            .await
    };
    let before = residents(st.ops.db.pool.clone()).await.unwrap();
    let (id, name): (String, String) =
        sqlx::query_as("SELECT id_number, name FROM residents WHERE id = 11")
            .fetch_one(&st.ops.db.pool)
            .await
            .unwrap();
    // Give up after 0 µs, 20 µs, … 4 ms: some of these land inside a query.
    for i in 0..200u64 {
        let args = json!({"name": name, "id_number": id, "mobile": "13900000002", "remark": format!("放弃-{i}")});
        let key = format!("abandon-{i}");
        let req = rest("zhinei_submit", args, &[("Idempotency-Key", key.as_str())]);
        let _ = tokio::time::timeout(
            std::time::Duration::from_micros(i * 20),
            app.clone().oneshot(req),
        )
        .await;
    }
    // Whatever was abandoned, the service still answers from the same data.
    let (s, b) = send(
        &app,
        rest(
            "zhinei_submit",
            json!({"name": name, "id_number": id, "mobile": "13900000002", "remark": "之后"}),
            &[("Idempotency-Key", "after-abandon")],
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(residents(st.ops.db.pool.clone()).await.unwrap(), before);
}
