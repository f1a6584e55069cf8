//! The embedded default: keyring and audit log under a var dir, casesim started in-process, and
//! `zhiban tool call`'s tokenise → invoke → reveal path over it.

use serde_json::json;
use zhiban_api::commands::tool::tool_call;
use zhiban_api::embedded;
use zhiban_tools::{CallContext, Transport};

/// CI sets this: a check that cannot run here must fail, not pass quietly.
const REQUIRE_ENV: &str = "ZHIBAN_REQUIRE_EXTERNAL";

#[tokio::test]
async fn embedded_default_creates_a_keyring_and_serves_tool_calls() {
    let dir = tempfile::TempDir::new().unwrap();
    let var = dir.path().join("var");
    let e = embedded::start(&var, None, Transport::Rest).await.unwrap();
    if std::env::var_os(zhiban_pii::KEYRING_ENV).is_some() {
        let why = format!(
            "skipped: {} is set, so the keyring comes from the environment and the first-run \
             keyring file cannot be checked",
            zhiban_pii::KEYRING_ENV
        );
        assert!(
            std::env::var(REQUIRE_ENV).as_deref() != Ok("1"),
            "{why} ({REQUIRE_ENV}=1)"
        );
        eprintln!("{why}");
    } else {
        assert!(
            matches!(e.keyring_origin, zhiban_pii::KeyringOrigin::Created(_)),
            "{:?}",
            e.keyring_origin
        );
        assert!(var.join(zhiban_pii::KEYRING_FILE_NAME).exists());
    }
    let ctx = CallContext::new("local", "cli", "operator");
    let out = tool_call(
        &e.runtime,
        &ctx,
        "路名库查询",
        &json!({"query": "长"}).to_string(),
        false,
    )
    .await
    .unwrap();
    assert!(out["result"]["total"].as_u64().unwrap() > 0);
    assert!(out.get("result_plain").is_none());

    // A real resident, tokenised from plaintext the way the agent side does, revealed for the operator.
    let sim = e.casesim.as_ref().expect("in-process casesim");
    let r = sim
        .state()
        .ops
        .db
        .resident_by_id(11)
        .await
        .unwrap()
        .unwrap();
    let args = json!({"name": r.name, "id_number": r.id_number}).to_string();
    let out = tool_call(&e.runtime, &ctx, "申请人核实", &args, true)
        .await
        .unwrap();
    assert_eq!(out["tool"], "applicant_verify");
    assert!(
        out["arguments"]["id_number"]
            .as_str()
            .unwrap()
            .starts_with("⟦PII:ID_CARD:")
    );
    assert!(
        out["result"]["name"]
            .as_str()
            .unwrap()
            .starts_with("⟦PII:NAME:")
    );
    assert_eq!(out["result_plain"]["name"], r.name.as_str());
    assert_eq!(out["result_plain"]["found"], true);

    // A second stack on the same var dir cannot append to the same audit log.
    let err = embedded::start(&var, Some("http://127.0.0.1:9"), Transport::Rest)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            embedded::EmbeddedError::Pii(zhiban_pii::Error::AuditLocked { .. })
        ),
        "{err:?}"
    );
    e.shutdown().await;
    let report = zhiban_pii::AuditLog::verify(var.join(embedded::AUDIT_LOG_FILE)).unwrap();
    assert!(report.intact, "{report:?}");
    // 申请人核实: one decrypt in the boundary, one for the operator's reveal.
    assert_eq!(report.entries, 2);
}
