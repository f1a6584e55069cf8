//! Guides (Markdown with TOML front matter), cases (jsonl) and catalog records
//! (jsonl / csv) → documents.

use std::collections::BTreeMap;

use serde_json::Value;
use zhiban_knowledge::{DocKind, Document, DocumentMeta};

use crate::articles::RawChunk;
use crate::error::{Error, Result};
use crate::pii::{mask_name, mask_pii};

/// Splits `+++\nTOML\n+++\nbody` into (front matter table, body).
///
/// # Errors
/// [`Error::BadToml`] when the front matter is not valid TOML or not closed.
pub fn split_front_matter(text: &str) -> Result<Option<(toml::Table, &str)>> {
    let t = text.trim_start_matches('\u{feff}');
    let Some(rest) = t.strip_prefix("+++") else {
        return Ok(None);
    };
    let rest = rest
        .trim_start_matches([' ', '\t'])
        .strip_prefix('\n')
        .or_else(|| rest.strip_prefix("\r\n"))
        .unwrap_or(rest);
    let Some(end) = rest.find("\n+++") else {
        return Err(Error::BadToml("front matter 缺少结束的 +++ 行".into()));
    };
    let fm = &rest[..end];
    let body = rest[end + 4..].trim_start_matches(['\r', '\n']);
    let table: toml::Table = fm
        .parse()
        .map_err(|e: toml::de::Error| Error::BadToml(e.message().to_string()))?;
    Ok(Some((table, body)))
}

fn toml_str(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Array(a) => a.iter().map(toml_str).collect::<Vec<_>>().join("、"),
        other => other.to_string(),
    }
}

/// A guide: front matter fields go to `matter_codes`, `department` and `extra`;
/// every `##` section becomes a chunk labelled by its heading.
pub fn guide_document(source_file: &str, fm: &toml::Table, body: &str) -> Document {
    let mut meta = DocumentMeta {
        kind: Some(DocKind::Guide),
        source_file: source_file.to_string(),
        ..Default::default()
    };
    for (k, v) in fm {
        let s = toml_str(v);
        match k.as_str() {
            "title" => meta.title = s,
            "matter_code" | "matter_codes" => {
                meta.matter_codes = match v {
                    toml::Value::Array(a) => a.iter().map(toml_str).collect(),
                    _ => vec![s],
                }
            }
            "department" => meta.department = Some(s),
            "keywords" => {
                if let toml::Value::Array(a) = v {
                    meta.keywords = a.iter().map(toml_str).collect();
                }
            }
            _ => {
                meta.extra.insert(k.clone(), s);
            }
        }
    }
    let mut chunks: Vec<RawChunk> = Vec::new();
    let mut cur: Option<(String, String)> = None;
    let mut intro = String::new();
    for line in body.lines() {
        let t = line.trim_end();
        if let Some(h) = t.strip_prefix("## ") {
            if let Some((h0, text)) = cur.take() {
                chunks.push((Some(h0.clone()), vec![h0], text.trim().to_string()));
            }
            let h = h.trim().to_string();
            cur = Some((h.clone(), format!("{h}\n")));
            continue;
        }
        if t.starts_with("# ") && cur.is_none() && meta.title.is_empty() {
            meta.title = t[2..].trim().to_string();
            continue;
        }
        match cur.as_mut() {
            Some((_, text)) => {
                text.push_str(t);
                text.push('\n');
            }
            None => {
                intro.push_str(t);
                intro.push('\n');
            }
        }
    }
    if let Some((h, text)) = cur.take() {
        chunks.push((Some(h.clone()), vec![h], text.trim().to_string()));
    }
    let intro = intro.trim();
    if !intro.is_empty() {
        chunks.insert(0, (None, Vec::new(), intro.to_string()));
    }
    if meta.title.is_empty() {
        meta.title = meta
            .extra
            .get("matter_name")
            .cloned()
            .unwrap_or_else(|| source_file.to_string());
    }
    Document::new(meta, chunks)
}

fn jstr(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        Value::Array(a) => Some(
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| x.to_string())
                })
                .collect::<Vec<_>>()
                .join("、"),
        ),
        other => Some(other.to_string()),
    }
}

