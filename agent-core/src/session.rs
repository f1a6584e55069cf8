//! A session as it is stored and as clients see it.
//!
//! [`Session`] is the whole durable state of one conversation: the flow's position, the form,
//! every tool call, the materials, the transcript. Every PII value in it is a token of the
//! session's scope; for display it also keeps, per token, the masked form computed when the value
//! was sealed (`310110********7714`, `张*`), so that showing a reply never needs a decryption.
//! [`SessionView`] is the contract's session object (`../shared/design/contracts.md`, "The agent
//! service"), field names included.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The flow is running.
    Active,
    /// 提交 succeeded; `case_no` is set.
    Submitted,
    /// 准入判断 said no.
    Ineligible,
    /// The resident or MAP ended it.
    Cancelled,
    /// Handed to a clerk (asked for, or the budget was spent).
    Handoff,
}

impl State {
    /// Whether the session still takes messages.
    pub fn is_open(self) -> bool {
        self == State::Active
    }
}

/// What the flow waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Awaiting {
    /// `input`, `material` or `confirm`.
    pub kind: AwaitKind,
    /// The field (the seed's own name), the material, or `确认`.
    pub field: String,
}

/// Kind of [`Awaiting`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AwaitKind {
    /// A form input.
    Input,
    /// An uploaded material.
    Material,
    /// Confirmation of a summary or a value.
    Confirm,
}

/// One material the resident supplied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Material {
    /// The material's name in the flow (`劳动合同`).
    pub kind: String,
    /// The attachment's `ref`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// `accepted` or `rejected`.
    pub status: String,
    /// Why it was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Fields read from it (PII as tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extracted: Option<Value>,
}

/// One tool call, as the contract lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ToolCallRecord {
    /// The seed's name (`准入判断`, `提交` …) or the registry name.
    pub tool: String,
    /// The call completed.
    pub ok: bool,
    /// Verdict of a check; `None` for other calls.
    pub passed: Option<bool>,
    /// The case system's reason, PII masked.
    pub message: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A cited article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Citation {
    /// Document id.
    pub doc_id: String,
    /// Title.
    pub title: String,
    /// 文号.
    pub doc_number: Option<String>,
    /// Article label (`第五条`, `二、（一）`).
    pub article: Option<String>,
    /// 时效性 on the date asked about.
    pub status: String,
    /// Source file.
    pub source_file: String,
    /// Article text (QA answers carry it; session citations may omit it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One line of the transcript (tokens only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// `resident` or `assistant`.
    pub role: String,
    /// Text with every PII value tokenised.
    pub text: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A memoised check: the fingerprint of the arguments it ran with and what it said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Fingerprint of the resolved arguments.
    pub args_fp: String,
    /// Whether the call completed.
    pub ok: bool,
    /// The verdict, for checks.
    pub passed: Option<bool>,
    /// The tool's result (tokens only).
    pub result: Value,
}

/// The durable state of one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Id (also the token scope's session).
    pub session_id: String,
    /// Agent id.
    pub agent: String,
    /// State.
    pub state: State,
    /// The date the session's understanding and rules refer to.
    pub as_of: NaiveDate,
    /// Channel (`map`, `clerk`, `chat` …).
    pub channel: String,
    /// The API client that created the session (its key's client name); only it (or an
    /// operator) may continue it, and its name goes to the audit log with every decryption.
    #[serde(default)]
    pub client: Option<String>,
    /// Applicant facts: `name`, `id_number`, `id_type` as tokens; `hukou_type`, `street`,
    /// `district`, `age`, `gender` as 申请人核实 returned them.
    pub applicant: Map<String, Value>,
    /// The operator who types for the applicant, if any (tokens).
    pub operator: Option<Value>,
    /// The form, keyed by the seed's field names.
    pub form: BTreeMap<String, Value>,
    /// Results of check and lookup steps, by step id.
    pub results: BTreeMap<String, StepResult>,
    /// Materials.
    pub materials: Vec<Material>,
    /// Every tool call, in order.
    pub tool_calls: Vec<ToolCallRecord>,
    /// Citations of the last reply.
    pub citations: Vec<Citation>,
    /// What the flow waits for.
    pub awaiting: Option<Awaiting>,
    /// Resident messages counted against the budget.
    pub interactions: u32,
    /// The budget.
    pub max_interactions: u32,
    /// The assistant's last message (masked, never plaintext).
    pub reply: String,
    /// 办件编号 after 提交.
    pub case_no: Option<String>,
    /// Snapshot that served the last answer.
    pub snapshot: String,
    /// The summary the resident was last shown for confirmation (fingerprint of the form).
    pub confirmed_fp: Option<String>,
    /// A pending clarification: the field and the candidate values offered.
    pub clarify: Option<Clarify>,
    /// Masked display form of every token this session issued.
    pub display: BTreeMap<String, String>,
    /// Transcript.
    pub transcript: Vec<Turn>,
    /// Store version (optimistic concurrency).
    pub version: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A question the flow asked because an answer was ambiguous.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clarify {
    /// Field being clarified.
    pub field: String,
    /// Candidate values, in the order offered (1., 2., …).
    pub candidates: Vec<Value>,
}

/// The contract's session object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SessionView {
    /// Id.
    pub session_id: String,
    /// Agent id.
    pub agent: String,
    /// State.
    pub state: State,
    /// Last assistant message.
    pub reply: String,
    /// Interactions spent.
    pub interactions: u32,
    /// Budget.
    pub max_interactions: u32,
    /// What is awaited.
    pub awaiting: Option<Awaiting>,
    /// Form (PII as tokens).
    pub form: BTreeMap<String, Value>,
    /// Materials.
    pub materials: Vec<Material>,
    /// Tool calls.
    pub tool_calls: Vec<ToolCallRecord>,
    /// Citations of the last reply.
    pub citations: Vec<Citation>,
    /// 办件编号.
    pub case_no: Option<String>,
    /// Snapshot id.
    pub snapshot: String,
}

impl Session {
    /// The contract's view of this session.
    pub fn view(&self) -> SessionView {
        SessionView {
            session_id: self.session_id.clone(),
            agent: self.agent.clone(),
            state: self.state,
            reply: self.reply.clone(),
            interactions: self.interactions,
            max_interactions: self.max_interactions,
            awaiting: self.awaiting.clone(),
            form: self.form.clone(),
            materials: self.materials.clone(),
            tool_calls: self.tool_calls.clone(),
            citations: self.citations.clone(),
            case_no: self.case_no.clone(),
            snapshot: self.snapshot.clone(),
        }
    }
}
