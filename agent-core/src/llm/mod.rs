//! The LLM client: a model may only *understand* a resident's turn (as [`Command`]s) and *word*
//! a reply ([`LlmClient::rephrase`]); the order of tool calls stays in the flow spec.
//!
//! Any OpenAI-compatible endpoint works (`[llm] base_url` including `/v1`, `api_key`, `model`,
//! `system_prompt_extra`, `timeout_ms`). Every call is bounded by one deadline that covers
//! everything, and async-openai's own retry loop (minutes on 5xx) is switched off: the caller
//! has a deterministic path to fall back to on any error, which serves a waiting resident better
//! than a retry. Every text crosses the [`guard`] both ways: plaintext PII is refused on the way
//! out, foreign tokens are refused and plaintext PII masked on the way in, and each returned
//! call is validated against the turn's fields ([`command`]).

pub mod command;
pub mod guard;
pub mod prompt;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageContent,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
    ChatCompletionRequestSystemMessageContent, ChatCompletionRequestUserMessage,
    ChatCompletionRequestUserMessageContent, ChatCompletionTool, ChatCompletionToolChoiceOption,
    ChatCompletionToolType, CreateChatCompletionRequest, CreateChatCompletionResponse,
    FunctionObject,
};
use serde::{Deserialize, Serialize};

pub use command::{
    Command, DropReason, Dropped, FieldDesc, FieldKind, MAX_CALLS, TurnContext, fields_of,
    validate_call, validate_calls,
};
pub use guard::GuardError;

/// Default deadline of one call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);

/// Where and how to call the model (`[llm]` of the service config).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// Base URL including `/v1`.
    pub base_url: String,
    /// API key (may be empty for local servers).
    #[serde(default)]
    pub api_key: String,
    /// Model name.
    pub model: String,
    /// Deadline of one whole call (`timeout_ms` in the config; 8 s by default).
    #[serde(
        rename = "timeout_ms",
        with = "duration_ms",
        default = "default_timeout"
    )]
    pub timeout: Duration,
    /// Appended verbatim to every system prompt.
    #[serde(default)]
    pub system_prompt_extra: String,
    /// Reword the flow's prompts through [`LlmClient::rephrase`] (off by default: it costs a
    /// model call per turn).
    #[serde(default)]
    pub rephrase: bool,
    /// Write 学习问答 answers through [`LlmClient::answer`] (off by default).
    #[serde(default)]
    pub answers: bool,
}

fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

impl LlmConfig {
    /// A config with the default timeout and no extra prompt.
    pub fn new(
        base_url: impl Into<String>,
        api_key: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            api_key: api_key.into(),
            model: model.into(),
            timeout: DEFAULT_TIMEOUT,
            system_prompt_extra: String::new(),
            rephrase: false,
            answers: false,
        }
    }
}

impl std::fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field(
                "api_key",
                &if self.api_key.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("model", &self.model)
            .field("timeout", &self.timeout)
            .field("system_prompt_extra", &self.system_prompt_extra)
            .finish()
    }
}

