//! The flow engine: one deterministic state machine per session.
//!
//! Each resident message is one turn: it is understood (cancel, handoff, correction, digression,
//! or an answer to what the flow awaits), applied to the form, and then the flow *advances* from
//! its first step: a check or lookup runs when its resolved arguments differ from the ones it
//! last ran with (so only the steps an answer affects run again), an input, material or the
//! confirmation that is still missing becomes what the flow awaits, and 提交 runs only after the
//! resident confirmed a summary of exactly the current form. Nothing a resident or a model says
//! can reorder or skip a step: the order lives in the spec.
//!
//! The session is written to the store before the reply is returned; 提交 carries the session's
//! idempotency key, so a crash between the case system's answer and the write replays the same
//! case on the next confirmation instead of creating a second one.

use chrono::{Datelike, NaiveDate, Utc};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use zeroize::Zeroizing;
use zhiban_pii::{PiiKind, detect::detect, find_tokens, is_token};
use zhiban_tools::{CallContext, Error as ToolError, ToolRuntime};

use crate::mask::{mask, placeholder};
use crate::materials::{Attachment, MaterialReader, recognise};
use crate::qa::{QaAgent, QaRequest};
use crate::session::{
    AwaitKind, Awaiting, Citation, Clarify, Material, Session, SessionView, State, StepResult,
    ToolCallRecord, Turn,
};
use crate::spec::{FlowSpec, InputType, OnFail, Step, StepKind};
use crate::store::{SessionStore, StoreError};
use crate::understand::{self, Parsed, acts::Act};

/// Most characters a message may hold.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Largest attachment.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// Why a request to the engine failed. Messages are Chinese and free of PII.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No such agent.
    #[error("没有这个智能体：{0}")]
    UnknownAgent(String),
    /// No such session.
    #[error("会话不存在或已过期")]
    NotFound,
    /// The session has ended.
    #[error("本次会话已结束（{0}），如需继续办理请重新发起")]
    Ended(String),
    /// The client sent something unusable.
    #[error("{0}")]
    BadInput(String),
    /// Another request changed the session at the same time.
    #[error("会话正被另一个请求更新，请稍后重试")]
    Conflict,
    /// A token that does not open in this session.
    #[error("凭证无效")]
    InvalidToken,
    /// The store failed.
    #[error("{0}")]
    Store(StoreError),
    /// The tool layer failed in a way the flow cannot absorb.
    #[error("{0}")]
    Tools(String),
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => EngineError::NotFound,
            StoreError::Conflict => EngineError::Conflict,
            other => EngineError::Store(other),
        }
    }
}

/// The applicant as MAP's login established it (plaintext, or tokens this service issued).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantIn {
    /// 姓名.
    pub name: Option<String>,
    /// 证件类型.
    pub id_type: Option<String>,
    /// 证件号码.
    pub id_number: Option<String>,
}

/// A new session.
#[derive(Debug, Clone, Default)]
pub struct NewSession {
    /// The session's date.
    pub as_of: Option<NaiveDate>,
    /// Channel.
    pub channel: Option<String>,
    /// Applicant.
    pub applicant: Option<ApplicantIn>,
    /// Operator (who types).
    pub operator: Option<Value>,
    /// The API client creating it (audit and ownership).
    pub client: Option<String>,
}

/// One resident message.
#[derive(Debug, Clone, Default)]
pub struct Message {
    /// Text (may be empty when attachments are sent).
    pub text: String,
    /// Attachments.
    pub attachments: Vec<Attachment>,
}

/// An agent as `GET /v1/agents` lists it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AgentInfo {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Budget.
    pub max_interactions: u32,
    /// Tools, by the seed's names.
    pub tools: Vec<String>,
}

