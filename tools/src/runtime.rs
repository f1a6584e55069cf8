//! The tool boundary: PII tokens are opened here and only here, plaintext goes to the line
//! system, and every PII value in the answer is sealed again before it leaves.
//!
//! Order of one call: validate the arguments against the schema → open the tokens (a PII field
//! must hold exactly one token; tokens inside free text are opened too) → audit the decryption →
//! for writes, derive the idempotency key and audit the write → call the line system → seal the
//! schema-marked PII fields of the result → run the detector over every other string of the
//! result. If the audit log cannot be written, nothing is sent.
//!
//! Plaintext lives in `serde_json::Value`s for the duration of the HTTP call; opened tokens are
//! `Zeroizing`, but the JSON copies are not wiped (serde_json and reqwest own those buffers).

use crate::adapter::{AdapterConfig, Adapters};
use crate::error::{Error, Result, kind_label};
use crate::registry::{Access, PiiField, Registry, ToolSpec};
use serde_json::{Map, Value};
use std::sync::Arc;
use zhiban_pii::{
    AuditAction, AuditLog, AuditRecord, PiiKind, TokenScope, Vault, find_tokens, is_token,
};

/// Who is calling, in which session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallContext {
    /// Tenant (binds tokens).
    pub tenant: String,
    /// Session (binds tokens).
    pub session: String,
    /// Who: clerk id, agent id or service account (goes to the audit log).
    pub actor: String,
}

impl CallContext {
    /// A context.
    pub fn new(
        tenant: impl Into<String>,
        session: impl Into<String>,
        actor: impl Into<String>,
    ) -> Self {
        CallContext {
            tenant: tenant.into(),
            session: session.into(),
            actor: actor.into(),
        }
    }
    /// The token scope of this context.
    pub fn scope(&self) -> TokenScope {
        TokenScope::new(self.tenant.clone(), self.session.clone())
    }
}

/// Registry + vault + audit log + adapters: everything a tool call needs.
#[derive(Debug)]
pub struct ToolRuntime {
    registry: Registry,
    vault: Vault,
    audit: Arc<AuditLog>,
    adapters: Adapters,
}

