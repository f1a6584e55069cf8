//! The tool boundary: PII tokens are opened here and only here, plaintext goes to the line
//! system, and every PII value in the answer is sealed again before it leaves.
//!
//! Order of one call: validate the arguments against the schema → open the tokens (a PII field,
//! at any path the schema marks, must hold exactly one token; tokens inside free text are opened
//! too) → audit the decryption → for writes, derive the idempotency key and audit the write → call
//! the line system → seal the schema-marked PII fields of the result → run the detector over every
//! other string of the result. If the audit log cannot be written, nothing is sent. An error from
//! the line system leaves with its free text sealed: every value this call opened that the line
//! system echoes back becomes a token again, and the detector runs over the rest.
//!
//! Nothing here blocks an async worker: audit entries are awaited from the group-commit writer,
//! and a key provider that declares itself blocking (a KMS or cipher machine,
//! [`zhiban_pii::KeyProvider::blocking`]) is called on the blocking pool under a deadline
//! ([`ToolRuntime::with_key_timeout`]). Plaintext lives in `serde_json::Value`s for the duration of
//! the HTTP call; opened tokens are `Zeroizing`, but the JSON copies are not wiped (serde_json and
//! reqwest own those buffers).

use crate::adapter::{AdapterConfig, Adapters};
use crate::error::{Error, Result, kind_label};
use crate::paths::{kind_at, walk, walk_mut};
use crate::registry::{Access, PiiField, Registry, ToolSpec};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;
use zhiban_pii::{
    AuditAction, AuditLog, AuditRecord, PiiKind, TokenScope, Vault, find_tokens, is_token,
};

/// Default deadline for one batch of calls to a blocking key provider.
pub const DEFAULT_KEY_TIMEOUT: Duration = Duration::from_secs(2);

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
    key_timeout: Duration,
    timings: crate::timing::Timings,
}

/// Plaintext values this call opened, kept to recognise them in what the line system echoes.
type Echoes = Vec<(PiiKind, Zeroizing<String>)>;

/// The arguments with their tokens opened.
struct Opened {
    plain: Value,
    /// Kinds of every token opened (decryption audit).
    kinds: Vec<PiiKind>,
    /// Kinds of the schema-marked fields that were filled (write audit).
    field_kinds: Vec<PiiKind>,
    echoes: Echoes,
}

