//! Adapters to the line systems: REST (JSON) or WebService (SOAP 1.1), per tool by
//! configuration, with per-attempt timeouts, bounded jittered retries, idempotency keys on
//! writes and a circuit breaker per line system.
//!
//! Retry policy: reads are retried on timeouts, connection failures and 5xx. Writes are retried
//! only because every write carries an idempotency key (the same key on every attempt), so the
//! line system returns the first case instead of creating a second one.

use crate::error::{Error, Result};
use crate::registry::{Access, ToolSpec};
use crate::soap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How a tool talks to its line system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `POST {base}/rest/{op}` with a JSON body.
    #[default]
    Rest,
    /// `POST {base}/soap` with a SOAP 1.1 envelope and `SOAPAction: "urn:zhiban:casesim#{op}"`.
    Soap,
}

/// Circuit breaker settings.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct BreakerConfig {
    /// Consecutive failed attempts that open the breaker (default 5).
    pub failure_threshold: u32,
    /// How long it stays open before one probe is let through (default 5s).
    #[serde(with = "ms")]
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_threshold: 5,
            open_for: Duration::from_secs(5),
        }
    }
}

mod ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// One line system.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineSystemConfig {
    /// Base URL, e.g. `http://127.0.0.1:8081`.
    pub base_url: String,
    /// Default transport of its tools.
    #[serde(default)]
    pub transport: Transport,
    /// Per-attempt timeout; `None` uses the tool's own timeout.
    #[serde(default, with = "opt_ms")]
    pub timeout: Option<Duration>,
    /// Extra attempts for reads (default 2).
    #[serde(default = "default_read_retries")]
    pub read_retries: u32,
    /// Extra attempts for writes, all with the same idempotency key (default 3).
    #[serde(default = "default_write_retries")]
    pub write_retries: u32,
    /// First backoff step; attempt n waits a random time in [0, base·2ⁿ] (full jitter), capped at 2s.
    #[serde(with = "ms", default = "default_backoff")]
    pub backoff_base: Duration,
    /// Breaker.
    #[serde(default)]
    pub breaker: BreakerConfig,
    /// Extra HTTP headers sent with every request (e.g. a gateway app id).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// HMAC-SM3 key (hex) shared with the line system; when set every attempt is signed
    /// (`X-Zhiban-Timestamp`, `X-Zhiban-Nonce`, `X-Zhiban-Signature`) with a fresh nonce.
    #[serde(default)]
    pub signing_key_hex: Option<String>,
}

fn default_read_retries() -> u32 {
    2
}
fn default_write_retries() -> u32 {
    3
}
fn default_backoff() -> Duration {
    Duration::from_millis(50)
}

mod opt_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

impl LineSystemConfig {
    /// Defaults for a system at `base_url`.
    pub fn new(base_url: impl Into<String>, transport: Transport) -> Self {
        LineSystemConfig {
            base_url: base_url.into(),
            transport,
            timeout: None,
            read_retries: default_read_retries(),
            write_retries: default_write_retries(),
            backoff_base: default_backoff(),
            breaker: BreakerConfig::default(),
            headers: BTreeMap::new(),
            signing_key_hex: None,
        }
    }
}

/// Adapter configuration: line systems by id (`rs`, `mz`, `cl`, `sl`) and per-tool transport
/// overrides.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AdapterConfig {
    /// Line systems.
    pub systems: BTreeMap<String, LineSystemConfig>,
    /// Tool id → transport, overriding the system default.
    #[serde(default)]
    pub transport_overrides: BTreeMap<String, Transport>,
}

impl AdapterConfig {
    /// Every line system at one base URL (the reference case system serves all of them).
    pub fn all_at(base_url: &str, transport: Transport) -> Self {
        let mut systems = BTreeMap::new();
        for id in ["rs", "mz", "cl", "sl"] {
            systems.insert(id.to_string(), LineSystemConfig::new(base_url, transport));
        }
        AdapterConfig {
            systems,
            transport_overrides: BTreeMap::new(),
        }
    }
    /// Apply `f` to every line system (handy for tests and tuning).
    pub fn map_systems(mut self, f: impl Fn(&mut LineSystemConfig)) -> Self {
        self.systems.values_mut().for_each(f);
        self
    }
}

