//! The commands a model may emit, their tool schemas, and the validation every returned call
//! passes before the engine sees it.
//!
//! A model's tool call is untrusted input: it can name a tool we never offered, send arguments
//! that are not JSON, fill a field the flow does not have, or pick an option that is not on the
//! list. Each call is checked on its own and dropped with a reason when it fails, so one bad
//! call does not cost the good ones. Values are normalised by the same deterministic parsers the
//! engine uses for typed replies, so a model's `3月5日` and a resident's `3月5日` end up the same.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::llm::guard::{self, GuardError};
use crate::spec::{FlowSpec, InputType, Step, StepKind};
use crate::understand::{self, Parsed};

/// Longest free-text value or question kept, in characters: a longer one is a model rambling.
const MAX_TEXT_CHARS: usize = 500;

/// At most this many calls of one answer are looked at.
pub const MAX_CALLS: usize = 16;

/// Kind of a field, as the model is told about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A day, sent back as `YYYY-MM-DD`.
    Date,
    /// A month, `YYYY-MM`.
    Month,
    /// An amount in yuan, a plain number.
    Amount,
    /// `是` / `否`.
    YesNo,
    /// `true` / `false`.
    Checkbox,
    /// One of [`FieldDesc::options`], verbatim.
    Choice,
    /// Free text.
    Text,
    /// An uploaded material: filled by `attach`, never by `set_slot`.
    Material,
    /// The resident confirms a value or the summary: `是` / `否`.
    Confirm,
}

impl FieldKind {
    /// The kind of an input type.
    pub fn of_input(t: InputType) -> FieldKind {
        match t {
            InputType::Date => FieldKind::Date,
            InputType::Month => FieldKind::Month,
            InputType::Amount => FieldKind::Amount,
            InputType::YesNo => FieldKind::YesNo,
            InputType::Checkbox => FieldKind::Checkbox,
            InputType::Choice => FieldKind::Choice,
            InputType::Text => FieldKind::Text,
            InputType::ConfirmValue => FieldKind::Confirm,
        }
    }

    /// Name used in schemas and prompts.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Date => "date",
            FieldKind::Month => "month",
            FieldKind::Amount => "amount",
            FieldKind::YesNo => "yes_no",
            FieldKind::Checkbox => "checkbox",
            FieldKind::Choice => "choice",
            FieldKind::Text => "text",
            FieldKind::Material => "material",
            FieldKind::Confirm => "confirm",
        }
    }

    /// Chinese description of the expected value, for the prompt.
    pub fn format_zh(self) -> &'static str {
        match self {
            FieldKind::Date => "日期，格式 YYYY-MM-DD",
            FieldKind::Month => "月份，格式 YYYY-MM",
            FieldKind::Amount => "金额，单位元，只写数字",
            FieldKind::YesNo => "是否，填“是”或“否”",
            FieldKind::Checkbox => "勾选，填 true 或 false",
            FieldKind::Choice => "单选，必须原样填写下列选项之一",
            FieldKind::Text => "文字，照居民原话",
            FieldKind::Material => "材料，只能用 attach 提交",
            FieldKind::Confirm => "确认，填“是”或“否”",
        }
    }
}

/// A field the model may fill this turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDesc {
    /// The flow's field id (`失业时间`).
    pub name: String,
    /// What kind of value it takes.
    pub kind: FieldKind,
    /// Choice fields: the labels, verbatim; empty otherwise.
    #[serde(default)]
    pub options: Vec<String>,
}

