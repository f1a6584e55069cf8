//! SOAP 1.1 envelopes and the JSON ⇄ XML mapping used on the wire, shared by the
//! client adapters (`zhiban-tools`) and the reference case system (`zhiban-casesim`).
//!
//! Values carry `xsi:type` so that the mapping is lossless without a schema: strings are untyped
//! elements, `xsd:boolean` / `xsd:long` / `xsd:double` mark scalars, arrays are
//! `soapenc:Array` with `<item>` children, `xsi:nil="true"` is null and an empty object is
//! `cs:Map`. A partner that omits the types still decodes: children become an object (or an array
//! when they are all `<item>`), text becomes a string.

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use serde_json::{Map, Value};

/// Namespace of the simulated line-system operations.
pub const NS: &str = "urn:zhiban:casesim";
const ENVELOPE_OPEN: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:cs="urn:zhiban:casesim"><soap:Body>"#;
const ENVELOPE_CLOSE: &str = "</soap:Body></soap:Envelope>";

/// A parsed XML element (names without prefixes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// Local name.
    pub name: String,
    /// Attributes by local name.
    pub attrs: Vec<(String, String)>,
    /// Child elements in order.
    pub children: Vec<Element>,
    /// Concatenated text content.
    pub text: String,
}

impl Element {
    /// Attribute value by local name.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == local)
            .map(|(_, v)| v.as_str())
    }
    /// First child with this local name.
    pub fn child(&self, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == local)
    }
}

/// Why an XML document could not be read.
#[derive(Debug, thiserror::Error)]
#[error("XML 报文无法解析：{0}")]
pub struct XmlError(pub String);

fn local(name: &str) -> String {
    match name.rsplit_once(':') {
        Some((_, l)) => l.to_string(),
        None => name.to_string(),
    }
}

/// Parse a document into its root element.
///
/// # Errors
/// [`XmlError`] for malformed XML.
pub fn parse(xml: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element> = Vec::new();
    let err = |e: &dyn std::fmt::Display| XmlError(e.to_string());
    loop {
        match reader.read_event().map_err(|e| err(&e))? {
            Event::Start(s) => stack.push(start_element(&s)?),
            Event::Empty(s) => {
                let el = start_element(&s)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| XmlError("多余的结束标签".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&t.into_inner());
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(cur) = stack.last_mut() {
                    if let Some(c) = r.resolve_char_ref().map_err(|e| err(&e))? {
                        cur.text.push(c);
                    } else {
                        let name = r.into_inner();
                        let ch = match name.as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => return Err(XmlError(format!("未知实体 &{other};"))),
                        };
                        cur.text.push(ch);
                    }
                }
            }
            Event::Eof => return Err(XmlError("报文不完整".into())),
            _ => {}
        }
    }
}

fn start_element(s: &quick_xml::events::BytesStart<'_>) -> Result<Element, XmlError> {
    let mut el = Element {
        name: local(s.name().as_ref()),
        ..Element::default()
    };
    for a in s.attributes() {
        let a = a.map_err(|e| XmlError(e.to_string()))?;
        let v = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError(e.to_string()))?;
        el.attrs.push((local(a.key.as_ref()), v.into_owned()));
    }
    Ok(el)
}

