//! 文号 (document numbers): finding, normalising, and mapping prefixes to issuers.

use std::sync::LazyLock;

use regex::Regex;

use crate::numerals::parse_chinese_number;
use crate::re;

static BRACKET_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([\p{Han}A-Za-z]{1,16})\s*[〔\[［(（【{〖5]\s*((?:19|2[0O])[0-9O]{2})\s*[〕\]］)）】}〗]{1,2}\s*[.．·]?\s*(第?\s*[0-9O](?:\s?[0-9O]){0,3}\s*[号与弓])",
    )
});
static ORDER_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([\p{Han}]{2,24}?(?:人民政府|政府|国务院|部|委员会|局|厅|署|院))\s*令\s*[（(]?\s*第\s*([0-9一二三四五六七八九十百零〇]{1,6})\s*号",
    )
});
static ANNOUNCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([\p{Han}]{2,24}?人民代表大会常务委员会)\s*公告\s*(?:[〔\[［(（]\s*([^〕\]］)）]{1,10}?)\s*[〕\]］)）])?\s*第\s*([0-9一二三四五六七八九十百零〇]{1,6})\s*号",
    )
});
static YEAR_BRACKET_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"[\[［(（【{〖〔]\s*((?:19|20)\d{2})\s*[\]］)）】}〗〕]"));

/// Words that can precede a 文号 in running text and must not become part of it.
const LEAD_WORDS: [&str; 14] = [
    "根据", "按照", "依据", "依照", "印发", "文号", "字号", "发文", "编号", "转发", "关于", "的",
    "和", "及",
];

fn trim_prefix(prefix: &str) -> &str {
    let mut p = prefix;
    // A date or a closing mark right before the issuer name ends the previous phrase.
    if let Some((i, c)) = p
        .char_indices()
        .rfind(|(_, c)| "日月年》）)：:，,。、号".contains(*c))
    {
        p = &p[i + c.len_utf8()..];
    }
    for w in LEAD_WORDS {
        if let Some(i) = p.rfind(w) {
            // 中华人民共和国 is a name, not "A 和 B".
            if w == "和" && p[..i].ends_with('共') {
                continue;
            }
            p = &p[i + w.len()..];
        }
    }
    p
}

/// One 文号 found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDocNumber {
    /// Byte offset of the match.
    pub start: usize,
    /// Byte offset after the match.
    pub end: usize,
    /// Normalised form.
    pub number: String,
    /// Whether it stands in a citation (`《…》（沪府发〔2019〕8号）`), i.e. names
    /// another document.
    pub cited: bool,
}

fn number_text(n: &str) -> String {
    if n.chars().all(|c| c.is_ascii_digit()) {
        n.trim_start_matches('0').to_string()
    } else {
        parse_chinese_number(n)
            .map(|v| v.to_string())
            .unwrap_or_else(|| n.to_string())
    }
}

/// Normalises bracket variants `[]()（）［］【】` around the year to `〔〕` and drops
/// blanks: `沪人社规[2024] 12号` → `沪人社规〔2024〕12号`.
pub fn normalize_doc_number(s: &str) -> String {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    YEAR_BRACKET_RE.replace_all(&s, "〔${1}〕").into_owned()
}

