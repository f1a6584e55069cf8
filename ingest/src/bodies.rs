//! The issuing bodies (发文机关) ingest knows by name, and splitting an issuer string into them.
//!
//! Covers and signature blocks print several issuers every way a typesetter or a scanner can:
//! one per line, separated by spaces, run together (上海市民政局上海市财政局), or joined by OCR'd
//! quote marks (上海市卫生健康委员会”上海市财政局“). Punctuation cannot be trusted to separate
//! them, so a string is split by the names in a table built from `data/` (the embedded
//! `ingest/data/bodies.txt`, extended per source folder by a `bodies.txt` at its root), and only
//! where no known name starts does a generic 机关 shape (…局, …委员会, …区人民政府) decide.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, LazyLock};

const EMBEDDED: &str = include_str!("../data/bodies.txt");

/// Suffixes an issuing body's name ends with; a piece of an issuer string that ends with none of
/// them is not a body.
const ORG_SUFFIXES: &[&str] = &[
    "人民政府",
    "办公厅",
    "办公室",
    "局",
    "委员会",
    "委",
    "厅",
    "部",
    "院",
    "署",
    "联合会",
    "总会",
    "中心",
    "协会",
    "公司",
    "银行",
    "法院",
    "检察院",
    "政府",
    "馆",
    "总工会",
    "工会",
    "妇联",
    "残联",
    "市委",
    "红十字会",
    "基金会",
];

/// Placeholders for a seal or a signature that stand next to an issuer's name.
const SEAL_MARKS: &[&str] = &[
    "（印章）",
    "(印章)",
    "【印章】",
    "[印章]",
    "（盖章）",
    "(盖章)",
    "【盖章】",
    "（章）",
    "（公章）",
    "印章",
];

/// Whether a line holds only a seal or signature placeholder (（印章）), which a 落款 skips.
pub fn is_seal_mark(line: &str) -> bool {
    let mut t: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() {
        return false;
    }
    for m in SEAL_MARKS {
        t = t.replace(m, "");
    }
    t.is_empty()
}

/// The sixteen districts of Shanghai, as their bodies' names begin.
const SHANGHAI_DISTRICTS: [&str; 16] = [
    "浦东新区",
    "黄浦区",
    "徐汇区",
    "长宁区",
    "静安区",
    "普陀区",
    "虹口区",
    "杨浦区",
    "闵行区",
    "宝山区",
    "嘉定区",
    "金山区",
    "松江区",
    "青浦区",
    "奉贤区",
    "崇明区",
];

/// Offices named only by what they are; in a run of names they belong to the body before.
const BARE_OFFICES: [&str; 2] = ["办公室", "办公厅"];

/// The table of known issuing bodies.
#[derive(Debug, Clone)]
pub struct Bodies {
    names: BTreeSet<String>,
    /// Abbreviations (`市人社局`) to the formal names they stand for.
    aliases: BTreeMap<String, String>,
    /// Longest name, in characters (bounds the prefix search).
    longest: usize,
}

static DEFAULT: LazyLock<Arc<Bodies>> = LazyLock::new(|| Arc::new(Bodies::parse(EMBEDDED)));

impl Default for Bodies {
    fn default() -> Self {
        (**DEFAULT).clone()
    }
}

impl Bodies {
    /// The embedded table, shared.
    pub fn embedded() -> Arc<Bodies> {
        DEFAULT.clone()
    }

    /// A table from text: one name per line, `#` comments, blank lines ignored.
    pub fn parse(text: &str) -> Bodies {
        let mut b = Bodies {
            names: BTreeSet::new(),
            aliases: BTreeMap::new(),
            longest: 0,
        };
        b.extend(text);
        b
    }

    /// Adds the names of `text` (same form as [`Bodies::parse`]).
    pub fn extend(&mut self, text: &str) {
        for line in text.lines() {
            let name = line.split('#').next().unwrap_or("").trim();
            // `简称 = 全称`: both are names, and the first stands for the second.
            if let Some((short, full)) = name.split_once('=') {
                let (short, full) = (short.trim(), full.trim());
                if short.chars().count() >= 2 && full.chars().count() >= 2 {
                    for n in [short, full] {
                        self.longest = self.longest.max(n.chars().count());
                        self.names.insert(n.to_string());
                    }
                    self.aliases.insert(short.to_string(), full.to_string());
                }
                continue;
            }
            if name.chars().count() >= 2 {
                self.longest = self.longest.max(name.chars().count());
                self.names.insert(name.to_string());
            }
        }
    }