/// Escape text for element content and attribute values.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// Append `value` as element `name` to `out`.
pub fn write_value(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => out.push_str(&format!("<{name} xsi:nil=\"true\"/>")),
        Value::Bool(b) => out.push_str(&format!("<{name} xsi:type=\"xsd:boolean\">{b}</{name}>")),
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            out.push_str(&format!("<{name} xsi:type=\"xsd:long\">{n}</{name}>"))
        }
        Value::Number(n) => out.push_str(&format!("<{name} xsi:type=\"xsd:double\">{n}</{name}>")),
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s))),
        Value::Array(items) => {
            out.push_str(&format!(
                "<{name} xsi:type=\"soapenc:Array\" soapenc:arrayType=\"xsd:anyType[{}]\">",
                items.len()
            ));
            for it in items {
                write_value(out, "item", it);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(m) if m.is_empty() => out.push_str(&format!("<{name} xsi:type=\"cs:Map\"/>")),
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in m {
                write_value(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
    }
}

/// Read an element back into JSON (see the module docs for the mapping).
pub fn to_json(el: &Element) -> Value {
    if el.attr("nil") == Some("true") {
        return Value::Null;
    }
    let ty = el.attr("type").map(|t| t.rsplit(':').next().unwrap_or(t));
    let text = el.text.trim();
    match ty {
        Some("boolean") => return Value::Bool(text == "true" || text == "1"),
        Some("long" | "int" | "integer" | "short") => {
            if let Ok(n) = text.parse::<i64>() {
                return Value::from(n);
            }
        }
        Some("double" | "decimal" | "float") => {
            if let Ok(n) = text.parse::<f64>() {
                return serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .unwrap_or(Value::Null);
            }
        }
        Some("Array") => return Value::Array(el.children.iter().map(to_json).collect()),
        Some("Map") if el.children.is_empty() => return Value::Object(Map::new()),
        _ => {}
    }
    if el.children.is_empty() {
        return Value::String(el.text.clone());
    }
    if el.children.iter().all(|c| c.name == "item") {
        return Value::Array(el.children.iter().map(to_json).collect());
    }
    let mut m = Map::new();
    for c in &el.children {
        m.insert(c.name.clone(), to_json(c));
    }
    Value::Object(m)
}

/// A request envelope for `operation` with the arguments as children.
pub fn request_envelope(operation: &str, args: &Value) -> String {
    let mut out = String::from(ENVELOPE_OPEN);
    if args.as_object().is_none_or(|m| m.is_empty()) {
        out.push_str(&format!(
            "<cs:{operation} xsi:type=\"cs:Map\"/>{ENVELOPE_CLOSE}"
        ));
        return out;
    }
    out.push_str(&format!("<cs:{operation}>"));
    if let Value::Object(m) = args {
        for (k, v) in m {
            write_value(&mut out, k, v);
        }
    }
    out.push_str(&format!("</cs:{operation}>"));
    out.push_str(ENVELOPE_CLOSE);
    out
}

/// A response envelope `<cs:{operation}Response>` holding the result's fields.
pub fn response_envelope(operation: &str, result: &Value) -> String {
    let mut out = String::from(ENVELOPE_OPEN);
    if result.as_object().is_none_or(|m| m.is_empty()) {
        out.push_str(&format!(
            "<cs:{operation}Response xsi:type=\"cs:Map\"/>{ENVELOPE_CLOSE}"
        ));
        return out;
    }
    out.push_str(&format!("<cs:{operation}Response>"));
    if let Value::Object(m) = result {
        for (k, v) in m {
            write_value(&mut out, k, v);
        }
    }
    out.push_str(&format!("</cs:{operation}Response>"));
    out.push_str(ENVELOPE_CLOSE);
    out
}

/// A SOAP 1.1 fault; `client` selects `soap:Client` (bad request) over `soap:Server`.
pub fn fault_envelope(client: bool, code: &str, message: &str) -> String {
    let fc = if client { "soap:Client" } else { "soap:Server" };
    format!(
        "{ENVELOPE_OPEN}<soap:Fault><faultcode>{fc}</faultcode><faultstring>{m}</faultstring><detail><cs:error><code>{c}</code><message>{m}</message></cs:error></detail></soap:Fault>{ENVELOPE_CLOSE}",
        m = escape(message),
        c = escape(code)
    )
}

/// The first element inside `soap:Body`.
///
/// # Errors
/// [`XmlError`] when the document is not an envelope with a body element.
pub fn body_element(xml: &str) -> Result<Element, XmlError> {
    let root = parse(xml)?;
    if root.name != "Envelope" {
        return Err(XmlError("根元素不是 soap:Envelope".into()));
    }
    let body = root
        .child("Body")
        .ok_or_else(|| XmlError("缺少 soap:Body".into()))?;
    body.children
        .first()
        .cloned()
        .ok_or_else(|| XmlError("soap:Body 为空".into()))
}

/// The operation named by a SOAPAction header value (`"urn:zhiban:casesim#op"`, `"…/op"` or `op`).
pub fn action_operation(action: &str) -> &str {
    let a = action.trim().trim_matches('"');
    a.rsplit(['#', '/']).next().unwrap_or(a)
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
    fn malformed_xml_is_an_error_not_a_panic() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<soap:Envelope/>",
            "&&&",
            "<a>&bogus;</a>",
        ] {
            assert!(matches!(body_element(bad), Err(XmlError(_))), "{bad}");
        }
    }
}