/// Why a model call gave nothing usable. The caller falls back to the deterministic path on
/// every variant. Messages are Chinese and never hold PII or the endpoint's own error text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// The configuration cannot work.
    #[error("大模型配置无效：{0}")]
    Config(&'static str),
    /// The guard refused a text before it was sent; nothing was sent.
    #[error("未发送给大模型：{0}")]
    Guard(GuardError),
    /// No answer within the deadline.
    #[error("大模型服务在 {after_ms} 毫秒内没有响应")]
    Timeout {
        /// The deadline, in milliseconds.
        after_ms: u64,
    },
    /// The endpoint answered with a server error (5xx).
    #[error("大模型服务暂时不可用")]
    Server,
    /// The endpoint refused the request (4xx: key, quota, model name, request shape).
    #[error("大模型服务拒绝了请求")]
    Rejected,
    /// The endpoint could not be reached or the connection broke.
    #[error("无法连接大模型服务")]
    Transport,
    /// The answer was not a chat completion.
    #[error("大模型服务返回了无法解析的内容")]
    Malformed,
    /// A well-formed answer with nothing in it (no choices, or neither text nor calls).
    #[error("大模型服务返回了空结果")]
    Empty,
    /// The model called no command, or every call it made was dropped.
    #[error("大模型没有给出有效命令（丢弃 {} 个调用）", .dropped.len())]
    NoValidCommand {
        /// The dropped calls and why (empty when the model called nothing).
        dropped: Vec<Dropped>,
    },
    /// A rephrased reply that does not keep the original's facts.
    #[error("润色结果不可用：{0}")]
    Rephrase(&'static str),
}

impl From<GuardError> for LlmError {
    fn from(e: GuardError) -> Self {
        LlmError::Guard(e)
    }
}

/// Counters since the client was made, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LlmStats {
    /// Calls started (including ones the guard stopped).
    pub calls: u64,
    /// Calls that returned `Ok`.
    pub ok: u64,
    /// Calls the outbound guard stopped before sending.
    pub guard_refused: u64,
    /// Timeouts.
    pub timeouts: u64,
    /// Endpoint errors other than timeouts (5xx, 4xx, transport, malformed, empty).
    pub endpoint_errors: u64,
    /// Tool calls dropped by validation (over all calls, successful ones too).
    pub dropped_calls: u64,
    /// Calls that ended in [`LlmError::NoValidCommand`].
    pub no_valid_command: u64,
    /// Rephrasings refused for not keeping the facts.
    pub rephrase_rejected: u64,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    ok: AtomicU64,
    guard_refused: AtomicU64,
    timeouts: AtomicU64,
    endpoint_errors: AtomicU64,
    dropped_calls: AtomicU64,
    no_valid_command: AtomicU64,
    rephrase_rejected: AtomicU64,
}