impl std::fmt::Debug for Opened {
    // Never the plaintext.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("kinds", &self.kinds)
            .finish_non_exhaustive()
    }
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
            key_timeout: DEFAULT_KEY_TIMEOUT,
            timings: crate::timing::Timings::default(),
        })
    }
    /// Deadline for each batch of calls to a blocking key provider (default 2 s).
    pub fn with_key_timeout(mut self, timeout: Duration) -> Self {
        self.key_timeout = timeout;
        self
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
    /// Latency and errors of every invocation, by tool id.
    pub fn timings(&self) -> &crate::timing::Timings {
        &self.timings
    }
    /// The audit log, shared (the service edge writes its refusals to the same chain).
    pub fn audit_arc(&self) -> Arc<AuditLog> {
        self.audit.clone()
    }

    /// Runs `f` with the vault without blocking the async worker: inline for an in-process
    /// keyring, on the blocking pool under the key deadline for a provider that may block.
    ///
    /// # Errors
    /// Whatever `f` returns; [`Error::KeyProviderTimeout`] when the provider misses the deadline.
    pub async fn vault_op<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Vault) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if !self.vault.provider_blocks() {
            return f(&self.vault);
        }
        let vault = self.vault.clone();
        let task = tokio::task::spawn_blocking(move || f(&vault));
        match tokio::time::timeout(self.key_timeout, task).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(Error::Pii(zhiban_pii::Error::KeyProvider(
                "密钥服务调用异常中止".into(),
            ))),
            Err(_) => Err(Error::KeyProviderTimeout {
                ms: self.key_timeout.as_millis() as u64,
            }),
        }
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
        let started = std::time::Instant::now();
        let r = self.invoke_spec(ctx, spec, args).await;
        self.timings.observe(spec.id, started.elapsed(), r.is_ok());
        r
    }

    async fn invoke_spec(&self, ctx: &CallContext, spec: &ToolSpec, args: Value) -> Result<Value> {
        validate(spec, &spec.args_schema, &args, "")?;
        let scope = ctx.scope();
        let Value::Object(mut args) = args else {
            return Err(invalid(spec, "参数应为 JSON 对象"));
        };
        let explicit_key = match args.remove("idempotency_key") {
            Some(Value::String(k)) if !k.trim().is_empty() => Some(k),
            _ => None,
        };
        let opened = {
            let (scope, fields) = (scope.clone(), spec.pii_args.clone());
            self.vault_op(move |vault| open_args(vault, &scope, &fields, Value::Object(args)))
                .await?
        };
        if !opened.kinds.is_empty() {
            self.audit_record(ctx, spec, AuditAction::Decrypt, opened.kinds.clone())
                .await?;
        }
        let key = match spec.access {
            Access::Read => None,
            Access::Write => {
                self.audit_record(ctx, spec, AuditAction::Write, opened.field_kinds.clone())
                    .await?;
                Some(explicit_key.unwrap_or_else(|| derive_key(ctx, spec, &opened.plain)))
            }
        };
        let result = self
            .adapters
            .call(spec, &opened.plain, key.as_deref())
            .await;
        let echoes = opened.echoes;
        drop(opened.plain);
        match result {
            Ok(v) => {
                let fields = spec.pii_result.clone();
                self.vault_op(move |vault| seal_result(vault, &scope, &fields, v))
                    .await
            }
            Err(e) => Err(self.seal_error(e, scope, echoes).await),
        }
    }

    /// Replace every token in `v` with its plaintext for the operator, audited as a decryption
    /// by `ctx.actor` through `tool`.
    ///
    /// # Errors
    /// [`Error::InvalidToken`] or [`Error::Audit`].
    pub async fn reveal(&self, ctx: &CallContext, tool: &str, v: &Value) -> Result<Value> {
        let mut kinds = Vec::new();
        let _ = walk(v, &mut |_, node| {
            if let Value::String(s) = node {
                kinds.extend(find_tokens(s).iter().map(|m| m.kind));
            }
            Ok::<_, ()>(true)
        });
        if let Value::String(s) = v {
            kinds.extend(find_tokens(s).iter().map(|m| m.kind));
        }
        if kinds.is_empty() {
            return Ok(v.clone());
        }
        kinds.sort();
        kinds.dedup();
        self.audit
            .append(AuditRecord::new(
                ctx.actor.clone(),
                ctx.session.clone(),
                tool,
                AuditAction::Decrypt,
                kinds,
            ))
            .await
            .map_err(Error::Audit)?;
        let (scope, v) = (ctx.scope(), v.clone());
        self.vault_op(move |vault| open_all(vault, &scope, v)).await
    }

    /// Seal the free text of a line-system error for the caller's session. If sealing itself
    /// fails, that error is returned instead: never the unsealed text.
    async fn seal_error(&self, e: Error, scope: TokenScope, echoes: Echoes) -> Error {
        let seal = |text: String| {
            let (scope, echoes) = (scope.clone(), echoes.clone());
            self.vault_op(move |vault| seal_text(vault, &scope, &echoes, &text))
        };
        match e {
            Error::Business {
                system,
                code,
                message,
            } => match seal(message).await {
                Ok(message) => Error::Business {
                    system,
                    code,
                    message,
                },
                Err(err) => err,
            },
            Error::Unavailable {
                system,
                status,
                detail,
            } => match seal(detail).await {
                Ok(detail) => Error::Unavailable {
                    system,
                    status,
                    detail,
                },
                Err(err) => err,
            },
            Error::Protocol { system, detail } => match seal(detail).await {
                Ok(detail) => Error::Protocol { system, detail },
                Err(err) => err,
            },
            other => other,
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
        self.audit
            .append(record)
            .await
            .map(|_| ())
            .map_err(Error::Audit)
    }
}