/// The engine; share it in an `Arc`.
pub struct Engine {
    flows: BTreeMap<String, FlowSpec>,
    tools: Arc<ToolRuntime>,
    store: Arc<dyn SessionStore>,
    qa: Option<QaAgent>,
    reader: Arc<dyn MaterialReader>,
    today: Option<NaiveDate>,
    tenant: String,
    tera: Mutex<tera::Tera>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Plaintext of names this process sealed, per session, to find them again in later text
    /// (never at rest; wiped on drop).
    known: Mutex<HashMap<String, Vec<KnownValue>>>,
    /// The model, when configured: it may only emit commands, which are validated and applied
    /// through the same parsers as typed answers; any failure falls back to the deterministic path.
    llm: Option<crate::llm::LlmClient>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("flows", &self.flows.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A value this process sealed: its kind, plaintext (wiped on drop) and token.
type KnownValue = (PiiKind, Zeroizing<String>, String);

/// The QA agent's id.
pub const QA_AGENT: &str = "qa";

type Reply = String;

impl Engine {
    /// An engine over `flows`.
    pub fn new(
        flows: Vec<FlowSpec>,
        tools: Arc<ToolRuntime>,
        store: Arc<dyn SessionStore>,
        qa: Option<QaAgent>,
        reader: Arc<dyn MaterialReader>,
    ) -> Self {
        Engine {
            flows: flows.into_iter().map(|f| (f.id.clone(), f)).collect(),
            tools,
            store,
            qa,
            reader,
            today: None,
            tenant: "shanghai".into(),
            tera: Mutex::new(tera::Tera::default()),
            locks: Mutex::new(HashMap::new()),
            known: Mutex::new(HashMap::new()),
            llm: None,
        }
    }

    /// The model client, when one is configured (metrics).
    pub fn llm(&self) -> Option<&crate::llm::LlmClient> {
        self.llm.as_ref()
    }

    /// Switch the model on (or off).
    pub fn with_llm(mut self, llm: Option<crate::llm::LlmClient>) -> Self {
        self.llm = llm;
        self
    }

    /// Fix the clock (QA's `--today`).
    pub fn with_today(mut self, today: Option<NaiveDate>) -> Self {
        self.today = today;
        self
    }

    /// Today, as the engine's clock says.
    pub fn today(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }

    /// The QA agent, if a snapshot is loaded.
    pub fn qa(&self) -> Option<&QaAgent> {
        self.qa.as_ref()
    }

    /// The session store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }

    /// The tool runtime.
    pub fn tools(&self) -> &Arc<ToolRuntime> {
        &self.tools
    }

    /// Every agent: `qa` first, then the flows.
    pub fn agents(&self) -> Vec<AgentInfo> {
        let mut out = vec![AgentInfo {
            id: QA_AGENT.into(),
            name: "学习问答".into(),
            max_interactions: 0,
            tools: Vec::new(),
        }];
        out.extend(self.flows.values().map(|f| AgentInfo {
            id: f.id.clone(),
            name: f.name.clone(),
            max_interactions: f.max_interactions,
            tools: f.tools.clone(),
        }));
        out
    }

    fn flow(&self, agent: &str) -> Result<&FlowSpec, EngineError> {
        self.flows
            .get(agent)
            .ok_or_else(|| EngineError::UnknownAgent(agent.to_string()))
    }

    fn lock_for(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if locks.len() > 10_000 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(id.to_string()).or_default().clone()
    }

    fn ctx(&self, s: &Session) -> CallContext {
        // The audit log names the API client as well as the agent acting for it.
        let actor = match &s.client {
            Some(c) => format!("{c}/{}", s.agent),
            None => s.agent.clone(),
        };
        CallContext::new(self.tenant.clone(), s.session_id.clone(), actor)
    }

    /// The agent and the creating client of a live session, for the edge's access checks
    /// before a turn is run.
    ///
    /// # Errors
    /// [`EngineError::NotFound`], [`EngineError::Store`].
    pub async fn owner(&self, id: &str) -> Result<(String, Option<String>), EngineError> {
        let s = self.store.load(id).await?;
        Ok((s.agent, s.client))
    }

    /// Start a session of `agent`. With a known applicant, 申请人核实 and 准入判断 run at once
    /// and the reply opens the conversation.
    ///
    /// # Errors
    /// [`EngineError`].
    pub async fn create(&self, agent: &str, new: NewSession) -> Result<SessionView, EngineError> {
        let flow = self.flow(agent)?.clone();
        let now = Utc::now();
        let mut s = Session {
            session_id: format!("s-{}", uuid::Uuid::new_v4().simple()),
            agent: agent.to_string(),
            state: State::Active,
            as_of: new.as_of.unwrap_or_else(|| self.today()),
            channel: new.channel.unwrap_or_else(|| "map".into()),
            client: new.client.clone(),
            applicant: Map::new(),
            operator: None,
            form: BTreeMap::new(),
            results: BTreeMap::new(),
            materials: Vec::new(),
            tool_calls: Vec::new(),
            citations: Vec::new(),
            awaiting: None,
            interactions: 0,
            max_interactions: flow.max_interactions,
            reply: String::new(),
            case_no: None,
            snapshot: self.snapshot_id(),
            confirmed_fp: None,
            clarify: None,
            display: BTreeMap::new(),
            transcript: Vec::new(),
            version: 0,
            created_at: now,
            updated_at: now,
        };
        if let Some(op) = new.operator {
            s.operator = Some(self.seal_value_tree(&mut s, op).await?);
        }
        let reply = match new.applicant {
            Some(a) if a.id_number.as_deref().is_some_and(|v| !v.trim().is_empty()) => {
                self.set_applicant(&mut s, a).await?;
                self.verify_and_advance(&mut s, &flow, String::new()).await
            }
            _ => {
                s.awaiting = Some(Awaiting {
                    kind: AwaitKind::Input,
                    field: "证件号码".into(),
                });
                format!(
                    "您好，我来协助办理{}。请先告诉我申请人的姓名和居民身份证号码。",
                    flow.name
                )
            }
        };
        self.finish(&mut s, reply);
        self.store.create(&mut s).await?;
        Ok(s.view())
    }

    /// The session object.
    ///
    /// # Errors
    /// [`EngineError::NotFound`].
    pub async fn get(&self, id: &str) -> Result<SessionView, EngineError> {
        Ok(self.store.load(id).await?.view())
    }

    /// End a session (`DELETE`): state becomes `cancelled`. An ended session is returned as is.
    ///
    /// # Errors
    /// [`EngineError::NotFound`].
    pub async fn cancel(&self, id: &str) -> Result<SessionView, EngineError> {
        let lock = self.lock_for(id);
        let _g = lock.lock().await;
        let mut s = self.store.load(id).await?;
        if s.state.is_open() {
            s.state = State::Cancelled;
            s.awaiting = None;
            let reply = "本次办理已结束，已填写的信息不会提交。".to_string();
            self.finish(&mut s, reply);
            self.store.save(&mut s).await?;
        }
        Ok(s.view())
    }

    /// One resident message.
    ///
    /// # Errors
    /// [`EngineError::Ended`] (409) for an ended session, [`EngineError::BadInput`] for text or
    /// attachments out of bounds, store errors.
    pub async fn message(&self, id: &str, msg: Message) -> Result<SessionView, EngineError> {
        if msg.text.chars().count() > MAX_TEXT_CHARS {
            return Err(EngineError::BadInput(format!(
                "消息过长：不超过 {MAX_TEXT_CHARS} 个字"
            )));
        }
        for a in &msg.attachments {
            a.check()?;
        }
        if msg.text.trim().is_empty() && msg.attachments.is_empty() {
            return Err(EngineError::BadInput("消息内容为空".into()));
        }
        let lock = self.lock_for(id);
        let _g = lock.lock().await;
        let mut s = self.store.load(id).await?;
        if !s.state.is_open() {
            return Err(EngineError::Ended(state_label(s.state).into()));
        }
        let flow = self.flow(&s.agent)?.clone();
        s.interactions += 1;
        let sealed = self.seal_text(&mut s, &msg.text).await?;
        s.transcript.push(Turn {
            role: "resident".into(),
            text: sealed.clone(),
            at: Utc::now(),
        });
        s.citations.clear();
        let mut msg = msg;
        self.order_uploads(&s, &flow, &mut msg, &sealed).await;
        let mut reply = match self.llm_turn(&mut s, &flow, &msg, &sealed).await {
            Some(r) => r,
            None => self.turn(&mut s, &flow, &msg).await,
        };
        if s.state.is_open() && s.interactions >= s.max_interactions {
            reply = self.handoff(&mut s, &flow, "本次办理的交互次数已用完");
        }
        let reply = self.reworded(&s, reply).await;
        self.finish(&mut s, reply);
        self.store.save(&mut s).await?;
        Ok(s.view())
    }

    /// The model's wording of a flow prompt, when configured. What a resident must check word
    /// for word stays as the flow wrote it: the summary before 提交, quoted articles, outcomes.
    async fn reworded(&self, s: &Session, reply: Reply) -> Reply {
        let Some(llm) = self.llm.as_ref().filter(|l| l.config().rephrase) else {
            return reply;
        };
        let verbatim = !s.citations.is_empty()
            || !s.state.is_open()
            || s.awaiting
                .as_ref()
                .is_none_or(|a| a.kind == AwaitKind::Confirm);
        if verbatim {
            return reply;
        }
        let name = self.applicant_name_plain(s).await;
        let names: Vec<&str> = name.iter().map(|n| n.as_str()).collect();
        llm.rephrase_with_names(&reply, &names)
            .await
            .unwrap_or(reply)
    }

    fn finish(&self, s: &mut Session, reply: Reply) {
        let shown = self.display_text(s, &reply);
        s.transcript.push(Turn {
            role: "assistant".into(),
            text: reply,
            at: Utc::now(),
        });
        s.reply = shown;
        s.updated_at = Utc::now();
    }

    fn snapshot_id(&self) -> String {
        self.qa
            .as_ref()
            .map(|q| q.live().snapshot().id().to_string())
            .unwrap_or_default()
    }

    // ----- PII -------------------------------------------------------------------------

    async fn seal(
        &self,
        s: &mut Session,
        kind: PiiKind,
        plain: &str,
    ) -> Result<String, EngineError> {
        let plain = plain.trim().to_string();
        if is_token(&plain) {
            return self.adopt_token(s, &plain).await;
        }
        let scope = self.ctx(s).scope();
        let p = Zeroizing::new(plain);
        let p2 = p.clone();
        let token = self
            .tools
            .vault_op(move |v| v.seal(&scope, kind, &p2).map_err(ToolError::Pii))
            .await
            .map_err(|e| EngineError::Tools(e.to_string()))?;
        s.display.insert(token.clone(), mask(kind, &p));
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known
            .entry(s.session_id.clone())
            .or_default()
            .push((kind, p, token.clone()));
        Ok(token)
    }

    /// A token MAP sends back: it must open in this session (one uniform refusal otherwise).
    async fn adopt_token(&self, s: &mut Session, token: &str) -> Result<String, EngineError> {
        if s.display.contains_key(token) {
            return Ok(token.to_string());
        }
        let ctx = self.ctx(s);
        let opened = self
            .tools
            .reveal(&ctx, "会话令牌核验", &Value::String(token.to_string()))
            .await
            .map_err(|_| EngineError::InvalidToken)?;
        let kind = find_tokens(token)
            .first()
            .map(|m| m.kind)
            .unwrap_or(PiiKind::Other);
        if let Value::String(p) = opened {
            let p = Zeroizing::new(p);
            s.display.insert(token.to_string(), mask(kind, &p));
            self.known
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(s.session_id.clone())
                .or_default()
                .push((kind, p, token.to_string()));
        }
        Ok(token.to_string())
    }

    /// Tokenise free text: every value this session already knows, names introduced by
    /// 我叫 / 姓名 / 本人, and whatever the detector finds.
    async fn seal_text(&self, s: &mut Session, text: &str) -> Result<String, EngineError> {
        let mut out = text.to_string();
        let known: Vec<(String, String)> = {
            let k = self.known.lock().unwrap_or_else(|e| e.into_inner());
            k.get(&s.session_id)
                .map(|v| {
                    v.iter()
                        .map(|(_, p, t)| (p.to_string(), t.clone()))
                        .collect()
                })
                .unwrap_or_default()
        };
        for (plain, token) in &known {
            if plain.chars().count() >= 2 && out.contains(plain.as_str()) {
                out = out.replace(plain.as_str(), token);
            }
        }
        if let Some(name) = understand::ids::find_name(&out).filter(|n| out.contains(n.as_str())) {
            let t = self.seal(s, PiiKind::Name, &name).await?;
            out = out.replace(name.as_str(), &t);
        }
        let found = detect(&out);
        let mut rebuilt = String::with_capacity(out.len());
        let mut last = 0;
        for d in found {
            if d.start < last || d.end > out.len() {
                continue;
            }
            rebuilt.push_str(&out[last..d.start]);
            let t = self.seal(s, d.kind, &d.value).await?;
            rebuilt.push_str(&t);
            last = d.end;
        }
        rebuilt.push_str(&out[last..]);
        Ok(rebuilt)
    }

    /// Seal every string PII in a JSON tree (operator metadata).
    async fn seal_value_tree(&self, s: &mut Session, v: Value) -> Result<Value, EngineError> {
        Ok(match v {
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, val) in m {
                    let sealed = match (k.as_str(), val) {
                        ("name", Value::String(n)) => {
                            Value::String(self.seal(s, PiiKind::Name, &n).await?)
                        }
                        (_, Value::String(t)) => Value::String(self.seal_text(s, &t).await?),
                        (_, other) => other,
                    };
                    out.insert(k, sealed);
                }
                Value::Object(out)
            }
            other => other,
        })
    }

    /// Text for display: tokens replaced by their masks.
    fn display_text(&self, s: &Session, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for m in find_tokens(text) {
            out.push_str(&text[last..m.start]);
            let tok = &text[m.start..m.end];
            match s.display.get(tok) {
                Some(d) => out.push_str(d),
                None => out.push_str(&placeholder(m.kind)),
            }
            last = m.end;
        }
        out.push_str(&text[last..]);
        out
    }

    fn masked_applicant_name(&self, s: &Session) -> String {
        s.applicant
            .get("name")
            .and_then(Value::as_str)
            .map(|t| self.display_text(s, t))
            .unwrap_or_else(|| "申请人".into())
    }

    async fn set_applicant(&self, s: &mut Session, a: ApplicantIn) -> Result<(), EngineError> {
        if let Some(n) = a.name.filter(|n| !n.trim().is_empty()) {
            let t = self.seal(s, PiiKind::Name, &n).await?;
            s.applicant.insert("name".into(), Value::String(t));
        }
        if let Some(id) = a.id_number.filter(|n| !n.trim().is_empty()) {
            let id = if is_token(id.trim()) {
                id.trim().to_string()
            } else {
                understand::ids::find_id_number(&id).unwrap_or(id)
            };
            let t = self.seal(s, PiiKind::IdCard, &id).await?;
            s.applicant.insert("id_number".into(), Value::String(t));
        }
        s.applicant.insert(
            "id_type".into(),
            Value::String(a.id_type.unwrap_or_else(|| "居民身份证".into())),
        );
        Ok(())
    }

    // ----- tool calls ------------------------------------------------------------------