/// Finds every 文号 in `text`: bracket form (`沪人社规〔2024〕12号`), orders
/// (`上海市人民政府令第31号`) and standing-committee announcements.
pub fn find_doc_numbers(text: &str) -> Vec<FoundDocNumber> {
    let mut out = Vec::new();
    let cited_at = |start: usize| -> bool {
        let before: String = text[..start].chars().rev().take(3).collect();
        // Reversed: "（》" means the number follows a 《title》 directly.
        let b: Vec<char> = before.chars().collect();
        b.first().is_some_and(|c| *c == '（' || *c == '(') && b.get(1).is_some_and(|c| *c == '》')
    };
    for c in BRACKET_RE.captures_iter(text) {
        let (Some(all), Some(pre), Some(year), Some(no)) = (c.get(0), c.get(1), c.get(2), c.get(3))
        else {
            continue;
        };
        let prefix = trim_prefix(pre.as_str());
        if prefix.is_empty() {
            continue;
        }
        let start = pre.start() + (pre.as_str().len() - prefix.len());
        // OCR reads 0 as O; the repair stands because the whole still reads as a 文号.
        let no_digits: String = no
            .as_str()
            .chars()
            .map(|c| if c == 'O' { '0' } else { c })
            .filter(|c| c.is_ascii_digit())
            .collect();
        let di = if no.as_str().contains('第') {
            "第"
        } else {
            ""
        };
        let number = format!(
            "{prefix}〔{}〕{di}{}号",
            year.as_str().replace('O', "0"),
            number_text(&no_digits)
        );
        out.push(FoundDocNumber {
            start,
            end: all.end(),
            number,
            cited: cited_at(start),
        });
    }
    for c in ORDER_RE.captures_iter(text) {
        let (Some(all), Some(pre), Some(no)) = (c.get(0), c.get(1), c.get(2)) else {
            continue;
        };
        let prefix = trim_prefix(pre.as_str());
        if prefix.chars().count() < 2 {
            continue;
        }
        let start = pre.start() + (pre.as_str().len() - prefix.len());
        // Written as printed (第31号 / 第三十一号): gold and citations keep the form.
        let number = format!("{prefix}令第{}号", no.as_str());
        out.push(FoundDocNumber {
            start,
            end: all.end(),
            number,
            cited: cited_at(start),
        });
    }
    for c in ANNOUNCE_RE.captures_iter(text) {
        let (Some(all), Some(pre), Some(no)) = (c.get(0), c.get(1), c.get(3)) else {
            continue;
        };
        let prefix = trim_prefix(pre.as_str());
        let session = c
            .get(2)
            .map(|s| format!("〔{}〕", s.as_str().trim()))
            .unwrap_or_default();
        let start = pre.start() + (pre.as_str().len() - prefix.len());
        let number = format!("{prefix}公告{session}第{}号", no.as_str());
        out.push(FoundDocNumber {
            start,
            end: all.end(),
            number,
            cited: cited_at(start),
        });
    }
    out.sort_by_key(|f| f.start);
    out
}

/// Whether a line is essentially just a 文号 (possibly with a label or brackets).
pub fn looks_like_doc_number_line(line: &str) -> bool {
    let t = line.trim();
    if t.chars().count() > 60 {
        return false;
    }
    let found = find_doc_numbers(t);
    let Some(f) = found.first() else { return false };
    let rest: String = format!("{}{}", &t[..f.start], &t[f.end..]);
    rest.chars()
        .filter(|c| !c.is_whitespace() && !"（）()〔〕[]【】：:文号发字".contains(*c))
        .count()
        <= 2
}

/// 文号 prefix → issuer, longest prefix first. Covers Shanghai bodies and the
/// national ones most often cited; unknown prefixes yield `None`.
const PREFIXES: &[(&str, &str)] = &[
    ("沪府办规", "上海市人民政府办公厅"),
    ("沪府办发", "上海市人民政府办公厅"),
    ("沪府办", "上海市人民政府办公厅"),
    ("沪府规", "上海市人民政府"),
    ("沪府发", "上海市人民政府"),
    ("沪府", "上海市人民政府"),
    ("沪人社", "上海市人力资源和社会保障局"),
    ("沪民", "上海市民政局"),
    ("沪残联", "上海市残疾人联合会"),
    ("沪医保", "上海市医疗保障局"),
    ("沪财", "上海市财政局"),
    ("沪卫健", "上海市卫生健康委员会"),
    ("沪卫", "上海市卫生健康委员会"),
    ("沪住建", "上海市住房和城乡建设管理委员会"),
    ("沪房", "上海市房屋管理局"),
    ("沪档", "上海市档案局"),
    ("沪公", "上海市公安局"),
    ("沪教委", "上海市教育委员会"),
    ("沪发改", "上海市发展和改革委员会"),
    ("沪税", "国家税务总局上海市税务局"),
    ("沪规划资源", "上海市规划和自然资源局"),
    ("沪司", "上海市司法局"),
    ("沪经信", "上海市经济和信息化委员会"),
    ("沪商务", "上海市商务委员会"),
    ("沪农委", "上海市农业农村委员会"),
    ("沪退役军人", "上海市退役军人事务局"),
    ("沪数据", "上海市数据局"),
    ("沪委办", "中共上海市委办公厅"),
    ("沪委", "中共上海市委"),
    ("国办发", "国务院办公厅"),
    ("国办函", "国务院办公厅"),
    ("国发", "国务院"),
    ("国函", "国务院"),
    ("人社部规", "人力资源社会保障部"),
    ("人社部发", "人力资源社会保障部"),
    ("人社部", "人力资源社会保障部"),
    ("民发", "民政部"),
    ("民政部", "民政部"),
    ("财社", "财政部"),
    ("医保发", "国家医疗保障局"),
    ("医保办发", "国家医疗保障局办公室"),
    ("残联发", "中国残疾人联合会"),
    ("建保", "住房和城乡建设部"),
    ("国卫", "国家卫生健康委员会"),
];