fn token_error(field: &str, e: zhiban_pii::Error) -> Error {
    match e {
        zhiban_pii::Error::InvalidToken => Error::InvalidToken {
            field: field.to_string(),
        },
        other => Error::Pii(other),
    }
}

/// Opens every token in `s` one by one (so that each plaintext is known), or fails as a whole.
fn open_text(
    vault: &Vault,
    scope: &TokenScope,
    field: &str,
    s: &str,
    kinds: &mut Vec<PiiKind>,
    echoes: &mut Echoes,
) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in find_tokens(s) {
        out.push_str(&s[last..m.start]);
        let o = vault
            .open(scope, &s[m.start..m.end])
            .map_err(|e| token_error(field, e))?;
        out.push_str(&o.plaintext);
        kinds.push(o.kind);
        echoes.push((o.kind, o.plaintext));
        last = m.end;
    }
    out.push_str(&s[last..]);
    Ok(out)
}

fn open_args(
    vault: &Vault,
    scope: &TokenScope,
    fields: &[PiiField],
    mut args: Value,
) -> Result<Opened> {
    let mut kinds = Vec::new();
    let mut field_kinds = Vec::new();
    let mut echoes = Vec::new();
    walk_mut(&mut args, &mut |path, node| -> Result<bool> {
        let Some(kind) = kind_at(fields, path) else {
            if let Value::String(s) = node
                && !find_tokens(s).is_empty()
            {
                *s = open_text(vault, scope, path, s, &mut kinds, &mut echoes)?;
            }
            return Ok(true);
        };
        match node {
            Value::Null => Ok(false),
            Value::String(s) if s.trim().is_empty() => Ok(false),
            Value::String(s) => {
                let t = s.trim();
                if !is_token(t) {
                    return Err(Error::PlaintextPii {
                        field: path.to_string(),
                    });
                }
                let o = vault.open(scope, t).map_err(|e| token_error(path, e))?;
                if !kind_compatible(kind, o.kind) {
                    return Err(Error::WrongPiiKind {
                        field: path.to_string(),
                        expected: kind_label(kind),
                        found: kind_label(o.kind),
                    });
                }
                kinds.push(o.kind);
                field_kinds.push(o.kind);
                *s = o.plaintext.as_str().to_string();
                echoes.push((o.kind, o.plaintext));
                Ok(false)
            }
            // A number, object or array where a token belongs is plaintext by definition.
            _ => Err(Error::PlaintextPii {
                field: path.to_string(),
            }),
        }
    })?;
    Ok(Opened {
        plain: args,
        kinds,
        field_kinds,
        echoes,
    })
}

/// Seal the schema-marked fields of a result, and whatever the detector finds elsewhere.
fn seal_result(
    vault: &Vault,
    scope: &TokenScope,
    fields: &[PiiField],
    mut v: Value,
) -> Result<Value> {
    if let Value::String(s) = &v {
        return Ok(Value::String(
            vault.tokenize_text(scope, s).map_err(Error::Pii)?,
        ));
    }
    walk_mut(&mut v, &mut |path, node| -> Result<bool> {
        if let Some(kind) = kind_at(fields, path) {
            let plain = match &*node {
                Value::String(s) if s.is_empty() || is_token(s.trim()) => return Ok(false),
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return Ok(true),
            };
            *node = Value::String(vault.seal(scope, kind, &plain).map_err(Error::Pii)?);
            return Ok(false);
        }
        if let Value::String(s) = node {
            let sealed = vault.tokenize_text(scope, s).map_err(Error::Pii)?;
            if sealed != *s {
                *s = sealed;
            }
        }
        Ok(true)
    })?;
    Ok(v)
}

/// Seal `text` for the caller: each value this call opened becomes a token of its kind wherever
/// it appears (outside existing tokens), then the detector seals what else it recognises.
fn seal_text(vault: &Vault, scope: &TokenScope, echoes: &Echoes, text: &str) -> Result<String> {
    let mut values: Vec<&(PiiKind, Zeroizing<String>)> = echoes
        .iter()
        .filter(|(_, v)| v.trim().chars().count() >= 2)
        .collect();
    // Longest first, so that a name inside an address is not sealed on its own first.
    values.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    let mut out = text.to_string();
    for (kind, value) in values {
        let value = value.trim();
        if !out.contains(value) {
            continue;
        }
        let token = vault.seal(scope, *kind, value).map_err(Error::Pii)?;
        out = replace_outside_tokens(&out, value, &token);
    }
    vault.tokenize_text(scope, &out).map_err(Error::Pii)
}