impl Counters {
    fn count(&self, r: &Result<impl Sized, LlmError>) {
        let c = match r {
            Ok(_) => &self.ok,
            Err(LlmError::Guard(_)) => &self.guard_refused,
            Err(LlmError::Timeout { .. }) => &self.timeouts,
            Err(LlmError::NoValidCommand { .. }) => &self.no_valid_command,
            Err(LlmError::Rephrase(_)) => &self.rephrase_rejected,
            Err(LlmError::Config(_)) => return,
            Err(_) => &self.endpoint_errors,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The result of [`LlmClient::commands_report`]: the valid commands and what was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandsReport {
    /// Valid commands, in the model's order; never empty.
    pub commands: Vec<Command>,
    /// Calls dropped on the way.
    pub dropped: Vec<Dropped>,
}

/// A client of one OpenAI-compatible endpoint. Cheap to share (`Arc` it or clone it).
#[derive(Clone)]
pub struct LlmClient {
    cfg: Arc<LlmConfig>,
    client: Client<OpenAIConfig>,
    counters: Arc<Counters>,
    timings: Arc<zhiban_tools::timing::Timings>,
}

impl std::fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmClient").field("cfg", &self.cfg).finish()
    }
}

/// One outgoing message, checked.
enum Out {
    System(String),
    Assistant(String),
    User(String),
}

impl LlmClient {
    /// A client for `cfg`. No request is made until the first call.
    ///
    /// # Errors
    /// [`LlmError::Config`] for an empty or non-HTTP base URL, an empty model, a zero timeout.
    pub fn new(cfg: LlmConfig) -> Result<Self, LlmError> {
        let base = cfg.base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(LlmError::Config("base_url 应以 http:// 或 https:// 开头"));
        }
        if cfg.model.trim().is_empty() {
            return Err(LlmError::Config("未指定 model"));
        }
        if cfg.timeout.is_zero() {
            return Err(LlmError::Config("timeout 不能为 0"));
        }
        let oa = OpenAIConfig::new()
            .with_api_base(base)
            .with_api_key(cfg.api_key.clone());
        // Give up after the first failure: the deadline, not async-openai, decides how long.
        let backoff = backoff::ExponentialBackoffBuilder::new()
            .with_max_elapsed_time(Some(Duration::ZERO))
            .build();
        Ok(LlmClient {
            client: Client::with_config(oa).with_backoff(backoff),
            cfg: Arc::new(cfg),
            counters: Arc::default(),
            timings: Arc::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LlmConfig {
        &self.cfg
    }

    /// Counters since the client was made.
    pub fn stats(&self) -> LlmStats {
        let c = &self.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LlmStats {
            calls: g(&c.calls),
            ok: g(&c.ok),
            guard_refused: g(&c.guard_refused),
            timeouts: g(&c.timeouts),
            endpoint_errors: g(&c.endpoint_errors),
            dropped_calls: g(&c.dropped_calls),
            no_valid_command: g(&c.no_valid_command),
            rephrase_rejected: g(&c.rephrase_rejected),
        }
    }

    /// What the resident's `user_text` (tokenised) asks for in this turn, as validated commands.
    ///
    /// # Errors
    /// [`LlmError::Guard`] when a text still holds plaintext PII (nothing is sent);
    /// [`LlmError::NoValidCommand`] when no call survives validation; the endpoint's failures.
    pub async fn commands(
        &self,
        ctx: &TurnContext,
        user_text: &str,
    ) -> Result<Vec<Command>, LlmError> {
        self.commands_report(ctx, user_text)
            .await
            .map(|r| r.commands)
    }

    /// As [`commands`](Self::commands), also returning the calls that were dropped.
    ///
    /// # Errors
    /// As [`commands`](Self::commands).
    pub async fn commands_report(
        &self,
        ctx: &TurnContext,
        user_text: &str,
    ) -> Result<CommandsReport, LlmError> {
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        let r = self.commands_inner(ctx, user_text).await;
        self.counters.count(&r);
        match &r {
            Ok(rep) => self.note_dropped(&rep.dropped),
            Err(LlmError::NoValidCommand { dropped }) => self.note_dropped(dropped),
            Err(e) => tracing::info!(error = %e, "LLM commands call failed"),
        }
        r
    }

    fn note_dropped(&self, dropped: &[Dropped]) {
        if dropped.is_empty() {
            return;
        }
        self.counters
            .dropped_calls
            .fetch_add(dropped.len() as u64, Ordering::Relaxed);
        for d in dropped {
            tracing::info!(dropped = %d, "LLM tool call dropped");
        }
    }

    async fn commands_inner(
        &self,
        ctx: &TurnContext,
        user_text: &str,
    ) -> Result<CommandsReport, LlmError> {
        let names: Vec<&str> = ctx.known_names.iter().map(String::as_str).collect();
        let mut out = vec![Out::System(prompt::commands_system(
            ctx,
            &self.cfg.system_prompt_extra,
        ))];
        if !ctx.last_reply.trim().is_empty() {
            out.push(Out::Assistant(ctx.last_reply.clone()));
        }
        out.push(Out::User(user_text.to_owned()));
        let (messages, allowed) = checked(out, &names)?;

        let tools: Vec<ChatCompletionTool> = command::tool_schemas(ctx)
            .into_iter()
            .map(|(name, description, parameters)| ChatCompletionTool {
                r#type: ChatCompletionToolType::Function,
                function: FunctionObject {
                    name: name.to_owned(),
                    description: Some(description.to_owned()),
                    parameters: Some(parameters),
                    strict: None,
                },
            })
            .collect();
        let request = CreateChatCompletionRequest {
            model: self.cfg.model.clone(),
            messages,
            tools: Some(tools),
            tool_choice: Some(ChatCompletionToolChoiceOption::Auto),
            temperature: Some(0.0),
            ..Default::default()
        };
        let response = self.send(request).await?;
        let choice = response.choices.into_iter().next().ok_or(LlmError::Empty)?;
        let calls = choice.message.tool_calls.unwrap_or_default();
        if calls.is_empty() {
            let has_text = choice
                .message
                .content
                .as_deref()
                .is_some_and(|t| !t.trim().is_empty());
            return Err(if has_text {
                LlmError::NoValidCommand { dropped: vec![] }
            } else {
                LlmError::Empty
            });
        }
        let (commands, dropped) = validate_calls(
            ctx,
            calls
                .iter()
                .map(|c| (c.function.name.as_str(), c.function.arguments.as_str())),
            &allowed,
        );
        if commands.is_empty() {
            return Err(LlmError::NoValidCommand { dropped });
        }
        Ok(CommandsReport { commands, dropped })
    }

    /// A friendlier wording of an assistant reply (tokenised). The caller keeps the original on
    /// any error.
    ///
    /// # Errors
    /// [`LlmError::Guard`] when `reply` holds plaintext PII; [`LlmError::Rephrase`] when the
    /// wording drops or adds a number or drops a token; the endpoint's failures.
    pub async fn rephrase(&self, reply: &str) -> Result<String, LlmError> {
        self.rephrase_with_names(reply, &[]).await
    }

    /// As [`rephrase`](Self::rephrase), also refusing to send a known plaintext name.
    ///
    /// # Errors
    /// As [`rephrase`](Self::rephrase).
    pub async fn rephrase_with_names(
        &self,
        reply: &str,
        known_names: &[&str],
    ) -> Result<String, LlmError> {
        self.tracked("rephrase", self.rephrase_inner(reply, known_names))
            .await
    }

    /// Counts one call and its outcome, and logs a failure (the error holds no PII).
    async fn tracked<T>(
        &self,
        what: &'static str,
        call: impl std::future::Future<Output = Result<T, LlmError>>,
    ) -> Result<T, LlmError> {
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        let r = call.await;
        self.counters.count(&r);
        if let Err(e) = &r {
            tracing::info!(error = %e, call = what, "LLM call failed");
        }
        r
    }

    async fn rephrase_inner(&self, reply: &str, known_names: &[&str]) -> Result<String, LlmError> {
        if reply.trim().is_empty() {
            return Err(LlmError::Rephrase("原回复为空"));
        }
        let out = vec![
            Out::System(prompt::rephrase_system(&self.cfg.system_prompt_extra)),
            Out::User(reply.to_owned()),
        ];
        let (text, allowed) = self.text_completion(out, known_names, 0.3).await?;
        let text = guard::inbound(text.trim(), &allowed)
            .map_err(|_| LlmError::Rephrase("含有未签发的加密标记"))?;
        keeps_facts(reply, &text)?;
        Ok(text)
    }

    /// An answer to `question` written from `passages` only, citing them as `[n]` (passage
    /// `[n]` is `passages[n - 1]`). The text is the model's and unchecked: the caller runs it
    /// through [`crate::grounding::check`] and falls back to the extractive answer.
    ///
    /// # Errors
    /// [`LlmError::Guard`] when a passage or the question holds plaintext PII; [`LlmError::Empty`]
    /// for no text; the endpoint's failures.
    pub async fn answer(&self, question: &str, passages: &[String]) -> Result<String, LlmError> {
        self.tracked("answer", self.answer_inner(question, passages))
            .await
    }

    async fn answer_inner(&self, question: &str, passages: &[String]) -> Result<String, LlmError> {
        let mut user = format!("【问题】\n{}\n\n【条文】\n", question.trim());
        for (i, p) in passages.iter().enumerate() {
            user.push_str(&format!("[{}] {}\n", i + 1, p.trim()));
        }
        let out = vec![
            Out::System(prompt::answer_system(&self.cfg.system_prompt_extra)),
            Out::User(user),
        ];
        let (text, allowed) = self.text_completion(out, &[], 0.0).await?;
        guard::inbound(text.trim(), &allowed).map_err(|_| LlmError::Malformed)
    }

    /// One guarded chat call answered with text (no tools): the text, and the tokens the
    /// request carried (the only ones the answer may hold).
    async fn text_completion(
        &self,
        out: Vec<Out>,
        known_names: &[&str],
        temperature: f32,
    ) -> Result<(String, BTreeSet<String>), LlmError> {
        let (messages, allowed) = checked(out, known_names)?;
        let request = CreateChatCompletionRequest {
            model: self.cfg.model.clone(),
            messages,
            temperature: Some(temperature),
            ..Default::default()
        };
        let response = self.send(request).await?;
        let text = response
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .filter(|t| !t.trim().is_empty())
            .ok_or(LlmError::Empty)?;
        Ok((text, allowed))
    }

    async fn send(
        &self,
        request: CreateChatCompletionRequest,
    ) -> Result<CreateChatCompletionResponse, LlmError> {
        let timeout = self.cfg.timeout;
        let started = Instant::now();
        let chat = self.client.chat();
        let r = match tokio::time::timeout(timeout, chat.create(request)).await {
            Err(_) => Err(LlmError::Timeout {
                after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            }),
            Ok(Ok(r)) => {
                tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "LLM answered"
                );
                Ok(r)
            }
            Ok(Err(e)) => Err(classify(e, timeout)),
        };
        self.timings
            .observe(&self.cfg.model, started.elapsed(), r.is_ok());
        r
    }

    /// Latency and errors of the calls sent to the endpoint, by model.
    pub fn timings(&self) -> &zhiban_tools::timing::Timings {
        &self.timings
    }
}

/// Guards every outgoing text and collects the tokens they hold (the only ones the model may
/// return).
fn checked(
    out: Vec<Out>,
    names: &[&str],
) -> Result<(Vec<ChatCompletionRequestMessage>, BTreeSet<String>), LlmError> {
    let mut allowed = BTreeSet::new();
    let mut messages = Vec::with_capacity(out.len());
    for m in out {
        let text = match &m {
            Out::System(t) | Out::Assistant(t) | Out::User(t) => t,
        };
        let text = guard::outbound_with_names(text, names)?;
        allowed.extend(guard::tokens_in(&text));
        messages.push(match m {
            Out::System(_) => {
                ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
                    content: ChatCompletionRequestSystemMessageContent::Text(text),
                    name: None,
                })
            }
            Out::Assistant(_) => {
                ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage {
                    content: Some(ChatCompletionRequestAssistantMessageContent::Text(text)),
                    ..Default::default()
                })
            }
            Out::User(_) => ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
                content: ChatCompletionRequestUserMessageContent::Text(text),
                name: None,
            }),
        });
    }
    Ok((messages, allowed))
}

