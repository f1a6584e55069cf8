//! Cleaning of extracted text: page furniture (running headers/footers, page
//! numbers), hard line breaks, full-width letters and digits, and OCR confusions that
//! are unambiguous in context. Table rows (`a | b | c`) pass through untouched.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::dates::is_date_line;
use crate::labels::{LabelKind, parse_label, starts_structure};
use crate::re;

/// Full-width ASCII letters and digits to half-width; ideographic and no-break
/// spaces to plain spaces; CR removed. Chinese punctuation is kept.
pub fn normalize_width(s: &str) -> String {
    s.chars()
        .filter(|&c| c != '\r' && c != '\u{feff}')
        .map(|c| match c {
            '\u{ff10}'..='\u{ff19}' | '\u{ff21}'..='\u{ff3a}' | '\u{ff41}'..='\u{ff5a}' => {
                char::from_u32(c as u32 - 0xfee0).unwrap_or(c)
            }
            '\u{3000}' | '\u{a0}' | '\u{2002}' | '\u{2003}' | '\u{2009}' => ' ',
            _ => c,
        })
        .collect()
}

static PAGE_NO_RES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"^第\s*\d+\s*页\s*[,，/／]?\s*(共\s*\d+\s*页)?$",
        r"^共\s*\d+\s*页\s*[,，/／]?\s*第\s*\d+\s*页$",
        r"^[-—–－~～\s]*\d{1,3}[-—–－~～\s]*$",
        r"^\d{1,3}\s*/\s*\d{1,3}$",
        r"(?i)^page\s*\d+(\s*of\s*\d+)?$",
        r"^第\s*[一二三四五六七八九十]+\s*页$",
    ]
    .iter()
    .map(|p| re(p))
    .collect()
});

/// Whether a line is only a page number ("第 3 页 共 7 页", "- 3 -", "3/7").
pub fn is_page_number_line(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && PAGE_NO_RES.iter().any(|r| r.is_match(t))
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x9fff | 0xf900..=0xfaff | 0x3000..=0x303f | 0xff01..=0xff0f | 0xff1a..=0xff20)
        || "，。、；：？！“”‘’（）《》〔〕【】…—".contains(c)
}