    /// Repairs a known name that OCR misread by one character (`上悔市人力资源和社会保障局`,
    /// `二海市徐汇区民政局`). A span is repaired only where it starts a line or follows a
    /// blank or a mark, is not itself a known name, and exactly one known name of at least
    /// six characters lies one character away, so a correct name is never turned into
    /// another.
    pub fn repair_names(&self, line: &str) -> String {
        let chars: Vec<char> = line.chars().collect();
        let mut out = chars.clone();
        let mut at = 0;
        while at < chars.len() {
            let boundary = at == 0 || !is_han(chars[at - 1]);
            if !boundary || !is_han(chars[at]) {
                at += 1;
                continue;
            }
            let mut found: Option<&str> = None;
            let mut ambiguous = false;
            let mut exact = false;
            for name in &self.names {
                // An abbreviation is no repair target: `市退役军人局` is one character from
                // the words of `市退役军人困难…`.
                if name.starts_with('市') || self.aliases.contains_key(name) {
                    continue;
                }
                let n: Vec<char> = name.chars().collect();
                if n.len() < 6 || at + n.len() > chars.len() {
                    continue;
                }
                let window = &chars[at..at + n.len()];
                let diff = window.iter().zip(&n).filter(|(a, b)| a != b).count();
                if diff == 0 {
                    exact = true;
                    break;
                }
                if diff == 1 {
                    if found.is_some_and(|f| f != name) {
                        ambiguous = true;
                    }
                    found = Some(name);
                }
            }
            match found {
                Some(name) if !exact && !ambiguous => {
                    let n: Vec<char> = name.chars().collect();
                    out[at..at + n.len()].copy_from_slice(&n);
                    at += n.len();
                }
                _ => at += 1,
            }
        }
        out.into_iter().collect()
    }

    /// The formal name of one body as metadata gives it: an abbreviation of the table
    /// (`市人社局`) becomes the name it stands for, `市X` becomes `上海市X` where the
    /// table knows that name, and a Shanghai district body written without the city
    /// (`徐汇区民政局`, as district documents print their own 落款) gains `上海市`.
    ///
    /// ```
    /// use zhiban_ingest::bodies::Bodies;
    /// let b = Bodies::embedded();
    /// assert_eq!(b.formal_name("市人社局"), "上海市人力资源和社会保障局");
    /// assert_eq!(b.formal_name("市民政局"), "上海市民政局");
    /// assert_eq!(b.formal_name("徐汇区民政局"), "上海市徐汇区民政局");
    /// assert_eq!(b.formal_name("杨浦区政府办公室"), "上海市杨浦区人民政府办公室");
    /// assert_eq!(b.split("杨浦区政府办公室").unwrap(), ["杨浦区政府办公室"]);
    /// assert_eq!(b.formal_name("民政部"), "民政部");
    /// ```
    pub fn formal_name(&self, name: &str) -> String {
        if let Some(full) = self.aliases.get(name) {
            return full.clone();
        }
        if let Some(rest) = name.strip_prefix('市') {
            let full = format!("上海市{rest}");
            if self.names.contains(&full) {
                return full;
            }
        }
        if let Some(d) = SHANGHAI_DISTRICTS.iter().find(|d| name.starts_with(*d)) {
            // `杨浦区政府办公室` is how a page's table shortens 杨浦区人民政府办公室.
            let rest = &name[d.len()..];
            let rest = match rest.strip_prefix("政府") {
                Some(after) => format!("人民政府{after}"),
                None => rest.to_string(),
            };
            return format!("上海市{d}{rest}");
        }
        name.to_string()
    }

    /// [`Bodies::formal_name`] of each body of an issuer joined by "、".
    pub fn formal_issuer(&self, issuer: &str) -> String {
        let mut out: Vec<String> = Vec::new();
        for n in issuer.split('、').map(|n| self.formal_name(n.trim())) {
            if !n.is_empty() && !out.contains(&n) {
                out.push(n);
            }
        }
        out.join("、")
    }