/// Breaker state, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls fail fast.
    Open,
    /// One probe is allowed through.
    HalfOpen,
}

/// A consecutive-failure circuit breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    cfg: BreakerConfig,
    inner: Mutex<BreakerInner>,
}

#[derive(Debug, Default)]
struct BreakerInner {
    failures: u32,
    open_until: Option<Instant>,
    probing: bool,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(cfg: BreakerConfig) -> Self {
        CircuitBreaker {
            cfg,
            inner: Mutex::new(BreakerInner::default()),
        }
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, BreakerInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Permission for one attempt now, or `None` while the breaker is open (in half-open state
    /// only one probe at a time gets a permit).
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        let mut g = self.lock();
        let probe = match g.open_until {
            None => false,
            Some(t) if Instant::now() < t => return None,
            Some(_) if g.probing => return None,
            Some(_) => {
                g.probing = true;
                true
            }
        };
        Some(Permit {
            breaker: self,
            probe,
            settled: false,
        })
    }
    fn success(&self) {
        let mut g = self.lock();
        *g = BreakerInner::default();
    }
    fn failure(&self) {
        let mut g = self.lock();
        g.failures = g.failures.saturating_add(1);
        if g.probing || g.failures >= self.cfg.failure_threshold {
            g.open_until = Some(Instant::now() + self.cfg.open_for);
            g.probing = false;
        }
    }
    /// Current state.
    pub fn state(&self) -> BreakerState {
        let g = self.lock();
        match g.open_until {
            None => BreakerState::Closed,
            Some(t) if Instant::now() < t => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        }
    }
}

/// Permission to send one attempt through a [`CircuitBreaker`]; report how it went with
/// [`Permit::success`] or [`Permit::failure`]. A probe's permit dropped without a verdict (the
/// caller's future was cancelled mid-call) frees the probe slot, so the breaker cannot stay
/// half-open with nobody probing.
#[derive(Debug)]
#[must_use = "report the attempt's outcome"]
pub struct Permit<'a> {
    breaker: &'a CircuitBreaker,
    probe: bool,
    settled: bool,
}

impl Permit<'_> {
    /// The system answered: close the breaker.
    pub fn success(mut self) {
        self.settled = true;
        self.breaker.success();
    }
    /// The attempt failed (timeout, 5xx, connection): count it; a failed probe reopens.
    pub fn failure(mut self) {
        self.settled = true;
        self.breaker.failure();
    }
    /// Whether this permit is the half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            self.breaker.lock().probing = false;
        }
    }
}

/// Counters of what the adapters did (for tests and metrics).
#[derive(Debug, Default)]
pub struct AdapterStats {
    /// HTTP attempts sent.
    pub attempts: AtomicU64,
    /// Attempts that were retries.
    pub retries: AtomicU64,
    /// Calls refused by an open breaker.
    pub short_circuited: AtomicU64,
}

/// The adapters of all line systems.
#[derive(Debug)]
pub struct Adapters {
    cfg: AdapterConfig,
    client: reqwest::Client,
    breakers: BTreeMap<String, CircuitBreaker>,
    signing_keys: BTreeMap<String, zeroize::Zeroizing<Vec<u8>>>,
    /// Counters.
    pub stats: AdapterStats,
    jitter: AtomicU64,
}