    fn context_value(&self, s: &Session) -> Value {
        let results: Map<String, Value> = s
            .results
            .iter()
            .map(|(k, r)| (k.clone(), r.result.clone()))
            .collect();
        let extracted: Map<String, Value> = s
            .materials
            .iter()
            .filter(|m| m.status == "accepted")
            .filter_map(|m| m.extracted.clone().map(|e| (m.kind.clone(), e)))
            .collect();
        let materials: Vec<Value> = s
            .materials
            .iter()
            .filter(|m| m.status == "accepted")
            .map(|m| {
                // The submit schema wants an object when `extracted` is present: a material
                // with nothing extracted carries no such key rather than a null.
                let mut v = json!({"kind": m.kind, "ref": m.reference, "status": m.status});
                if let (Some(e), Value::Object(o)) = (&m.extracted, &mut v) {
                    o.insert("extracted".into(), e.clone());
                }
                v
            })
            .collect();
        json!({
            "applicant": Value::Object(s.applicant.clone()),
            "form": s.form,
            "results": results,
            "materials": materials,
            "materials_extracted": extracted,
            "today": s.as_of.to_string(),
        })
    }

    fn resolve_args(&self, s: &Session, args: &BTreeMap<String, String>, tool: &str) -> Value {
        let ctx = self.context_value(s);
        let allowed: Option<Vec<String>> = self
            .tools
            .registry()
            .get(tool)
            .and_then(|t| t.args_schema.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect());
        let mut out = Map::new();
        for (name, path) in args {
            // `pension_certificate.issuer` fills one member of an object argument: what the
            // flow reads (Chinese field names of a recognised material) is mapped onto the
            // line interface's own names.
            let (top, member) = match name.split_once('.') {
                Some((t, m)) => (t, Some(m)),
                None => (name.as_str(), None),
            };
            if let Some(allowed) = &allowed
                && !allowed.iter().any(|a| a == top)
            {
                continue;
            }
            let v = match path.strip_prefix('=') {
                Some(lit) => Some(Value::String(lit.to_string())),
                None => lookup(&ctx, path).cloned(),
            };
            let Some(v) = v.filter(|v| !v.is_null()) else {
                continue;
            };
            match member {
                None => {
                    out.insert(name.clone(), v);
                }
                Some(m) => {
                    let slot = out
                        .entry(top.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(o) = slot {
                        o.insert(m.to_string(), v);
                    }
                }
            }
        }
        Value::Object(out)
    }

    async fn call(
        &self,
        s: &mut Session,
        seed_name: &str,
        tool: &str,
        args: Value,
    ) -> Result<Value, ToolError> {
        let ctx = self.ctx(s);
        let sealed = crate::tool_args::tokenize_args(&self.tools, &ctx, tool, args).await?;
        self.tools
            .invoke(&ctx, tool, sealed)
            .await
            .inspect_err(|e| {
                let msg = self.display_text(s, &e.to_string());
                s.tool_calls.push(ToolCallRecord {
                    tool: seed_name.to_string(),
                    ok: false,
                    passed: None,
                    message: msg,
                    at: Utc::now(),
                });
            })
    }

    async fn verify_and_advance(&self, s: &mut Session, flow: &FlowSpec, prefix: String) -> Reply {
        let args = self.resolve_args(
            s,
            &[
                ("name", "applicant.name"),
                ("id_number", "applicant.id_number"),
                ("id_type", "applicant.id_type"),
            ]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
            "applicant_verify",
        );
        match self.call(s, "申请人核实", "applicant_verify", args).await {
            Ok(r) => {
                let found = r.get("found").and_then(Value::as_bool).unwrap_or(false);
                let level = r
                    .get("match_level")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let msg = r
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| level.clone());
                let shown = self.display_text(s, &msg);
                s.tool_calls.push(ToolCallRecord {
                    tool: "申请人核实".into(),
                    ok: true,
                    passed: Some(found && level == "完全匹配"),
                    message: shown.clone(),
                    at: Utc::now(),
                });
                if !found || level != "完全匹配" {
                    s.applicant.remove("id_number");
                    s.applicant.remove("name");
                    s.awaiting = Some(Awaiting {
                        kind: AwaitKind::Input,
                        field: "证件号码".into(),
                    });
                    return format!(
                        "{prefix}未能在受理系统中核实申请人身份（{}）。请核对后重新告诉我申请人的姓名和居民身份证号码。",
                        if shown.is_empty() {
                            "未匹配".to_string()
                        } else {
                            shown
                        }
                    );
                }
                for k in ["hukou_type", "district", "street", "gender", "age"] {
                    if let Some(v) = r.get(k) {
                        s.applicant.insert(k.into(), v.clone());
                    }
                }
                let intro = self.render(s, flow, "intro", &flow.intro, &Map::new());
                let next = self.advance(s, flow).await;
                format!("{prefix}{intro}{next}")
            }
            Err(e) => {
                s.awaiting = Some(Awaiting {
                    kind: AwaitKind::Input,
                    field: "证件号码".into(),
                });
                format!(
                    "{prefix}暂时无法核实申请人身份：{}。请稍后再发一次消息重试。",
                    self.display_text(s, &e.to_string())
                )
            }
        }
    }

    // ----- templates -------------------------------------------------------------------

