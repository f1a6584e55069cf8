//! Scripts: an ordered list of rules deciding how a chat request is answered.
//!
//! The serde types here are the file format (JSON or TOML); [`Compiled`] is the
//! validated form the server keeps, with regexes built and `times` counters live.

use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

/// A script: rules tried in order, first match wins; `default` when none matches
/// (an echo of the last user message when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Reply>,
}

/// One rule. An omitted `when` matches every request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub when: Matcher,
    #[serde(default)]
    pub reply: Reply,
    /// The rule fires at most this many times, then is skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

/// Conditions on a chat request; all given ones must hold (an empty matcher matches all).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// Substring of the last user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains: Option<String>,
    /// Regex searched in the last user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// Whether any `tool` message is in the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_tool_result: Option<bool>,
    /// A `tool` message answers a call to the tool of this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_result_of: Option<String>,
    /// Role of the last message (`user`, `tool`, ...): tells a fresh question from a
    /// tool round, whose last user message is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_role: Option<String>,
    /// All of these tool names are offered in the request's `tools`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
    /// The n-th chat request (1-based) since the script was loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// `true` matches anything (same as an empty matcher); `false` disables the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<bool>,
}

/// What to answer. Content (`text`, tool calls) combines with `latency_ms` and
/// `chunk_delay_ms`; at most one fault (`status`, `hang`, `malformed`, `empty`,
/// `truncated_stream`) may be set. Without content the last user message is echoed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Assistant text; `{{last_user}}` is replaced by the last user message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call: Option<ToolCallSpec>,
    /// Further tool calls, after `tool_call`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallSpec>,
    /// Delay before the answer (or the fault) starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Delay between streamed chunks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_delay_ms: Option<u64>,
    /// Fault: answer with this HTTP status and an OpenAI-style error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// OpenAI error `type`; defaults by status (`insufficient_quota` makes a 429 final
    /// for async-openai, which otherwise retries it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Fault: never answer (until the server shuts down).
    #[serde(default, skip_serializing_if = "is_false")]
    pub hang: bool,
    /// Fault: 200 with a body that is not valid JSON (or a stream of such chunks).
    #[serde(default, skip_serializing_if = "is_false")]
    pub malformed: bool,
    /// Fault: a well-formed answer with nothing in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty: Option<EmptyKind>,
    /// Fault: the stream stops half-way, without a finish chunk or `[DONE]`. A
    /// non-streaming request gets the first half of its JSON body.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated_stream: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The kinds of empty answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyKind {
    /// `choices: []`.
    NoChoices,
    /// One choice with `content: ""` and `finish_reason: "stop"`.
    NoContent,
}

/// A tool call the model makes. `arguments` that is a JSON string is sent verbatim
/// (so it may be garbage); any other value is serialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCallSpec {
    pub name: String,
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

impl Script {
    /// Parses a JSON script.
    ///
    /// # Errors
    /// When the text is not a valid script.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let s: Script = serde_json::from_str(text).map_err(Error::Json)?;
        s.validate()?;
        Ok(s)
    }

    /// Parses a TOML script.
    ///
    /// # Errors
    /// When the text is not a valid script.
    pub fn from_toml(text: &str) -> Result<Self, Error> {
        let s: Script = toml::from_str(text).map_err(Error::Toml)?;
        s.validate()?;
        Ok(s)
    }

    /// Loads a script file: `.toml` as TOML, anything else as JSON.
    ///
    /// # Errors
    /// When the file cannot be read or is not a valid script.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        {
            Self::from_toml(&text)
        } else {
            Self::from_json(&text)
        }
    }

    /// Checks what serde cannot: regexes compile, at most one fault per reply.
    ///
    /// # Errors
    /// [`Error::Script`] naming the first bad rule.
    pub fn validate(&self) -> Result<(), Error> {
        Compiled::new(self.clone()).map(|_| ())
    }
}

impl Reply {
    /// A plain text reply.
    pub fn text(text: impl Into<String>) -> Self {
        Reply {
            text: Some(text.into()),
            ..Reply::default()
        }
    }

    /// A reply with one tool call.
    pub fn tool_call(name: impl Into<String>, arguments: Value) -> Self {
        Reply {
            tool_call: Some(ToolCallSpec {
                name: name.into(),
                arguments,
            }),
            ..Reply::default()
        }
    }

    /// An HTTP error reply.
    pub fn status(status: u16) -> Self {
        Reply {
            status: Some(status),
            ..Reply::default()
        }
    }

    fn check(&self) -> Result<(), String> {
        let faults = [
            self.status.is_some(),
            self.hang,
            self.malformed,
            self.empty.is_some(),
            self.truncated_stream,
        ];
        if faults.iter().filter(|f| **f).count() > 1 {
            return Err("at most one of status, hang, malformed, empty, truncated_stream".into());
        }
        if let Some(s) = self.status
            && !(400..=599).contains(&s)
        {
            return Err(format!("status {s} is not an error status (400..=599)"));
        }
        Ok(())
    }
}