/// Maps async-openai's error onto ours. async-openai does not keep the HTTP status: a 5xx
/// becomes an `ApiError` whose message is the raw body and whose type, code and param are all
/// empty, while a 4xx is parsed from the OpenAI error object (which names a type).
fn classify(e: OpenAIError, timeout: Duration) -> LlmError {
    match e {
        OpenAIError::Reqwest(e) if e.is_timeout() => LlmError::Timeout {
            after_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        },
        OpenAIError::Reqwest(e) if e.is_decode() || e.is_body() => LlmError::Malformed,
        OpenAIError::Reqwest(_) => LlmError::Transport,
        OpenAIError::ApiError(api) => {
            let raw_body = serde_json::from_str::<serde_json::Value>(&api.message)
                .ok()
                .is_some_and(|v| v.get("error").is_some());
            if raw_body || (api.r#type.is_none() && api.code.is_none() && api.param.is_none()) {
                LlmError::Server
            } else {
                LlmError::Rejected
            }
        }
        OpenAIError::JSONDeserialize(_) | OpenAIError::StreamError(_) => LlmError::Malformed,
        OpenAIError::InvalidArgument(_)
        | OpenAIError::FileSaveError(_)
        | OpenAIError::FileReadError(_) => LlmError::Rejected,
    }
}

