//! SOAP 1.1 on the client side: the shared codec plus [`coerce`], which uses a tool's
//! result schema to type the values of partners that send untyped XML.

use serde_json::Value;
pub use zhiban_wire::soap::*;

/// Type `v` after `schema` where XML lost the type: numeric and boolean strings become numbers
/// and booleans, an empty element where an array is expected becomes `[]`, a lone `<item>`
/// wrapper becomes a one-element array.
pub fn coerce(v: Value, schema: &Value) -> Value {
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or(""),
        _ => "",
    };
    match (ty, v) {
        ("integer", Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::String(s)),
        ("number", Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::String(s)),
        ("boolean", Value::String(s)) => match s.trim() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => Value::String(s),
        },
        ("array", Value::String(s)) if s.trim().is_empty() => Value::Array(vec![]),
        ("array", Value::Object(m)) if m.len() == 1 && m.contains_key("item") => {
            let inner = m.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null);
            coerce(Value::Array(vec![inner]), schema)
        }
        ("array", Value::Array(items)) => {
            let item_schema = schema.get("items").cloned().unwrap_or(Value::Null);
            Value::Array(items.into_iter().map(|i| coerce(i, &item_schema)).collect())
        }
        ("object", Value::Object(m)) => {
            let props = schema.get("properties");
            Value::Object(
                m.into_iter()
                    .map(|(k, v)| {
                        let sub = props
                            .and_then(|p| p.get(&k))
                            .cloned()
                            .unwrap_or(Value::Null);
                        (k, coerce(v, &sub))
                    })
                    .collect(),
            )
        }
        (_, v) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coerce_types_untyped_values_by_schema() {
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}, "b": {"type": "boolean"}, "a": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"}}}}, "e": {"type": "array"}}});
        let v = json!({"n": "42", "b": "true", "a": {"item": {"x": "1.5"}}, "e": "", "other": "7"});
        assert_eq!(
            coerce(v, &schema),
            json!({"n": 42, "b": true, "a": [{"x": 1.5}], "e": [], "other": "7"})
        );
    }
}
