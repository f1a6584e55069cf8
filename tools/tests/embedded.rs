//! The embedded default: keyring and audit log under a var dir, casesim started in-process.

use serde_json::json;
use zhiban_tools::cli::{embedded, tool_call};
use zhiban_tools::{CallContext, Transport};

#[tokio::test]
async fn embedded_default_creates_a_keyring_and_serves_tool_calls() {
    let dir = tempfile::TempDir::new().unwrap();
    let var = dir.path().join("var");
    let e = embedded(&var, None, Transport::Rest).await.unwrap();
    if std::env::var(zhiban_pii::KEYRING_ENV).is_err() {
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
    let out = tool_call(
        &e.runtime,
        &ctx,
        "全口径事项清单",
        &json!({"channel": "自助机"}).to_string(),
        true,
    )
    .await
    .unwrap();
    assert!(out["result_plain"]["matters"].as_array().unwrap().len() > 3);
    assert!(var.join("audit.log").exists());
    if let Some(sim) = e.casesim {
        sim.stop().await;
    }
}