    /// Whether `name` is in the table.
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Splits an issuer string into bodies, or `None` when some part of it is not a body (then
    /// the string is not an issuer line at all: a sentence, a title, a person's name).
    ///
    /// ```
    /// use zhiban_ingest::bodies::Bodies;
    /// let b = Bodies::embedded();
    /// assert_eq!(
    ///     b.split("上海市卫生健康委员会”上海市财政局“上海市民政局").unwrap(),
    ///     ["上海市卫生健康委员会", "上海市财政局", "上海市民政局"]
    /// );
    /// assert_eq!(b.split("上海市徐汇区民政局 上海市徐汇区财政局（印章）").unwrap().len(), 2);
    /// assert!(b.split("各区人民政府，市政府各委、办、局：").is_none());
    /// ```
    pub fn split(&self, s: &str) -> Option<Vec<String>> {
        let mut t = s.trim().to_string();
        for m in SEAL_MARKS {
            t = t.replace(m, " ");
        }
        let mut out = Vec::new();
        for piece in t.split(|c: char| {
            c.is_whitespace() || "、，,;；。“”\"‘’'「」『』【】〖〗[]·•/|".contains(c)
        }) {
            if piece.is_empty() {
                continue;
            }
            let chars: Vec<char> = piece.chars().collect();
            if !chars.iter().all(|c| is_han(*c) || "（）()".contains(*c)) {
                return None;
            }
            let mut parts = Vec::new();
            if !self.segment(&chars, 0, &mut parts, 0) {
                return None;
            }
            out.extend(parts);
        }
        (!out.is_empty()).then_some(out)
    }

    /// Depth-first: a known name starting at `at` (longest first), else the shortest generic
    /// body that lets the rest split too.
    fn segment(&self, chars: &[char], at: usize, out: &mut Vec<String>, depth: usize) -> bool {
        if at == chars.len() {
            return true;
        }
        if depth > 8 {
            return false;
        }
        let max = (chars.len() - at).min(self.longest.max(30));
        for len in (2..=max).rev() {
            let cand: String = chars[at..at + len].iter().collect();
            if self.names.contains(&cand) {
                out.push(cand);
                if self.segment(chars, at + len, out, depth + 1) {
                    return true;
                }
                out.pop();
            }
        }
        for len in 3..=(chars.len() - at).min(30) {
            let cand: String = chars[at..at + len].iter().collect();
            // A bare 办公室 is the office of the body before it, never a body of its own.
            if looks_like_body(&cand) && !(at > 0 && BARE_OFFICES.contains(&cand.as_str())) {
                out.push(cand);
                if self.segment(chars, at + len, out, depth + 1) {
                    return true;
                }
                out.pop();
            }
        }
        false
    }
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// A generic issuing body: a name of Han characters ending the way bodies' names end, and not
/// a phrase addressing bodies (各区人民政府, 市政府各委).
pub fn looks_like_body(s: &str) -> bool {
    let t = s.trim();
    let n = t.chars().count();
    (3..=30).contains(&n)
        && ORG_SUFFIXES.iter().any(|x| t.ends_with(x))
        && !t.starts_with('各')
        && !t.contains("各委")
        // Two names run together are two bodies, not one.
        && !["上海市", "中共", "国家", "中华人民共和国"]
            .iter()
            .any(|p| t.match_indices(p).any(|(i, _)| i > 0))
        && t.chars().all(|c| is_han(c) || "（）()".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_split_whatever_joins_them() {
        let b = Bodies::embedded();
        for s in [
            "上海市民政局上海市财政局",
            "上海市民政局 上海市财政局",
            "上海市民政局　　上海市财政局",
            "上海市民政局、上海市财政局",
            "上海市民政局“上海市财政局",
        ] {
            assert_eq!(b.split(s).unwrap(), ["上海市民政局", "上海市财政局"], "{s}");
        }
        assert_eq!(
            b.split("上海市人民政府办公厅").unwrap(),
            ["上海市人民政府办公厅"]
        );
    }

    #[test]
    fn unknown_bodies_split_by_their_shape() {
        let b = Bodies::embedded();
        assert_eq!(
            b.split("上海市徐汇区民政局上海市徐汇区财政局").unwrap(),
            ["上海市徐汇区民政局", "上海市徐汇区财政局"]
        );
    }

    #[test]
    fn sentences_and_people_are_not_bodies() {
        let b = Bodies::embedded();
        assert!(b.split("市长 龚某某").is_none());
        assert!(b.split("现予公布，自2025年1月1日起施行。").is_none());
        assert!(b.split("各区人民政府").is_none());
    }

    #[test]
    fn a_source_folder_table_extends_the_embedded_one() {
        let mut b = Bodies::default();
        assert!(!b.contains("上海市某某研究院"));
        b.extend("# 本目录补充\n上海市某某研究院\n");
        assert!(b.contains("上海市某某研究院"));
    }

    #[test]
    fn names_misread_by_one_character_are_repaired_only_when_unambiguous() {
        let b = Bodies::parse("上海市人力资源和社会保障局\n上海市民政局\n上海市财政局\n");
        assert_eq!(
            b.repair_names("上悔市人力资源和社会保障局文件"),
            "上海市人力资源和社会保障局文件"
        );
        // A correct name is never turned into its neighbour (民政 / 财政).
        assert_eq!(
            b.repair_names("上海市财政局 上海市民政局"),
            "上海市财政局 上海市民政局"
        );
        // Inside a word, nothing is touched.
        assert_eq!(
            b.repair_names("本上悔市人力资源和社会保障局"),
            "本上悔市人力资源和社会保障局"
        );
        // One character away from two names: ambiguous, left as read.
        assert_eq!(b.repair_names("上海市某政局"), "上海市某政局");
    }
}