    fn render(
        &self,
        s: &Session,
        flow: &FlowSpec,
        name: &str,
        template: &str,
        extra: &Map<String, Value>,
    ) -> String {
        let mut ctx = match self.context_value(s) {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        ctx.insert(
            "applicant_name".into(),
            Value::String(self.masked_applicant_name(s)),
        );
        let hukou = s
            .applicant
            .get("hukou_type")
            .and_then(Value::as_str)
            .unwrap_or("");
        ctx.insert(
            "hukou_label".into(),
            Value::String(if hukou.starts_with("本市") {
                "本市户籍".into()
            } else if hukou.is_empty() {
                "户籍待核实".into()
            } else {
                "非本市户籍".into()
            }),
        );
        for (k, v) in extra {
            ctx.insert(k.clone(), v.clone());
        }
        let key = format!("{}/{}", flow.id, name);
        let template = ascii_template(template);
        let template = template.as_str();
        let tctx = match tera::Context::from_value(ascii_keys(Value::Object(ctx))) {
            Ok(c) => c,
            Err(_) => return template.to_string(),
        };
        let mut tera = self.tera.lock().unwrap_or_else(|e| e.into_inner());
        if !tera.get_template_names().any(|n| n == key)
            && tera.add_raw_template(&key, template).is_err()
        {
            return template.to_string();
        }
        tera.render(&key, &tctx)
            .unwrap_or_else(|_| template.to_string())
    }

    fn holds(&self, s: &Session, flow: &FlowSpec, name: &str, cond: &str) -> bool {
        self.holds_with(s, flow, name, cond, &Map::new())
    }

    fn holds_with(
        &self,
        s: &Session,
        flow: &FlowSpec,
        name: &str,
        cond: &str,
        extra: &Map<String, Value>,
    ) -> bool {
        let out = self.render(s, flow, name, cond, extra);
        matches!(out.trim(), "true" | "1")
    }

    fn prompt(&self, s: &Session, flow: &FlowSpec, step: &Step) -> String {
        let mut extra = Map::new();
        if let Some(set) = step
            .options
            .as_deref()
            .and_then(understand::choice::option_set)
        {
            let labels: Vec<&str> = set.iter().map(|c| c.label).collect();
            extra.insert("options".into(), Value::String(labels.join("、")));
        }
        if let Some(path) = &step.suggest {
            let ctx = self.context_value(s);
            if let Some(v) = lookup(&ctx, path).filter(|v| !v.is_null()) {
                extra.insert("suggestion".into(), v.clone());
            }
        }
        if let Some(path) = &step.value {
            let ctx = self.context_value(s);
            if let Some(v) = lookup(&ctx, path) {
                extra.insert("value".into(), v.clone());
            }
        }
        let t = step.prompt.clone().unwrap_or_default();
        self.render(s, flow, &format!("{}/prompt", step.id), &t, &extra)
    }

    // ----- the flow --------------------------------------------------------------------

    fn applies(&self, s: &Session, flow: &FlowSpec, step: &Step) -> bool {
        if step.on_demand && !s.form.contains_key(&step.id) {
            // Asked only when a check declares it; once answered it stays in the form.
            return false;
        }
        match &step.when {
            Some(c) => self.holds(s, flow, &format!("{}/when", step.id), c),
            None => true,
        }
    }

    fn form_fp(&self, s: &Session) -> String {
        let m: Vec<(&String, &String)> = s
            .materials
            .iter()
            .filter(|m| m.status == "accepted")
            .map(|m| (&m.kind, &m.reference))
            .collect();
        fingerprint(&json!({"form": s.form, "materials": m}))
    }

    /// Run the flow forward until it needs the resident or ends; returns the reply text.
    async fn advance(&self, s: &mut Session, flow: &FlowSpec) -> Reply {
        for step in &flow.steps {
            if !self.applies(s, flow, step) {
                continue;
            }
            match step.kind {
                StepKind::Check | StepKind::Lookup => {
                    let tool = step.tool.clone().unwrap_or_default();
                    let args = self.resolve_args(s, &step.args, &tool);
                    let fp = fingerprint(&args);
                    let memo = s
                        .results
                        .get(&step.id)
                        .filter(|r| r.args_fp == fp && r.ok)
                        .cloned();
                    let res = match memo {
                        Some(r) => r,
                        None => match self.call(s, &step.id, &tool, args).await {
                            Ok(result) => {
                                let passed = verdict(step, &result);
                                let message =
                                    self.display_text(s, &result_message(&result, passed));
                                s.tool_calls.push(ToolCallRecord {
                                    tool: step.id.clone(),
                                    ok: true,
                                    passed: if step.kind == StepKind::Check {
                                        passed
                                    } else {
                                        None
                                    },
                                    message,
                                    at: Utc::now(),
                                });
                                let r = StepResult {
                                    args_fp: fp,
                                    ok: true,
                                    passed,
                                    result,
                                };
                                s.results.insert(step.id.clone(), r.clone());
                                r
                            }
                            Err(e) => {
                                return format!(
                                    "{}暂时无法完成（{}）。请稍后再发一条消息，我会重试这一步。",
                                    step.id,
                                    self.display_text(s, &e.to_string())
                                );
                            }
                        },
                    };
                    if res.passed == Some(false) {
                        if let (Some(field), Some(cond)) = (&step.declare_field, &step.declare_when)
                            && !s.form.contains_key(field)
                            && self.holds_with(
                                s,
                                flow,
                                &format!("{}/declare", step.id),
                                cond,
                                &failed_rules(&res.result),
                            )
                            && let Some(input) = flow.step(field)
                        {
                            s.awaiting = Some(Awaiting {
                                kind: AwaitKind::Input,
                                field: field.clone(),
                            });
                            return self.prompt(s, flow, input);
                        }
                        match step.on_fail.unwrap_or(OnFail::Ineligible) {
                            OnFail::Ineligible => {
                                return self.ineligible(s, flow, &res.result).await;
                            }
                            OnFail::Reask => {
                                let field = step.reask.clone().unwrap_or_default();
                                let why = failed_reasons(&res.result);
                                s.form.remove(&field);
                                let Some(input) = flow.step(&field) else {
                                    continue;
                                };
                                s.awaiting = Some(Awaiting {
                                    kind: AwaitKind::Input,
                                    field: field.clone(),
                                });
                                let why = self.display_text(s, &why);
                                return format!(
                                    "{}未通过：{why}\n{}",
                                    step.id,
                                    self.prompt(s, flow, input)
                                );
                            }
                        }
                    }
                }
                StepKind::Input => {
                    if s.form.contains_key(&step.id) {
                        continue;
                    }
                    let kind = if step.input_type == Some(InputType::ConfirmValue) {
                        AwaitKind::Confirm
                    } else {
                        AwaitKind::Input
                    };
                    s.awaiting = Some(Awaiting {
                        kind,
                        field: step.id.clone(),
                    });
                    return self.prompt(s, flow, step);
                }
                StepKind::Material => {
                    if s.materials
                        .iter()
                        .any(|m| m.kind == step.id && m.status == "accepted")
                    {
                        continue;
                    }
                    s.awaiting = Some(Awaiting {
                        kind: AwaitKind::Material,
                        field: step.id.clone(),
                    });
                    return self.prompt(s, flow, step);
                }
                StepKind::Confirm => {
                    if s.confirmed_fp.as_deref() == Some(self.form_fp(s).as_str()) {
                        continue;
                    }
                    s.awaiting = Some(Awaiting {
                        kind: AwaitKind::Confirm,
                        field: "确认".into(),
                    });
                    return self.summary(s, flow);
                }
                StepKind::Submit => return self.submit(s, flow, step).await,
            }
        }
        String::new()
    }

    fn summary(&self, s: &Session, flow: &FlowSpec) -> String {
        let mut lines = vec![format!("请核对以下{}申请信息：", flow.name)];
        lines.push(format!("申请人：{}", self.masked_applicant_name(s)));
        if let Some(id) = s.applicant.get("id_number").and_then(Value::as_str) {
            lines.push(format!("证件号码：{}", self.display_text(s, id)));
        }
        for step in flow.fields() {
            if !self.applies(s, flow, step) {
                continue;
            }
            match step.kind {
                StepKind::Input => {
                    if let Some(v) = s.form.get(&step.id) {
                        lines.push(format!(
                            "{}：{}",
                            step.id,
                            self.display_text(s, &show_value(v))
                        ));
                    }
                }
                StepKind::Material => {
                    if let Some(m) = s
                        .materials
                        .iter()
                        .find(|m| m.kind == step.id && m.status == "accepted")
                    {
                        lines.push(format!("{}：已上传（{}）", step.id, m.reference));
                    }
                }
                _ => {}
            }
        }
        lines.push("以上信息全部正确请回复“确认”，需要修改请直接告诉我改哪一项。".into());
        lines.join("\n")
    }

    async fn ineligible(&self, s: &mut Session, flow: &FlowSpec, result: &Value) -> Reply {
        s.state = State::Ineligible;
        s.awaiting = None;
        let mut lines = vec![format!(
            "很抱歉，经准入判断，{}暂不符合{}的办理条件：",
            self.masked_applicant_name(s),
            flow.name
        )];
        let mut bases = Vec::new();
        if let Some(checks) = result.get("checks").and_then(Value::as_array) {
            for c in checks
                .iter()
                .filter(|c| c.get("passed").and_then(Value::as_bool) == Some(false))
            {
                let msg = c.get("message").and_then(Value::as_str).unwrap_or("");
                let basis = c.get("basis").and_then(Value::as_str).unwrap_or("");
                lines.push(format!(
                    "· {}{}",
                    self.display_text(s, msg),
                    if basis.is_empty() {
                        String::new()
                    } else {
                        format!("（依据{basis}）")
                    }
                ));
                if !basis.is_empty() {
                    bases.push(basis.to_string());
                }
            }
        }
        if lines.len() == 1
            && let Some(sum) = result.get("summary").and_then(Value::as_str)
        {
            lines.push(format!("· {}", self.display_text(s, sum)));
        }
        lines.push("如对结果有疑问，可携带身份证件到社区事务受理服务中心咨询。".into());
        s.citations = self.cite_bases(s, &bases).await;
        lines.join("\n")
    }

    /// Find the policy articles a rule's basis names (《title》第X条) in the knowledge base. The
    /// article is looked up by its label among the snapshot's units, not searched for: a search
    /// ranks on words and may not put the one article named at the top. A text in force on the
    /// session's date wins over a replaced one, and the fullest matching label over a shorter.
    async fn cite_bases(&self, s: &Session, bases: &[String]) -> Vec<Citation> {
        let Some(qa) = &self.qa else {
            return Vec::new();
        };
        let snap = qa.live().snapshot();
        let mut out: Vec<Citation> = Vec::new();
        for b in bases {
            let (title, article) = split_basis(b);
            let title = title.trim_matches(['《', '》']).to_string();
            if title.is_empty() || article.is_empty() {
                continue;
            }
            let full = b.rsplit('》').next().unwrap_or("").trim().to_string();
            // "第二条第（三）项" → "（三）": the item a leaf unit's label carries.
            let item = full.get(article.len()..).and_then(|rest| {
                let (i, j) = (rest.find('（')?, rest.find('）')?);
                (j > i).then(|| rest[i..j + '）'.len_utf8()].to_string())
            });
            let best = snap
                .records()
                .iter()
                .filter(|r| r.title.contains(title.as_str()))
                .filter_map(|r| {
                    let a = r.article.as_deref()?;
                    if !a.starts_with(article.as_str()) {
                        return None;
                    }
                    let meta = snap.documents().get(r.doc as usize)?;
                    let status = meta.status_on(s.as_of);
                    let item_named = item
                        .as_deref()
                        .is_some_and(|i| a[article.len()..].contains(i));
                    let rank = (
                        status.is_current(),
                        a == full,
                        item_named,
                        std::cmp::Reverse(a.len()),
                    );
                    Some((rank, r, meta, status))
                })
                .max_by(|x, y| x.0.cmp(&y.0));
            if let Some((_, r, meta, status)) = best
                && !out
                    .iter()
                    .any(|c| c.doc_id == meta.doc_id && c.article == r.article)
            {
                out.push(Citation {
                    doc_id: meta.doc_id.clone(),
                    title: r.title.clone(),
                    doc_number: meta.doc_number.clone(),
                    article: r.article.clone(),
                    status: status.as_str().to_string(),
                    source_file: meta.source_file.clone(),
                    text: Some(r.text.clone()),
                });
            }
        }
        out
    }

    async fn submit(&self, s: &mut Session, flow: &FlowSpec, step: &Step) -> Reply {
        let tool = step.tool.clone().unwrap_or_default();
        let mut args = self.resolve_args(s, &step.args, &tool);
        if let Value::Object(m) = &mut args {
            // One key per session: a retry after a crash replays the same case.
            m.insert(
                "idempotency_key".into(),
                Value::String(format!("zhiban-{}", s.session_id)),
            );
        }
        match self.call(s, "提交", &tool, args).await {
            Ok(r) => {
                let case_no = r.get("case_no").and_then(Value::as_str).map(str::to_string);
                let status = r
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("已受理")
                    .to_string();
                s.tool_calls.push(ToolCallRecord {
                    tool: "提交".into(),
                    ok: true,
                    passed: None,
                    message: format!(
                        "{status}{}",
                        case_no
                            .as_deref()
                            .map(|c| format!("，办件编号 {c}"))
                            .unwrap_or_default()
                    ),
                    at: Utc::now(),
                });
                s.case_no = case_no.clone();
                s.state = State::Submitted;
                s.awaiting = None;
                let days = r.get("promised_days").and_then(Value::as_i64);
                format!(
                    "已为您提交{}申请，办件编号 {}（{status}）。{}可凭办件编号在“一网通办”或社区事务受理服务中心查询办理进度。",
                    flow.name,
                    case_no.unwrap_or_else(|| "待生成".into()),
                    days.map(|d| format!("承诺办理时限 {d} 个工作日。"))
                        .unwrap_or_default()
                )
            }
            Err(e) => {
                s.confirmed_fp = None;
                s.awaiting = Some(Awaiting {
                    kind: AwaitKind::Confirm,
                    field: "确认".into(),
                });
                format!(
                    "提交暂未成功（{}）。您的信息已保存，请稍后回复“确认”重新提交，不会重复生成办件。",
                    self.display_text(s, &e.to_string())
                )
            }
        }
    }

    fn handoff(&self, s: &mut Session, flow: &FlowSpec, why: &str) -> Reply {
        s.state = State::Handoff;
        s.awaiting = None;
        let mut have = Vec::new();
        let mut missing = Vec::new();
        for step in flow.fields() {
            if !self.applies(s, flow, step) {
                continue;
            }
            match step.kind {
                StepKind::Input => match s.form.get(&step.id) {
                    Some(v) => have.push(format!(
                        "{}：{}",
                        step.id,
                        self.display_text(s, &show_value(v))
                    )),
                    None => missing.push(step.id.clone()),
                },
                StepKind::Material => {
                    if s.materials
                        .iter()
                        .any(|m| m.kind == step.id && m.status == "accepted")
                    {
                        have.push(format!("{}：已上传", step.id));
                    } else {
                        missing.push(step.id.clone());
                    }
                }
                _ => {}
            }
        }
        let mut out = format!("{why}，已为您转人工窗口继续办理{}。", flow.name);
        out.push_str(&format!(
            "\n已收集：{}",
            if have.is_empty() {
                "无".into()
            } else {
                have.join("；")
            }
        ));
        if !missing.is_empty() {
            out.push_str(&format!("\n尚需：{}", missing.join("、")));
        }
        if !flow.bring.is_empty() {
            out.push_str(&format!(
                "\n请携带：{}，到社区事务受理服务中心办理。",
                flow.bring.join("、")
            ));
        }
        out
    }

    /// One turn through the model: `None` means "use the deterministic path" (no model, an
    /// error, no valid command, or a command whose value the field's parser refuses).
    /// The plaintext names the guard must refuse to send (the applicant's).
    async fn known_names(&self, s: &Session) -> Vec<String> {
        self.applicant_name_plain(s)
            .await
            .map(|n| vec![n.to_string()])
            .unwrap_or_default()
    }

    /// Several uploads in one message while the flow waits for one material: the model's
    /// `attach` says which upload is that material (`这张是劳动合同，另一张是工资单`), and it is
    /// put first, where the deterministic path takes it from. The model sees only each upload's
    /// reference and type, never its content or file name; without a model, or on any failure,
    /// the order stays as sent.
    async fn order_uploads(&self, s: &Session, flow: &FlowSpec, msg: &mut Message, sealed: &str) {
        use crate::llm::{Command, TurnContext, fields_of};
        let Some(llm) = self.llm.as_ref() else {
            return;
        };
        let Some(awaited) = s
            .awaiting
            .as_ref()
            .filter(|a| a.kind == AwaitKind::Material && msg.attachments.len() > 1)
        else {
            return;
        };
        let mut text = sealed.trim().to_string();
        for a in &msg.attachments {
            text.push_str(&format!(
                "\n（随消息上传的文件：{}，类型 {}）",
                a.reference, a.mime
            ));
        }
        let ctx = TurnContext {
            agent_name: flow.name.clone(),
            awaiting: Some(awaited.field.clone()),
            fields: fields_of(flow)
                .into_iter()
                .filter(|f| f.name == awaited.field)
                .collect(),
            filled: BTreeMap::new(),
            last_reply: String::new(),
            today: s.as_of,
            known_names: self.known_names(s).await,
        };
        let Ok(cmds) = llm.commands(&ctx, &text).await else {
            return;
        };
        let chosen = cmds.into_iter().find_map(|c| match c {
            Command::Attach { reference, kind } if kind == awaited.field => Some(reference),
            _ => None,
        });
        if let Some(r) = chosen
            && let Some(i) = msg.attachments.iter().position(|a| a.reference == r)
        {
            let a = msg.attachments.remove(i);
            msg.attachments.insert(0, a);
        }
    }

    async fn llm_turn(
        &self,
        s: &mut Session,
        flow: &FlowSpec,
        msg: &Message,
        sealed: &str,
    ) -> Option<Reply> {
        use crate::llm::{Command, TurnContext, fields_of};
        let llm = self.llm.as_ref()?;
        if !s.applicant.contains_key("id_number")
            || !msg.attachments.is_empty()
            || sealed.trim().is_empty()
        {
            return None;
        }
        let fields = fields_of(flow)
            .into_iter()
            .filter(|f| {
                flow.step(&f.name).is_some_and(|st| {
                    st.kind != StepKind::Input || !st.on_demand || s.form.contains_key(&st.id)
                })
            })
            .collect();
        let last_reply = s
            .transcript
            .iter()
            .rev()
            .find(|t| t.role == "assistant")
            .map(|t| t.text.clone())
            .unwrap_or_default();
        let ctx = TurnContext {
            agent_name: flow.name.clone(),
            awaiting: s.awaiting.as_ref().map(|a| a.field.clone()),
            fields,
            filled: s
                .form
                .iter()
                .map(|(k, v)| (k.clone(), show_value(v)))
                .collect(),
            last_reply,
            today: s.as_of,
            known_names: self.known_names(s).await,
        };
        let cmds = match llm.commands(&ctx, sealed).await {
            Ok(c) => c,
            Err(e) => {
                tracing::info!(error = %e, "模型理解失败，改走确定性路径");
                return None;
            }
        };
        let awaited = s.awaiting.clone();
        // The first valid command decides the turn; the flow asks one thing at a time.
        let c = cmds.into_iter().next()?;
        {
            match c {
                Command::Cancel => {
                    s.state = State::Cancelled;
                    s.awaiting = None;
                    Some(format!(
                        "好的，已为您取消本次{}办理，已填写的信息不会提交。",
                        flow.name
                    ))
                }
                Command::Handoff { .. } => Some(self.handoff(s, flow, "按您的要求")),
                Command::AskPolicy { question } => {
                    let (answer, cites) = self.digression(s, flow, &question).await;
                    s.citations = cites;
                    Some(format!("{answer}\n\n我们继续：{}", self.reprompt(s, flow)))
                }
                Command::SetSlot { field, value } | Command::Correct { field, value } => {
                    let step = flow.step(&field)?.clone();
                    if step.kind != StepKind::Input {
                        return None;
                    }
                    let correcting = s.form.contains_key(&field);
                    let is_awaited = awaited.as_ref().is_some_and(|a| a.field == field);
                    if !correcting && !is_awaited {
                        // The flow asks in its own order; a model cannot fill ahead of it.
                        return None;
                    }
                    if step.input_type == Some(InputType::ConfirmValue) && !is_awaited {
                        return None;
                    }
                    let FieldParse::Value(v) = self.parse_field(s, &step, &value) else {
                        return None;
                    };
                    let old = s.form.insert(field.clone(), v.clone());
                    let prefix = match old {
                        Some(o) if o != v => format!(
                            "好的，{field}已由 {} 改为 {}。",
                            show_value(&o),
                            show_value(&v)
                        ),
                        _ => String::new(),
                    };
                    Some(format!("{prefix}{}", self.advance(s, flow).await))
                }
                Command::Attach { .. } => None,
            }
        }
    }

    // ----- one turn --------------------------------------------------------------------

    async fn turn(&self, s: &mut Session, flow: &FlowSpec, msg: &Message) -> Reply {
        let text = msg.text.trim();
        let acts = understand::acts::classify(text);
        if acts.contains(&Act::Cancel) {
            s.state = State::Cancelled;
            s.awaiting = None;
            return format!(
                "好的，已为您取消本次{}办理，已填写的信息不会提交。",
                flow.name
            );
        }
        if acts.contains(&Act::Handoff) {
            return self.handoff(s, flow, "按您的要求");
        }
        // Identity first when MAP did not establish it.
        if !s.applicant.contains_key("id_number") {
            return self.identity_turn(s, flow, text).await;
        }
        if let Some(r) = self.other_id_typed(s, text) {
            // The question that was open stays open; say it again so the resident can go on.
            return format!("{r}\n{}", self.reprompt(s, flow));
        }
        let awaiting = s.awaiting.clone();
        let step = awaiting.as_ref().and_then(|a| flow.step(&a.field)).cloned();
        let mut prefix = String::new();
        let question = acts.contains(&Act::Question);
        let correction = acts.iter().find_map(|a| match a {
            Act::Correction { field_hint, rest } => Some((field_hint.clone(), rest.clone())),
            _ => None,
        });

        // A pending clarification: the resident picks one of the offered values.
        if let Some(c) = s.clarify.take()
            && let Some(v) = pick_candidate(text, &c.candidates)
        {
            prefix = format!("好的，{}记为 {}。", c.field, show_value(&v));
            s.form.insert(c.field.clone(), v);
            return format!("{prefix}{}", self.advance(s, flow).await);
        }

        let mut answered = false;
        match (&awaiting, &step) {
            (Some(a), Some(st)) if a.kind == AwaitKind::Material => {
                if let Some(att) = msg.attachments.first() {
                    let m = recognise(
                        self.reader.as_ref(),
                        st,
                        att,
                        s.as_of,
                        &self.applicant_name_plain(s).await,
                    )
                    .await;
                    let m = match m.extracted.clone() {
                        Some(e) => Material {
                            extracted: Some(
                                self.seal_value_tree(s, e).await.unwrap_or(Value::Null),
                            ),
                            ..m
                        },
                        None => m,
                    };
                    answered = true;
                    if m.status == "accepted" {
                        if let Some(amount) = m
                            .extracted
                            .as_ref()
                            .and_then(|e| e.get("月基本养老金"))
                            .and_then(Value::as_f64)
                        {
                            s.form.insert(st.id.clone(), number(amount));
                        }
                        prefix = format!(
                            "已收到{}（{}）。{}",
                            st.id,
                            att.reference,
                            describe_extracted(&m)
                        );
                        s.materials.retain(|x| x.kind != m.kind);
                        s.materials.push(m);
                    } else {
                        let reason = m.reason.clone().unwrap_or_default();
                        s.materials.push(m);
                        return format!(
                            "{}未通过识别：{reason}\n{}",
                            st.id,
                            self.prompt(s, flow, st)
                        );
                    }
                }
            }
            (Some(a), _) if a.kind == AwaitKind::Confirm && a.field == "确认" => {
                match understand::yesno::parse_yes_no(text) {
                    Parsed::Value(true) if correction.is_none() => {
                        s.confirmed_fp = Some(self.form_fp(s));
                        answered = true;
                    }
                    Parsed::Value(false)
                        if correction.is_none() && !self.mentions_field(flow, text) =>
                    {
                        return "好的，请告诉我需要修改哪一项以及正确的内容。".into();
                    }
                    _ => {}
                }
            }
            (Some(_), Some(st)) if st.kind == StepKind::Input => {
                let hinted = correction
                    .as_ref()
                    .and_then(|(h, _)| h.as_deref())
                    .and_then(|h| self.field_for_hint(flow, h));
                let hint_other = hinted.as_ref().is_some_and(|f| *f != st.id);
                // "刚才说错了，其实是…" names no field: it takes back an earlier answer, so the
                // answers already given are tried before the question now open.
                if let Some((None, rest)) = &correction
                    && hinted.is_none()
                    && let Some(r) = self.apply_correction(s, flow, None, rest, text, true)
                {
                    prefix = r;
                    answered = true;
                }
                // Free text takes any words; a question or a correction is not the answer to it.
                let free_text_misread =
                    st.input_type == Some(InputType::Text) && (question || correction.is_some());
                if !hint_other && !answered && !free_text_misread {
                    let input = correction
                        .as_ref()
                        .map(|(_, r)| r.as_str())
                        .filter(|r| !r.is_empty())
                        .unwrap_or(text);
                    match self.parse_field(s, st, input) {
                        FieldParse::Value(v) => {
                            s.form.insert(st.id.clone(), v);
                            answered = true;
                        }
                        FieldParse::Ambiguous(c) if !question => {
                            let offered: Vec<String> = c
                                .iter()
                                .enumerate()
                                .map(|(i, v)| format!("{}. {}", i + 1, show_value(v)))
                                .collect();
                            s.clarify = Some(Clarify {
                                field: st.id.clone(),
                                candidates: c,
                            });
                            return format!(
                                "您说的{}可能是：{}。请问是哪一个？",
                                st.id,
                                offered.join("；")
                            );
                        }
                        FieldParse::Invalid(why) if !question => {
                            return format!("{why}\n{}", self.prompt(s, flow, st));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }

        if !answered
            && let Some((hint, rest)) = &correction
            && let Some(r) = self.apply_correction(s, flow, hint.as_deref(), rest, text, true)
        {
            prefix = r;
            answered = true;
        }
        if !answered && !question && self.mentions_field(flow, text) {
            // "失业原因改成本人辞职" without a correction marker. A field not asked yet is not
            // filled from a loose cue ("想找…" while the reason is open): only answers already
            // given are changed this way.
            if let Some(r) = self.apply_correction(s, flow, None, text, text, true) {
                prefix = r;
                answered = true;
            }
        }
        if question {
            let (answer, cites) = self.digression(s, flow, text).await;
            s.citations = cites;
            let resume = if answered {
                self.advance(s, flow).await
            } else {
                self.reprompt(s, flow)
            };
            return format!("{prefix}{answer}\n\n我们继续：{resume}");
        }
        if !answered {
            let again = self.reprompt(s, flow);
            return format!("抱歉，没有听明白您的意思。{again}");
        }
        let next = self.advance(s, flow).await;
        format!("{prefix}{next}")
    }

    fn reprompt(&self, s: &Session, flow: &FlowSpec) -> String {
        match s.awaiting.as_ref().and_then(|a| flow.step(&a.field)) {
            Some(step) => self.prompt(s, flow, step),
            None if s.awaiting.as_ref().is_some_and(|a| a.field == "确认") => {
                self.summary(s, flow)
            }
            None => "请告诉我申请人的姓名和居民身份证号码。".into(),
        }
    }

    async fn identity_turn(&self, s: &mut Session, flow: &FlowSpec, text: &str) -> Reply {
        let id = understand::ids::find_id_number(text);
        let name = understand::ids::find_name(text).or_else(|| bare_name(text));
        if let Some(n) = &name
            && let Ok(t) = self.seal(s, PiiKind::Name, n).await
        {
            s.applicant.insert("name".into(), Value::String(t));
        }
        match id {
            Some(id) => {
                let a = ApplicantIn {
                    name: None,
                    id_type: None,
                    id_number: Some(id),
                };
                if self.set_applicant(s, a).await.is_err() {
                    return "暂时无法处理证件号码，请稍后重试。".into();
                }
                if !s.applicant.contains_key("name") {
                    s.awaiting = Some(Awaiting {
                        kind: AwaitKind::Input,
                        field: "姓名".into(),
                    });
                    return "好的。请再告诉我申请人的姓名。".into();
                }
                self.verify_and_advance(s, flow, String::new()).await
            }
            None if s.applicant.contains_key("name")
                && s.awaiting.as_ref().is_some_and(|a| a.field == "姓名") =>
            {
                "请告诉我申请人的居民身份证号码（18位）。".into()
            }
            None => {
                s.awaiting = Some(Awaiting {
                    kind: AwaitKind::Input,
                    field: "证件号码".into(),
                });
                "没有识别到有效的居民身份证号码（18位，最后一位可以是X）。请重新输入申请人的姓名和身份证号码。".into()
            }
        }
    }

    /// An ID typed in a message that differs from the applicant's is clarified, never swapped
    /// in.
    fn other_id_typed(&self, s: &Session, text: &str) -> Option<Reply> {
        let typed = understand::ids::find_id_number(text)?;
        let applicant = s.applicant.get("id_number").and_then(Value::as_str)?;
        let shown = s.display.get(applicant)?;
        if mask(PiiKind::IdCard, &typed) == *shown {
            return None;
        }
        Some(format!(
            "您提供的证件号码（{}）与本次办理的申请人（{}）不一致。本次只能为该申请人办理；如需为其他人办理，请结束本次会话后重新发起。",
            mask(PiiKind::IdCard, &typed),
            shown
        ))
    }

    async fn applicant_name_plain(&self, s: &Session) -> Option<Zeroizing<String>> {
        let token = s.applicant.get("name").and_then(Value::as_str)?.to_string();
        {
            let k = self.known.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, p, _)) = k
                .get(&s.session_id)
                .and_then(|v| v.iter().find(|(_, _, t)| *t == token))
            {
                return Some(p.clone());
            }
        }
        let ctx = self.ctx(s);
        match self
            .tools
            .reveal(&ctx, "材料姓名比对", &Value::String(token))
            .await
        {
            Ok(Value::String(p)) => Some(Zeroizing::new(p)),
            _ => None,
        }
    }

    async fn digression(
        &self,
        s: &mut Session,
        flow: &FlowSpec,
        text: &str,
    ) -> (String, Vec<Citation>) {
        let Some(qa) = &self.qa else {
            return (
                "这个问题需要查阅政策，目前知识库未加载，建议咨询窗口工作人员。".into(),
                Vec::new(),
            );
        };
        // Mid-flow, "这个补贴" means this matter: the question is asked about it, so retrieval
        // does not wander to another matter's rules.
        let question = if text.contains(flow.name.as_str()) {
            text.to_string()
        } else {
            format!("{}：{text}", flow.name)
        };
        let req = QaRequest {
            question,
            as_of: Some(s.as_of),
            k: Some(2),
        };
        match qa.answer(&req, s.as_of).await {
            Ok(a) => {
                s.snapshot = a.snapshot.clone();
                let mut out = a.answer;
                for w in &a.warnings {
                    out.push_str(&format!("\n提示：{w}"));
                }
                (out, a.citations)
            }
            Err(e) => (format!("暂时无法查询政策（{e}）。"), Vec::new()),
        }
    }

    fn mentions_field(&self, flow: &FlowSpec, text: &str) -> bool {
        flow.steps
            .iter()
            .any(|st| st.kind == StepKind::Input && text.contains(st.id.as_str()))
            || understand_hint(text).is_some()
    }

    fn field_for_hint(&self, flow: &FlowSpec, hint: &str) -> Option<String> {
        let inputs: Vec<&Step> = flow
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Input)
            .collect();
        if let Some(s) = inputs
            .iter()
            .find(|s| s.id == hint || hint.contains(s.id.as_str()) || s.id.contains(hint))
        {
            return Some(s.id.clone());
        }
        let alias = understand_hint(hint)?;
        inputs.iter().find(|s| s.id == alias).map(|s| s.id.clone())
    }

    /// Apply a correction of an earlier answer. The field is the one named, else the latest
    /// filled input whose parser reads a value from the text.
    ///
    /// With `only_filled`, a field is changed only when it already holds an answer (a field
    /// named by its own name is always allowed); unnamed, a free-text field is never guessed,
    /// since it would take any words.
    fn apply_correction(
        &self,
        s: &mut Session,
        flow: &FlowSpec,
        hint: Option<&str>,
        rest: &str,
        text: &str,
        only_filled: bool,
    ) -> Option<String> {
        let by_own_name = hint.and_then(|h| self.field_for_hint(flow, h)).or_else(|| {
            flow.steps
                .iter()
                .find(|st| st.kind == StepKind::Input && text.contains(st.id.as_str()))
                .map(|st| st.id.clone())
        });
        let named = by_own_name.clone().or_else(|| {
            understand_hint(text)
                .and_then(|f| flow.step(f).map(|st| st.id.clone()))
                .filter(|f| !only_filled || s.form.contains_key(f))
        });
        let candidates: Vec<&Step> = match &named {
            Some(f) => flow.step(f).into_iter().collect(),
            None => flow
                .steps
                .iter()
                .rev()
                .filter(|st| st.kind == StepKind::Input && s.form.contains_key(&st.id))
                .filter(|st| st.input_type != Some(InputType::Text))
                .collect(),
        };
        let source = if rest.trim().is_empty() { text } else { rest };
        for st in candidates {
            if st.input_type == Some(InputType::ConfirmValue) {
                continue;
            }
            if let FieldParse::Value(v) = self.parse_field(s, st, source) {
                let old = s.form.insert(st.id.clone(), v.clone());
                return Some(match old {
                    Some(o) if o != v => format!(
                        "好的，{}已由 {} 改为 {}。",
                        st.id,
                        show_value(&o),
                        show_value(&v)
                    ),
                    _ => format!("好的，{}记为 {}。", st.id, show_value(&v)),
                });
            }
        }
        None
    }

    fn parse_field(&self, s: &Session, st: &Step, text: &str) -> FieldParse {
        use understand::{amounts, choice, dates, yesno};
        let today = s.as_of;
        match st.input_type {
            Some(InputType::Date) => match dates::parse_date(text, today) {
                Parsed::Value(d) => {
                    // The parser reads a month and day without a year as the latest one past.
                    // When the next one is nearer (`11月20号` on 11-15 is five days on, not a
                    // year ago), that is what the resident meant: a field that may not lie
                    // ahead refuses it rather than filing a date a year old.
                    let d = match d.with_year(d.year() + 1) {
                        Some(next)
                            if d < today
                                && !mentions_year(text)
                                && (next - today) < (today - d) =>
                        {
                            next
                        }
                        _ => d,
                    };
                    if st.not_future && d > today {
                        FieldParse::Invalid(format!("{}不能晚于今天（{today}）。", st.id))
                    } else {
                        FieldParse::Value(Value::String(d.to_string()))
                    }
                }
                Parsed::Ambiguous(c) => FieldParse::Ambiguous(
                    c.into_iter()
                        .map(|d| Value::String(d.to_string()))
                        .collect(),
                ),
                Parsed::Nothing => match dates::parse_date_like(text, today) {
                    Parsed::Value(dates::DateLike::Month(m)) => FieldParse::Invalid(format!(
                        "请说具体是 {}年{}月 的哪一天。",
                        m.year, m.month
                    )),
                    _ => FieldParse::Nothing,
                },
            },
            Some(InputType::Month) => {
                if let Some(sugg) = st
                    .suggest
                    .as_ref()
                    .and_then(|p| lookup(&self.context_value(s), p).cloned())
                    .filter(|v| v.is_string())
                    && understand::yesno::parse_yes_no(text) == Parsed::Value(true)
                    && dates::parse_month(text, today).is_nothing()
                {
                    return FieldParse::Value(sugg);
                }
                match dates::parse_month(text, today) {
                    Parsed::Value(m) => {
                        let m = match st.suggest.as_ref().and_then(|p| {
                            lookup(&self.context_value(s), p)
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        }) {
                            Some(sugg) => month_near(text, m, today, &sugg),
                            None => m,
                        };
                        FieldParse::Value(Value::String(m.to_string()))
                    }
                    Parsed::Ambiguous(c) => FieldParse::Ambiguous(
                        c.into_iter()
                            .map(|m| Value::String(m.to_string()))
                            .collect(),
                    ),
                    Parsed::Nothing => FieldParse::Nothing,
                }
            }
            Some(InputType::Amount) => match amounts::parse_amount(text) {
                Parsed::Value(a) => {
                    if st.min.is_some_and(|m| a < m) || st.max.is_some_and(|m| a > m) {
                        FieldParse::Invalid(format!("{}金额 {a} 元不在合理范围内，请核对。", st.id))
                    } else {
                        FieldParse::Value(number(a))
                    }
                }
                Parsed::Ambiguous(c) => FieldParse::Ambiguous(c.into_iter().map(number).collect()),
                Parsed::Nothing => FieldParse::Nothing,
            },
            Some(InputType::YesNo) => match yesno::parse_yes_no(text) {
                Parsed::Value(b) => {
                    FieldParse::Value(Value::String(if b { "是" } else { "否" }.into()))
                }
                _ => FieldParse::Nothing,
            },
            Some(InputType::Checkbox) => match yesno::parse_yes_no(text) {
                Parsed::Value(b) => FieldParse::Value(Value::Bool(b)),
                _ => FieldParse::Nothing,
            },
            Some(InputType::Choice) => {
                let Some(set) = st.options.as_deref().and_then(choice::option_set) else {
                    return FieldParse::Nothing;
                };
                match choice::match_choice(text, set) {
                    Parsed::Value(i) => set
                        .get(i)
                        .map(|c| FieldParse::Value(Value::String(c.label.to_string())))
                        .unwrap_or(FieldParse::Nothing),
                    Parsed::Ambiguous(c) => FieldParse::Ambiguous(
                        c.into_iter()
                            .filter_map(|i| set.get(i))
                            .map(|c| Value::String(c.label.to_string()))
                            .collect(),
                    ),
                    Parsed::Nothing => FieldParse::Nothing,
                }
            }
            Some(InputType::Text) => match choice::free_text(text) {
                Some(t) if !t.is_empty() => FieldParse::Value(Value::String(t)),
                _ => FieldParse::Nothing,
            },
            Some(InputType::ConfirmValue) => match yesno::parse_yes_no(text) {
                Parsed::Value(true) => {
                    let ctx = self.context_value(s);
                    match st.value.as_ref().and_then(|p| lookup(&ctx, p)) {
                        Some(v) if !v.is_null() => FieldParse::Value(v.clone()),
                        _ => FieldParse::Nothing,
                    }
                }
                Parsed::Value(false) => FieldParse::Invalid(format!(
                    "如果{}与实际不符，需要先到评估机构复核，复核后再申请。您也可以回复“转人工”由窗口工作人员协助。",
                    st.id
                )),
                _ => FieldParse::Nothing,
            },
            None => FieldParse::Nothing,
        }
    }

    /// Call a tool for MAP inside a session: arguments and results as the session's tokens.
    /// A token that does not open in this session is refused before anything reaches the line
    /// side.
    ///
    /// # Errors
    /// [`EngineError::InvalidToken`], [`EngineError::NotFound`], [`EngineError::Tools`].
    pub async fn session_tool(
        &self,
        id: &str,
        tool: &str,
        args: Value,
    ) -> Result<(String, Value), EngineError> {
        let lock = self.lock_for(id);
        let _g = lock.lock().await;
        let mut s = self.store.load(id).await?;
        let spec = self
            .tools
            .registry()
            .get(tool)
            .ok_or_else(|| EngineError::BadInput(format!("没有这个工具：{tool}")))?;
        let (tool_id, tool_name) = (spec.id.to_string(), spec.name.to_string());
        let ctx = self.ctx(&s);
        let sealed = crate::tool_args::tokenize_args(&self.tools, &ctx, &tool_id, args)
            .await
            .map_err(|e| EngineError::BadInput(e.to_string()))?;
        match self.tools.invoke(&ctx, &tool_id, sealed).await {
            Ok(v) => {
                s.tool_calls.push(ToolCallRecord {
                    tool: tool_name,
                    ok: true,
                    passed: v
                        .get("eligible")
                        .or_else(|| v.get("passed"))
                        .and_then(Value::as_bool),
                    message: self.display_text(&s, &result_message(&v, None)),
                    at: Utc::now(),
                });
                s.updated_at = Utc::now();
                self.store.save(&mut s).await?;
                Ok((tool_id, v))
            }
            Err(ToolError::InvalidToken { .. }) => Err(EngineError::InvalidToken),
            Err(e @ (ToolError::InvalidArguments { .. } | ToolError::UnknownTool { .. })) => {
                Err(EngineError::BadInput(e.to_string()))
            }
            Err(e) => Err(EngineError::Tools(e.to_string())),
        }
    }
}

enum FieldParse {
    Value(Value),
    Ambiguous(Vec<Value>),
    Invalid(String),
    Nothing,
}

fn state_label(s: State) -> &'static str {
    match s {
        State::Active => "进行中",
        State::Submitted => "已提交",
        State::Ineligible => "不符合条件",
        State::Cancelled => "已取消",
        State::Handoff => "已转人工",
    }
}

/// Which field a word names when the resident corrects without the field's own name.
fn understand_hint(text: &str) -> Option<&'static str> {
    const HINTS: &[(&str, &str)] = &[
        ("失业时间", "失业时间"),
        ("失业日期", "失业时间"),
        ("哪天失业", "失业时间"),
        ("失业原因", "失业原因"),
        ("原因", "失业原因"),
        ("求职意向", "求职意向"),
        ("意向", "求职意向"),
        ("想找", "求职意向"),
        ("健康", "健康状况"),
        ("身体", "健康状况"),
        ("失业金", "是否申领失业金"),
        ("失业保险金", "是否申领失业金"),
        ("工资", "月工资收入"),
        ("收入", "月工资收入"),
        ("开始月份", "开始月份"),
        ("起始月份", "开始月份"),
        ("申请日期", "申请日期"),
        ("征地", "征地人员"),
    ];
    HINTS
        .iter()
        .find(|(k, _)| text.contains(k))
        .map(|(_, f)| *f)
}

