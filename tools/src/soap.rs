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
    fn values_round_trip_through_envelopes() {
        let v = json!({"a": "x<&>\"y'", "n": 42, "f": 1.5, "b": false, "z": null, "arr": [1, "two", {"k": []}], "o": {}, "one": ["only"], "cn": "张三 丰"});
        let xml = response_envelope("op", &v);
        let el = body_element(&xml).unwrap();
        assert_eq!(el.name, "opResponse");
        assert_eq!(to_json(&el), v);
    }

    #[test]
    fn untyped_partner_xml_still_decodes() {
        let xml = r#"<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x:road_search xmlns:x="urn:a"><query>长&#23425;</query><roads><item><name>A</name></item></roads></x:road_search></s:Body></s:Envelope>"#;
        let el = body_element(xml).unwrap();
        assert_eq!(
            to_json(&el),
            json!({"query": "长宁", "roads": [{"name": "A"}]})
        );
        assert_eq!(
            action_operation("\"urn:zhiban:casesim#road_search\""),
            "road_search"
        );
    }

    #[test]
    fn coerce_types_untyped_values_by_schema() {
        let schema = json!({"type": "object", "properties": {"n": {"type": "integer"}, "b": {"type": "boolean"}, "a": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"}}}}, "e": {"type": "array"}}});
        let v = json!({"n": "42", "b": "true", "a": {"item": {"x": "1.5"}}, "e": "", "other": "7"});
        assert_eq!(
            coerce(v, &schema),
            json!({"n": 42, "b": true, "a": [{"x": 1.5}], "e": [], "other": "7"})
        );
    }

    #[test]
    fn malformed_xml_is_an_error_not_a_panic() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<soap:Envelope/>",
            "&&&",
            "<a>&bogus;</a>",
        ] {
            assert!(body_element(bad).is_err(), "{bad}");
        }
    }
}
