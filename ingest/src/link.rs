//! Cross-document pass: resolves `supersedes` entries to the documents they name
//! (by 文号, else by title) and marks those as ended, amended or repealed.

use std::collections::HashMap;

use zhiban_knowledge::{DocKind, Document, EndReason};

use crate::docnum::{find_doc_numbers, normalize_doc_number};

/// Title normalised for matching: no blanks, no 《》, brackets unified.
pub fn norm_title(t: &str) -> String {
    t.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '《' | '》' | '"' | '“' | '”'))
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            _ => c,
        })
        .collect()
}

/// The "family" of a title: the same rule across revisions. Drops 关于印发…的通知
/// wrappers, parentheticals like （试行）/（2024年修订）, 暂行 and years.
pub fn title_family(t: &str) -> String {
    let mut s = t.to_string();
    if let (Some(a), Some(b)) = (s.find('《'), s.rfind('》'))
        && a < b
        && (s.contains("印发") || s.contains("转发"))
    {
        s = s[a + '《'.len_utf8()..b].to_string();
    }
    let mut s = norm_title(&s);
    // Remove parentheticals.
    while let (Some(a), Some(b)) = (s.find('（'), s.find('）')) {
        if a < b {
            s.replace_range(a..b + '）'.len_utf8(), "");
        } else {
            break;
        }
    }
    let s = s.replace("暂行", "").replace("试行", "");
    // Drop 4-digit years.
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if i + 4 < chars.len() + 1
            && chars[i..].iter().take(4).all(|c| c.is_ascii_digit())
            && chars.get(i + 4) == Some(&'年')
        {
            i += 5;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// One unresolved `supersedes` entry: (index of the document, the entry).
pub type Unresolved = (usize, String);

/// Resolves supersession across `docs` (policies only). Derived fields (`ended`,
/// `end_reason`, `superseded_by`) are recomputed from scratch, so reused documents
/// from an earlier run do not keep stale links. Returns the entries that named no
/// document in the set.
pub fn resolve_supersession(docs: &mut [Document]) -> Vec<Unresolved> {
    let policy: Vec<usize> = (0..docs.len())
        .filter(|&i| docs[i].meta.kind == Some(DocKind::Policy))
        .collect();
    for &i in &policy {
        let m = &mut docs[i].meta;
        m.ended = None;
        m.end_reason = None;
        m.superseded_by = None;
    }
    let mut by_number: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_title: HashMap<String, Vec<usize>> = HashMap::new();
    for &i in &policy {
        if let Some(n) = &docs[i].meta.doc_number {
            by_number
                .entry(normalize_doc_number(n))
                .or_default()
                .push(i);
        }
        by_title
            .entry(norm_title(&docs[i].meta.title))
            .or_default()
            .push(i);
        // A 印发 notice also answers to the title it publishes.
        let t = &docs[i].meta.title;
        if let (Some(a), Some(b)) = (t.find('《'), t.rfind('》'))
            && a < b
        {
            by_title.entry(norm_title(&t[a..b])).or_default().push(i);
        }
    }
    // (new, old, explicit): an explicit 废止 clause means 已废止; a silent newer
    // version of the same title means 已修订.
    let mut links: Vec<(usize, usize, bool)> = Vec::new();
    let mut unresolved = Vec::new();
    for &i in &policy {
        for entry in docs[i].meta.supersedes.clone() {
            let numbers: Vec<String> = find_doc_numbers(&entry)
                .into_iter()
                .map(|f| f.number)
                .collect();
            let title = match (entry.find('《'), entry.find('》')) {
                (Some(a), Some(b)) if a < b => entry[a + '《'.len_utf8()..b].to_string(),
                _ => entry.clone(),
            };
            let mut target = numbers
                .iter()
                .find_map(|n| by_number.get(n))
                .and_then(|v| v.iter().copied().find(|&j| j != i));
            if target.is_none() {
                target = by_title
                    .get(&norm_title(&title))
                    .and_then(|v| v.iter().copied().find(|&j| j != i));
            }
            match target {
                Some(j) => links.push((i, j, true)),
                None => unresolved.push((i, entry)),
            }
        }
    }
    // Same title, no explicit clause: a later version replaces an earlier one.
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for &i in &policy {
        groups
            .entry(norm_title(&docs[i].meta.title))
            .or_default()
            .push(i);
    }
    for (_, mut g) in groups {
        if g.len() < 2 {
            continue;
        }
        g.sort_by_key(|&i| docs[i].meta.valid_from());
        for w in g.windows(2) {
            let (old, new) = (w[0], w[1]);
            if docs[old].meta.valid_from().is_some()
                && docs[old].meta.valid_from() < docs[new].meta.valid_from()
                && !links.iter().any(|&(_, o, _)| o == old)
            {
                links.push((new, old, false));
            }
        }
    }
    for (new, old, explicit) in links {
        let Some(from) = docs[new].meta.valid_from() else {
            continue;
        };
        let new_id = docs[new].meta.doc_id.clone();
        // A new version of the same document is a 修订 even where it says the old one is
        // 废止 (…办法（沪民规〔2019〕7号）同时废止 in the 2024 办法 of that name); an explicit
        // clause against another title is a repeal.
        let same = title_family(&docs[new].meta.title) == title_family(&docs[old].meta.title);
        let amended = same
            && (!explicit
                || norm_title(&docs[new].meta.title) == norm_title(&docs[old].meta.title));
        let m = &mut docs[old].meta;
        if m.ended.is_some_and(|e| e <= from) {
            continue;
        }
        m.ended = Some(from);
        m.end_reason = Some(if amended {
            EndReason::Amended
        } else {
            EndReason::Repealed
        });
        m.superseded_by = Some(new_id);
    }
    unresolved
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use zhiban_knowledge::{DocumentMeta, Status};

    fn doc(title: &str, number: Option<&str>, eff: &str, supersedes: &[&str]) -> Document {
        let meta = DocumentMeta {
            kind: Some(DocKind::Policy),
            title: title.into(),
            doc_number: number.map(str::to_string),
            effective: NaiveDate::parse_from_str(eff, "%Y-%m-%d").ok(),
            supersedes: supersedes.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        Document::new(meta, vec![(None, vec![], title.to_string())])
    }

    #[test]
    fn by_number_and_title_with_reasons() {
        let mut docs = vec![
            doc(
                "上海市养老服务补贴管理办法",
                Some("沪民规〔2019〕8号"),
                "2019-07-01",
                &[],
            ),
            doc(
                "上海市养老服务补贴管理办法（2024年修订）",
                Some("沪民规〔2024〕3号"),
                "2024-05-01",
                &["《上海市养老服务补贴管理办法》（沪民规〔2019〕8号）"],
            ),
            doc("关于居家养护的通知", None, "2020-01-01", &[]),
            doc(
                "上海市残疾人居家养护办法",
                None,
                "2023-01-01",
                &["《关于居家养护的通知》", "《不存在的办法》"],
            ),
        ];
        let un = resolve_supersession(&mut docs);
        assert_eq!(un.len(), 1);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(docs[0].meta.ended, Some(d("2024-05-01")));
        assert_eq!(docs[0].meta.status_on(d("2026-11-29")), Status::Repealed);
        assert_eq!(docs[0].meta.status_on(d("2021-01-01")), Status::InForce);
        assert_eq!(
            docs[0].meta.superseded_by.as_deref(),
            Some(docs[1].meta.doc_id.as_str())
        );
        assert_eq!(docs[2].meta.status_on(d("2026-11-29")), Status::Repealed);
        assert_eq!(docs[1].meta.ended, None);
    }

    #[test]
    fn silent_new_version_amends() {
        let mut docs = vec![
            doc("上海市长期护理保险办法", None, "2022-01-01", &[]),
            doc("上海市长期护理保险办法", None, "2027-01-01", &[]),
        ];
        resolve_supersession(&mut docs);
        let d = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
        assert_eq!(docs[0].meta.status_on(d), Status::Amended);
        assert_eq!(docs[1].meta.ended, None);
    }

    #[test]
    fn family_ignores_wrappers() {
        assert_eq!(
            title_family("关于印发《上海市某某办法》的通知"),
            title_family("上海市某某办法（2024年修订）")
        );
        assert_eq!(
            title_family("上海市某某暂行办法"),
            title_family("上海市某某办法")
        );
    }
}