fn jlist(v: &Value, k: &str) -> Vec<String> {
    match v.get(k) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// One case line → a document: description paragraphs and the process are chunks,
/// tags go to `extra`. Personal data is masked first.
pub fn case_document(file: &str, line: usize, v: &Value) -> Result<Document> {
    let id = jstr(v, "case_id").ok_or_else(|| Error::BadRecord {
        line,
        message: "缺少 case_id 字段".into(),
    })?;
    let matter_name = jstr(v, "matter_name").unwrap_or_default();
    let mut meta = DocumentMeta {
        kind: Some(DocKind::Case),
        source_file: format!("{file}#{id}"),
        title: if matter_name.is_empty() {
            format!("案例 {id}")
        } else {
            format!("{matter_name}（案例 {id}）")
        },
        matter_codes: jlist(v, "matter_code"),
        ..Default::default()
    };
    if let Some(Value::Object(o)) = Some(v)
        && let Some(code) = o.get("matter_codes").and_then(|c| c.as_array())
    {
        meta.matter_codes
            .extend(code.iter().filter_map(|c| c.as_str().map(str::to_string)));
    }
    for k in [
        "case_id",
        "matter_name",
        "closed_on",
        "district",
        "center",
        "applicant_features",
        "case_tags",
        "material_tags",
    ] {
        if let Some(s) = jstr(v, k) {
            meta.extra.insert(k.to_string(), mask_pii(&s));
        }
    }
    // Tags are free text typed by staff ("代办（联系人…）"), so they are masked like `extra`:
    // keywords are indexed and shown just as chunks are.
    meta.keywords = [
        jlist(v, "case_tags"),
        jlist(v, "material_tags"),
        jlist(v, "applicant_features"),
    ]
    .concat()
    .iter()
    .map(|k| mask_pii(k))
    .collect();
    let mut chunks: Vec<RawChunk> = Vec::new();
    let desc = jstr(v, "description").unwrap_or_default();
    for p in desc.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        chunks.push((None, vec!["案例描述".into()], mask_pii(p)));
    }
    let steps = jlist(v, "process");
    if !steps.is_empty() {
        let text = steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {}", i + 1, mask_pii(s)))
            .collect::<Vec<_>>()
            .join("\n");
        chunks.push((None, vec!["办理过程".into()], format!("办理过程：\n{text}")));
    }
    if chunks.is_empty() {
        return Err(Error::BadRecord {
            line,
            message: format!("案例 {id} 没有描述也没有办理过程"),
        });
    }
    Ok(Document::new(meta, chunks))
}

const FIELD_NAMES: &[(&str, &str)] = &[
    ("code", "事项编码"),
    ("name", "名称"),
    ("department", "实施部门"),
    ("aliases", "常用名"),
    ("keywords", "关键词"),
    ("situations", "办理情形"),
    ("channels", "办理渠道"),
    ("guide_url", "办事指南"),
    ("material_id", "材料编号"),
    ("source_department", "来源部门"),
    ("sample", "样张说明"),
    ("exemption", "两免要求"),
    ("matter_codes", "适用事项"),
    ("ticket_id", "工单号"),
    ("matter_code", "事项编码"),
    ("problem", "问题"),
    ("handler", "经办人"),
    ("reported_at", "报告时间"),
    ("resolved_at", "解决时间"),
    ("resolution", "处理结果"),
];

fn label_of(k: &str) -> &str {
    FIELD_NAMES
        .iter()
        .find(|(f, _)| *f == k)
        .map(|(_, l)| *l)
        .unwrap_or(k)
}