fn replace_outside_tokens(text: &str, needle: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in find_tokens(text) {
        out.push_str(&text[last..m.start].replace(needle, with));
        out.push_str(&text[m.start..m.end]);
        last = m.end;
    }
    out.push_str(&text[last..].replace(needle, with));
    out
}

/// Open every token in `v` (for [`ToolRuntime::reveal`]).
fn open_all(vault: &Vault, scope: &TokenScope, mut v: Value) -> Result<Value> {
    let open = |s: &mut String| -> Result<()> {
        if !find_tokens(s).is_empty() {
            let plain = vault
                .detokenize_text(scope, s)
                .map_err(|_| Error::InvalidToken {
                    field: "result".into(),
                })?;
            *s = plain.as_str().to_string();
        }
        Ok(())
    };
    if let Value::String(s) = &mut v {
        open(s)?;
        return Ok(v);
    }
    walk_mut(&mut v, &mut |_, node| -> Result<bool> {
        if let Value::String(s) = node {
            open(s)?;
        }
        Ok(true)
    })?;
    Ok(v)
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

/// The idempotency key of a write: SM3 over tenant, session, tool and the canonical plaintext
/// arguments, so that re-sending the same application (even with freshly sealed tokens) reuses it.
fn derive_key(ctx: &CallContext, spec: &ToolSpec, plain: &Value) -> String {
    let material = format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        ctx.tenant,
        ctx.session,
        spec.id,
        zhiban_wire::canonical_json(plain)
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

    fn reason(r: Result<()>) -> String {
        match r {
            Err(Error::InvalidArguments { reason, .. }) => reason,
            other => panic!("expected invalid_arguments, got {other:?}"),
        }
    }

    #[test]
    fn schema_check_catches_missing_unknown_and_mistyped_fields() {
        let reg = Registry::builtin();
        let t = reg.get("road_search").unwrap();
        validate(t, &t.args_schema, &json!({"query": "长宁"}), "").unwrap();
        let v = |args: Value| validate(t, &t.args_schema, &args, "");
        assert!(reason(v(json!({}))).contains("缺少必填项“query”"));
        assert!(reason(v(json!({"query": "x", "limit": "ten"}))).contains("字段“limit”类型"));
        assert!(reason(v(json!({"query": "x", "bogus": 1}))).contains("不认识的字段“bogus”"));
        let m = reg.get("matter_catalog").unwrap();
        let r = reason(validate(m, &m.args_schema, &json!({"channel": "火星"}), ""));
        assert!(r.contains("只能是"), "{r}");
    }

    fn vault() -> Vault {
        Vault::new(Arc::new(zhiban_pii::Keyring::generate().unwrap()))
    }

    /// A tool with PII in a nested object and in an array of objects.
    fn nested_fields() -> Vec<PiiField> {
        crate::paths::pii_fields(&json!({"type": "object", "properties": {
            "applicant": {"type": "object", "properties": {
                "id_number": {"type": "string", "x-pii": "ID_CARD"},
                "district": {"type": "string"}}},
            "members": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string", "x-pii": "NAME"}}}},
            "phones": {"type": "array", "items": {"type": "string", "x-pii": "MOBILE"}}}}))
    }

    #[test]
    fn nested_and_array_pii_paths_are_opened_and_checked() {
        let v = vault();
        let scope = TokenScope::new("t", "s");
        let fields = nested_fields();
        let tok = |k, p: &str| Value::String(v.seal(&scope, k, p).unwrap());
        let args = json!({
            "applicant": {"id_number": tok(PiiKind::IdCard, "11010519491231002X"), "district": "长宁区"},
            "members": [{"name": tok(PiiKind::Name, "王小明")}, {"name": tok(PiiKind::Name, "李小红")}],
            "phones": [tok(PiiKind::Mobile, "13912345678")],
        });
        let o = open_args(&v, &scope, &fields, args.clone()).unwrap();
        assert_eq!(o.plain["applicant"]["id_number"], "11010519491231002X");
        assert_eq!(o.plain["members"][1]["name"], "李小红");
        assert_eq!(o.plain["phones"][0], "13912345678");
        assert_eq!(o.field_kinds.len(), 4);
        // Plaintext at a nested path, or in an array, is refused with that path.
        let mut bad = args.clone();
        bad["members"][1]["name"] = json!("李小红");
        match open_args(&v, &scope, &fields, bad) {
            Err(Error::PlaintextPii { field }) => assert_eq!(field, "members[].name"),
            other => panic!("{other:?}"),
        }
        let mut bad = args.clone();
        bad["applicant"]["id_number"] = json!(110105194912310020u64);
        assert!(matches!(
            open_args(&v, &scope, &fields, bad),
            Err(Error::PlaintextPii { field }) if field == "applicant.id_number"
        ));
        let mut bad = args;
        bad["phones"][0] = tok(PiiKind::Name, "王小明");
        assert!(matches!(
            open_args(&v, &scope, &fields, bad),
            Err(Error::WrongPiiKind { field, .. }) if field == "phones[]"
        ));
    }

    #[test]
    fn nested_and_array_result_fields_are_sealed() {
        let v = vault();
        let scope = TokenScope::new("t", "s");
        let result = json!({
            "applicant": {"id_number": "11010519491231002X", "district": "长宁区"},
            "members": [{"name": "王小明"}, {"name": "李小红"}],
            "phones": ["13912345678", ""],
            "note": "联系电话 13812345678",
        });
        let sealed = seal_result(&v, &scope, &nested_fields(), result).unwrap();
        let text = sealed.to_string();
        for plain in [
            "1101051949",
            "王小明",
            "李小红",
            "13912345678",
            "13812345678",
        ] {
            assert!(!text.contains(plain), "{plain} in {text}");
        }
        assert!(is_token(sealed["members"][0]["name"].as_str().unwrap()));
        assert!(is_token(sealed["phones"][0].as_str().unwrap()));
        assert_eq!(sealed["phones"][1], "");
        assert_eq!(sealed["applicant"]["district"], "长宁区");
        let back = open_all(&v, &scope, sealed).unwrap();
        assert_eq!(back["members"][1]["name"], "李小红");
        assert_eq!(back["note"], "联系电话 13812345678");
    }

    #[test]
    fn echoed_values_are_sealed_even_where_the_detector_sees_nothing() {
        let v = vault();
        let scope = TokenScope::new("t", "s");
        let echoes: Echoes = vec![
            (PiiKind::Name, Zeroizing::new("欧阳小明".to_string())),
            (
                PiiKind::IdCard,
                Zeroizing::new("11010519491231002X".to_string()),
            ),
        ];
        let text = "处理欧阳小明（11010519491231002X）的申请时出错，欧阳小明请重试";
        let sealed = seal_text(&v, &scope, &echoes, text).unwrap();
        assert!(
            !sealed.contains("欧阳小明") && !sealed.contains("1949"),
            "{sealed}"
        );
        assert_eq!(find_tokens(&sealed).len(), 3);
        assert_eq!(v.detokenize_text(&scope, &sealed).unwrap().as_str(), text);
    }

    #[test]
    fn derived_keys_depend_on_content_and_session_only() {
        let reg = Registry::builtin();
        let t = reg.get("zhinei_submit").unwrap();
        let a = json!({"name": "甲", "id_number": "1", "mobile": "2"});
        let b = json!({"mobile": "2", "id_number": "1", "name": "甲"});
        let ctx = CallContext::new("t", "s", "a");
        let k1 = derive_key(&ctx, t, &a);
        assert_eq!(k1, derive_key(&ctx, t, &b));
        assert_ne!(k1, derive_key(&CallContext::new("t", "s2", "a"), t, &a));
        assert!(k1.starts_with("zb-") && k1.len() == 35);
    }
}
