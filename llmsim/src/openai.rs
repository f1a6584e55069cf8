//! OpenAI wire shapes: completions, stream chunks, embeddings, error bodies.
//!
//! Built as `serde_json::Value` rather than typed structs so the simulator can emit
//! exactly the optional-field patterns OpenAI does (e.g. `content: null` beside
//! `tool_calls`, tool-call chunks that carry only `index` and an arguments piece).

use serde_json::{Value, json};

/// A tool call as it goes on the wire.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// The content of an answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Answer {
    pub text: Option<String>,
    pub calls: Vec<Call>,
}

impl Answer {
    fn finish_reason(&self) -> &'static str {
        if self.calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        }
    }

    fn completion_tokens(&self) -> usize {
        self.text.as_deref().map_or(0, token_estimate)
            + self
                .calls
                .iter()
                .map(|c| token_estimate(&c.name) + token_estimate(&c.arguments))
                .sum::<usize>()
    }
}

/// Identity shared by every chunk of one completion.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub id: String,
    pub created: u64,
    pub model: String,
    pub prompt_tokens: usize,
}

/// A deterministic stand-in for a tokenizer: one token per CJK character, one per
/// four other characters. Only consistency matters to the callers.
pub(crate) fn token_estimate(s: &str) -> usize {
    let (cjk, other) = s.chars().fold((0usize, 0usize), |(c, o), ch| {
        if ch as u32 >= 0x2E80 {
            (c + 1, o)
        } else {
            (c, o + 1)
        }
    });
    cjk + other.div_ceil(4)
}

fn usage(prompt: usize, completion: usize) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

pub(crate) fn completion(head: &Head, answer: &Answer) -> Value {
    let tool_calls: Vec<Value> = answer
        .calls
        .iter()
        .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
        .collect();
    let mut message = json!({"role": "assistant", "content": answer.text, "refusal": null});
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    json!({
        "id": head.id,
        "object": "chat.completion",
        "created": head.created,
        "model": head.model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": answer.finish_reason()}],
        "usage": usage(head.prompt_tokens, answer.completion_tokens()),
    })
}

/// A completion with no choices, or with an empty message.
pub(crate) fn empty_completion(head: &Head, no_choices: bool) -> Value {
    let choices = if no_choices {
        json!([])
    } else {
        json!([{"index": 0, "message": {"role": "assistant", "content": "", "refusal": null},
                "logprobs": null, "finish_reason": "stop"}])
    };
    json!({"id": head.id, "object": "chat.completion", "created": head.created, "model": head.model,
           "choices": choices, "usage": usage(head.prompt_tokens, 0)})
}

fn chunk(head: &Head, delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": head.id,
        "object": "chat.completion.chunk",
        "created": head.created,
        "model": head.model,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
    })
}

/// Splits on char boundaries into pieces of `n` chars (n ≥ 1).
pub(crate) fn pieces(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n.max(1)).map(|c| c.iter().collect()).collect()
}

/// The chunks of a streamed answer in OpenAI's order: a role chunk, content
/// pieces, for each tool call a header chunk (index, id, type, name, empty
/// arguments) then argument pieces, and a finish chunk with an empty delta.
/// The usage chunk (`choices: []`) is not included.
pub(crate) fn chunks(head: &Head, answer: &Answer, piece_chars: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut first = json!({"role": "assistant", "content": if answer.text.is_some() || answer.calls.is_empty() { json!("") } else { Value::Null }, "refusal": null});
    let text = answer.text.as_deref().unwrap_or("");
    let mut calls = answer.calls.iter().enumerate().peekable();
    // With no text OpenAI puts the first tool-call header into the role chunk.
    if text.is_empty()
        && let Some((i, c)) = calls.peek()
    {
        first["tool_calls"] = json!([call_header(*i, c)]);
    }
    out.push(chunk(head, first, None));
    for p in pieces(text, piece_chars) {
        out.push(chunk(head, json!({"content": p}), None));
    }
    let mut header_sent = text.is_empty() && !answer.calls.is_empty();
    for (i, c) in calls {
        if !header_sent {
            out.push(chunk(
                head,
                json!({"tool_calls": [call_header(i, c)]}),
                None,
            ));
        }
        header_sent = false;
        for p in pieces(&c.arguments, piece_chars) {
            out.push(chunk(
                head,
                json!({"tool_calls": [{"index": i, "function": {"arguments": p}}]}),
                None,
            ));
        }
    }
    out.push(chunk(head, json!({}), Some(answer.finish_reason())));
    out
}