/// A resident who answers "张三" alone when asked for the name.
fn bare_name(text: &str) -> Option<String> {
    let t = text.trim().trim_end_matches(['。', '.', '，', ',']);
    let n = t.chars().count();
    ((2..=4).contains(&n) && t.chars().all(zhiban_knowledge::analysis::is_cjk))
        .then(|| t.to_string())
}

fn pick_candidate(text: &str, candidates: &[Value]) -> Option<Value> {
    let t = text.trim();
    let ordinal = [
        ("第一", 0),
        ("第二", 1),
        ("第三", 2),
        ("1", 0),
        ("2", 1),
        ("3", 2),
        ("前一个", 0),
        ("后一个", 1),
    ];
    if t.chars().count() <= 6 {
        for (w, i) in ordinal {
            if t.contains(w) {
                return candidates.get(i).cloned();
            }
        }
    }
    candidates
        .iter()
        .find(|c| t.contains(show_value(c).as_str()))
        .cloned()
}

/// A key Tera can name: Tera identifiers are ASCII, and a subscript with a non-ASCII key
/// (`form['征地人员']`) panics inside Tera, so the spec's Chinese keys (form fields, step ids)
/// are spelled as their UTF-8 bytes in hex, both in the context and in the template.
fn ascii_key(k: &str) -> String {
    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.is_empty() {
        return k.to_string();
    }
    let hex: String = k.bytes().map(|b| format!("{b:02x}")).collect();
    format!("u_{hex}")
}

