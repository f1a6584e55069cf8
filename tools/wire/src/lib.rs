//! The wire formats zhiban speaks with line-department systems: the SOAP 1.1
//! envelope ⇄ JSON mapping and the canonical JSON used for idempotency keys.
//!
//! It owns encoding only; it opens no connection and knows no tool. Both sides of
//! the wire — the adapters in `zhiban-tools` and the reference case system — use
//! this one codec, so they cannot drift apart.
#![warn(missing_docs)]

pub mod soap;

use serde_json::Value;

/// A canonical text form of a JSON value: object keys sorted at every level, no
/// whitespace. Equal values give equal strings, whatever their key order, so the
/// form can be hashed into an idempotency key.
pub fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical_json(&m[*k])))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical_json).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_form_ignores_key_order_only() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "张"}});
        let b = json!({"a": {"x": "张", "y": [1, 2]}, "b": 1});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        let c = json!({"a": {"x": "张", "y": [2, 1]}, "b": 1});
        assert_ne!(canonical_json(&a), canonical_json(&c));
    }
}
