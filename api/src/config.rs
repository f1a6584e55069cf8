//! `zhiban.toml` and its `ZHIBAN_SECTION__KEY` environment overrides.
//!
//! With no file and no variables every command runs on the embedded default:
//! indexes under `./var/index`, the corpus-trained local embedder, the exact vector store,
//! no LLM. Naming an embedding endpoint or a Qdrant server switches them on.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[index]`
    pub index: IndexSection,
    /// `[embedding]`
    pub embedding: EmbeddingSection,
    /// `[qdrant]`
    pub qdrant: QdrantSection,
    /// `[llm]`
    pub llm: LlmSection,
    /// `[sessions]`
    pub sessions: SessionsSection,
    /// `[auth]`
    pub auth: AuthSection,
    /// `[server]`
    pub server: ServerSection,
    /// `[tools]`
    pub tools: ToolsSection,
    /// `[telemetry]`
    pub telemetry: TelemetrySection,
    /// `[pii]`: read by the keyring itself (`ZHIBAN_PII__KEYRING`); listed so that the
    /// variable does not trip the check for unknown sections.
    pub pii: toml::Table,
}

/// `[telemetry]`: OpenTelemetry trace export.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySection {
    /// OTLP/HTTP collector base URL (`http://collector:4318`); empty: no export (spans stay in
    /// the log). Spans carry routes, ids and timings, never bodies or PII.
    pub otlp_endpoint: String,
    /// `service.name` of the exported spans (replicas can add their host: `zhiban-a`).
    pub service_name: String,
}

impl Default for TelemetrySection {
    fn default() -> Self {
        TelemetrySection {
            otlp_endpoint: String::new(),
            service_name: "zhiban".into(),
        }
    }
}

/// `[tools]`: the case system the tools call.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ToolsSection {
    /// A case system that runs elsewhere (`zhiban casesim` or the real line systems' gateway);
    /// empty: the reference case system in-process.
    pub casesim_url: String,
}

/// `[server]`: what browsers may call the service, and TLS.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSection {
    /// Origins allowed to call the API from a browser (`https://map.example.gov.cn`); empty:
    /// no CORS headers at all, so browsers refuse cross-origin calls.
    pub cors_origins: Vec<String>,
    /// PEM certificate chain; with `tls_key`, the service speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key.
    pub tls_key: Option<PathBuf>,
}

/// `[auth]`: API keys, limits, signatures.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSection {
    /// The hashed keys (`zhiban keys add` writes it).
    pub keys_file: PathBuf,
    /// Requests per minute per client, unless its key says otherwise.
    pub rate_per_minute: u32,
    /// Requests in flight per client.
    pub max_concurrent: usize,
    /// Accepted clock skew of signed requests, in seconds.
    pub signature_window_secs: i64,
}

impl Default for AuthSection {
    fn default() -> Self {
        let d = crate::auth::AuthConfig::default();
        AuthSection {
            keys_file: d.keys_file,
            rate_per_minute: d.rate_per_minute,
            max_concurrent: d.max_concurrent,
            signature_window_secs: d.signature_window_secs,
        }
    }
}

impl AuthSection {
    /// The service's settings.
    pub fn config(&self) -> crate::auth::AuthConfig {
        crate::auth::AuthConfig {
            keys_file: self.keys_file.clone(),
            rate_per_minute: self.rate_per_minute.max(1),
            max_concurrent: self.max_concurrent.max(1),
            signature_window_secs: self.signature_window_secs.max(1),
        }
    }
}

/// `[sessions]`: where sessions live.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsSection {
    /// `sqlite://…` (default `sqlite://var/sessions.db`) or `postgres://…`.
    pub url: String,
    /// Hours a session lives after its last change.
    pub ttl_hours: u64,
}

impl Default for SessionsSection {
    fn default() -> Self {
        SessionsSection {
            url: "sqlite://var/sessions.db".into(),
            ttl_hours: 72,
        }
    }
}

/// `[index]`
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct IndexSection {
    /// Where snapshots live.
    pub dir: PathBuf,
    /// The corpus the main job builds from.
    pub data_dir: PathBuf,
    /// Snapshots kept by garbage collection.
    pub keep: usize,
}

impl Default for IndexSection {
    fn default() -> Self {
        IndexSection {
            dir: PathBuf::from("var/index"),
            data_dir: PathBuf::from("data"),
            keep: 3,
        }
    }
}

/// `[embedding]`: empty `base_url` = local embedder.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddingSection {
    /// OpenAI-compatible base URL (with `/v1`).
    pub base_url: String,
    /// API key.
    pub api_key: String,
    /// Model name.
    pub model: String,
    /// Output dimension.
    pub dim: usize,
}

/// `[qdrant]`: empty `url` = the embedded exact vector store.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct QdrantSection {
    /// gRPC URL.
    pub url: String,
    /// API key.
    pub api_key: String,
    /// Collection prefix.
    pub collection: String,
}