impl FieldDesc {
    /// The field of a flow step: inputs by their type (choices with their option labels),
    /// materials, and the confirm step; `None` for tool steps.
    pub fn from_step(step: &Step) -> Option<FieldDesc> {
        let kind = match step.kind {
            StepKind::Input => FieldKind::of_input(step.input_type?),
            StepKind::Material => FieldKind::Material,
            StepKind::Confirm => FieldKind::Confirm,
            StepKind::Check | StepKind::Lookup | StepKind::Submit => return None,
        };
        let options = if kind == FieldKind::Choice {
            step.options
                .as_deref()
                .and_then(understand::choice::option_set)
                .map(|set| set.iter().map(|c| c.label.to_owned()).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Some(FieldDesc {
            name: step.id.clone(),
            kind,
            options,
        })
    }
}

/// The fields of a flow, in step order: its inputs, materials and the confirm step.
pub fn fields_of(flow: &FlowSpec) -> Vec<FieldDesc> {
    flow.steps.iter().filter_map(FieldDesc::from_step).collect()
}

/// What the model knows about the turn. Every text in it must already be tokenised: the guard
/// refuses the call otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnContext {
    /// The matter's Chinese name (`失业登记`).
    pub agent_name: String,
    /// The field the flow asked for, if any.
    pub awaiting: Option<String>,
    /// The fields the model may fill.
    pub fields: Vec<FieldDesc>,
    /// Values filled so far, tokenised.
    pub filled: BTreeMap<String, String>,
    /// The assistant's last reply, tokenised.
    pub last_reply: String,
    /// Today, for relative dates (`上个月`).
    pub today: NaiveDate,
    /// Plaintext names the session knows (the applicant's): never sent, only used by the
    /// guard to refuse a message that still holds one.
    pub known_names: Vec<String>,
}

impl TurnContext {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&FieldDesc> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One thing the model understood the resident to say. Values are normalised: dates
/// `YYYY-MM-DD`, months `YYYY-MM`, amounts a plain number, yes/no and confirm `是`/`否`,
/// checkboxes `true`/`false`, choices one of the options verbatim, text as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// The resident gave the value of a field.
    SetSlot {
        /// One of the turn's fields (never a material).
        field: String,
        /// The normalised value.
        value: String,
    },
    /// The resident corrected an earlier value.
    Correct {
        /// One of the turn's fields (never a material).
        field: String,
        /// The normalised value.
        value: String,
    },
    /// The resident wants to stop.
    Cancel,
    /// The resident asked a policy question instead of answering.
    AskPolicy {
        /// The question, PII masked.
        question: String,
    },
    /// The resident wants a person (or the model thinks one is needed).
    Handoff {
        /// Why, PII masked.
        reason: Option<String>,
    },
    /// The resident points at an upload as one of the turn's materials.
    Attach {
        /// The upload's reference as the conversation named it (the tool's `ref`).
        reference: String,
        /// The material field it fills.
        kind: String,
    },
}

/// Why a call was dropped. Holds no model-chosen text except field names that are the flow's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum DropReason {
    /// A function we did not offer.
    #[error("未知的命令")]
    UnknownFunction,
    /// Arguments that are not a JSON object of the tool's schema.
    #[error("参数不符合命令的格式")]
    BadArguments,
    /// A field that is not one of the turn's fields (or the wrong kind for the command).
    #[error("字段不在本步可填写的范围内")]
    UnknownField,
    /// `set_slot`/`correct` on a material, which only `attach` fills.
    #[error("材料字段“{field}”只能通过上传提交")]
    MaterialNotSettable {
        /// The material.
        field: String,
    },
    /// A choice value not on the list.
    #[error("“{field}”的值不是给定选项之一")]
    OptionNotAllowed {
        /// The field.
        field: String,
    },
    /// An empty value, question or reference.
    #[error("值为空")]
    EmptyValue,
    /// A value the field's parser cannot read as exactly one value.
    #[error("“{field}”的值无法识别")]
    BadValue {
        /// The field.
        field: String,
    },
    /// A value or text longer than anything a resident says in one turn.
    #[error("内容过长")]
    TooLong,
    /// A token the conversation never sent, or a broken one.
    #[error("含有本次会话未签发的加密标记")]
    ForeignToken,
    /// A value that held plaintext PII (masking would only store a broken value).
    #[error("值中含有未加密的个人信息")]
    PlaintextPii,
    /// Beyond [`MAX_CALLS`].
    #[error("命令过多")]
    TooMany,
}

/// One dropped call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// Position of the call in the model's answer (0-based).
    pub index: usize,
    /// The function name if it looks like one (ASCII identifier, ≤ 64), else `?`: a model's
    /// free text never reaches logs through here.
    pub function: String,
    /// Why.
    pub reason: DropReason,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "第{}个调用（{}）：{}",
            self.index + 1,
            self.function,
            self.reason
        )
    }
}

/// Names of the command tools, in the order they are offered.
pub const COMMAND_NAMES: [&str; 6] = [
    "set_slot",
    "correct",
    "cancel",
    "ask_policy",
    "handoff",
    "attach",
];

fn function_label(name: &str) -> String {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok { name.to_owned() } else { "?".into() }
}