/// One catalog record (a JSON object, or a CSV row turned into one) → a document
/// with a single chunk. Tickets have their free text masked and the handler's name
/// reduced to the surname.
pub fn catalog_document(file: &str, line: usize, v: &Value) -> Result<Document> {
    let Value::Object(o) = v else {
        return Err(Error::BadRecord {
            line,
            message: "记录不是 JSON 对象".into(),
        });
    };
    let record_type = jstr(v, "record_type").unwrap_or_else(|| {
        if o.contains_key("ticket_id") {
            "ticket".into()
        } else if o.contains_key("material_id") {
            "material".into()
        } else {
            "matter".into()
        }
    });
    let id = ["code", "material_id", "ticket_id", "id"]
        .iter()
        .find_map(|k| jstr(v, k))
        .unwrap_or_else(|| format!("L{line}"));
    let is_ticket = record_type == "ticket";
    let title = match record_type.as_str() {
        "ticket" => {
            let p = jstr(v, "problem").map(|p| mask_pii(&p)).unwrap_or_default();
            let short: String = p.chars().take(40).collect();
            format!("工单 {id}：{short}")
        }
        _ => jstr(v, "name").unwrap_or_else(|| id.clone()),
    };
    let mut meta = DocumentMeta {
        kind: Some(DocKind::Catalog),
        source_file: format!("{file}#{id}"),
        title,
        department: jstr(v, "department").or_else(|| jstr(v, "source_department")),
        matter_codes: {
            let mut m = jlist(v, "matter_codes");
            if let Some(c) = jstr(v, "matter_code") {
                m.push(c);
            }
            if record_type == "matter"
                && let Some(c) = jstr(v, "code")
            {
                m.push(c);
            }
            m
        },
        keywords: jlist(v, "keywords")
            .into_iter()
            .map(|k| if is_ticket { mask_pii(&k) } else { k })
            .collect(),
        ..Default::default()
    };
    meta.extra.insert("record_type".into(), record_type.clone());
    let mut lines = Vec::new();
    let mut extra = BTreeMap::new();
    for k in o.keys() {
        if k == "record_type" {
            continue;
        }
        let Some(mut s) = jstr(v, k) else { continue };
        if is_ticket {
            s = if k == "handler" {
                s.split(['、', ',', '，'])
                    .map(|n| mask_handler(n.trim()))
                    .collect::<Vec<_>>()
                    .join("、")
            } else {
                mask_pii(&s)
            };
        }
        if s.is_empty() {
            continue;
        }
        // Lists are joined with 、 (jstr), which the alias table splits again.
        extra.insert(k.clone(), s.clone());
        lines.push(format!("{}：{}", label_of(k), s));
    }
    meta.extra.extend(extra);
    Ok(Document::new(
        meta,
        vec![(None, Vec::new(), lines.join("\n"))],
    ))
}

/// Masks a handler entry: the name is reduced to its surname, an affiliation in
/// brackets (`彭庆丰（金山区…中心）`) is kept.
fn mask_handler(entry: &str) -> String {
    match entry.find(['（', '(']) {
        Some(i) => format!("{}{}", mask_name(entry[..i].trim()), &entry[i..]),
        None => mask_name(entry),
    }
}

