//! Library side of `zhiban tool list`. (`zhiban tool call` is assembled in `zhiban-api`, which
//! tokenises the operator's plaintext the way the agent side does and may start the reference
//! case system; neither belongs in the tool runtime.)

use crate::registry::Registry;
use serde_json::{Value, json};

/// `zhiban tool list`: every tool with its schemas, PII fields, access and timeout.
pub fn tool_list(registry: &Registry) -> Value {
    let tools: Vec<Value> = registry
        .iter()
        .map(|t| serde_json::to_value(t).unwrap_or(Value::Null))
        .collect();
    json!({"total": tools.len(), "tools": tools})
}