/// The JSON schemas of the command tools for this turn: `(name, description, parameters)`.
/// `set_slot`/`correct` are offered only when the turn has non-material fields, `attach` only
/// when it has materials, each with its field names as an `enum`.
pub fn tool_schemas(ctx: &TurnContext) -> Vec<(&'static str, &'static str, Value)> {
    let settable: Vec<&str> = ctx
        .fields
        .iter()
        .filter(|f| f.kind != FieldKind::Material)
        .map(|f| f.name.as_str())
        .collect();
    let materials: Vec<&str> = ctx
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Material)
        .map(|f| f.name.as_str())
        .collect();
    let slot = |what: &str| {
        json!({
            "type": "object",
            "properties": {
                "field": {"type": "string", "enum": settable, "description": "字段名"},
                "value": {"type": "string", "description": what},
            },
            "required": ["field", "value"],
            "additionalProperties": false,
        })
    };
    let mut out = Vec::new();
    if !settable.is_empty() {
        out.push((
            "set_slot",
            "居民说出了某个字段的值时调用。",
            slot("按字段要求的格式填写的值"),
        ));
        out.push((
            "correct",
            "居民更正之前给出的某个字段的值时调用。",
            slot("更正后的值，按字段要求的格式填写"),
        ));
    }
    out.push((
        "cancel",
        "居民明确表示不办了、要取消时调用。",
        json!({"type": "object", "properties": {}, "additionalProperties": false}),
    ));
    out.push((
        "ask_policy",
        "居民没有回答问题，而是在咨询政策或办理规定时调用。",
        json!({
            "type": "object",
            "properties": {"question": {"type": "string", "description": "居民的问题"}},
            "required": ["question"],
            "additionalProperties": false,
        }),
    ));
    out.push((
        "handoff",
        "居民要求人工服务，或情况超出线上办理范围时调用。",
        json!({
            "type": "object",
            "properties": {"reason": {"type": "string", "description": "原因（可省略）"}},
            "additionalProperties": false,
        }),
    ));
    if !materials.is_empty() {
        out.push((
            "attach",
            "居民指明某个已上传的文件是哪一份材料时调用。",
            json!({
                "type": "object",
                "properties": {
                    "ref": {"type": "string", "description": "上传文件的引用，原样填写"},
                    "kind": {"type": "string", "enum": materials, "description": "材料名称"},
                },
                "required": ["ref", "kind"],
                "additionalProperties": false,
            }),
        ));
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SlotArgs {
    field: String,
    value: Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyArgs {
    question: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HandoffArgs {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachArgs {
    #[serde(rename = "ref")]
    reference: String,
    kind: String,
}

fn args<T: for<'de> Deserialize<'de>>(raw: &str) -> Result<T, DropReason> {
    // Some servers send "" for a call without arguments.
    let raw = if raw.trim().is_empty() { "{}" } else { raw };
    serde_json::from_str(raw).map_err(|_| DropReason::BadArguments)
}

/// Guarded model text: foreign tokens refuse it; `strict` also refuses masked PII (a value),
/// otherwise the masked text is kept (a question, a reason).
fn guarded(text: &str, allowed: &BTreeSet<String>, strict: bool) -> Result<String, DropReason> {
    let r = guard::inbound_report(text, allowed).map_err(|e| match e {
        GuardError::ForeignToken | GuardError::BrokenToken => DropReason::ForeignToken,
        GuardError::PlaintextPii { .. } | GuardError::KnownName => DropReason::PlaintextPii,
    })?;
    if strict && r.masked > 0 {
        return Err(DropReason::PlaintextPii);
    }
    let t = r.text.trim().to_owned();
    if t.is_empty() {
        return Err(DropReason::EmptyValue);
    }
    if t.chars().count() > MAX_TEXT_CHARS {
        return Err(DropReason::TooLong);
    }
    Ok(t)
}

/// A model's value as a string: models send `4200` or `true` unquoted despite the schema.
fn value_string(v: &Value) -> Result<String, DropReason> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err(DropReason::EmptyValue),
        _ => Err(DropReason::BadArguments),
    }
}

fn yes_no(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" => return Some(true),
        "false" | "no" | "n" => return Some(false),
        _ => {}
    }
    understand::parse_yes_no(value).value()
}

fn format_amount(a: f64) -> String {
    // Yuan with at most fen precision; `{}` of an f64 prints 4200 for 4200.0.
    let fen = (a * 100.0).round() / 100.0;
    format!("{fen}")
}

/// The normalised value of `field` for `raw`, or why not.
pub fn normalise_value(
    field: &FieldDesc,
    raw: &str,
    today: NaiveDate,
) -> Result<String, DropReason> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(DropReason::EmptyValue);
    }
    let bad = || DropReason::BadValue {
        field: field.name.clone(),
    };
    match field.kind {
        FieldKind::Date => match understand::parse_date(v, today) {
            Parsed::Value(d) => Ok(d.format("%Y-%m-%d").to_string()),
            _ => Err(bad()),
        },
        FieldKind::Month => match understand::parse_month(v, today) {
            Parsed::Value(m) => Ok(m.to_string()),
            _ => Err(bad()),
        },
        FieldKind::Amount => {
            let a = v
                .parse::<f64>()
                .ok()
                .or_else(|| understand::parse_amount(v).value());
            match a {
                Some(a) if a.is_finite() && a >= 0.0 => Ok(format_amount(a)),
                _ => Err(bad()),
            }
        }
        FieldKind::YesNo | FieldKind::Confirm => match yes_no(v) {
            Some(true) => Ok("是".into()),
            Some(false) => Ok("否".into()),
            None => Err(bad()),
        },
        FieldKind::Checkbox => match yes_no(v) {
            Some(b) => Ok(b.to_string()),
            None => Err(bad()),
        },
        FieldKind::Choice => field
            .options
            .iter()
            .find(|o| o.as_str() == v)
            .cloned()
            .ok_or_else(|| DropReason::OptionNotAllowed {
                field: field.name.clone(),
            }),
        FieldKind::Text => Ok(v.to_owned()),
        FieldKind::Material => Err(DropReason::MaterialNotSettable {
            field: field.name.clone(),
        }),
    }
}