fn ascii_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (ascii_key(&k), ascii_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(ascii_keys).collect()),
        other => other,
    }
}

static TERA_BLOCK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\{\{.*?\}\}|\{%.*?%\}")
        .unwrap_or_else(|_| regex::Regex::new("$^").unwrap_or_else(|_| std::process::abort()))
});
static NON_ASCII_SEGMENT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r#"\.([\w]*[^\x00-\x7F][\w]*)|\[\s*['"]([^'"\]]*[^\x00-\x7F][^'"\]]*)['"]\s*\]"#,
    )
    .unwrap_or_else(|_| regex::Regex::new("$^").unwrap_or_else(|_| std::process::abort()))
});

/// `results.准入判断.x` and `form['征地人员']` inside `{{ }}` / `{% %}` as [`ascii_key`]s.
fn ascii_template(t: &str) -> String {
    TERA_BLOCK
        .replace_all(t, |c: &regex::Captures| {
            NON_ASCII_SEGMENT
                .replace_all(&c[0], |m: &regex::Captures| {
                    let k = m.get(1).or_else(|| m.get(2)).map_or("", |k| k.as_str());
                    format!(".{}", ascii_key(k))
                })
                .into_owned()
        })
        .into_owned()
}

/// A month said without a year ("十二月") is read by the parser as the latest one not after
/// today; a month the flow proposes may lie ahead (a subsidy starting next month), so the
/// year is the one that puts the month nearest the proposal. A year the resident said stays.
fn month_near(
    text: &str,
    m: understand::YearMonth,
    today: NaiveDate,
    suggestion: &str,
) -> understand::YearMonth {
    let year_said = today
        .checked_add_signed(chrono::Duration::days(366))
        .is_some_and(|later| understand::dates::parse_month(text, later) == Parsed::Value(m));
    let Some(target) = parse_ym(suggestion) else {
        return m;
    };
    if year_said {
        return m;
    }
    let idx = |y: &understand::YearMonth| y.year * 12 + y.month as i32;
    [m.offset(-12), m, m.offset(12)]
        .into_iter()
        .min_by_key(|c| (idx(c) - idx(&target)).abs())
        .unwrap_or(m)
}

