//! Library side of the CLI: `zhiban tool list`, `zhiban tool call`, `zhiban casesim`. The lead's
//! clap layer in `api/` parses arguments and prints what these return.

use crate::adapter::{AdapterConfig, Transport};
use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::runtime::{CallContext, ToolRuntime};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use zhiban_pii::{
    AuditAction, AuditLog, AuditRecord, Keyring, KeyringOrigin, Vault, find_tokens, is_token,
};

/// `zhiban tool list`: every tool with its schemas, PII fields, access and timeout.
pub fn tool_list(registry: &Registry) -> Value {
    let tools: Vec<Value> = registry
        .iter()
        .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
        .collect();
    json!({"total": tools.len(), "tools": tools})
}

/// Seal plaintext arguments the way the agent side would hold them: schema-marked PII fields
/// become tokens of their kind, PII detected in other strings is tokenised, tokens stay as they are.
///
/// # Errors
/// [`Error::UnknownTool`], [`Error::InvalidArguments`] for a non-object, [`Error::Pii`].
pub fn tokenize_args(
    rt: &ToolRuntime,
    ctx: &CallContext,
    name: &str,
    args: Value,
) -> Result<Value> {
    let spec = rt.registry().get(name).ok_or_else(|| Error::UnknownTool {
        name: name.to_string(),
    })?;
    let Value::Object(m) = args else {
        return Err(Error::InvalidArguments {
            tool: spec.name.to_string(),
            reason: "参数应为 JSON 对象".into(),
        });
    };
    let scope = ctx.scope();
    let mut out = serde_json::Map::new();
    for (k, v) in m {
        let v = match (spec.pii_args.iter().find(|f| f.path == k), v) {
            (Some(_), Value::String(s)) if is_token(s.trim()) => Value::String(s),
            (Some(f), Value::String(s)) => {
                Value::String(rt.vault().seal(&scope, f.kind, &s).map_err(Error::Pii)?)
            }
            (None, Value::String(s)) => {
                Value::String(rt.vault().tokenize_text(&scope, &s).map_err(Error::Pii)?)
            }
            (_, v) => v,
        };
        out.insert(k, v);
    }
    Ok(Value::Object(out))
}

/// Replace every token in `v` with its plaintext, auditing the decryption as `tool`.
///
/// # Errors
/// [`Error::InvalidToken`] or [`Error::Audit`].
pub fn reveal(rt: &ToolRuntime, ctx: &CallContext, tool: &str, v: &Value) -> Result<Value> {
    let mut kinds = Vec::new();
    collect_kinds(v, &mut kinds);
    if kinds.is_empty() {
        return Ok(v.clone());
    }
    kinds.sort();
    kinds.dedup();
    rt.audit()
        .append(AuditRecord::new(
            ctx.actor.clone(),
            ctx.session.clone(),
            tool,
            AuditAction::Decrypt,
            kinds,
        ))
        .map_err(Error::Audit)?;
    open_all(rt, ctx, v)
}

fn collect_kinds(v: &Value, out: &mut Vec<zhiban_pii::PiiKind>) {
    match v {
        Value::String(s) => out.extend(find_tokens(s).iter().map(|m| m.kind)),
        Value::Array(a) => a.iter().for_each(|x| collect_kinds(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_kinds(x, out)),
        _ => {}
    }
}

fn open_all(rt: &ToolRuntime, ctx: &CallContext, v: &Value) -> Result<Value> {
    Ok(match v {
        Value::String(s) if !find_tokens(s).is_empty() => {
            let plain =
                rt.vault()
                    .detokenize_text(&ctx.scope(), s)
                    .map_err(|_| Error::InvalidToken {
                        field: "result".into(),
                    })?;
            Value::String(plain.as_str().to_string())
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| open_all(rt, ctx, x))
                .collect::<Result<_>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| Ok((k.clone(), open_all(rt, ctx, x)?)))
                .collect::<Result<_>>()?,
        ),
        other => other.clone(),
    })
}

/// `zhiban tool call NAME --args JSON [--session S] [--reveal]`: tokenise the plaintext
/// arguments, call the tool, and return `{tool, name, session, arguments, result}` with tokens;
/// with `reveal`, also `result_plain` (audited as a decryption by `ctx.actor`).
///
/// # Errors
/// Bad JSON, unknown tool, and everything [`ToolRuntime::invoke`] returns.
pub async fn tool_call(
    rt: &ToolRuntime,
    ctx: &CallContext,
    name: &str,
    args_json: &str,
    reveal_plain: bool,
) -> Result<Value> {
    let args: Value = serde_json::from_str(args_json)?;
    let spec = rt.registry().get(name).ok_or_else(|| Error::UnknownTool {
        name: name.to_string(),
    })?;
    let tokenised = tokenize_args(rt, ctx, name, args)?;
    let result = rt.invoke(ctx, spec.id, tokenised.clone()).await?;
    let mut out = json!({"tool": spec.id, "name": spec.name, "session": ctx.session, "arguments": tokenised, "result": result});
    if reveal_plain {
        out["result_plain"] = reveal(rt, ctx, spec.id, &out["result"])?;
    }
    Ok(out)
}

/// The embedded default: keyring and audit log under `var_dir`, and the reference case system
/// started in-process unless `casesim_url` points at a running one.
#[derive(Debug)]
pub struct Embedded {
    /// The runtime.
    pub runtime: ToolRuntime,
    /// The in-process case system, if one was started (stop it when done).
    pub casesim: Option<zhiban_casesim::Casesim>,
    /// Where the keyring came from (a freshly created one should be reported to the operator).
    pub keyring_origin: KeyringOrigin,
}

/// Build the embedded default runtime.
///
/// # Errors
/// Keyring, audit log, case system or client errors.
pub async fn embedded(
    var_dir: &Path,
    casesim_url: Option<&str>,
    transport: Transport,
) -> Result<Embedded> {
    // GB/T 39786 expects the cipher to prove itself before use: a failed known-answer
    // test stops start-up before any key is loaded or any PII is touched.
    zhiban_pii::selftest().map_err(Error::Pii)?;
    std::fs::create_dir_all(var_dir).map_err(|source| Error::Io {
        path: var_dir.to_path_buf(),
        source,
    })?;
    let (keyring, keyring_origin) = Keyring::load_or_create(var_dir).map_err(Error::Pii)?;
    let audit = Arc::new(AuditLog::open(var_dir.join("audit.log")).map_err(Error::Audit)?);
    let (url, casesim) = match casesim_url {
        Some(u) => (u.to_string(), None),
        None => {
            let sim = zhiban_casesim::start(zhiban_casesim::Config::default()).await?;
            (sim.base_url(), Some(sim))
        }
    };
    let runtime = ToolRuntime::new(
        Registry::builtin(),
        Vault::new(Arc::new(keyring)),
        audit,
        AdapterConfig::all_at(&url, transport),
    )?;
    Ok(Embedded {
        runtime,
        casesim,
        keyring_origin,
    })
}

/// `zhiban casesim`: serve the reference case system until ctrl-c.
///
/// # Errors
/// Bind or database errors.
pub async fn casesim_serve(cfg: zhiban_casesim::Config) -> Result<()> {
    zhiban_pii::selftest().map_err(Error::Pii)?;
    Ok(zhiban_casesim::serve(cfg).await?)
}
