//! Where PII sits inside a tool's arguments and results.
//!
//! A tool's JSON Schema is the one place that declares a PII field: the property carries
//! `"x-pii": "<KIND>"`. [`pii_fields`] reads those marks into paths — `name`, `applicant.id_number`
//! (a nested object), `records[].name` (every element of an array), `phones[]` (an array of
//! strings) — and [`walk_mut`] / [`walk`] visit a JSON value with the same path syntax, so that the
//! runtime (opening and sealing) and the agent side (tokenising) agree on what a path means.
//!
//! ```
//! use serde_json::json;
//! use zhiban_tools::paths::{pii_fields, walk};
//!
//! let schema = json!({"type": "object", "properties": {
//!     "applicant": {"type": "object", "properties": {
//!         "id_number": {"type": "string", "x-pii": "ID_CARD"}}},
//!     "members": {"type": "array", "items": {"type": "object", "properties": {
//!         "name": {"type": "string", "x-pii": "NAME"}}}}}});
//! let paths: Vec<String> = pii_fields(&schema).into_iter().map(|f| f.path).collect();
//! assert_eq!(paths, ["applicant.id_number", "members[].name"]);
//!
//! let value = json!({"applicant": {"id_number": "x"}, "members": [{"name": "a"}, {"name": "b"}]});
//! let mut seen = Vec::new();
//! walk(&value, &mut |path, v| {
//!     if v.is_string() { seen.push(path.to_string()); }
//!     Ok::<_, ()>(true)
//! }).unwrap();
//! assert_eq!(seen, ["applicant.id_number", "members[].name", "members[].name"]);
//! ```

use crate::registry::PiiField;
use serde_json::Value;
use zhiban_pii::PiiKind;

/// Every `x-pii` mark in `schema`, as paths in document order.
pub fn pii_fields(schema: &Value) -> Vec<PiiField> {
    fn visit(schema: &Value, path: &mut String, out: &mut Vec<PiiField>) {
        if let Some(kind) = schema
            .get("x-pii")
            .and_then(Value::as_str)
            .map(|k| PiiKind::from_name(k).unwrap_or(PiiKind::Other))
        {
            out.push(PiiField {
                path: path.clone(),
                kind,
            });
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                let len = path.len();
                push_key(path, k);
                visit(sub, path, out);
                path.truncate(len);
            }
        }
        if let Some(items) = schema.get("items") {
            let len = path.len();
            path.push_str("[]");
            visit(items, path, out);
            path.truncate(len);
        }
    }
    let mut out = Vec::new();
    visit(schema, &mut String::new(), &mut out);
    out
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// Visits every node of `v` below the root, parents before children, with its path. The visitor
/// returns whether to descend into the node (ignored for strings, numbers, booleans and null);
/// it may replace the node.
///
/// # Errors
/// The first error the visitor returns.
pub fn walk_mut<E>(
    v: &mut Value,
    visit: &mut impl FnMut(&str, &mut Value) -> Result<bool, E>,
) -> Result<(), E> {
    fn children<E>(
        v: &mut Value,
        path: &mut String,
        visit: &mut impl FnMut(&str, &mut Value) -> Result<bool, E>,
    ) -> Result<(), E> {
        match v {
            Value::Object(m) => {
                for (k, child) in m.iter_mut() {
                    let len = path.len();
                    push_key(path, k);
                    node(child, path, visit)?;
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                let len = path.len();
                path.push_str("[]");
                for child in items.iter_mut() {
                    node(child, path, visit)?;
                }
                path.truncate(len);
            }
            _ => {}
        }
        Ok(())
    }
    fn node<E>(
        v: &mut Value,
        path: &mut String,
        visit: &mut impl FnMut(&str, &mut Value) -> Result<bool, E>,
    ) -> Result<(), E> {
        if visit(path, v)? {
            children(v, path, visit)?;
        }
        Ok(())
    }
    children(v, &mut String::new(), visit)
}

/// [`walk_mut`] for reading.
///
/// # Errors
/// The first error the visitor returns.
pub fn walk<E>(
    v: &Value,
    visit: &mut impl FnMut(&str, &Value) -> Result<bool, E>,
) -> Result<(), E> {
    fn node<E>(
        v: &Value,
        path: &mut String,
        visit: &mut impl FnMut(&str, &Value) -> Result<bool, E>,
        root: bool,
    ) -> Result<(), E> {
        if !root && !visit(path, v)? {
            return Ok(());
        }
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let len = path.len();
                    push_key(path, k);
                    node(child, path, visit, false)?;
                    path.truncate(len);
                }
            }
            Value::Array(items) => {
                let len = path.len();
                path.push_str("[]");
                for child in items {
                    node(child, path, visit, false)?;
                }
                path.truncate(len);
            }
            _ => {}
        }
        Ok(())
    }
    node(v, &mut String::new(), visit, true)
}

/// The kind declared for `path` among `fields`.
pub fn kind_at(fields: &[PiiField], path: &str) -> Option<PiiKind> {
    fields.iter().find(|f| f.path == path).map(|f| f.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_marks_become_paths_at_any_depth() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "x-pii": "NAME"},
            "note": {"type": "string"},
            "phones": {"type": "array", "items": {"type": "string", "x-pii": "MOBILE"}},
            "a": {"type": "object", "properties": {"b": {"type": "object", "properties": {
                "c": {"type": "string", "x-pii": "ADDRESS"}}}}},
            "odd": {"type": "string", "x-pii": "SOMETHING_NEW"}}});
        // Sorted: with serde_json's `preserve_order` (on in some builds) maps keep insertion order.
        let mut got: Vec<(String, PiiKind)> = pii_fields(&schema)
            .into_iter()
            .map(|f| (f.path, f.kind))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("a.b.c".to_string(), PiiKind::Address),
                ("name".to_string(), PiiKind::Name),
                ("odd".to_string(), PiiKind::Other),
                ("phones[]".to_string(), PiiKind::Mobile),
            ]
        );
    }

    #[test]
    fn walk_mut_can_replace_and_skip() {
        let mut v = json!({"a": {"b": "x"}, "list": [{"n": "1"}, {"n": "2"}], "skip": {"n": "3"}});
        walk_mut(&mut v, &mut |path, node| {
            if path == "skip" {
                return Ok::<_, ()>(false);
            }
            if let Value::String(s) = node {
                *s = format!("{path}={s}");
            }
            Ok(true)
        })
        .unwrap();
        assert_eq!(
            v,
            json!({"a": {"b": "a.b=x"}, "list": [{"n": "list[].n=1"}, {"n": "list[].n=2"}], "skip": {"n": "3"}})
        );
    }
}
