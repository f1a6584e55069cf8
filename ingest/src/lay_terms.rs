//! The lay-vocabulary table: words residents say (`过世`, `多久`, `要不要钱`) and the words
//! rules print for the same thing (`死亡`, `期限 工作日`, `费用 免费`).
//!
//! Questions at a service-centre window share few words with the article that answers
//! them: "老人过世了补贴什么时候停" has none of 死亡 / 停止发放. The table is data
//! (`ingest/data/lay_terms.txt`, extended per source folder by a `lay_terms.txt` at its
//! root) and is stored in each snapshot beside the catalog's 事项 aliases, as a second
//! expansion table: a query keeps its own words at full weight and gains the statute's
//! at `LAY_TERM_WEIGHT` (zhiban-knowledge). Changing it needs a new ingest.

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
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let Some((lay, formal)) = line.split_once('=') else {
            continue;
        };
        if formal.trim().is_empty() {
            continue;
        }
        for w in lay.split('|').map(str::trim) {
            if w.chars().count() >= 2 {
                add(&mut out, w, formal);
            }
        }
    }
    out
}

/// Adds `more` to `table`: a lay word in both keeps the union of its statute words, so
/// a source folder's table (or a second folder carrying the same embedded one) extends
/// without repeating words.
pub fn extend(table: &mut BTreeMap<String, String>, more: BTreeMap<String, String>) {
    for (lay, formal) in more {
        add(table, &lay, &formal);
    }
}

fn add(table: &mut BTreeMap<String, String>, lay: &str, formal: &str) {
    let slot = table.entry(lay.to_string()).or_default();
    for f in formal.split_whitespace() {
        if !slot.split_whitespace().any(|s| s == f) {
            if !slot.is_empty() {
                slot.push(' ');
            }
            slot.push_str(f);
        }
    }
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
    fn extending_keeps_one_copy_of_each_word() {
        let mut t = parse("多久 = 期限 工作日\n");
        extend(&mut t, parse("多久 = 工作日 日内\n过世 = 死亡\n"));
        assert_eq!(t.get("多久").map(String::as_str), Some("期限 工作日 日内"));
        assert_eq!(t.get("过世").map(String::as_str), Some("死亡"));
    }

    #[test]
    fn the_embedded_table_reads_and_has_no_one_character_words() {
        let t = embedded();
        assert!(t.len() > 100, "{} entries", t.len());
        assert!(t.keys().all(|k| k.chars().count() >= 2));
        assert!(t.get("过世").is_some_and(|v| v.contains("死亡")));
    }
}