/// What a chat request looks like to the matchers.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ChatView {
    pub last_user: String,
    pub last_role: Option<String>,
    pub tools: Vec<String>,
    pub has_tool_result: bool,
    pub tool_results_of: Vec<String>,
}

impl ChatView {
    pub fn of(body: &Value) -> Self {
        let empty = Vec::new();
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let role = |m: &Value| m.get("role").and_then(Value::as_str).map(str::to_owned);
        let last_user = messages
            .iter()
            .rev()
            .find(|m| role(m).as_deref() == Some("user"))
            .map(|m| content_text(m.get("content")))
            .unwrap_or_default();
        let mut view = ChatView {
            last_user,
            last_role: messages.last().and_then(role),
            ..ChatView::default()
        };
        if let Some(tools) = body.get("tools").and_then(Value::as_array) {
            view.tools = tools
                .iter()
                .filter_map(|t| t.pointer("/function/name").and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
        }
        // A tool message names only its call id; the name is on the assistant's call.
        let mut call_names: Vec<(String, String)> = Vec::new();
        for m in messages {
            for call in m
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(id), Some(name)) = (
                    call.get("id").and_then(Value::as_str),
                    call.pointer("/function/name").and_then(Value::as_str),
                ) {
                    call_names.push((id.to_owned(), name.to_owned()));
                }
            }
            match role(m).as_deref() {
                Some("tool") => {
                    view.has_tool_result = true;
                    let id = m.get("tool_call_id").and_then(Value::as_str);
                    if let Some((_, name)) = call_names.iter().find(|(i, _)| Some(i.as_str()) == id)
                    {
                        view.tool_results_of.push(name.clone());
                    }
                }
                Some("function") => {
                    view.has_tool_result = true;
                    if let Some(name) = m.get("name").and_then(Value::as_str) {
                        view.tool_results_of.push(name.to_owned());
                    }
                }
                _ => {}
            }
        }
        view
    }
}

/// Text of a message `content`: a string, or the `text` parts of an array.
pub(crate) fn content_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

#[derive(Debug)]
struct CompiledRule {
    when: Matcher,
    regex: Option<Regex>,
    reply: Reply,
    remaining: Option<u32>,
}

/// A validated script with live `times` counters.
#[derive(Debug)]
pub(crate) struct Compiled {
    rules: Vec<CompiledRule>,
    default: Reply,
}

impl Compiled {
    pub fn new(script: Script) -> Result<Self, Error> {
        let mut rules = Vec::with_capacity(script.rules.len());
        for (i, r) in script.rules.into_iter().enumerate() {
            let bad = |m: String| Error::Script(format!("rule {}: {m}", i + 1));
            r.reply.check().map_err(bad)?;
            let regex = match &r.when.regex {
                Some(p) => Some(Regex::new(p).map_err(|e| bad(e.to_string()))?),
                None => None,
            };
            rules.push(CompiledRule {
                when: r.when,
                regex,
                reply: r.reply,
                remaining: r.times,
            });
        }
        let default = script.default.unwrap_or_default();
        default
            .check()
            .map_err(|m| Error::Script(format!("default: {m}")))?;
        Ok(Compiled { rules, default })
    }

    /// The first live matching rule (its 0-based index) and its reply, spending one of
    /// its `times`; the default reply when none matches.
    pub fn pick(&mut self, view: &ChatView, nth: u64) -> (Option<usize>, Reply) {
        for (i, r) in self.rules.iter_mut().enumerate() {
            if r.remaining == Some(0) || !r.matches(view, nth) {
                continue;
            }
            if let Some(n) = r.remaining.as_mut() {
                *n -= 1;
            }
            return (Some(i), r.reply.clone());
        }
        (None, self.default.clone())
    }
}

