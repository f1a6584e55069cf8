//! The lay-vocabulary table: words residents say (`过世`, `多久`, `要不要钱`) and the words
//! rules print for the same thing (`死亡`, `期限 工作日`, `费用 免费`).
//!
//! Questions at a service-centre window share few words with the article that answers
//! them: "老人过世了补贴什么时候停" has none of 死亡 / 停止发放. The table is data
//! (`ingest/data/lay_terms.txt`, extended per source folder by a `lay_terms.txt` at its
//! root) and goes into the snapshot's query expansions next to the catalog's 事项
//! aliases, so a query keeps its own words at full weight and gains the statute's at the
//! expansion weight. It is built once per snapshot; changing it needs a new ingest.

use std::collections::BTreeMap;

const EMBEDDED: &str = include_str!("../data/lay_terms.txt");

/// The embedded table as `lay word → statute words` (space-separated).
pub fn embedded() -> BTreeMap<String, String> {
    parse(EMBEDDED)
}

/// Parses lines of the form `口语[|口语…] = 规范用语 …`; `#` starts a comment. Lines
/// without `=`, empty sides and one-character lay words are skipped (one character would
/// fire on nearly every question). A lay word listed twice keeps the union of its
/// statute words, in first-seen order.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((lay, formal)) = line.split_once('=') else {
            continue;
        };
        let formal: Vec<&str> = formal.split_whitespace().collect();
        if formal.is_empty() {
            continue;
        }
        for w in lay.split('|').map(str::trim) {
            if w.chars().count() < 2 {
                continue;
            }
            let slot = out.entry(w.to_string()).or_default();
            for f in &formal {
                if !slot.iter().any(|s| s == f) {
                    slot.push((*f).to_string());
                }
            }
        }
    }
    out.into_iter().map(|(k, v)| (k, v.join(" "))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_share_their_statute_words() {
        let t = parse("# 注释\n过世|去世 = 死亡 注销\n多久 = 期限\n多久 = 工作日 期限\n");
        assert_eq!(t.get("过世").map(String::as_str), Some("死亡 注销"));
        assert_eq!(t.get("去世").map(String::as_str), Some("死亡 注销"));
        assert_eq!(t.get("多久").map(String::as_str), Some("期限 工作日"));
    }

    #[test]
    fn malformed_lines_and_single_characters_are_skipped() {
        let t = parse("没有等号\n = 死亡\n钱 = 资金\n老人 =\n 老人 = 老年人 # 尾注\n");
        assert_eq!(t.len(), 1);
        assert_eq!(t.get("老人").map(String::as_str), Some("老年人"));
    }

    #[test]
    fn the_embedded_table_reads_and_has_no_one_character_words() {
        let t = embedded();
        assert!(t.len() > 100, "{} entries", t.len());
        assert!(t.keys().all(|k| k.chars().count() >= 2));
        assert!(t.get("过世").is_some_and(|v| v.contains("死亡")));
    }
}