/// Removes spaces that OCR and PDF extraction put between Chinese characters
/// (`上 海 市` → `上海市`). The separator after a leading article label is kept.
pub fn collapse_cjk_spaces(line: &str) -> String {
    // Only lines spaced the OCR way ("上 海 市") are collapsed; a single gap between
    // two names ("上海市民政局 上海市财政局") is meaningful and kept.
    let chars_: Vec<char> = line.chars().collect();
    let gaps = chars_
        .windows(3)
        .filter(|w| is_cjk(w[0]) && w[1] == ' ' && is_cjk(w[2]))
        .count();
    let cjk = chars_.iter().filter(|c| is_cjk(**c)).count();
    if gaps < 3 || gaps * 3 < cjk {
        return line
            .split(' ')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
    }
    let keep_until = parse_label(line)
        .filter(|l| {
            matches!(
                l.kind,
                LabelKind::Article | LabelKind::Chapter | LabelKind::Section | LabelKind::Part
            )
        })
        .map(|l| l.len)
        .unwrap_or(0);
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        if c == ' ' || c == '\t' {
            let mut j = i;
            while j < chars.len() && (chars[j].1 == ' ' || chars[j].1 == '\t') {
                j += 1;
            }
            let prev = out.chars().last();
            let next = chars.get(j).map(|x| x.1);
            let cjk_both = match (prev, next) {
                (Some(p), Some(n)) => {
                    (is_cjk(p) && (is_cjk(n) || n.is_ascii_digit()))
                        || (p.is_ascii_digit() && is_cjk(n))
                }
                _ => false,
            };
            if (keep_until > 0 && pos == keep_until) || !cjk_both {
                // Keep one separator (collapse runs of blanks to one space, except
                // table-like wide gaps which stay wide enough to read).
                out.push(' ');
            }
            i = j;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

static DAY_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(月\s*[0-9一二三四五六七八九十]{1,3}\s*)[曰目肯]"));
/// `办事指南` with its last character misread (指责, 指商, 指由): the fixed name of a
/// document form, so the repair makes a known word and nothing else.
static GUIDE_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"办事指[责商由甫角有雨]($|[》」』”\s（(])"));
static YI_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([^自利知异舍克由]|^)己(经|废止|修订|修改|失效|满|达到|办理|领取|参加|缴纳|享受|取得|登记|超过|退休|死亡|逾期|注销|停止)",
    )
});
static CN_YEAR_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"([〇○一二三四五六七八九Oo0]{4})(\s*年)"));
static AR_YEAR_RE: LazyLock<Regex> = LazyLock::new(|| re(r"([0-9OolI]{4})(\s*年)"));
static DI_RE: LazyLock<Regex> = LazyLock::new(|| re(r"笫"));
/// A line that ends inside a date: after its 年, its 月 or the first digit of its day.
static MID_DATE_END_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:\d{4}|[〇一二三四五六七八九]{4})\s*年(?:\s*[0-9一二三四五六七八九十]{1,3}\s*月)?\s*\d?$",
    )
});
/// A line that goes on with the rest of a date: the day's digits and 日, or a month.
static DATE_REST_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^\d{0,2}\s*[日曰目肯]|^\d{1,2}\s*月"));
/// Digits of a month or day that OCR spaced apart: `2025 年 6 月 1 4 日`.
static SPACED_DAY_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(年\s*\d{1,2}\s*月\s*)(\d)\s+(\d)(\s*[日曰目])"));
static SPACED_MONTH_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\d{4}\s*年\s*)(\d)\s+(\d)(\s*月)"));
/// A date whose month or day OCR read with O for 0 (`2024年6月2O曰`).
static MONTH_DAY_O_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(\d{4}\s*年\s*)([0-9O]{1,2})(\s*月\s*)([0-9O]{1,2})(\s*[日曰])"));
/// 上海市 with its first or second character misread, where a name begins.
static SHANGHAI_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(^|[^\p{Han}])(?:[二土工止]海|上[悔梅每晦])[市巿]"));
/// 关 misread in the opening of a title: `大于印发《…》的通知`.
static GUANYU_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:大于(印发|转发)|[夫美]于(印发|转发|做好|调整|开展|进一步|加强|实施|公布|修改|废止|明确|推进|建立|完善))",
    )
});
/// A quote mark OCR read in place of the blank after an article label that a lost
/// line break left mid-line: `…追究责任”第十条 本细则…`.
static GLUED_ARTICLE_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r#"[”"]\s*(第[一二三四五六七八九十百]{1,4}条)[ ，,“]"#));

/// Repairs OCR confusions only where the context makes the reading unambiguous:
/// `2024年5月1曰` → `日`, `己经/己废止` → `已…`, `二O二四年` → `二〇二四年`,
/// `2O24年` → `2024年`, `笫` → `第`.
pub fn repair_ocr(line: &str) -> String {
    let mut s = SPACED_MONTH_RE
        .replace_all(line, "${1}${2}${3}${4}")
        .into_owned();
    s = SPACED_DAY_RE
        .replace_all(&s, "${1}${2}${3}${4}")
        .into_owned();
    s = DAY_RE.replace_all(&s, "${1}日").into_owned();
    s = YI_RE.replace_all(&s, "${1}已${2}").into_owned();
    s = CN_YEAR_RE
        .replace_all(&s, |c: &regex::Captures<'_>| {
            let y = c.get(1).map(|m| m.as_str()).unwrap_or("");
            let real = y
                .chars()
                .filter(|c| "一二三四五六七八九".contains(*c))
                .count();
            if real >= 2 {
                let fixed: String = y
                    .chars()
                    .map(|c| if "Oo0○".contains(c) { '〇' } else { c })
                    .collect();
                format!("{fixed}{}", c.get(2).map(|m| m.as_str()).unwrap_or(""))
            } else {
                c.get(0).map(|m| m.as_str().to_string()).unwrap_or_default()
            }
        })
        .into_owned();
    s = AR_YEAR_RE
        .replace_all(&s, |c: &regex::Captures<'_>| {
            let whole = c.get(0).map(|m| m.as_str()).unwrap_or("");
            let y = c.get(1).map(|m| m.as_str()).unwrap_or("");
            let digits = y.chars().filter(|c| c.is_ascii_digit()).count();
            let start = c.get(0).map(|m| m.start()).unwrap_or(0);
            let glued_to_word = s[..start]
                .chars()
                .last()
                .is_some_and(|p| p.is_ascii_alphabetic());
            if (2..4).contains(&digits) && !glued_to_word {
                let fixed: String = y
                    .chars()
                    .map(|c| match c {
                        'O' | 'o' => '0',
                        'l' | 'I' => '1',
                        _ => c,
                    })
                    .collect();
                format!("{fixed}{}", c.get(2).map(|m| m.as_str()).unwrap_or(""))
            } else {
                whole.to_string()
            }
        })
        .into_owned();
    s = MONTH_DAY_O_RE
        .replace_all(&s, |c: &regex::Captures<'_>| {
            let g = |i: usize| c.get(i).map_or("", |m| m.as_str());
            format!(
                "{}{}{}{}日",
                g(1),
                g(2).replace('O', "0"),
                g(3),
                g(4).replace('O', "0")
            )
        })
        .into_owned();
    s = DI_RE.replace_all(&s, "第").into_owned();
    s = GUANYU_RE.replace_all(&s, "关于${1}${2}").into_owned();
    s = GUIDE_RE.replace_all(&s, "办事指南${1}").into_owned();
    s = SHANGHAI_RE.replace_all(&s, "${1}上海市").into_owned();
    // Stray quote marks or commas before an article label: "”第八条 …".
    let lead = s.trim_start_matches(['”', '“', '"', '，', ',', '、', '\'']);
    if lead.len() < s.len() && lead.starts_with('第') && parse_label(lead).is_some() {
        s = lead.to_string();
    }
    s
}