impl CompiledRule {
    fn matches(&self, view: &ChatView, nth: u64) -> bool {
        let w = &self.when;
        w.any != Some(false)
            && w.contains
                .as_ref()
                .is_none_or(|s| view.last_user.contains(s.as_str()))
            && self
                .regex
                .as_ref()
                .is_none_or(|re| re.is_match(&view.last_user))
            && w.has_tool_result.is_none_or(|b| b == view.has_tool_result)
            && w.tool_result_of
                .as_ref()
                .is_none_or(|n| view.tool_results_of.contains(n))
            && w.last_role
                .as_ref()
                .is_none_or(|r| view.last_role.as_ref() == Some(r))
            && w.tools.iter().all(|t| view.tools.contains(t))
            && w.nth.is_none_or(|n| n == nth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(user: &str) -> Value {
        json!({"model": "m", "messages": [
            {"role": "system", "content": "你是社区事务受理助手"},
            {"role": "user", "content": user}
        ]})
    }

    fn compiled(toml: &str) -> Compiled {
        Compiled::new(Script::from_toml(toml).expect("parse")).expect("compile")
    }

    #[test]
    fn first_matching_rule_wins_and_default_echoes() {
        let mut c = compiled(
            r#"
            [[rules]]
            when = { contains = "居住证" }
            reply = { text = "A" }
            [[rules]]
            when = { regex = "^我想.*补贴$" }
            reply = { text = "B" }
            "#,
        );
        let pick = |c: &mut Compiled, u: &str| c.pick(&ChatView::of(&req(u)), 1);
        assert_eq!(pick(&mut c, "办理居住证要什么材料").0, Some(0));
        assert_eq!(pick(&mut c, "我想申请居住证补贴").0, Some(0));
        assert_eq!(pick(&mut c, "我想申请高龄补贴").0, Some(1));
        let (idx, reply) = pick(&mut c, "你好");
        assert_eq!(idx, None);
        assert_eq!(reply, Reply::default());
    }

    #[test]
    fn times_limits_a_rule_then_falls_through() {
        let mut c = compiled(
            r#"
            [[rules]]
            times = 2
            reply = { status = 503 }
            [[rules]]
            reply = { text = "好的" }
            "#,
        );
        let v = ChatView::of(&req("张伟的低保申请进度"));
        let got: Vec<_> = (1..=4).map(|n| c.pick(&v, n).0).collect();
        assert_eq!(got, [Some(0), Some(0), Some(1), Some(1)]);
    }

    #[test]
    fn tool_matchers_see_tools_and_results() {
        let body = json!({"model": "m",
        "tools": [{"type": "function", "function": {"name": "lookup_case", "parameters": {}}},
                  {"type": "function", "function": {"name": "send_sms"}}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "查一下"}, {"type": "text", "text": "我的件"}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup_case", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"status\":\"办理中\"}"}
        ]});
        let v = ChatView::of(&body);
        assert_eq!(v.last_user, "查一下我的件");
        assert_eq!(v.last_role.as_deref(), Some("tool"));
        assert!(v.has_tool_result);
        assert_eq!(v.tool_results_of, ["lookup_case"]);
        assert_eq!(v.tools, ["lookup_case", "send_sms"]);

        let mut c = compiled(
            r#"
            [[rules]]
            when = { tools = ["lookup_case", "missing_tool"] }
            reply = { text = "never" }
            [[rules]]
            when = { has_tool_result = false }
            reply = { text = "no results yet" }
            [[rules]]
            when = { tool_result_of = "send_sms" }
            reply = { text = "wrong tool" }
            [[rules]]
            when = { tool_result_of = "lookup_case", last_role = "tool", tools = ["send_sms"] }
            reply = { text = "summary" }
            "#,
        );
        assert_eq!(c.pick(&v, 1).0, Some(3));
        assert_eq!(c.pick(&ChatView::of(&req("你好")), 2).0, Some(1));
    }

    #[test]
    fn nth_and_any() {
        let mut c = compiled(
            r#"
            [[rules]]
            when = { any = false }
            reply = { text = "disabled" }
            [[rules]]
            when = { nth = 2 }
            reply = { text = "second" }
            [[rules]]
            when = { any = true }
            reply = { text = "other" }
            "#,
        );
        let v = ChatView::of(&req("你好"));
        let got: Vec<_> = (1..=3).map(|n| c.pick(&v, n).0).collect();
        assert_eq!(got, [Some(2), Some(1), Some(2)]);
    }

    #[test]
    fn invalid_scripts_are_rejected() {
        let two_faults = r#"{"rules": [{"reply": {"hang": true, "status": 500}}]}"#;
        assert!(
            matches!(Script::from_json(two_faults), Err(Error::Script(m)) if m.starts_with("rule 1"))
        );
        let bad_regex = r#"{"rules": [{"when": {"regex": "(unclosed"}, "reply": {"text": "x"}}]}"#;
        assert!(matches!(
            Script::from_json(bad_regex),
            Err(Error::Script(_))
        ));
        let ok_status = r#"{"rules": [{"reply": {"status": 200}}]}"#;
        assert!(matches!(
            Script::from_json(ok_status),
            Err(Error::Script(_))
        ));
        let typo = r#"{"rules": [{"when": {"contain": "x"}}]}"#;
        assert!(matches!(Script::from_json(typo), Err(Error::Json(_))));
        assert!(matches!(
            Script::from_toml("rules = 3"),
            Err(Error::Toml(_))
        ));
    }

    #[test]
    fn json_and_toml_agree() {
        let j = Script::from_json(
            r#"{"rules": [{"when": {"contains": "办"}, "times": 1,
                 "reply": {"tool_call": {"name": "lookup_case", "arguments": {"case_no": "SH-2024-001"}},
                           "latency_ms": 20}}],
                "default": {"text": "收到：{{last_user}}"}}"#,
        )
        .expect("json");
        let t = Script::from_toml(
            r#"
            default = { text = "收到：{{last_user}}" }
            [[rules]]
            when = { contains = "办" }
            times = 1
            reply = { latency_ms = 20, tool_call = { name = "lookup_case", arguments = { case_no = "SH-2024-001" } } }
            "#,
        )
        .expect("toml");
        assert_eq!(j, t);
        // Round trip through the serialised form keeps the script.
        let again = Script::from_json(&serde_json::to_string(&j).expect("ser")).expect("re-parse");
        assert_eq!(again, j);
    }
}