fn call_header(index: usize, c: &Call) -> Value {
    json!({"index": index, "id": c.id, "type": "function", "function": {"name": c.name, "arguments": ""}})
}

/// Chunks of an empty streamed answer.
pub(crate) fn empty_chunks(head: &Head, no_choices: bool) -> Vec<Value> {
    if no_choices {
        let mut c = chunk(head, json!({}), None);
        c["choices"] = json!([]);
        vec![c]
    } else {
        vec![
            chunk(head, json!({"role": "assistant", "content": ""}), None),
            chunk(head, json!({}), Some("stop")),
        ]
    }
}

/// The final `stream_options.include_usage` chunk.
pub(crate) fn usage_chunk(head: &Head, answer: &Answer) -> Value {
    json!({"id": head.id, "object": "chat.completion.chunk", "created": head.created, "model": head.model,
           "choices": [], "usage": usage(head.prompt_tokens, answer.completion_tokens())})
}

/// An OpenAI-style error body; `type` defaults by status as OpenAI's do.
pub(crate) fn error_body(
    status: u16,
    message: Option<&str>,
    kind: Option<&str>,
    code: Option<&str>,
) -> Value {
    let (default_kind, default_code, default_message) = match status {
        401 => (
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided.",
        ),
        404 => ("invalid_request_error", None, "Not found."),
        429 => (
            "requests",
            Some("rate_limit_exceeded"),
            "Rate limit reached for requests.",
        ),
        400..=499 => ("invalid_request_error", None, "Invalid request."),
        _ => (
            "server_error",
            None,
            "The server had an error while processing your request.",
        ),
    };
    json!({"error": {
        "message": message.unwrap_or(default_message),
        "type": kind.unwrap_or(default_kind),
        "param": null,
        "code": code.or(default_code),
    }})
}