impl ToolRuntime {
    /// Build a runtime.
    ///
    /// # Errors
    /// [`Error::Client`] when the HTTP client cannot be built.
    pub fn new(
        registry: Registry,
        vault: Vault,
        audit: Arc<AuditLog>,
        cfg: AdapterConfig,
    ) -> Result<Self> {
        Ok(ToolRuntime {
            registry,
            vault,
            audit,
            adapters: Adapters::new(cfg)?,
        })
    }
    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
    /// The vault.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }
    /// The adapters (breaker state, counters).
    pub fn adapters(&self) -> &Adapters {
        &self.adapters
    }
    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Invoke tool `name` (id or Chinese name) with tokenised `args`; returns the result with
    /// every PII value sealed for `ctx`'s scope.
    ///
    /// # Errors
    /// See [`Error`]; messages are in Chinese and free of PII.
    pub async fn invoke(&self, ctx: &CallContext, name: &str, args: Value) -> Result<Value> {
        let spec = self.registry.get(name).ok_or_else(|| Error::UnknownTool {
            name: name.to_string(),
        })?;
        validate(spec, &spec.args_schema, &args, "")?;
        let scope = ctx.scope();
        let Value::Object(mut args) = args else {
            return Err(invalid(spec, "参数应为 JSON 对象"));
        };
        let explicit_key = match args.remove("idempotency_key") {
            Some(Value::String(k)) if !k.trim().is_empty() => Some(k),
            _ => None,
        };
        let (plain, opened) = self.open_args(spec, &scope, args)?;
        if !opened.is_empty() {
            self.audit_record(ctx, spec, AuditAction::Decrypt, opened.clone())
                .await?;
        }
        let key = match spec.access {
            Access::Read => None,
            Access::Write => {
                let kinds: Vec<PiiKind> = spec
                    .pii_args
                    .iter()
                    .filter(|f| plain.get(&f.path).is_some_and(|v| !v.is_null()))
                    .map(|f| f.kind)
                    .collect();
                self.audit_record(ctx, spec, AuditAction::Write, kinds)
                    .await?;
                Some(explicit_key.unwrap_or_else(|| derive_key(ctx, spec, &plain)))
            }
        };
        let plain = Value::Object(plain);
        let result = self.adapters.call(spec, &plain, key.as_deref()).await;
        drop(plain);
        match result {
            Ok(v) => self.seal_result(spec, &scope, v),
            Err(Error::Business {
                system,
                code,
                message,
            }) => {
                // A line system may echo an ID or phone number in its message.
                let message = self
                    .vault
                    .tokenize_text(&scope, &message)
                    .map_err(Error::Pii)?;
                Err(Error::Business {
                    system,
                    code,
                    message,
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn audit_record(
        &self,
        ctx: &CallContext,
        spec: &ToolSpec,
        action: AuditAction,
        mut fields: Vec<PiiKind>,
    ) -> Result<()> {
        fields.sort();
        fields.dedup();
        let record = AuditRecord::new(
            ctx.actor.clone(),
            ctx.session.clone(),
            spec.id,
            action,
            fields,
        );
        // Appends fsync; keep them off the async workers so a slow disk does not stall other calls.
        let audit = Arc::clone(&self.audit);
        match tokio::task::spawn_blocking(move || audit.append(record)).await {
            Ok(r) => r.map(|_| ()).map_err(Error::Audit),
            Err(_) => Err(Error::Audit(zhiban_pii::Error::Poisoned)),
        }
    }

    fn open_args(
        &self,
        spec: &ToolSpec,
        scope: &TokenScope,
        args: Map<String, Value>,
    ) -> Result<(Map<String, Value>, Vec<PiiKind>)> {
        let mut out = Map::new();
        let mut opened = Vec::new();
        for (k, v) in args {
            let field = spec.pii_args.iter().find(|f| f.path == k);
            let v = match (field, v) {
                (Some(f), Value::String(s)) => {
                    let t = s.trim();
                    if !is_token(t) {
                        return Err(Error::PlaintextPii { field: k });
                    }
                    let o = self.vault.open(scope, t).map_err(|e| match e {
                        zhiban_pii::Error::InvalidToken => Error::InvalidToken { field: k.clone() },
                        other => Error::Pii(other),
                    })?;
                    if !kind_compatible(f.kind, o.kind) {
                        return Err(Error::WrongPiiKind {
                            field: k,
                            expected: kind_label(f.kind),
                            found: kind_label(o.kind),
                        });
                    }
                    opened.push(o.kind);
                    Value::String(o.plaintext.as_str().to_string())
                }
                (None, Value::String(s)) if !find_tokens(&s).is_empty() => {
                    opened.extend(find_tokens(&s).iter().map(|m| m.kind));
                    let plain = self.vault.detokenize_text(scope, &s).map_err(|e| match e {
                        zhiban_pii::Error::InvalidToken => Error::InvalidToken { field: k.clone() },
                        other => Error::Pii(other),
                    })?;
                    Value::String(plain.as_str().to_string())
                }
                (_, v) => v,
            };
            out.insert(k, v);
        }
        Ok((out, opened))
    }

    fn seal_result(&self, spec: &ToolSpec, scope: &TokenScope, mut v: Value) -> Result<Value> {
        for f in &spec.pii_result {
            seal_path(&self.vault, scope, &mut v, f)?;
        }
        seal_free_text(&self.vault, scope, &mut v)?;
        Ok(v)
    }
}

fn kind_compatible(field: PiiKind, token: PiiKind) -> bool {
    field == token
        || field == PiiKind::Other
        || (field == PiiKind::IdCard && token == PiiKind::LegacyIdCard)
        || (field == PiiKind::Mobile && token == PiiKind::Landline)
}

fn invalid(spec: &ToolSpec, reason: impl Into<String>) -> Error {
    Error::InvalidArguments {
        tool: spec.name.to_string(),
        reason: reason.into(),
    }
}

/// Seal the values at `field.path` (`a`, `a.b`, `list[].b`) in place.
fn seal_path(vault: &Vault, scope: &TokenScope, v: &mut Value, field: &PiiField) -> Result<()> {
    fn walk(
        vault: &Vault,
        scope: &TokenScope,
        v: &mut Value,
        parts: &[&str],
        kind: PiiKind,
    ) -> Result<()> {
        let Some((head, rest)) = parts.split_first() else {
            let plain = match v {
                Value::String(s) if is_token(s.trim()) || s.is_empty() => return Ok(()),
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Ok(()),
            };
            *v = Value::String(vault.seal(scope, kind, &plain).map_err(Error::Pii)?);
            return Ok(());
        };
        if let Some(list) = head.strip_suffix("[]") {
            if let Some(Value::Array(items)) = v.get_mut(list) {
                for it in items {
                    walk(vault, scope, it, rest, kind)?;
                }
            }
            Ok(())
        } else {
            match v.get_mut(*head) {
                Some(child) => walk(vault, scope, child, rest, kind),
                None => Ok(()),
            }
        }
    }
    let segs: Vec<&str> = field.path.split('.').collect();
    walk(vault, scope, v, &segs, field.kind)
}

/// Run the PII detector over every string in `v` (tokens are left alone).
fn seal_free_text(vault: &Vault, scope: &TokenScope, v: &mut Value) -> Result<()> {
    match v {
        Value::String(s) => {
            let sealed = vault.tokenize_text(scope, s).map_err(Error::Pii)?;
            if sealed != *s {
                *s = sealed;
            }
        }
        Value::Array(items) => {
            for it in items {
                seal_free_text(vault, scope, it)?;
            }
        }
        Value::Object(m) => {
            for (_, it) in m.iter_mut() {
                seal_free_text(vault, scope, it)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The idempotency key of a write: SM3 over tenant, session, tool and the canonical plaintext
/// arguments, so that re-sending the same application (even with freshly sealed tokens) reuses it.
fn derive_key(ctx: &CallContext, spec: &ToolSpec, plain: &Map<String, Value>) -> String {
    let material = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        ctx.tenant,
        ctx.session,
        spec.id,
        zhiban_wire::canonical_json(&Value::Object(plain.clone()))
    );
    let h = zhiban_pii::sm3_hex(material.as_bytes());
    format!("zb-{}", &h[..32.min(h.len())])
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        "null" => v.is_null(),
        _ => true,
    }
}

/// A small JSON Schema check (type, required, enum, pattern-free) enough for tool arguments.
fn validate(spec: &ToolSpec, schema: &Value, v: &Value, at: &str) -> Result<()> {
    let label = if at.is_empty() {
        "参数".to_string()
    } else {
        format!("字段“{at}”")
    };
    if let Some(t) = schema.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, v)),
            _ => true,
        };
        if !ok {
            return Err(invalid(spec, format!("{label}类型应为{t}")));
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !v.is_null()
        && !allowed.contains(v)
    {
        let opts: Vec<String> = allowed
            .iter()
            .map(|a| {
                a.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| a.to_string())
            })
            .collect();
        return Err(invalid(spec, format!("{label}只能是：{}", opts.join("、"))));
    }
    if let Value::Object(m) = v {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(Value::Array(req)) = schema.get("required") {
            for r in req.iter().filter_map(Value::as_str) {
                if m.get(r)
                    .is_none_or(|x| x.is_null() || x.as_str().is_some_and(|s| s.trim().is_empty()))
                {
                    return Err(invalid(spec, format!("缺少必填项“{r}”")));
                }
            }
        }
        for (k, child) in m {
            match props.and_then(|p| p.get(k)) {
                Some(sub) => validate(spec, sub, child, k)?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(invalid(spec, format!("不认识的字段“{k}”")));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (v, schema.get("items")) {
        for it in items {
            validate(spec, item_schema, it, at)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_check_catches_missing_unknown_and_mistyped_fields() {
        let reg = Registry::builtin();
        let t = reg.get("road_search").unwrap();
        assert!(validate(t, &t.args_schema, &json!({"query": "长宁"}), "").is_ok());
        assert!(validate(t, &t.args_schema, &json!({}), "").is_err());
        assert!(
            validate(
                t,
                &t.args_schema,
                &json!({"query": "x", "limit": "ten"}),
                ""
            )
            .is_err()
        );
        assert!(validate(t, &t.args_schema, &json!({"query": "x", "bogus": 1}), "").is_err());
        let m = reg.get("matter_catalog").unwrap();
        assert!(validate(m, &m.args_schema, &json!({"channel": "火星"}), "").is_err());
    }

    #[test]
    fn derived_keys_depend_on_content_and_session_only() {
        let reg = Registry::builtin();
        let t = reg.get("zhinei_submit").unwrap();
        let a = json!({"name": "甲", "id_number": "1", "mobile": "2"});
        let b = json!({"mobile": "2", "id_number": "1", "name": "甲"});
        let ctx = CallContext::new("t", "s", "a");
        let k1 = derive_key(&ctx, t, a.as_object().unwrap());
        assert_eq!(k1, derive_key(&ctx, t, b.as_object().unwrap()));
        assert_ne!(
            k1,
            derive_key(&CallContext::new("t", "s2", "a"), t, a.as_object().unwrap())
        );
        assert!(k1.starts_with("zb-") && k1.len() == 35);
    }
}
