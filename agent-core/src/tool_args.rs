//! Tool arguments as the agent side holds them: every PII value sealed as a token of the session.
//!
//! The tool runtime refuses plaintext in a PII field, so whatever turns a resident's words (or
//! MAP's `metadata.applicant`) into tool arguments passes them through [`tokenize_args`] first:
//! fields the tool's schema marks as PII — at any path, `id_number`, `applicant.id_number`,
//! `members[].name` — become tokens of their kind, PII the detector finds in other strings is
//! tokenised in place, and tokens already present are kept.
//!
//! ```no_run
//! # async fn demo(rt: &zhiban_tools::ToolRuntime) -> zhiban_tools::Result<()> {
//! use serde_json::json;
//! use zhiban_tools::CallContext;
//!
//! let ctx = CallContext::new("shanghai", "session-1", "agent");
//! // Synthetic, checksum-valid ID of a fictional person.
//! let args = json!({"name": "王小明", "id_number": "11010519491231002X"});
//! let sealed = zhiban_agent_core::tokenize_args(rt, &ctx, "申请人核实", args).await?;
//! let result = rt.invoke(&ctx, "申请人核实", sealed).await?;
//! # let _ = result; Ok(()) }
//! ```

use serde_json::Value;
use zhiban_tools::paths::{kind_at, walk_mut};
use zhiban_tools::{
    CallContext, Error, PiiField, Result, TokenScope, ToolRuntime, Vault, is_token,
};

/// Seal the plaintext PII in `args` for tool `tool` (id or Chinese name) in `ctx`'s session.
/// Runs the vault work the way the runtime does, so a blocking key provider never holds an async
/// worker.
///
/// # Errors
/// [`Error::UnknownTool`], [`Error::InvalidArguments`] for a non-object, [`Error::Pii`] or
/// [`Error::KeyProviderTimeout`] from the key provider.
pub async fn tokenize_args(
    rt: &ToolRuntime,
    ctx: &CallContext,
    tool: &str,
    args: Value,
) -> Result<Value> {
    let spec = rt.registry().get(tool).ok_or_else(|| Error::UnknownTool {
        name: tool.to_string(),
    })?;
    if !args.is_object() {
        return Err(Error::InvalidArguments {
            tool: spec.name.to_string(),
            reason: "参数应为 JSON 对象".into(),
        });
    }
    let (fields, scope) = (spec.pii_args.clone(), ctx.scope());
    rt.vault_op(move |vault| seal_args(vault, &scope, &fields, args))
        .await
}

fn seal_args(
    vault: &Vault,
    scope: &TokenScope,
    fields: &[PiiField],
    mut args: Value,
) -> Result<Value> {
    walk_mut(&mut args, &mut |path, node| -> Result<bool> {
        let plain = match (kind_at(fields, path), &*node) {
            (Some(_), Value::String(s)) if s.trim().is_empty() || is_token(s) => return Ok(false),
            (Some(kind), Value::String(s)) => Some((kind, s.trim().to_string())),
            // An ID typed as a number is still an ID.
            (Some(kind), Value::Number(n)) => Some((kind, n.to_string())),
            (None, Value::String(s)) => {
                let sealed = vault.tokenize_text(scope, s).map_err(Error::Pii)?;
                *node = Value::String(sealed);
                return Ok(false);
            }
            _ => None,
        };
        match plain {
            Some((kind, plain)) => {
                *node = Value::String(vault.seal(scope, kind, &plain).map_err(Error::Pii)?);
                Ok(false)
            }
            None => Ok(true),
        }
    })?;
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;
    use zhiban_tools::{Access, AdapterConfig, Registry, ToolSpec, Transport};

    fn runtime(dir: &std::path::Path) -> ToolRuntime {
        let nested = ToolSpec::new(
            "household_check",
            "家庭成员核对",
            "测试用：嵌套的申请人与家庭成员。",
            "sl",
            None,
            Access::Read,
            json!({"type": "object", "properties": {
                "applicant": {"type": "object", "properties": {
                    "id_number": {"type": "string", "x-pii": "ID_CARD"},
                    "district": {"type": "string"}}},
                "members": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string", "x-pii": "NAME"},
                    "relation": {"type": "string"}}}},
                "note": {"type": "string"}}}),
            json!({"type": "object"}),
        );
        let specs = Registry::builtin()
            .iter()
            .cloned()
            .chain([nested])
            .collect::<Vec<_>>();
        let vault = Vault::new(Arc::new(zhiban_pii::Keyring::generate().unwrap()));
        let audit = Arc::new(zhiban_pii::AuditLog::open(dir.join("audit.log")).unwrap());
        ToolRuntime::new(
            Registry::from_specs(specs),
            vault,
            audit,
            AdapterConfig::all_at("http://127.0.0.1:9", Transport::Rest),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn flat_nested_and_array_fields_become_tokens_of_their_kind() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(dir.path());
        let ctx = CallContext::new("t", "s", "agent");
        let sealed = tokenize_args(
            &rt,
            &ctx,
            "household_check",
            json!({
                "applicant": {"id_number": "11010519491231002X", "district": "长宁区"},
                "members": [{"name": "王小明", "relation": "子女"}, {"name": "李小红", "relation": "配偶"}],
                "note": "联系电话 13912345678",
            }),
        )
        .await
        .unwrap();
        let text = sealed.to_string();
        for plain in ["1949", "王小明", "李小红", "13912345678"] {
            assert!(!text.contains(plain), "{plain} in {text}");
        }
        assert!(
            sealed["applicant"]["id_number"]
                .as_str()
                .unwrap()
                .starts_with("⟦PII:ID_CARD:")
        );
        assert!(
            sealed["members"][1]["name"]
                .as_str()
                .unwrap()
                .starts_with("⟦PII:NAME:")
        );
        assert_eq!(sealed["members"][0]["relation"], "子女");
        assert_eq!(sealed["applicant"]["district"], "长宁区");
        // Tokens are kept as they are (sealing again would change them).
        let again = tokenize_args(&rt, &ctx, "household_check", sealed.clone())
            .await
            .unwrap();
        assert_eq!(again, sealed);
        let back = rt
            .vault()
            .open(&ctx.scope(), sealed["members"][1]["name"].as_str().unwrap())
            .unwrap();
        assert_eq!(back.plaintext.as_str(), "李小红");
    }

    #[tokio::test]
    async fn flat_fields_numbers_and_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let rt = runtime(dir.path());
        let ctx = CallContext::new("t", "s", "agent");
        let sealed = tokenize_args(
            &rt,
            &ctx,
            "申请人核实",
            json!({"name": "王小明", "id_number": 110105194912310020u64, "id_type": "居民身份证"}),
        )
        .await
        .unwrap();
        assert!(
            sealed["id_number"]
                .as_str()
                .unwrap()
                .starts_with("⟦PII:ID_CARD:")
        );
        assert!(sealed["name"].as_str().unwrap().starts_with("⟦PII:NAME:"));
        assert_eq!(sealed["id_type"], "居民身份证");
        assert!(matches!(
            tokenize_args(&rt, &ctx, "nope", json!({})).await,
            Err(Error::UnknownTool { .. })
        ));
        assert!(matches!(
            tokenize_args(&rt, &ctx, "申请人核实", json!([1])).await,
            Err(Error::InvalidArguments { .. })
        ));
    }
}