/// `[llm]`
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSection {
    /// OpenAI-compatible base URL.
    pub base_url: String,
    /// API key.
    pub api_key: String,
    /// Model name.
    pub model: String,
    /// Appended verbatim to the system message of every model call (operators' site
    /// instructions).
    pub system_prompt_extra: String,
    /// Let the model reword the flow's prompts (never summaries, quotes or citations).
    pub rephrase: bool,
    /// Let the model write 学习问答 answers from the retrieved articles (checked sentence by
    /// sentence against them; the extractive answer otherwise).
    pub answers: bool,
}

impl LlmSection {
    /// The model's configuration, when a base URL is set.
    pub fn client_config(&self) -> Option<zhiban_agent_core::llm::LlmConfig> {
        if self.base_url.trim().is_empty() {
            return None;
        }
        let mut c =
            zhiban_agent_core::llm::LlmConfig::new(&self.base_url, &self.api_key, &self.model);
        c.system_prompt_extra = self.system_prompt_extra.clone();
        c.rephrase = self.rephrase;
        c.answers = self.answers;
        Some(c)
    }
}

impl Config {
    /// Loads `path`, or `$ZHIBAN_CONFIG`, or `./zhiban.toml` when present, then applies
    /// `ZHIBAN_SECTION__KEY` variables.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let explicit = path
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("ZHIBAN_CONFIG").map(PathBuf::from));
        let mut value: toml::Table = match &explicit {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("读取配置文件 {} 失败", p.display()))?;
                text.parse()
                    .with_context(|| format!("配置文件 {} 不是有效的 TOML", p.display()))?
            }
            None => match std::fs::read_to_string("zhiban.toml") {
                Ok(text) => text.parse().context("zhiban.toml 不是有效的 TOML")?,
                Err(_) => toml::Table::new(),
            },
        };
        apply_env(&mut value, std::env::vars());
        let cfg: Config = toml::Value::Table(value)
            .try_into()
            .context("配置有误（未知的节或键、或类型不正确；见 README 的“Configuration”）")?;
        Ok(cfg)
    }
}

/// The sections of `zhiban.toml`.
const SECTIONS: &[&str] = &[
    "index",
    "embedding",
    "qdrant",
    "llm",
    "sessions",
    "auth",
    "server",
    "tools",
    "telemetry",
    "pii",
];

/// Applies `ZHIBAN_SECTION__KEY=value` pairs (numbers are parsed when they look like numbers).
fn apply_env(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) {
    for (k, v) in vars {
        let Some(rest) = k.strip_prefix("ZHIBAN_") else {
            continue;
        };
        let Some((section, key)) = rest.split_once("__") else {
            continue;
        };
        let section = section.to_lowercase();
        let key = key.to_lowercase();
        // Variables of sections this build does not have are someone else's (or a typo that
        // the file check would not see either); they are left out rather than refused.
        if !SECTIONS.contains(&section.as_str()) {
            continue;
        }
        let entry = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let toml::Value::Table(t) = entry {
            let val = v
                .parse::<i64>()
                .map(toml::Value::Integer)
                .unwrap_or_else(|_| toml::Value::String(v.clone()));
            t.insert(key, val);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file_values() {
        let mut t: toml::Table = "[index]\ndir = \"a\"\n".parse().unwrap();
        apply_env(
            &mut t,
            vec![
                ("ZHIBAN_INDEX__DIR".to_string(), "b".to_string()),
                ("ZHIBAN_EMBEDDING__DIM".to_string(), "1024".to_string()),
                ("OTHER".to_string(), "x".to_string()),
            ]
            .into_iter(),
        );
        let c: Config = toml::Value::Table(t).try_into().unwrap();
        assert_eq!(c.index.dir, PathBuf::from("b"));
        assert_eq!(c.embedding.dim, 1024);
        assert_eq!(c.index.keep, 3);
    }

    #[test]
    fn unknown_sections_and_keys_are_refused() {
        let t: toml::Table = "[sesions]\nurl = \"x\"\n".parse().unwrap();
        assert!(toml::Value::Table(t).try_into::<Config>().is_err());
        let t: toml::Table = "[sessions]\nurll = \"x\"\n".parse().unwrap();
        assert!(toml::Value::Table(t).try_into::<Config>().is_err());
        let mut t = toml::Table::new();
        apply_env(
            &mut t,
            vec![
                ("ZHIBAN_PII__KEYRING".to_string(), "1:00".to_string()),
                ("ZHIBAN_OTHER__X".to_string(), "y".to_string()),
                (
                    "ZHIBAN_TOOLS__CASESIM_URL".to_string(),
                    "http://h:1".to_string(),
                ),
            ]
            .into_iter(),
        );
        let c: Config = toml::Value::Table(t).try_into().unwrap();
        assert_eq!(c.tools.casesim_url, "http://h:1");
    }
}