/// Validates one call: `name` and its raw JSON `arguments` against the turn. `allowed` are the
/// tokens sent to the model in this conversation.
pub fn validate_call(
    ctx: &TurnContext,
    name: &str,
    arguments: &str,
    allowed: &BTreeSet<String>,
) -> Result<Command, DropReason> {
    match name {
        "set_slot" | "correct" => {
            let a: SlotArgs = args(arguments)?;
            let field = ctx.field(a.field.trim()).ok_or(DropReason::UnknownField)?;
            let raw = value_string(&a.value)?;
            if raw.trim().is_empty() {
                return Err(DropReason::EmptyValue);
            }
            let raw = guarded(&raw, allowed, true)?;
            let value = normalise_value(field, &raw, ctx.today)?;
            let field = field.name.clone();
            Ok(if name == "set_slot" {
                Command::SetSlot { field, value }
            } else {
                Command::Correct { field, value }
            })
        }
        "cancel" => {
            let _: NoArgs = args(arguments)?;
            Ok(Command::Cancel)
        }
        "ask_policy" => {
            let a: PolicyArgs = args(arguments)?;
            Ok(Command::AskPolicy {
                question: guarded(&a.question, allowed, false)?,
            })
        }
        "handoff" => {
            let a: HandoffArgs = args(arguments)?;
            let reason = match a.reason.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(r) => Some(guarded(r, allowed, false)?),
            };
            Ok(Command::Handoff { reason })
        }
        "attach" => {
            let a: AttachArgs = args(arguments)?;
            let field = ctx
                .field(a.kind.trim())
                .filter(|f| f.kind == FieldKind::Material)
                .ok_or(DropReason::UnknownField)?;
            Ok(Command::Attach {
                reference: guarded(&a.reference, allowed, true)?,
                kind: field.name.clone(),
            })
        }
        _ => Err(DropReason::UnknownFunction),
    }
}