/// Breaks a line before an article label that OCR glued to the previous article
/// (`…追究责任”第十条 本细则…`): the quote mark stands where a line break was.
pub fn split_glued_articles(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut from = 0;
    for c in GLUED_ARTICLE_RE.captures_iter(line) {
        let (Some(all), Some(label)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if all.start() == 0 {
            continue;
        }
        out.push(line[from..all.start()].to_string());
        from = label.start();
    }
    out.push(line[from..].to_string());
    out
}

/// Splits a text into pages: at form feeds when present, otherwise after lines
/// that are page numbers. Page-number lines are dropped.
pub fn split_pages(text: &str) -> Vec<Vec<String>> {
    let mut pages: Vec<Vec<String>> = Vec::new();
    for raw_page in text.split('\u{c}') {
        let mut page: Vec<String> = Vec::new();
        for line in raw_page.lines() {
            if is_page_number_line(line) {
                if !text.contains('\u{c}') {
                    pages.push(std::mem::take(&mut page));
                }
                continue;
            }
            page.push(line.trim().to_string());
        }
        pages.push(page);
    }
    pages.retain(|p| p.iter().any(|l| !l.is_empty()));
    pages
}

fn furniture_key(line: &str) -> String {
    line.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

/// Drops running headers and footers: short lines that recur at the same edge (top
/// or bottom) of at least two pages and half of them. On the first page a line that
/// is the document's own 文号 or title is kept, since headers often repeat those.
pub fn remove_running_lines(pages: Vec<Vec<String>>) -> Vec<String> {
    const EDGE: usize = 3;
    let edges = |p: &Vec<String>| -> Vec<(usize, bool)> {
        let idx: Vec<usize> = p
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(i, _)| i)
            .collect();
        let mut v: Vec<(usize, bool)> = idx.iter().take(EDGE).map(|&i| (i, true)).collect();
        v.extend(idx.iter().rev().take(EDGE).map(|&i| (i, false)));
        v
    };
    let mut counts: HashMap<(String, bool), usize> = HashMap::new();
    for p in &pages {
        let mut seen = std::collections::HashSet::new();
        for (i, top) in edges(p) {
            let k = furniture_key(&p[i]);
            if k.chars().count() <= 40 && seen.insert((k.clone(), top)) {
                *counts.entry((k, top)).or_default() += 1;
            }
        }
    }
    let threshold = pages.len().div_ceil(2).max(2);
    let mut out = Vec::new();
    for (pi, p) in pages.iter().enumerate() {
        let e = edges(p);
        for (i, l) in p.iter().enumerate() {
            let k = furniture_key(l);
            let running = pages.len() >= 2
                && e.iter().any(|&(j, top)| {
                    j == i
                        && counts
                            .get(&(k.clone(), top))
                            .is_some_and(|&n| n >= threshold)
                })
                && !starts_structure(l)
                && !(pi == 0
                    && (crate::docnum::looks_like_doc_number_line(l)
                        || crate::meta::ends_like_title(l)));
            if !running {
                out.push(l.clone());
            }
        }
    }
    out
}

fn ends_sentence(line: &str) -> bool {
    let t = line.trim_end();
    let t = t.trim_end_matches(['”', '’', '」', '』', '"']);
    t.ends_with(['。', '！', '？', '；', '：', '!', '?', ';', ':', '…'])
}

fn is_table_row(line: &str) -> bool {
    line.contains(" | ")
}

fn is_heading_line(line: &str) -> bool {
    let t = line.trim();
    if t.starts_with('#') {
        return true;
    }
    match parse_label(t) {
        Some(l) => {
            matches!(
                l.kind,
                LabelKind::Part | LabelKind::Chapter | LabelKind::Section
            ) || (l.kind != LabelKind::Article
                && t.chars().count() <= 25
                && !t.contains(['，', '。', '；', ',']))
        }
        None => false,
    }
}

/// Rejoins hard-wrapped lines. A line is glued to the previous one when the
/// previous line filled the wrap width and did not end a sentence, unless the line
/// opens an article/heading/list item, is a 文号 or date line, or is a table row.
pub fn rejoin_lines(lines: &[String]) -> Vec<String> {
    let mut lens: Vec<usize> = lines
        .iter()
        .map(|l| l.chars().count())
        .filter(|&n| n > 0)
        .collect();
    lens.sort_unstable();
    let width = if lens.is_empty() {
        0
    } else {
        lens[(lens.len() * 9 / 10).min(lens.len() - 1)]
    };
    let min_fill = ((width * 3) / 4).max(10);
    let mut out: Vec<String> = Vec::new();
    let mut prev_blank = true;
    for line in lines {
        let t = line.trim();
        if t.is_empty() {
            prev_blank = true;
            continue;
        }
        let glue = !prev_blank
            && out.last().is_some_and(|p| {
                p.chars().count() >= min_fill
                    && !ends_sentence(p)
                    && !is_table_row(p)
                    && !is_heading_line(p)
                    && !is_table_row(t)
                    && !starts_structure(t)
                    && !is_date_line(t)
                    && !crate::docnum::looks_like_doc_number_line(t)
                    && !(t.ends_with(['：', ':']) && t.chars().count() <= 40)
            });
        // A date broken by the line (`…自2020年6月1` / `5日起施行`) is one date whatever
        // the lines' lengths.
        let glue = glue
            || out
                .last()
                .is_some_and(|p| MID_DATE_END_RE.is_match(p) && DATE_REST_RE.is_match(t));
        if glue {
            if let Some(p) = out.last_mut() {
                let pa = p.chars().last().is_some_and(|c| c.is_ascii_alphabetic());
                let ta = t.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
                if pa && ta {
                    p.push(' ');
                }
                p.push_str(t);
            }
        } else {
            if prev_blank && !out.is_empty() {
                // Keep paragraph breaks visible to later stages.
                out.push(String::new());
            }
            out.push(t.to_string());
        }
        prev_blank = false;
    }
    out
}

/// The full cleaning pass for policy text. Returns cleaned text, one paragraph or
/// structural line per line, paragraphs separated by blank lines where the source
/// had them.
pub fn clean_text(raw: &str) -> String {
    clean_text_with(raw, true)
}

/// [`clean_text`], with the rejoining of hard-wrapped lines as an option. Formats
/// whose lines are already paragraphs (an HTML block, a DOCX paragraph) turn it off:
/// a short line there is a heading or a menu, not half of a wrapped sentence.
pub fn clean_text_with(raw: &str, rejoin: bool) -> String {
    let norm = normalize_width(raw);
    let pages = split_pages(&norm);
    let lines = remove_running_lines(pages);
    let lines: Vec<String> = lines
        .iter()
        .flat_map(|l| {
            if is_table_row(l) {
                vec![l.trim().to_string()]
            } else {
                let line = repair_ocr(&collapse_cjk_spaces(l.trim()));
                if rejoin {
                    split_glued_articles(&line)
                        .into_iter()
                        .map(|p| repair_ocr(p.trim()))
                        .collect()
                } else {
                    vec![line]
                }
            }
        })
        .collect();
    let joined = if rejoin {
        // A date the rejoining made whole again gets the repairs its halves could not.
        rejoin_lines(&lines).iter().map(|l| repair_ocr(l)).collect()
    } else {
        lines
    };
    let mut out = joined.join("\n");
    // Collapse runs of blank lines.
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_broken_by_the_line_is_made_whole() {
        let raw =
            "第十三条  本办法自2O2O年6月1\n5日起施行，有效期至2025年6月14日。\n第十四条  其他。";
        let out = clean_text(raw);
        assert!(out.contains("本办法自2020年6月15日起施行"), "{out}");
        assert!(out.contains("\n第十四条"), "{out}");
        let out = clean_text("第十条 本办法自2025年11月1日起施行，有效期至2030年10月3\n1肯:");
        assert!(out.contains("有效期至2030年10月31日"), "{out}");
    }
    use proptest::prelude::*;

    #[test]
    fn width_normalisation_keeps_chinese_punctuation() {
        assert_eq!(
            normalize_width("２０２４年ＡＢｃ，。（一）"),
            "2024年ABc，。（一）"
        );
    }

    #[test]
    fn page_numbers() {
        for l in [
            "第 3 页 共 7 页",
            "- 3 -",
            "—12—",
            "第3页",
            "3/7",
            "共7页 第3页",
            "Page 2 of 9",
        ] {
            assert!(is_page_number_line(l), "{l}");
        }
        for l in ["第三条 内容", "2024年", "一、总则", "- 本办法 -"] {
            assert!(!is_page_number_line(l), "{l}");
        }
    }

    #[test]
    fn ocr_repairs_only_in_context() {
        assert_eq!(repair_ocr("2024年5月1曰起"), "2024年5月1日起");
        assert_eq!(repair_ocr("二〇二四年五月一曰"), "二〇二四年五月一日");
        assert_eq!(repair_ocr("子曰：学而时习之"), "子曰：学而时习之");
        assert_eq!(
            repair_ocr("有效期至2030年10月31肯"),
            "有效期至2030年10月31日"
        );
        assert_eq!(
            repair_ocr("死亡医学证明档案查询办事指责"),
            "死亡医学证明档案查询办事指南"
        );
        // Only the document form's name: 指责 elsewhere is a word.
        assert_eq!(repair_ocr("办事指责任清单"), "办事指责任清单");
        assert_eq!(
            repair_ocr("原办法己废止，本人己经办理"),
            "原办法已废止，本人已经办理"
        );
        assert_eq!(repair_ocr("自己经手的材料"), "自己经手的材料");
        assert_eq!(repair_ocr("二O二四年"), "二〇二四年");
        assert_eq!(repair_ocr("二0一九年"), "二〇一九年");
        assert_eq!(repair_ocr("2O24年"), "2024年");
        assert_eq!(repair_ocr("笫十条"), "第十条");
        assert_eq!(repair_ocr("HOOO年"), "HOOO年");
    }

    #[test]
    fn cjk_spaces() {
        assert_eq!(
            collapse_cjk_spaces("上 海 市 人 民 政 府"),
            "上海市人民政府"
        );
        assert_eq!(
            collapse_cjk_spaces("第 八 条 申 领 条 件"),
            "第八条 申领条件"
        );
        assert_eq!(
            collapse_cjk_spaces("上海市民政局 上海市财政局"),
            "上海市民政局 上海市财政局"
        );
        assert_eq!(collapse_cjk_spaces("use the API now"), "use the API now");
    }

    #[test]
    fn running_headers_and_page_numbers_are_removed() {
        let mut raw = String::new();
        for p in 1..=4 {
            raw.push_str("上海市人力资源和社会保障局文件\n");
            raw.push_str(&format!(
                "第{}条 这是第{p}页的正文内容。\n",
                crate::numerals::to_chinese_number(p)
            ));
            raw.push_str(&format!("第 {p} 页 共 4 页\n"));
        }
        let c = clean_text(&raw);
        assert!(!c.contains("保障局文件"), "{c}");
        assert!(!c.contains("页 共"), "{c}");
        assert!(c.contains("第四条 这是第4页的正文内容。"));
    }

    #[test]
    fn hard_breaks_are_rejoined_but_labels_kept() {
        let raw = "第一条 为了规范本市失业保险金的申领和发放工作，保障失业\n人员基本生活，根据有关规定，制定本办法。\n第二条 本办法适用于本市行政区域内参加失业保险\n的人员。\n（一）第一项内容。\n";
        let c = clean_text(raw);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines.len(), 3, "{c}");
        assert!(lines[0].ends_with("制定本办法。"));
        assert!(lines[1].starts_with("第二条"));
        assert!(lines[1].ends_with("的人员。"));
    }

    #[test]
    fn running_doc_number_header_keeps_the_first_page_copy() {
        let mut raw = String::from("关于某事的通知\n沪民规〔2019〕15号\n各区：\n");
        for p in 1..=3 {
            if p > 1 {
                raw.push_str("沪民规〔2019〕15号\n");
            }
            raw.push_str(&format!(
                "第{}条 正文内容。\n",
                crate::numerals::to_chinese_number(p)
            ));
            raw.push_str(&format!("第 {p} 页 共 3 页\n"));
        }
        let c = clean_text(&raw);
        assert_eq!(c.matches("沪民规〔2019〕15号").count(), 1, "{c}");
        assert!(
            c.starts_with("关于某事的通知\n沪民规〔2019〕15号\n各区："),
            "{c}"
        );
    }

    #[test]
    fn numbers_broken_across_lines_are_rejoined() {
        let raw =
            "第十条 本办法自2021年10月1日起施行，有效期至202\n6年12月31日。\n第十一条 其他规定。";
        assert!(clean_text(raw).contains("有效期至2026年12月31日。"));
    }

    #[test]
    fn tables_kept_as_rows() {
        let raw = "项目 | 标准 | 备注\n失业保险金 | 2175元 | 每月\n";
        assert_eq!(
            clean_text(raw),
            "项目 | 标准 | 备注\n失业保险金 | 2175元 | 每月"
        );
    }

    proptest! {
        #[test]
        fn cleaning_never_panics_and_is_idempotent_on_width(s in "\\PC{0,200}") {
            let once = normalize_width(&s);
            prop_assert_eq!(normalize_width(&once), once.clone());
            let _ = clean_text(&s);
        }
    }

    #[test]
    fn ocr_title_and_name_openings_are_repaired() {
        assert_eq!(
            repair_ocr("上海市民政局 上海市卫生健康委员会大于印发《某办法》的通知"),
            "上海市民政局 上海市卫生健康委员会关于印发《某办法》的通知"
        );
        assert_eq!(
            repair_ocr("”二海市徐汇区民政局关于开展"),
            "”上海市徐汇区民政局关于开展"
        );
        assert_eq!(
            repair_ocr("上悔市人力资源和社会保障局文件"),
            "上海市人力资源和社会保障局文件"
        );
        // Not at the start of a name: left alone.
        assert_eq!(repair_ocr("第二海市场"), "第二海市场");
        // "大于" is a word of its own elsewhere, before 调整 too.
        assert_eq!(repair_ocr("收入大于低保标准"), "收入大于低保标准");
        assert_eq!(
            repair_ocr("增幅不得大于调整前的标准"),
            "增幅不得大于调整前的标准"
        );
        assert_eq!(
            repair_ocr("夫于做好本区工作的通知"),
            "关于做好本区工作的通知"
        );
        assert_eq!(repair_ocr("”第八条 同一创业者"), "第八条 同一创业者");
        assert_eq!(repair_ocr("2O24年6月2O曰"), "2024年6月20日");
        assert_eq!(
            repair_ocr("有效期至2025 年 6 月 1 4 日。"),
            "有效期至2025 年 6 月 14日。"
        );
        assert_eq!(repair_ocr("2025年1 2月3日"), "2025年12月3日");
        assert_eq!(repair_ocr("二〇二〇年四月十六目"), "二〇二〇年四月十六日");
        // Digits apart outside a date stay apart.
        assert_eq!(repair_ocr("第1 2项"), "第1 2项");
        assert_eq!(repair_ocr("2O24年1O月1曰起施行"), "2024年10月1日起施行");
    }

    #[test]
    fn articles_glued_by_a_quote_mark_are_split() {
        let t = clean_text(
            "第九条 以虚假材料骗取补贴的，追回补贴资金，并依法追究责任”第十条 本细则自2019年11月1日起施行。",
        );
        assert_eq!(
            t.lines().collect::<Vec<_>>(),
            vec![
                "第九条 以虚假材料骗取补贴的，追回补贴资金，并依法追究责任",
                "第十条 本细则自2019年11月1日起施行。"
            ]
        );
        // A quoted reference to an article is not a break.
        let t = clean_text("依照本办法“第十条”规定办理。");
        assert_eq!(t, "依照本办法“第十条”规定办理。");
    }

    #[test]
    fn paragraph_formats_are_not_rejoined() {
        let raw = "上海市一网通办 个人服务 法人服务 主题服务 好差评 登录注册这一行很长很长\n最低生活保障申请办事指南\n事项编码：310100165000";
        assert_eq!(clean_text_with(raw, false).lines().count(), 3);
    }
}