impl Adapters {
    /// Build from configuration.
    ///
    /// # Errors
    /// [`Error::Client`] when the HTTP client cannot be built.
    pub fn new(cfg: AdapterConfig) -> Result<Self> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(Error::Client)?;
        let breakers = cfg
            .systems
            .iter()
            .map(|(k, v)| (k.clone(), CircuitBreaker::new(v.breaker)))
            .collect();
        let mut signing_keys = BTreeMap::new();
        for (k, v) in &cfg.systems {
            if let Some(hex_key) = &v.signing_key_hex {
                let key = hex::decode(hex_key.trim())
                    .ok()
                    .filter(|k| !k.is_empty())
                    .ok_or_else(|| Error::Config {
                        system: k.clone(),
                        reason: "签名密钥应为十六进制字符串".into(),
                    })?;
                signing_keys.insert(k.clone(), zeroize::Zeroizing::new(key));
            }
        }
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            | 1;
        Ok(Adapters {
            cfg,
            client,
            breakers,
            signing_keys,
            stats: AdapterStats::default(),
            jitter: AtomicU64::new(seed),
        })
    }

    /// Breaker state of a line system.
    pub fn breaker_state(&self, system: &str) -> Option<BreakerState> {
        self.breakers.get(system).map(CircuitBreaker::state)
    }

    /// The transport a tool uses.
    pub fn transport_of(&self, tool: &ToolSpec) -> Option<Transport> {
        self.cfg
            .transport_overrides
            .get(tool.id)
            .copied()
            .or_else(|| self.cfg.systems.get(tool.line_system).map(|s| s.transport))
    }

    fn jitter_below(&self, max_ms: u64) -> u64 {
        // xorshift on a shared atomic: cheap, good enough to spread retries apart.
        let mut x = self.jitter.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.jitter.store(x, Ordering::Relaxed);
        if max_ms == 0 { 0 } else { x % (max_ms + 1) }
    }

    /// Call `tool` with plaintext `args`. `idempotency_key` must be set for writes.
    ///
    /// # Errors
    /// Business errors are returned at once; timeouts and unavailability after the retries;
    /// [`Error::CircuitOpen`] when the breaker refuses.
    pub async fn call(
        &self,
        tool: &ToolSpec,
        args: &Value,
        idempotency_key: Option<&str>,
    ) -> Result<Value> {
        let system = tool.line_system;
        let sys = self
            .cfg
            .systems
            .get(system)
            .ok_or_else(|| Error::NotConfigured {
                system: system.to_string(),
            })?;
        let breaker = self
            .breakers
            .get(system)
            .ok_or_else(|| Error::NotConfigured {
                system: system.to_string(),
            })?;
        let transport = self.transport_of(tool).unwrap_or_default();
        let retries = match tool.access {
            Access::Read => sys.read_retries,
            Access::Write if idempotency_key.is_some() => sys.write_retries,
            Access::Write => 0,
        };
        let timeout = sys.timeout.unwrap_or(tool.timeout);
        let mut last = None;
        for attempt in 0..=retries {
            if attempt > 0 {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                let cap = (sys.backoff_base.as_millis() as u64)
                    .saturating_mul(1 << attempt.min(10))
                    .min(2_000);
                tokio::time::sleep(Duration::from_millis(self.jitter_below(cap))).await;
            }
            let Some(permit) = breaker.try_acquire() else {
                self.stats.short_circuited.fetch_add(1, Ordering::Relaxed);
                return Err(Error::CircuitOpen {
                    system: system.to_string(),
                });
            };
            self.stats.attempts.fetch_add(1, Ordering::Relaxed);
            let r = match transport {
                Transport::Rest => {
                    self.rest(sys, system, tool, args, idempotency_key, timeout)
                        .await
                }
                Transport::Soap => {
                    self.soap(sys, system, tool, args, idempotency_key, timeout)
                        .await
                }
            };
            match r {
                Ok(v) => {
                    permit.success();
                    return Ok(v);
                }
                Err(e) if e.retryable() => {
                    tracing::debug!(
                        tool = tool.id,
                        attempt,
                        code = e.code(),
                        "line system attempt failed"
                    );
                    permit.failure();
                    last = Some(e);
                }
                Err(e) => {
                    // The system answered (a business refusal is a healthy system).
                    permit.success();
                    return Err(e);
                }
            }
        }
        Err(last.unwrap_or(Error::Unavailable {
            system: system.to_string(),
            status: None,
            detail: "no attempt".into(),
        }))
    }

    fn request(
        &self,
        sys: &LineSystemConfig,
        system: &str,
        url: String,
        key: Option<&str>,
        timeout: Duration,
        body: Vec<u8>,
    ) -> Result<reqwest::RequestBuilder> {
        let parsed = reqwest::Url::parse(&url).map_err(|e| Error::Config {
            system: system.to_string(),
            reason: format!("接入地址无效：{e}"),
        })?;
        let path = parsed.path().to_string();
        let mut rb = self.client.post(parsed).timeout(timeout);
        for (k, v) in &sys.headers {
            rb = rb.header(k, v);
        }
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        if let Some(secret) = self.signing_keys.get(system) {
            // A fresh nonce per attempt: the receiver's replay guard rejects a re-sent one.
            let sig =
                zhiban_pii::sign_request_now(secret, "POST", &path, &body).map_err(Error::Pii)?;
            rb = rb
                .header(
                    zhiban_pii::signing::HEADER_TIMESTAMP,
                    sig.timestamp.to_string(),
                )
                .header(zhiban_pii::signing::HEADER_NONCE, sig.nonce)
                .header(zhiban_pii::signing::HEADER_SIGNATURE, sig.signature);
        }
        Ok(rb.body(body))
    }

    fn transport_error(system: &str, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            Error::Timeout {
                system: system.to_string(),
            }
        } else {
            Error::Unavailable {
                system: system.to_string(),
                status: e.status().map(|s| s.as_u16()),
                detail: e.to_string(),
            }
        }
    }

    async fn rest(
        &self,
        sys: &LineSystemConfig,
        system: &str,
        tool: &ToolSpec,
        args: &Value,
        key: Option<&str>,
        timeout: Duration,
    ) -> Result<Value> {
        let url = format!("{}/rest/{}", sys.base_url.trim_end_matches('/'), tool.id);
        let body = serde_json::to_vec(args)?;
        let resp = self
            .request(sys, system, url, key, timeout, body)?
            .header("Content-Type", "application/json")
            .send()
            .await
            .map_err(|e| Self::transport_error(system, e))?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| Self::transport_error(system, e))?;
        let v: Option<Value> = serde_json::from_str(&body).ok();
        if status.is_server_error() || status.as_u16() == 429 {
            // The body of a failure may echo the request (names, ID numbers): keep only its code.
            let code = v
                .as_ref()
                .and_then(|v| v["error"]["code"].as_str())
                .and_then(safe_code);
            return Err(Error::Unavailable {
                system: system.to_string(),
                status: Some(status.as_u16()),
                detail: match code {
                    Some(c) => format!("HTTP {status}，错误码 {c}"),
                    None => format!("HTTP {status}"),
                },
            });
        }
        let Some(v) = v else {
            return Err(Error::Protocol {
                system: system.to_string(),
                detail: format!("HTTP {status}: 非 JSON 应答"),
            });
        };
        if status.is_success() && v["ok"] == Value::Bool(true) {
            return Ok(v.get("result").cloned().unwrap_or(Value::Null));
        }
        match (v["error"]["code"].as_str(), v["error"]["message"].as_str()) {
            (Some(code), Some(message)) => Err(Error::Business {
                system: system.to_string(),
                code: safe_code(code).unwrap_or("UNKNOWN").to_string(),
                // Free text for the resident; the runtime seals any PII in it before it leaves.
                message: message.to_string(),
            }),
            _ => Err(Error::Protocol {
                system: system.to_string(),
                detail: format!("HTTP {status}: 应答缺少 result/error"),
            }),
        }
    }

    async fn soap(
        &self,
        sys: &LineSystemConfig,
        system: &str,
        tool: &ToolSpec,
        args: &Value,
        key: Option<&str>,
        timeout: Duration,
    ) -> Result<Value> {
        let url = format!("{}/soap", sys.base_url.trim_end_matches('/'));
        let envelope = soap::request_envelope(tool.id, args);
        let resp = self
            .request(sys, system, url, key, timeout, envelope.into_bytes())?
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", format!("\"{}#{}\"", soap::NS, tool.id))
            .send()
            .await
            .map_err(|e| Self::transport_error(system, e))?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| Self::transport_error(system, e))?;
        let el = match soap::body_element(&body) {
            Ok(el) => el,
            Err(_) if status.is_server_error() => {
                return Err(Error::Unavailable {
                    system: system.to_string(),
                    status: Some(status.as_u16()),
                    detail: "非 SOAP 应答".into(),
                });
            }
            Err(_) => {
                // The parser's message can quote the body; say what failed in our own words.
                return Err(Error::Protocol {
                    system: system.to_string(),
                    detail: format!("SOAP 应答无法解析（HTTP {status}）"),
                });
            }
        };
        if el.name == "Fault" {
            let client = el
                .child("faultcode")
                .map(|c| c.text.trim().ends_with("Client"))
                .unwrap_or(false);
            let detail = el.child("detail").and_then(|d| d.children.first());
            let code = detail
                .and_then(|d| d.child("code"))
                .and_then(|c| safe_code(c.text.trim()))
                .unwrap_or("SOAP_FAULT")
                .to_string();
            let message = el
                .child("faultstring")
                .map(|c| c.text.clone())
                .unwrap_or_default();
            if client {
                return Err(Error::Business {
                    system: system.to_string(),
                    code,
                    message,
                });
            }
            // A server fault's faultstring may echo the request: only its code is kept.
            return Err(Error::Unavailable {
                system: system.to_string(),
                status: Some(status.as_u16()),
                detail: format!("SOAP 服务端故障，错误码 {code}"),
            });
        }
        if !status.is_success() {
            return Err(Error::Unavailable {
                system: system.to_string(),
                status: Some(status.as_u16()),
                detail: "SOAP 应答状态异常".into(),
            });
        }
        if el.name != format!("{}Response", tool.id) {
            return Err(Error::Protocol {
                system: system.to_string(),
                detail: format!("应答元素与操作 {} 不符", tool.id),
            });
        }
        let v = soap::to_json(&el);
        // An empty response element decodes as "" — an empty result object.
        let v = if v.is_object() {
            v
        } else {
            Value::Object(Default::default())
        };
        Ok(soap::coerce(v, &tool.result_schema))
    }
}