/// The issuer a 文号 implies: orders and announcements name it directly
/// (`上海市人民政府令第31号` → 上海市人民政府); bracket forms go through the prefix table.
pub fn issuer_from_doc_number(number: &str) -> Option<String> {
    if let Some(i) = number.find("令第") {
        return Some(number[..i].to_string());
    }
    if let Some(i) = number.find("公告") {
        return Some(number[..i].to_string());
    }
    let prefix = number.split('〔').next()?;
    PREFIXES
        .iter()
        .filter(|(p, _)| prefix.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, i)| i.to_string())
}

/// Repairs an OCR-damaged first character of a 文号 prefix (`六人社规` → `沪人社规`)
/// when the repaired prefix is known and its issuer appears in `issuer`.
pub fn repair_prefix(number: &str, issuer: &str) -> Option<String> {
    let prefix = number.split('〔').next()?;
    let mut chars = prefix.chars();
    chars.next()?;
    let tail = chars.as_str();
    let candidates: Vec<&(&str, &str)> = PREFIXES
        .iter()
        .filter(|(p, i)| {
            let mut pc = p.chars();
            pc.next();
            !tail.is_empty()
                && tail.starts_with(pc.as_str())
                && !pc.as_str().is_empty()
                && issuer.contains(i)
        })
        .collect();
    let best = candidates.iter().max_by_key(|(p, _)| p.len())?;
    let first = best.0.chars().next()?;
    Some(format!("{first}{}", &number[number.find(tail)?..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn first(s: &str) -> Option<String> {
        find_doc_numbers(s).into_iter().map(|f| f.number).next()
    }

    #[test]
    fn bracket_variants_normalise() {
        for s in [
            "沪人社规〔2024〕12号",
            "沪人社规[2024]12号",
            "沪人社规（2024）12号",
            "沪人社规(2024)12号",
            "沪人社规［2024］ 12 号",
            "沪人社规【2024】12号",
        ] {
            assert_eq!(first(s).as_deref(), Some("沪人社规〔2024〕12号"), "{s}");
        }
        assert_eq!(
            normalize_doc_number("沪民规 [2023] 5号"),
            "沪民规〔2023〕5号"
        );
    }

    #[test]
    fn orders_and_announcements() {
        assert_eq!(
            first("上海市人民政府令第31号").as_deref(),
            Some("上海市人民政府令第31号")
        );
        assert_eq!(
            first("（2021年5月10日上海市人民政府令 第 45 号公布）").as_deref(),
            Some("上海市人民政府令第45号")
        );
        assert_eq!(
            first("上海市人民政府令第三十一号").as_deref(),
            Some("上海市人民政府令第三十一号")
        );
        assert_eq!(
            first("上海市人民代表大会常务委员会公告〔十五届〕第12号").as_deref(),
            Some("上海市人民代表大会常务委员会公告〔十五届〕第12号")
        );
    }

    #[test]
    fn lead_words_are_trimmed_and_citations_flagged() {
        let f = find_doc_numbers("根据沪府发〔2019〕8号文件");
        assert_eq!(f[0].number, "沪府发〔2019〕8号");
        let f = find_doc_numbers("《上海市某某办法》（沪府发〔2019〕8号）同时废止");
        assert!(f[0].cited);
        let f = find_doc_numbers("沪府发〔2019〕8号");
        assert!(!f[0].cited);
    }

    #[test]
    fn issuers_from_prefixes() {
        assert_eq!(
            issuer_from_doc_number("沪人社规〔2024〕12号").as_deref(),
            Some("上海市人力资源和社会保障局")
        );
        assert_eq!(
            issuer_from_doc_number("沪府办规〔2024〕1号").as_deref(),
            Some("上海市人民政府办公厅")
        );
        assert_eq!(
            issuer_from_doc_number("沪残联〔2022〕30号").as_deref(),
            Some("上海市残疾人联合会")
        );
        assert_eq!(
            issuer_from_doc_number("上海市人民政府令第31号").as_deref(),
            Some("上海市人民政府")
        );
        assert_eq!(issuer_from_doc_number("浙某〔2024〕1号"), None);
    }

    #[test]
    fn ocr_prefix_repair_needs_a_matching_issuer() {
        assert_eq!(
            repair_prefix(
                "六人社规〔2025〕27号",
                "上海市人力资源和社会保障局、上海市财政局"
            )
            .as_deref(),
            Some("沪人社规〔2025〕27号")
        );
        assert_eq!(repair_prefix("六人社规〔2025〕27号", "上海市民政局"), None);
    }

    #[test]
    fn doc_number_lines() {
        assert!(looks_like_doc_number_line("沪人社规〔2024〕12号"));
        assert!(looks_like_doc_number_line("文号：沪人社规〔2024〕12号"));
        assert!(!looks_like_doc_number_line(
            "根据沪人社规〔2024〕12号文件精神，现就有关事项通知如下："
        ));
    }

    proptest! {
        #[test]
        fn any_bracket_form_normalises(year in 1990u32..2040, no in 1u32..300, open in 0usize..5) {
            let (o, c) = [("〔", "〕"), ("[", "]"), ("（", "）"), ("(", ")"), ("［", "］")][open];
            let s = format!("沪民规{o}{year}{c}{no}号");
            prop_assert_eq!(first(&s), Some(format!("沪民规〔{year}〕{no}号")));
        }

        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = find_doc_numbers(&s);
            let _ = looks_like_doc_number_line(&s);
        }
    }

    #[test]
    fn ocr_damaged_numbers_read_as_numbers() {
        let n = |s: &str| find_doc_numbers(s).first().map(|f| f.number.clone());
        assert_eq!(n("沪民规[2O17]4号").as_deref(), Some("沪民规〔2017〕4号"));
        assert_eq!(
            n("沪人社规（2O24）1 2号").as_deref(),
            Some("沪人社规〔2024〕12号")
        );
        assert_eq!(n("闵民发[2O2O]45号").as_deref(), Some("闵民发〔2020〕45号"));
        assert_eq!(n("徐民规 52024] 4号").as_deref(), Some("徐民规〔2024〕4号"));
        assert_eq!(
            n("沪民规 (2025] 11号").as_deref(),
            Some("沪民规〔2025〕11号")
        );
        assert_eq!(
            n("沪民规 (2025] .11号").as_deref(),
            Some("沪民规〔2025〕11号")
        );
        // A doubled closing mark, and 号 read as 与 or 弓: the bracketed year before it
        // is what makes the line a 文号.
        assert_eq!(
            n("沪退役军人规 【2026]】 2与").as_deref(),
            Some("沪退役军人规〔2026〕2号")
        );
        assert_eq!(n("沪民规〔2019〕3弓").as_deref(), Some("沪民规〔2019〕3号"));
        // A sum of money is no 文号.
        assert_eq!(n("补贴52024元"), None);
    }
}