/// A deterministic unit vector from a hash of `text`: equal inputs give equal
/// vectors, and different inputs are almost surely far apart.
pub(crate) fn embedding(text: &str, dim: usize) -> Vec<f32> {
    // FNV-1a seeds splitmix64: stable across runs and platforms, unlike std's hasher.
    let mut state = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let raw: Vec<f64> = (0..dim)
        .map(|_| (next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
    raw.iter()
        .map(|x| if norm > 0.0 { (x / norm) as f32 } else { 0.0 })
        .collect()
}

/// The texts of an embeddings `input`: a string, an array of strings, or token
/// arrays (hashed by their decimal form).
pub(crate) fn embedding_inputs(input: &Value) -> Result<Vec<String>, String> {
    let tokens = |v: &Vec<Value>| -> Option<String> {
        v.iter()
            .map(|t| t.as_u64().map(|n| n.to_string()))
            .collect::<Option<Vec<_>>>()
            .map(|t| t.join(" "))
    };
    match input {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.is_empty() => Err("'input' must not be empty".into()),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()),
        Value::Array(items) if items.iter().all(Value::is_u64) => tokens(items)
            .map(|t| vec![t])
            .ok_or_else(|| "bad tokens".into()),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_array().and_then(tokens))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| "'input' must be a string, strings, or token arrays".into()),
        _ => Err("'input' must be a string, strings, or token arrays".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn head() -> Head {
        Head {
            id: "chatcmpl-sim-1".into(),
            created: 1,
            model: "m".into(),
            prompt_tokens: 3,
        }
    }

    fn call(i: usize, args: &str) -> Call {
        Call {
            id: format!("call_{i}"),
            name: format!("tool_{i}"),
            arguments: args.into(),
        }
    }

    /// Reassembles a stream the way a client does.
    fn reassemble(chunks: &[Value]) -> (String, Vec<(String, String, String)>, String) {
        let mut text = String::new();
        let mut calls: Vec<(String, String, String)> = Vec::new();
        let mut finish = String::new();
        for c in chunks {
            let ch = &c["choices"][0];
            let d = &ch["delta"];
            if let Some(s) = d["content"].as_str() {
                text.push_str(s);
            }
            for tc in d["tool_calls"].as_array().into_iter().flatten() {
                let i = tc["index"].as_u64().unwrap() as usize;
                if calls.len() <= i {
                    assert!(tc["id"].is_string(), "first chunk of a call carries its id");
                    calls.push(Default::default());
                }
                if let Some(id) = tc["id"].as_str() {
                    calls[i].0 = id.into();
                }
                if let Some(n) = tc["function"]["name"].as_str() {
                    calls[i].1.push_str(n);
                }
                if let Some(a) = tc["function"]["arguments"].as_str() {
                    calls[i].2.push_str(a);
                }
            }
            if let Some(f) = ch["finish_reason"].as_str() {
                finish = f.into();
            }
        }
        (text, calls, finish)
    }

    #[test]
    fn tool_call_only_stream_starts_with_header_in_role_chunk() {
        let a = Answer {
            text: None,
            calls: vec![call(0, r#"{"a":1}"#), call(1, "{}")],
        };
        let cs = chunks(&head(), &a, 2);
        let first = &cs[0]["choices"][0]["delta"];
        assert_eq!(first["role"], "assistant");
        assert!(first["content"].is_null());
        assert_eq!(first["tool_calls"][0]["function"]["name"], "tool_0");
        let (text, calls, finish) = reassemble(&cs);
        assert_eq!(text, "");
        assert_eq!(finish, "tool_calls");
        assert_eq!(
            calls,
            [
                ("call_0".into(), "tool_0".into(), r#"{"a":1}"#.into()),
                ("call_1".into(), "tool_1".into(), "{}".into())
            ]
        );
    }

    #[test]
    fn error_defaults_follow_status() {
        assert_eq!(
            error_body(429, None, None, None)["error"]["code"],
            "rate_limit_exceeded"
        );
        assert_eq!(
            error_body(503, None, None, None)["error"]["type"],
            "server_error"
        );
        let e = error_body(429, Some("额度已用完"), Some("insufficient_quota"), None);
        assert_eq!(e["error"]["type"], "insufficient_quota");
        assert_eq!(e["error"]["message"], "额度已用完");
    }

    #[test]
    fn embedding_inputs_forms() {
        assert_eq!(embedding_inputs(&json!("a")).unwrap(), ["a"]);
        assert_eq!(embedding_inputs(&json!(["a", "b"])).unwrap(), ["a", "b"]);
        assert_eq!(embedding_inputs(&json!([1, 2])).unwrap(), ["1 2"]);
        assert_eq!(
            embedding_inputs(&json!([[1], [2, 3]])).unwrap(),
            ["1", "2 3"]
        );
        assert!(embedding_inputs(&json!([])).is_err());
        assert!(embedding_inputs(&json!(["a", 1])).is_err());
        assert!(embedding_inputs(&json!({"a": 1})).is_err());
    }

    proptest! {
        #[test]
        fn stream_reassembles_to_the_completion(
            text in proptest::option::of("[a-z社区事务受理 ]{0,40}"),
            args in proptest::collection::vec("[{}\":,a-z0-9居委会]{0,30}", 0..3),
            n in 1usize..7,
        ) {
            let a = Answer { text: text.clone(), calls: args.iter().enumerate().map(|(i, s)| call(i, s)).collect() };
            let (t, calls, finish) = reassemble(&chunks(&head(), &a, n));
            prop_assert_eq!(t, text.unwrap_or_default());
            prop_assert_eq!(calls.len(), args.len());
            for (c, s) in calls.iter().zip(&args) { prop_assert_eq!(&c.2, s); }
            let full = completion(&head(), &a);
            prop_assert_eq!(full["choices"][0]["finish_reason"].as_str(), Some(finish.as_str()));
        }

        #[test]
        fn embeddings_are_unit_and_deterministic(s in ".{0,40}", dim in 1usize..64) {
            let v = embedding(&s, dim);
            prop_assert_eq!(v.len(), dim);
            let norm: f32 = v.iter().map(|x| x * x).sum();
            prop_assert!((norm - 1.0).abs() < 1e-4);
            prop_assert_eq!(v, embedding(&s, dim));
        }

        #[test]
        fn pieces_rejoin(s in ".{0,50}", n in 1usize..9) {
            let p = pieces(&s, n);
            prop_assert_eq!(p.concat(), s);
            prop_assert!(p.iter().all(|x| x.chars().count() <= n && !x.is_empty()));
        }
    }
}