fn parse_ym(s: &str) -> Option<understand::YearMonth> {
    let (y, m) = s.split_once('-')?;
    understand::YearMonth::new(y.parse().ok()?, m.parse().ok()?)
}

fn number(a: f64) -> Value {
    if a.fract() == 0.0 && a.abs() < 1e15 {
        json!(a as i64)
    } else {
        json!((a * 100.0).round() / 100.0)
    }
}

fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "是".into(),
        Value::Bool(false) => "否".into(),
        Value::Null => "（空）".into(),
        other => other.to_string(),
    }
}

fn describe_extracted(m: &Material) -> String {
    let Some(Value::Object(e)) = &m.extracted else {
        return String::new();
    };
    let parts: Vec<String> = e
        .iter()
        .filter(|(k, _)| k.as_str() != "姓名")
        .map(|(k, v)| format!("{k}：{}", show_value(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("识别结果：{}。", parts.join("，"))
    }
}

fn verdict(step: &Step, result: &Value) -> Option<bool> {
    let key = step.passed.as_deref().unwrap_or("eligible");
    result
        .get(key)
        .or_else(|| result.get("passed"))
        .and_then(Value::as_bool)
}

/// `failed_rules`: the rule ids of the failed checks, for a step's `declare_when`.
fn failed_rules(result: &Value) -> Map<String, Value> {
    let ids: Vec<Value> = result
        .get("checks")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter(|c| c.get("passed").and_then(Value::as_bool) == Some(false))
                .filter_map(|c| c.get("rule_id").cloned())
                .collect()
        })
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("failed_rules".into(), Value::Array(ids));
    m
}