/// A line system's error code, if it looks like one (`APPLICANT_NOT_FOUND`); anything else could
/// be free text and is not carried.
fn safe_code(code: &str) -> Option<&str> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    ok.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_from_json_with_defaults() {
        let cfg: AdapterConfig = serde_json::from_str(r#"{"systems": {"rs": {"base_url": "http://x", "transport": "soap"}}, "transport_overrides": {"road_search": "rest"}}"#).unwrap();
        let rs = &cfg.systems["rs"];
        assert_eq!(
            (rs.transport, rs.read_retries, rs.write_retries, rs.timeout),
            (Transport::Soap, 2, 3, None)
        );
        assert_eq!(rs.breaker.failure_threshold, 5);
    }

    #[test]
    fn breaker_opens_after_threshold_and_lets_one_probe_through() {
        let b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_millis(30),
        });
        for _ in 0..2 {
            b.try_acquire().unwrap().failure();
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.try_acquire().unwrap().failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(b.try_acquire().is_none());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        let probe = b.try_acquire().unwrap();
        assert!(probe.is_probe());
        assert!(b.try_acquire().is_none(), "only one probe at a time");
        probe.failure();
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(40));
        b.try_acquire().unwrap().success();
        assert_eq!(b.state(), BreakerState::Closed);
        let (x, y) = (b.try_acquire().unwrap(), b.try_acquire().unwrap());
        assert!(!x.is_probe() && !y.is_probe());
        x.success();
        y.success();
    }

    #[test]
    fn a_dropped_probe_frees_the_probe_slot() {
        let b = CircuitBreaker::new(BreakerConfig {
            failure_threshold: 1,
            open_for: Duration::from_millis(20),
        });
        b.try_acquire().unwrap().failure();
        std::thread::sleep(Duration::from_millis(30));
        let probe = b.try_acquire().unwrap();
        assert!(b.try_acquire().is_none());
        drop(probe); // the probing call was cancelled
        let again = b.try_acquire().expect("the next caller may probe");
        assert!(again.is_probe());
        again.success();
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn only_identifier_like_codes_are_kept() {
        assert_eq!(
            safe_code("APPLICANT_NOT_FOUND"),
            Some("APPLICANT_NOT_FOUND")
        );
        assert_eq!(safe_code("王小明 11010519491231002X"), None);
        assert_eq!(safe_code(""), None);
    }
}