/// Digit runs of a text (full-width digits read as ASCII), in order.
fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in crate::understand::normalize(text).chars() {
        if c.is_ascii_digit() {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A rephrasing may reorder words but not facts: every token kept, the same numbers (as a
/// multiset), and not several times longer.
fn keeps_facts(original: &str, rephrased: &str) -> Result<(), LlmError> {
    let mine: BTreeSet<String> = guard::tokens_in(original).collect();
    let theirs: BTreeSet<String> = guard::tokens_in(rephrased).collect();
    if mine != theirs {
        return Err(LlmError::Rephrase("加密标记没有原样保留"));
    }
    let strip = |t: &str| {
        let mut s = t.to_owned();
        for tok in guard::tokens_in(t).collect::<Vec<_>>() {
            s = s.replace(&tok, " ");
        }
        s
    };
    let mut a = numbers(&strip(original));
    let mut b = numbers(&strip(rephrased));
    a.sort();
    b.sort();
    if a != b {
        return Err(LlmError::Rephrase("数字与原回复不一致"));
    }
    if rephrased.chars().count() > original.chars().count() * 2 + 100 {
        return Err(LlmError::Rephrase("改写过长"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_toml_with_defaults_and_hides_the_key() {
        let cfg: LlmConfig = toml::from_str(
            r#"
            base_url = "http://127.0.0.1:8000/v1"
            api_key = "sk-very-secret"
            model = "qwen2.5-7b-instruct"
            "#,
        )
        .expect("toml");
        assert_eq!(cfg.timeout, DEFAULT_TIMEOUT);
        assert_eq!(cfg.system_prompt_extra, "");
        assert!(!format!("{cfg:?}").contains("sk-very-secret"));
        let cfg: LlmConfig = toml::from_str(
            "base_url = \"http://h/v1\"\nmodel = \"m\"\ntimeout_ms = 300\nsystem_prompt_extra = \"x\"",
        )
        .expect("toml");
        assert_eq!(cfg.timeout, Duration::from_millis(300));
    }

    #[test]
    fn bad_configs_are_refused() {
        let bad = |f: fn(&mut LlmConfig)| {
            let mut c = LlmConfig::new("http://127.0.0.1:1/v1", "", "m");
            f(&mut c);
            LlmClient::new(c).err()
        };
        assert!(bad(|_| {}).is_none());
        assert!(matches!(
            bad(|c| c.base_url = "ftp://x".into()),
            Some(LlmError::Config(_))
        ));
        assert!(matches!(
            bad(|c| c.model = " ".into()),
            Some(LlmError::Config(_))
        ));
        assert!(matches!(
            bad(|c| c.timeout = Duration::ZERO),
            Some(LlmError::Config(_))
        ));
    }

    #[test]
    fn rephrasings_must_keep_numbers_and_tokens() {
        let orig = "请在2025年7月1日前上传材料，补贴标准为每月1200元。";
        assert!(
            keeps_facts(
                orig,
                "麻烦您2025年7月1日之前把材料传上来，补贴是每月1200元。"
            )
            .is_ok()
        );
        assert_eq!(
            keeps_facts(orig, "请在2025年7月2日前上传材料，补贴标准为每月1200元。"),
            Err(LlmError::Rephrase("数字与原回复不一致"))
        );
        assert!(keeps_facts(orig, "请尽快上传材料。").is_err());
        assert!(keeps_facts("好的", &"好".repeat(300)).is_err());
    }

    #[test]
    fn error_messages_are_chinese() {
        for e in [
            LlmError::Timeout { after_ms: 300 },
            LlmError::Server,
            LlmError::Malformed,
            LlmError::Empty,
            LlmError::NoValidCommand { dropped: vec![] },
        ] {
            let s = e.to_string();
            assert!(
                s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{s}"
            );
        }
    }
}