/// Validates every call of one answer, in order: the valid commands (exact repeats once) and
/// the dropped calls with their reasons.
pub fn validate_calls<'a>(
    ctx: &TurnContext,
    calls: impl IntoIterator<Item = (&'a str, &'a str)>,
    allowed: &BTreeSet<String>,
) -> (Vec<Command>, Vec<Dropped>) {
    let mut ok: Vec<Command> = Vec::new();
    let mut dropped = Vec::new();
    for (index, (name, arguments)) in calls.into_iter().enumerate() {
        let result = if index >= MAX_CALLS {
            Err(DropReason::TooMany)
        } else {
            validate_call(ctx, name, arguments, allowed)
        };
        match result {
            Ok(c) if !ok.contains(&c) => ok.push(c),
            Ok(_) => {}
            Err(reason) => dropped.push(Dropped {
                index,
                function: function_label(name),
                reason,
            }),
        }
    }
    (ok, dropped)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ctx() -> TurnContext {
        TurnContext {
            agent_name: "失业登记".into(),
            awaiting: Some("失业时间".into()),
            fields: vec![
                FieldDesc {
                    name: "失业时间".into(),
                    kind: FieldKind::Date,
                    options: vec![],
                },
                FieldDesc {
                    name: "失业原因".into(),
                    kind: FieldKind::Choice,
                    options: vec!["劳动合同期满终止".into(), "用人单位解除劳动合同".into()],
                },
                FieldDesc {
                    name: "月收入".into(),
                    kind: FieldKind::Amount,
                    options: vec![],
                },
                FieldDesc {
                    name: "是否征地人员".into(),
                    kind: FieldKind::Checkbox,
                    options: vec![],
                },
                FieldDesc {
                    name: "身份证照片".into(),
                    kind: FieldKind::Material,
                    options: vec![],
                },
            ],
            today: NaiveDate::from_ymd_opt(2025, 6, 18).expect("date"),
            ..TurnContext::default()
        }
    }

    fn one(name: &str, args: &str) -> Result<Command, DropReason> {
        validate_call(&ctx(), name, args, &BTreeSet::new())
    }

    #[test]
    fn values_are_normalised_by_kind() {
        assert_eq!(
            one("set_slot", r#"{"field":"失业时间","value":"2025年3月5日"}"#),
            Ok(Command::SetSlot {
                field: "失业时间".into(),
                value: "2025-03-05".into()
            })
        );
        assert_eq!(
            one("correct", r#"{"field":"月收入","value":4200}"#),
            Ok(Command::Correct {
                field: "月收入".into(),
                value: "4200".into()
            })
        );
        assert_eq!(
            one("set_slot", r#"{"field":"月收入","value":"四千二百元"}"#),
            Ok(Command::SetSlot {
                field: "月收入".into(),
                value: "4200".into()
            })
        );
        assert_eq!(
            one("set_slot", r#"{"field":"是否征地人员","value":"是的"}"#),
            Ok(Command::SetSlot {
                field: "是否征地人员".into(),
                value: "true".into()
            })
        );
    }

    #[test]
    fn schema_violations_are_dropped_with_reasons() {
        assert_eq!(one("submit", "{}"), Err(DropReason::UnknownFunction));
        assert_eq!(
            one("set_slot", r#"{"field": "#),
            Err(DropReason::BadArguments)
        );
        assert_eq!(
            one("set_slot", r#"{"field":"户籍地址","value":"黄浦区"}"#),
            Err(DropReason::UnknownField)
        );
        assert_eq!(
            one("set_slot", r#"{"field":"失业原因","value":"被开除"}"#),
            Err(DropReason::OptionNotAllowed {
                field: "失业原因".into()
            })
        );
        assert_eq!(
            one("set_slot", r#"{"field":"失业时间","value":"  "}"#),
            Err(DropReason::EmptyValue)
        );
        assert_eq!(
            one("set_slot", r#"{"field":"失业时间","value":"很久以前"}"#),
            Err(DropReason::BadValue {
                field: "失业时间".into()
            })
        );
        assert_eq!(
            one("set_slot", r#"{"field":"身份证照片","value":"有"}"#),
            Err(DropReason::MaterialNotSettable {
                field: "身份证照片".into()
            })
        );
        assert_eq!(
            one("cancel", r#"{"confirm": true}"#),
            Err(DropReason::BadArguments)
        );
        assert_eq!(
            one("attach", r#"{"ref":"upload-1","kind":"失业时间"}"#),
            Err(DropReason::UnknownField)
        );
        assert_eq!(
            one(
                "set_slot",
                r#"{"field":"失业原因","value":"11010519491231002X"}"#
            ),
            Err(DropReason::PlaintextPii)
        );
    }

    #[test]
    fn good_calls_survive_bad_neighbours() {
        let calls = [
            (
                "set_slot",
                r#"{"field":"失业原因","value":"劳动合同期满终止"}"#,
            ),
            ("submit", "{}"),
            (
                "set_slot",
                r#"{"field":"失业原因","value":"劳动合同期满终止"}"#,
            ),
            ("cancel", ""),
            ("attach", r#"{"ref":"upload-1","kind":"身份证照片"}"#),
        ];
        let (ok, dropped) = validate_calls(&ctx(), calls, &BTreeSet::new());
        assert_eq!(
            ok,
            [
                Command::SetSlot {
                    field: "失业原因".into(),
                    value: "劳动合同期满终止".into()
                },
                Command::Cancel,
                Command::Attach {
                    reference: "upload-1".into(),
                    kind: "身份证照片".into()
                },
            ]
        );
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].index, 1);
        assert_eq!(dropped[0].reason, DropReason::UnknownFunction);
    }

    #[test]
    fn handoff_and_policy_mask_instead_of_dropping() {
        assert_eq!(one("handoff", "{}"), Ok(Command::Handoff { reason: None }));
        let Ok(Command::AskPolicy { question }) = one(
            "ask_policy",
            r#"{"question":"13912345678这个号码能收到通知吗"}"#,
        ) else {
            panic!("ask_policy dropped")
        };
        assert!(!question.contains("13912345678"));
        assert_eq!(
            one("ask_policy", r#"{"question":""}"#),
            Err(DropReason::EmptyValue)
        );
    }

    #[test]
    fn schemas_list_fields_by_role() {
        let s = tool_schemas(&ctx());
        let names: Vec<&str> = s.iter().map(|t| t.0).collect();
        assert_eq!(names, COMMAND_NAMES);
        let slot = &s[0].2;
        assert_eq!(
            slot.pointer("/properties/field/enum"),
            Some(&json!(["失业时间", "失业原因", "月收入", "是否征地人员"]))
        );
        assert_eq!(
            s[5].2.pointer("/properties/kind/enum"),
            Some(&json!(["身份证照片"]))
        );
        let bare = TurnContext::default();
        let names: Vec<&str> = tool_schemas(&bare).iter().map(|t| t.0).collect();
        assert_eq!(names, ["cancel", "ask_policy", "handoff"]);
    }

    #[test]
    fn builtin_flows_give_fields_with_options() {
        let flows = crate::spec::builtin().expect("specs");
        let u = flows
            .iter()
            .find(|f| f.id == "unemployment_registration")
            .expect("flow");
        let fields = fields_of(u);
        let reason = fields.iter().find(|f| f.name == "失业原因").expect("field");
        assert_eq!(reason.kind, FieldKind::Choice);
        assert!(reason.options.contains(&"劳动合同期满终止".to_string()));
        assert_eq!(fields.last().map(|f| f.kind), Some(FieldKind::Confirm));
        for f in flows.iter().flat_map(fields_of) {
            assert!(
                f.kind != FieldKind::Choice || !f.options.is_empty(),
                "{}",
                f.name
            );
        }
    }

    proptest! {
        // No argument string makes validation panic.
        #[test]
        fn arbitrary_arguments_never_panic(name in "(set_slot|correct|attach|cancel|ask_policy|handoff|x)",
                                           raw in "\\PC{0,40}") {
            let _ = validate_call(&ctx(), &name, &raw, &BTreeSet::new());
        }

        // Well-formed calls with any field and value: what passes names a real, settable field
        // and carries a non-empty value that reads back as itself.
        #[test]
        fn passing_slots_name_real_fields(field in "(失业时间|失业原因|月收入|是否征地人员|身份证照片|户籍地址)",
                                          value in "\\PC{0,20}", correct in any::<bool>()) {
            let c = ctx();
            let name = if correct { "correct" } else { "set_slot" };
            let args = json!({"field": field, "value": value}).to_string();
            if let Ok(Command::SetSlot { field, value } | Command::Correct { field, value }) =
                validate_call(&c, name, &args, &BTreeSet::new())
            {
                let f = c.field(&field).expect("a real field");
                prop_assert!(f.kind != FieldKind::Material);
                prop_assert!(!value.is_empty());
                prop_assert_eq!(normalise_value(f, &value, c.today), Ok(value.clone()));
            }
        }

        #[test]
        fn choice_values_outside_options_never_pass(v in "\\PC{1,12}") {
            let args = json!({"field": "失业原因", "value": v}).to_string();
            let c = ctx();
            match validate_call(&c, "set_slot", &args, &BTreeSet::new()) {
                Ok(Command::SetSlot { value, .. }) => {
                    prop_assert!(c.fields[1].options.contains(&value));
                }
                Ok(other) => prop_assert!(false, "unexpected {other:?}"),
                Err(_) => {}
            }
        }
    }
}
