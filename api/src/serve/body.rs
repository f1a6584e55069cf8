//! Request bodies: JSON read by hand so that every malformed body gets the contract's error
//! (400 for bad JSON or nesting beyond 32, 422 for a well-formed body with wrong fields) instead
//! of axum's plain-text rejections.

use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Deepest nesting a body may have.
pub const MAX_DEPTH: usize = 32;

/// Nesting depth of a JSON text (brackets outside strings).
pub fn depth(bytes: &[u8]) -> usize {
    let (mut d, mut max, mut in_str, mut esc) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                d += 1;
                max = max.max(d);
            }
            b'}' | b']' => d = d.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parse a JSON body; an empty body is `{}`.
///
/// # Errors
/// 400 for bad JSON or deep nesting, 422 for the wrong shape.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    if depth(bytes) > MAX_DEPTH {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "too_deep",
            format!("请求体嵌套超过 {MAX_DEPTH} 层"),
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "请求体不是有效的 JSON：第 {} 行第 {} 列",
                e.line(),
                e.column()
            ),
        )
    })?;
    serde_json::from_value(value).map_err(|e| {
        let text = e.to_string();
        match unknown_field(&text) {
            Some(field) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                format!("不接受的字段：{field}（请对照接口文档，字段名区分大小写）"),
            ),
            None => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_fields",
                format!("请求字段有误：{text}"),
            ),
        }
    })
}

/// The field named by serde's "unknown field `x`, expected …" (at most 64 characters of it).
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let end = rest.find('`')?;
    Some(rest[..end].chars().take(64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_named_in_chinese() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct B {
            text: String,
        }
        let e = parse::<B>(br#"{"text": "a", "txet": 1}"#).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::UNPROCESSABLE_ENTITY, "unknown_field")
        );
        assert!(e.message.contains("不接受的字段：txet"), "{}", e.message);
        let e = parse::<B>(br#"{"text": 5}"#).unwrap_err();
        assert_eq!(e.code, "invalid_fields");
    }

    #[test]
    fn depth_ignores_brackets_inside_strings() {
        assert_eq!(depth(br#"{"a": "[[[[", "b": [1, {"c": 2}]}"#), 3);
        assert_eq!(depth(br#"{"a": "\"{{"}"#), 1);
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert_eq!(depth(deep.as_bytes()), 40);
    }
}