fn failed_reasons(result: &Value) -> String {
    let mut out: Vec<String> = result
        .get("checks")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter(|c| c.get("passed").and_then(Value::as_bool) == Some(false))
                .filter_map(|c| c.get("message").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if out.is_empty()
        && let Some(s) = result
            .get("summary")
            .or_else(|| result.get("message"))
            .and_then(Value::as_str)
    {
        out.push(s.to_string());
    }
    out.join("；")
}

fn result_message(result: &Value, passed: Option<bool>) -> String {
    if passed == Some(false) {
        let r = failed_reasons(result);
        if !r.is_empty() {
            return r;
        }
    }
    result
        .get("summary")
        .or_else(|| result.get("message"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_default()
}

fn split_basis(b: &str) -> (String, String) {
    match (b.find('《'), b.find('》')) {
        (Some(i), Some(j)) if j > i => {
            let title = b[i..j + '》'.len_utf8()].to_string();
            let rest = b[j + '》'.len_utf8()..].trim();
            let article: String = rest
                .char_indices()
                .find(|(_, c)| *c == '条' || *c == '、')
                .map(|(k, c)| rest[..k + c.len_utf8()].to_string())
                .unwrap_or_else(|| rest.to_string());
            (title, article)
        }
        _ => (b.to_string(), String::new()),
    }
}

/// `a.b.c` into a JSON tree.
fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

fn fingerprint(v: &Value) -> String {
    let text = v.to_string();
    let h = zhiban_pii::sm3_hex(text.as_bytes());
    h[..32.min(h.len())].to_string()
}

/// The text names a year (`2026年`, `去年`, `26.11.20`), so a date read from it keeps its year.
fn mentions_year(text: &str) -> bool {
    text.contains('年') || {
        let digits: Vec<usize> = text
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .collect();
        digits.iter().any(|&n| n == 4 || n == 8) || text.matches(['.', '-', '/']).count() >= 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_split_into_title_and_article() {
        assert_eq!(
            split_basis("《上海市失业登记管理办法》第七条第（二）项"),
            (
                "《上海市失业登记管理办法》".to_string(),
                "第七条".to_string()
            )
        );
        assert_eq!(
            split_basis("《通知》二、（一）"),
            ("《通知》".to_string(), "二、".to_string())
        );
    }

    #[test]
    fn paths_resolve_into_nested_values() {
        let v = json!({"results": {"准入判断": {"matter_code": "SQ-RS-002"}}});
        assert_eq!(
            lookup(&v, "results.准入判断.matter_code"),
            Some(&json!("SQ-RS-002"))
        );
        assert_eq!(lookup(&v, "results.x"), None);
    }

    #[test]
    fn months_without_a_year_land_near_the_proposed_month() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 15).unwrap();
        let m = |t: &str| understand::dates::parse_month(t, today).value().unwrap();
        assert_eq!(
            month_near("那就十二月", m("那就十二月"), today, "2026-12").to_string(),
            "2026-12"
        );
        assert_eq!(
            month_near("8月", m("8月"), today, "2026-12").to_string(),
            "2026-08"
        );
        assert_eq!(
            month_near("2025年12月", m("2025年12月"), today, "2026-12").to_string(),
            "2025-12"
        );
    }

    #[test]
    fn every_template_of_the_builtin_flows_compiles() {
        // A template that does not compile renders as its own source and a condition as
        // false, silently; Tera names are ASCII, so Chinese keys need `results['准入判断']`.
        for flow in crate::spec::builtin().unwrap() {
            let mut t = tera::Tera::default();
            let mut all = vec![("intro".to_string(), flow.intro.clone())];
            for st in &flow.steps {
                all.extend(st.prompt.clone().map(|p| (format!("{}/prompt", st.id), p)));
                all.extend(st.when.clone().map(|p| (format!("{}/when", st.id), p)));
                all.extend(
                    st.declare_when
                        .clone()
                        .map(|p| (format!("{}/declare", st.id), p)),
                );
            }
            for (name, src) in all {
                t.add_raw_template(&name, &ascii_template(&src))
                    .unwrap_or_else(|e| panic!("{}/{name}: {e:?}", flow.id));
            }
        }
    }

    #[test]
    fn chinese_keys_render_and_conditions_hold() {
        let mut t = tera::Tera::default();
        let src = ascii_template(
            "{{ form['征地人员'] == true and results.准入判断.ok == false }}|{{ results['评估'].level }}。",
        );
        t.add_raw_template("x", &src).unwrap();
        let ctx = ascii_keys(
            json!({"form": {"征地人员": true}, "results": {"准入判断": {"ok": false}, "评估": {"level": 3}}}),
        );
        let out = t
            .render("x", &tera::Context::from_value(ctx).unwrap())
            .unwrap();
        assert_eq!(out, "true|3。");
    }

    #[test]
    fn amounts_become_integers_when_whole() {
        assert_eq!(number(5200.0), json!(5200));
        assert_eq!(number(3800.5), json!(3800.5));
    }
}
