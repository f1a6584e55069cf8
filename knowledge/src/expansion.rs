//! Query expansion from 常用名 / 代用名 to canonical 事项 names.
//!
//! Residents and clerks say "支内回沪补贴"; the policy says
//! "本市支援外地建设退休（职）回沪定居人员帮困补助". The catalog's alias table
//! (built by ingest) maps one to the other; a query that contains an alias gets the
//! canonical name appended, so both channels see the official wording too.

use serde::{Deserialize, Serialize};

/// Alias → canonical name table, longest alias first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryExpansion {
    entries: Vec<(String, String)>,
}

impl QueryExpansion {
    /// Builds the table; aliases shorter than two characters or equal to their
    /// canonical name are ignored, since they would fire on unrelated queries.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut entries: Vec<(String, String)> = pairs
            .into_iter()
            .map(|(a, c)| (a.trim().to_string(), c.trim().to_string()))
            .filter(|(a, c)| a.chars().count() >= 2 && !c.is_empty() && a != c)
            .collect();
        entries.sort_by(|a, b| {
            b.0.chars()
                .count()
                .cmp(&a.0.chars().count())
                .then_with(|| a.cmp(b))
        });
        entries.dedup();
        QueryExpansion { entries }
    }

    /// Number of aliases.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The pairs, longest alias first.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// The expanded query, or `None` when no alias occurs (or the canonical names
    /// are already present).
    pub fn expand(&self, query: &str) -> Option<String> {
        let mut out = query.to_string();
        let mut covered: Vec<&str> = Vec::new();
        for (alias, canonical) in &self.entries {
            if !query.contains(alias.as_str()) || query.contains(canonical.as_str()) {
                continue;
            }
            // A shorter alias inside a longer one already matched adds nothing.
            if covered.iter().any(|c| c.contains(alias.as_str()))
                || out.contains(canonical.as_str())
            {
                continue;
            }
            covered.push(alias);
            out.push(' ');
            out.push_str(canonical);
        }
        (out != query).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_adds_canonical_name_once() {
        let e = QueryExpansion::new([
            (
                "支内回沪补贴".to_string(),
                "本市支援外地建设退休（职）回沪定居人员帮困补助".to_string(),
            ),
            (
                "支内".to_string(),
                "本市支援外地建设退休（职）回沪定居人员帮困补助".to_string(),
            ),
            ("长护险".to_string(), "长期护理保险".to_string()),
        ]);
        let q = e.expand("支内回沪补贴怎么申请").unwrap();
        assert_eq!(q.matches("本市支援外地建设").count(), 1);
        assert!(e.expand("失业登记要带什么").is_none());
        assert!(e.expand("长期护理保险就是长护险吗").is_none());
        assert_eq!(e.expand("长护险登记").unwrap(), "长护险登记 长期护理保险");
    }

    #[test]
    fn single_characters_are_not_aliases() {
        let e = QueryExpansion::new([("补".to_string(), "补贴".to_string())]);
        assert!(e.is_empty());
    }
}