/// Parses a CSV file (header row) into JSON objects, one per row, with 1-based
/// line numbers. Bad rows come back as errors in place.
pub fn csv_records(text: &str) -> Vec<(usize, Result<Value>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return vec![(
                1,
                Err(Error::BadRecord {
                    line: 1,
                    message: format!("CSV 表头无法读取：{e}"),
                }),
            )];
        }
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position().map(|p| p.line() as usize))
            .unwrap_or(i + 2);
        out.push((
            line,
            rec.map_err(|e| Error::BadRecord {
                line,
                message: format!("CSV 行无法解析：{e}"),
            })
            .map(|r| {
                let mut o = serde_json::Map::new();
                for (h, f) in headers.iter().zip(r.iter()) {
                    o.insert(h.trim().to_string(), Value::String(f.to_string()));
                }
                Value::Object(o)
            }),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_front_matter_and_sections() {
        let text = "+++\ntitle = \"失业登记—首次失业登记\"\nmatter_code = \"SQ-RS-001\"\nmatter_name = \"失业登记（本市户籍）\"\nsituation = \"首次失业登记\"\ndepartment = \"市人力资源社会保障局\"\nupdated = \"2026-03-15\"\n+++\n\n## 一、适用情形\n本市户籍人员。\n\n## 二、受理系统操作步骤\n1. 打开页面。\n";
        let (fm, body) = split_front_matter(text).unwrap().unwrap();
        let d = guide_document("guides/a.md", &fm, body);
        assert_eq!(d.meta.kind, Some(DocKind::Guide));
        assert_eq!(d.meta.matter_codes, vec!["SQ-RS-001"]);
        assert_eq!(d.meta.department.as_deref(), Some("市人力资源社会保障局"));
        assert_eq!(
            d.meta.extra.get("situation").map(String::as_str),
            Some("首次失业登记")
        );
        assert_eq!(d.chunks.len(), 2);
        assert_eq!(d.chunks[1].article.as_deref(), Some("二、受理系统操作步骤"));
        assert!(d.chunks[1].text.contains("打开页面"));
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        assert!(matches!(
            split_front_matter("+++\ntitle = \"x\"\n正文"),
            Err(Error::BadToml(_))
        ));
        assert!(split_front_matter("正文").unwrap().is_none());
    }

    #[test]
    fn case_is_masked() {
        let v: Value = serde_json::from_str(r#"{"case_id":"AL-2025-0001","matter_code":"SQ-RS-001","matter_name":"失业登记（本市户籍）","case_tags":["反复办理"],"process":["核对身份"],"description":"申请人张三丰来电13812345678。\n\n第二段。"}"#).unwrap();
        let d = case_document("cases/cases.jsonl", 1, &v).unwrap();
        assert_eq!(d.meta.source_file, "cases/cases.jsonl#AL-2025-0001");
        assert_eq!(d.chunks.len(), 3);
        assert!(d.chunks[0].text.contains("张**"));
        assert!(d.chunks[0].text.contains("[手机号]"));
        assert_eq!(
            d.meta.extra.get("case_tags").map(String::as_str),
            Some("反复办理")
        );
    }

    #[test]
    fn case_and_ticket_keywords_are_masked() {
        let v: Value = serde_json::from_str(r#"{"case_id":"AL-1","applicant_features":["代办（联系人张三丰13812345678）"],"case_tags":["反复办理"],"description":"申请人来电。"}"#).unwrap();
        let d = case_document("cases/cases.jsonl", 1, &v).unwrap();
        assert_eq!(
            d.meta.keywords,
            vec!["反复办理", "代办（联系人张**[手机号]）"]
        );
        let all_extra: String = d.meta.extra.values().cloned().collect();
        assert!(!all_extra.contains("13812345678") && !all_extra.contains("张三丰"));
        let v: Value = serde_json::from_str(
            r#"{"ticket_id":"T-1","problem":"问题","keywords":["回电13912345678"]}"#,
        )
        .unwrap();
        let d = catalog_document("catalog/tickets.jsonl", 1, &v).unwrap();
        assert_eq!(d.meta.keywords, vec!["回电[手机号]"]);
    }

    #[test]
    fn catalog_matter_and_ticket() {
        let v: Value = serde_json::from_str(r#"{"record_type":"matter","code":"SQ-MZ-031","name":"本市支援外地建设退休（职）回沪定居人员帮困补助","department":"市民政局","aliases":["支内回沪补贴","支内回沪帮困"]}"#).unwrap();
        let d = catalog_document("catalog/matters.jsonl", 1, &v).unwrap();
        assert_eq!(d.meta.source_file, "catalog/matters.jsonl#SQ-MZ-031");
        assert_eq!(d.meta.matter_codes, vec!["SQ-MZ-031"]);
        assert!(
            d.chunks[0]
                .text
                .contains("常用名：支内回沪补贴、支内回沪帮困")
        );
        let rows = csv_records(
            "ticket_id,matter_code,problem,handler,reported_at,resolved_at,resolution\nT-1,SQ-RS-001,申请人李四电话13912345678,王小明,2025-01-01,2025-01-02,已处理\n",
        );
        let v = rows[0].1.as_ref().unwrap();
        let d = catalog_document("catalog/tickets.csv", 2, v).unwrap();
        assert!(
            d.chunks[0].text.contains("经办人：王**"),
            "{}",
            d.chunks[0].text
        );
        assert!(d.chunks[0].text.contains("[手机号]"));
        assert!(!d.chunks[0].text.contains("李四"));
    }
}
