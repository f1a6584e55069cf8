//! Policy metadata extracted from cleaned text: title, 文号, issuer, level, dates,
//! explicit status, and the documents it repeals.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use zhiban_knowledge::{Level, Status};

use crate::bodies::{Bodies, is_seal_mark};
use crate::cover::{CoverKind, find_cover, issued_inner};
use crate::dates::{add_years_minus_day, find_dates, is_date_line, parse_date};
use crate::docnum::{
    find_doc_numbers, issuer_from_doc_number, looks_like_doc_number_line, normalize_doc_number,
};
use crate::labels::{LabelKind, parse_label};
use crate::numerals::parse_chinese_number;
use crate::re;

/// Metadata fields of one policy as extracted from its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyFields {
    /// Title without the 文号.
    pub title: Option<String>,
    /// Normalised 文号.
    pub doc_number: Option<String>,
    /// Issuer(s), joined by "、".
    pub issuer: Option<String>,
    /// 效力位阶.
    pub level: Option<Level>,
    /// 成文 / 公布 date.
    pub published: Option<NaiveDate>,
    /// 施行 date.
    pub effective: Option<NaiveDate>,
    /// 有效期至.
    pub expires: Option<NaiveDate>,
    /// Status stated explicitly in the text (已废止 …).
    pub status_override: Option<Status>,
    /// Documents repealed or replaced, as written (`《…》（沪府发〔2019〕8号）`).
    pub supersedes: Vec<String>,
}

/// A problem noticed while extracting metadata: `(line, message)`, 1-based line.
pub type MetaWarning = (Option<usize>, String);

/// Hints from the reader (an HTML `<h1>`, say) that beat text heuristics.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    /// Title as given by the container format.
    pub title: Option<String>,
    /// Issuing bodies known by name (default: the embedded table).
    pub bodies: Option<std::sync::Arc<Bodies>>,
}

#[derive(Debug, Default)]
struct Labeled {
    title: Option<String>,
    doc_number: Option<String>,
    issuer: Option<String>,
    source: Option<String>,
    written: Option<NaiveDate>,
    published: Option<NaiveDate>,
    /// A page's 更新时间: the 发布日期 only of a page that states no other date.
    updated: Option<NaiveDate>,
    effective: Option<NaiveDate>,
    expires: Option<NaiveDate>,
    level: Option<Level>,
    status: Option<Status>,
}

const FIELD_KEYS: &[(&str, &[&str])] = &[
    ("title", &["标题", "名称", "文件名称", "标 题", "文件标题"]),
    (
        "doc_number",
        &[
            "文号",
            "发文字号",
            "发文文号",
            "文件编号",
            "发文编号",
            "文 号",
        ],
    ),
    (
        "issuer",
        &[
            "发文机关",
            "发布机构",
            "发文单位",
            "发布单位",
            "制发机关",
            "发布机关",
            "发文机构",
            "主办单位",
            "联合发文",
            "联合发文单位",
            "联合发文机关",
            "主管部门",
        ],
    ),
    ("source", &["来源", "信息来源"]),
    ("written", &["成文日期", "成文时间", "印发日期"]),
    (
        "published",
        &["发布日期", "公布日期", "发布时间", "公开日期", "更新日期"],
    ),
    ("updated", &["更新时间"]),
    ("effective", &["施行日期", "实施日期", "生效日期"]),
    (
        "expires",
        &["有效期至", "失效日期", "有效期截止", "截止日期"],
    ),
    ("level", &["效力级别", "效力位阶", "法律效力位阶"]),
    ("status", &["时效性", "有效性", "效力状态", "时效状态"]),
];

fn key_of(k: &str) -> Option<&'static str> {
    let k: String = k.chars().filter(|c| !c.is_whitespace()).collect();
    FIELD_KEYS
        .iter()
        .find(|(_, names)| names.iter().any(|n| n.replace(' ', "") == k))
        .map(|(f, _)| *f)
}

fn set_labeled(l: &mut Labeled, field: &str, value: &str) {
    let v = value.trim();
    if v.is_empty() || v == "无" || v == "-" {
        return;
    }
    match field {
        "title" => l.title = l.title.take().or(Some(v.to_string())),
        "doc_number" => {
            l.doc_number = l.doc_number.take().or_else(|| {
                find_doc_numbers(v)
                    .first()
                    .map(|f| f.number.clone())
                    .or(Some(normalize_doc_number(v)))
            })
        }
        "issuer" => {
            l.issuer = l.issuer.take().or_else(|| {
                Some(
                    Bodies::embedded()
                        .split(v)
                        .map(|b| b.join("、"))
                        .unwrap_or_else(|| v.split_whitespace().collect::<Vec<_>>().join("、")),
                )
            })
        }
        "source" => l.source = l.source.take().or(Some(v.to_string())),
        "written" => l.written = l.written.or(parse_date(v)),
        "published" => l.published = l.published.or(parse_date(v)),
        "updated" => l.updated = l.updated.or(parse_date(v)),
        "effective" => l.effective = l.effective.or(parse_date(v)),
        "expires" => l.expires = l.expires.or(parse_date(v)),
        "level" => l.level = l.level.or(v.parse().ok()),
        "status" => l.status = l.status.or(v.parse().ok()),
        _ => {}
    }
}

/// A `键：` at the start of a line or after a blank.
static LINE_KEY_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:^|\s)(\p{Han}(?: ?\p{Han}){1,7})\s*[：:]\s*"));
/// A page footer naming who wrote the page: "本页内容由上海市人力资源和社会保障局提供".
pub(crate) static PROVIDED_BY_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:本页|本文|本栏目)?内容由([\p{Han}]{4,30}?)(?:提供|负责)"));

/// Reads `键：值` lines and `键 | 值 | 键 | 值` table rows (the 信息公开 box of
/// government pages).
fn labeled_fields(lines: &[&str]) -> Labeled {
    let mut l = Labeled::default();
    for line in lines {
        if line.contains(" | ") {
            let cells: Vec<&str> = line.split(" | ").map(str::trim).collect();
            let mut i = 0;
            while i < cells.len() {
                let cell = cells[i].trim_end_matches(['：', ':']);
                if let Some(f) = key_of(cell) {
                    if let Some(v) = cells.get(i + 1) {
                        set_labeled(&mut l, f, v);
                    }
                    i += 2;
                    continue;
                }
                // "文号：沪…" inside one cell.
                if let Some((k, v)) = cell.split_once(['：', ':'])
                    && let Some(f) = key_of(k)
                {
                    set_labeled(&mut l, f, v);
                }
                i += 1;
            }
            continue;
        }
        if line.chars().count() > 80 {
            continue;
        }
        // A line may hold several "键：值" pairs ("来源：市民政局 发布时间：2025-06-20
        // 字号：大 中 小"): each known key's value runs to the next key.
        let keys: Vec<(usize, usize, &str)> = LINE_KEY_RE
            .captures_iter(line)
            .filter_map(|c| {
                let k = c.get(1)?;
                Some((k.start(), c.get(0)?.end(), k.as_str()))
            })
            .collect();
        for (i, (_, value_start, key)) in keys.iter().enumerate() {
            let end = keys.get(i + 1).map_or(line.len(), |k| k.0);
            if let Some(f) = key_of(key) {
                set_labeled(&mut l, f, &line[*value_start..end]);
            }
        }
    }
    l
}

const TITLE_ENDINGS: &[&str] = &[
    "办法",
    "规定",
    "条例",
    "通知",
    "意见",
    "细则",
    "决定",
    "方案",
    "解读",
    "指南",
    "规则",
    "公告",
    "批复",
    "函",
    "问答",
    "答问",
    "说明",
    "须知",
    "规程",
    "标准",
    "目录",
    "清单",
    "通告",
    "纲要",
    "计划",
    "措施",
    "制度",
    "规范",
    "法",
    "答记者问",
    "一图读懂",
    "要点",
    "流程",
    "告知书",
    "口径",
    "常见问题",
];

static PAREN_SUFFIX_RE: LazyLock<Regex> = LazyLock::new(|| re(r"[（(][^（）()]{0,40}[）)]$"));
static TITLE_DOCNO_PAREN_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\s*[（(\[［〔]?[^（）()]{0,20}[〔\[［(（]\d{4}[〕\]］)）]\s*第?\d+号[）)\]］〕]?\s*$")
});
static SITE_SUFFIX_RE: LazyLock<Regex> = LazyLock::new(|| re(r"\s*[-_|—–]+\s*[^-_|—–]{2,30}$"));

/// Whether a line ends the way document titles do (办法, 通知, 解读 …).
pub fn ends_like_title(s: &str) -> bool {
    let mut t = s.trim().trim_end_matches(['。', ' ']).to_string();
    // Peel trailing parentheticals: （试行）（2024年修订）.
    for _ in 0..2 {
        let next = PAREN_SUFFIX_RE.replace(&t, "").into_owned();
        if next == t {
            break;
        }
        t = next;
    }
    let t = t.trim_end_matches(['》', '"', '”']);
    TITLE_ENDINGS.iter().any(|e| t.ends_with(e))
}

/// Whether a heading is only a title ending or a portal's name (`办事指南`, `政策解读`,
/// `上海市一网通办`): a page's section heading, not the title of its document.
pub fn is_bare_title_word(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix("上海市").unwrap_or(t);
    // No document is titled in five characters or fewer; section headings are
    // (办事指南, 政策解读, 常见问题, 通知公告).
    (t.chars().count() <= 5 && ends_like_title(t)) || t.ends_with("一网通办")
}

/// Removes a trailing 文号 in brackets and a site-name suffix from a title.
pub fn clean_title(t: &str) -> String {
    // A quote mark OCR left before the first character belongs to nothing.
    let mut s = t
        .trim()
        .trim_start_matches(['”', '’', '"', '\'', '“'])
        .trim()
        .to_string();
    if t.trim().starts_with('“') && t.contains('”') {
        s = t.trim().to_string();
    }
    // A page's <title> runs 标题_栏目_…_站点: peel segments until a title is left.
    if !ends_like_title(&s) {
        let mut peeled = s.clone();
        for _ in 0..4 {
            let next = SITE_SUFFIX_RE.replace(&peeled, "").into_owned();
            if next == peeled || next.trim().is_empty() {
                break;
            }
            peeled = next;
            if ends_like_title(&peeled) {
                s = peeled;
                break;
            }
        }
    }
    let stripped = TITLE_DOCNO_PAREN_RE.replace(&s, "").into_owned();
    if !stripped.trim().is_empty() {
        s = stripped;
    }
    // A bare 文号 glued to the end: "…的通知 沪人社规〔2024〕12号".
    if let Some(f) = find_doc_numbers(&s)
        .into_iter()
        .find(|f| f.end == s.len() && f.start > 0)
    {
        s.truncate(f.start);
    }
    // Status marks are metadata, not part of the title.
    let s = STATUS_MARK_RE.replace(s.trim(), "").trim().to_string();
    // 《…》 around the whole title only.
    if s.starts_with('《') && s.ends_with('》') && s.matches('《').count() == 1 {
        return s.trim_matches(['《', '》']).trim().to_string();
    }
    s
}

/// OCR debris (seal fragments, stray marks): short or mostly non-Chinese lines.
fn is_debris(t: &str) -> bool {
    let n = t.chars().filter(|c| !c.is_whitespace()).count();
    let han = t
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    n <= 2 || han * 10 < n * 7 || t.contains(['<', '>', '|', '~', '^', '_'])
}

fn is_skippable_head_line(line: &str) -> bool {
    let t = line.trim();
    t.is_empty()
        || is_debris(t)
        || looks_like_doc_number_line(t)
        || is_date_line(t)
        || t.starts_with(['（', '('])
        || t.ends_with(['：', ':'])
        || t.contains(" | ")
        || t.ends_with("文件")
        || matches!(
            t,
            "特急" | "加急" | "紧急" | "公开" | "主动公开" | "依申请公开" | "不予公开" | "签发人"
        )
        || key_of(t.split(['：', ':']).next().unwrap_or("")).is_some()
        || t.starts_with("索引号")
        || t.starts_with("签发")
        || is_breadcrumb(t)
}

/// A site's breadcrumb trail (`首页 / 办事服务 / 常见问题`, `首页 > 政务公开`).
fn is_breadcrumb(t: &str) -> bool {
    (t.starts_with("首页") || t.starts_with("当前位置") || t.starts_with("您的位置"))
        && t.contains(['>', '/', '›', '»', '＞'])
}

fn title_from_head(bodies: &Bodies, head: &[&str]) -> Option<String> {
    let mut group: Vec<&str> = Vec::new();
    for (i, line) in head.iter().enumerate() {
        let t = line.trim();
        if group.is_empty() {
            // 版头 issuers (one per line, or with 文件): part of the title only when the title's
            // 关于 follows on the next line.
            if bodies.split(t.trim_end_matches("文件")).is_some() {
                if head
                    .get(i + 1)
                    .is_some_and(|n| n.trim_start().starts_with("关于"))
                {
                    group.push(t);
                }
                continue;
            }
            if is_skippable_head_line(t)
                || t.starts_with("根据")
                || t.ends_with('。')
                || t.chars().count() > 80
            {
                continue;
            }
            if parse_label(t).is_some_and(|l| l.kind != LabelKind::Arabic) {
                break;
            }
            group.push(t);
            if ends_like_title(t) && !head.get(i + 1).is_some_and(|n| continues_title(t, n)) {
                break;
            }
        } else {
            if is_skippable_head_line(t) || group.len() >= 3 || parse_label(t).is_some() {
                break;
            }
            group.push(t);
            if ends_like_title(t) {
                break;
            }
        }
    }
    if group.is_empty() {
        return None;
    }
    // If the group never reached a title ending, only its first line is safe.
    let joined = group.concat();
    let title = if ends_like_title(&joined) {
        joined
    } else {
        group[0].to_string()
    };
    Some(clean_title(&title))
}

/// A second title line continues the first when the first stops inside a 《》 or
/// ends with 关于/的/和, or the next line is a parenthetical like （试行）.
fn continues_title(first: &str, next: &str) -> bool {
    let n = next.trim();
    let opened = first.matches('《').count() > first.matches('》').count();
    opened || matches!(n, "（试行）" | "(试行)" | "（修订）" | "（暂行）")
}

/// Finds the signature block: issuer lines directly above (or beside) the 成文
/// date near the end. Returns (issuers, date, line index of the date).
fn signature(bodies: &Bodies, lines: &[&str]) -> (Vec<String>, Option<NaiveDate>, Option<usize>) {
    let n = lines.len();
    let from = n.saturating_sub(14);
    for i in (from..n).rev() {
        let t = lines[i].trim();
        let date_here = if is_date_line(t) {
            parse_date(t)
        } else {
            // "上海市民政局 2024年4月22日" on one line.
            let f = find_dates(t);
            match f.as_slice() {
                // A seal fragment OCR read before the date: "则 2025年9月22日".
                [one]
                    if t[one.end..].trim().is_empty()
                        && (1..=2).contains(&t[..one.start].trim().chars().count())
                        && bodies.split(&t[..one.start]).is_none() =>
                {
                    one.date
                }
                [one] if t[one.end..].trim().is_empty() && one.start > 0 => {
                    match bodies.split(&t[..one.start]) {
                        Some(orgs) => return (orgs, one.date, Some(i)),
                        None => None,
                    }
                }
                _ => None,
            }
        };
        if let Some(d) = date_here {
            let mut orgs: Vec<String> = Vec::new();
            let mut j = i;
            while j > 0 && orgs.len() < 6 {
                j -= 1;
                let l = lines[j].trim();
                if l.is_empty() || is_seal_mark(l) {
                    continue;
                }
                match bodies.split(l) {
                    Some(mut o) => {
                        o.append(&mut orgs);
                        orgs = o;
                    }
                    None => break,
                }
            }
            return (orgs, Some(d), Some(i));
        }
    }
    // No date line: trailing org lines alone.
    let mut orgs = Vec::new();
    for l in lines.iter().rev().filter(|l| !is_seal_mark(l)).take(3) {
        if let Some(mut o) = bodies.split(l) {
            o.append(&mut orgs);
            orgs = o;
        } else if !orgs.is_empty() {
            break;
        }
    }
    (orgs, None, None)
}

static EFFECT_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"[自于从]\s*([^，。；,;]{0,24}?)\s*(?:起|开始)\s*(?:正式)?(?:施行|实施|执行|生效)")
});
static VALID_UNTIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?:有效期|执行期|试行期|实施期)限?(?:为|暂定为)?(?:至|到|截至|截止到|截止于|截止)\s*([^，。；,;）)]{4,20})|(?:施行|执行|实施|试行)至\s*([^，。；,;）)]{4,20}?)止?(?:[，。；,;]|$)|有效期(?:为)?自[^，。；至]{4,20}至\s*([^，。；,;）)]{4,20})",
    )
});
static VALID_YEARS_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"有效期(?:为|暂定为|暂定)?\s*([0-9一二三四五六七八九十两]{1,3})\s*年"));
static SUPERSEDE_WORD_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:同时|予以|即行|相应)?(?:废止|停止执行|不再执行|同时失效|停止施行)"));
static CITED_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"《([^》]{2,80})》\s*(?:[（(]([^（）()]{2,40})[）)])?"));
static ORIGINAL_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"原([^，。；《》]{4,60}?)(?:同时|予以|即行)?(?:废止|停止执行|不再执行)"));
static STATUS_MARK_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"[（(【\[]\s*(已废止|已失效|已修订|已修改|失效|废止)\s*[）)】\]]"));

fn sentence_has_subject(s: &str) -> bool {
    [
        "本办法",
        "本规定",
        "本通知",
        "本细则",
        "本条例",
        "本意见",
        "本决定",
        "本方案",
        "本规则",
        "本实施",
        "本文件",
        "本政策",
        "本标准",
        "本指南",
        "本公告",
        "本措施",
        "本制度",
    ]
    .iter()
    .any(|w| s.contains(w))
}

/// Splits text into sentences (at 。；！？ and line breaks).
fn sentences(text: &str) -> Vec<&str> {
    text.split(['。', '；', '！', '？', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The date in a note like "（2021年5月10日上海市人民政府令第45号公布）": a date
/// followed by 公布/发布/印发 in the same clause, with no 通过 in between (the
/// meeting that passed a rule is not its publication).
fn publication_note_date(line: &str) -> Option<NaiveDate> {
    for f in find_dates(line) {
        let rest = &line[f.end..];
        let clause = rest.split(['，', '。', '；', ' ']).next().unwrap_or(rest);
        if ["公布", "发布", "印发"].iter().any(|w| clause.contains(w)) && !clause.contains("通过")
        {
            return f.date;
        }
    }
    None
}

/// The date of the current text in a 题注 that records a history (（2010年…通过 根据2016年…
/// 第一次修正 2023年…修订）): the latest date followed by 修正 / 修订 / 公布 in its clause.
fn revision_note_date(line: &str) -> Option<NaiveDate> {
    revision_note(line).map(|(d, _)| d)
}

/// The latest clause of a history 题注: its date and the 文号 it names (令第19号修订).
fn revision_note(line: &str) -> Option<(NaiveDate, Option<String>)> {
    let t = line.trim();
    if !t.starts_with(['（', '(']) || !(t.contains("修正") || t.contains("修订")) {
        return None;
    }
    let found = find_dates(t);
    found
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let end = found.get(i + 1).map_or(t.len(), |n| n.start);
            let clause = &t[f.end..end];
            let d = f.date?;
            ["修正", "修订", "公布", "修改"]
                .iter()
                .any(|w| clause.contains(w))
                .then(|| {
                    (
                        d,
                        find_doc_numbers(clause).first().map(|n| n.number.clone()),
                    )
                })
        })
        .max_by_key(|(d, _)| *d)
}

fn effective_from_text(text: &str, published: Option<NaiveDate>) -> Option<NaiveDate> {
    let mut best: Option<(bool, NaiveDate)> = None;
    for sent in sentences(text) {
        for c in EFFECT_RE.captures_iter(sent) {
            let Some(what) = c.get(1).map(|m| m.as_str()) else {
                continue;
            };
            let date = if let Some(d) = parse_date(what) {
                Some(d)
            } else if [
                "印发之日",
                "发布之日",
                "公布之日",
                "发文之日",
                "颁布之日",
                "下发之日",
                "印发日",
                "发布日",
            ]
            .iter()
            .any(|w| what.contains(w))
            {
                published
            } else {
                None
            };
            if let Some(d) = date {
                let subj =
                    sentence_has_subject(sent) || sent.starts_with("自") || sent.starts_with("本");
                // Prefer sentences about this document; among equals, the last one.
                if best.is_none_or(|(s, _)| subj || !s) {
                    best = Some((subj, d));
                }
            }
        }
    }
    best.map(|(_, d)| d)
}

fn expiry_from_text(text: &str, effective: Option<NaiveDate>) -> Option<NaiveDate> {
    // Only sentences about this document: "本办法…有效期至…" or a sentence that
    // opens with 有效期 / 施行 wording; "残疾人证有效期为10年" is about something else.
    let about_doc = |s: &str| {
        sentence_has_subject(s)
            || s.starts_with("有效期")
            || s.contains("起施行")
            || s.contains("起实施")
            || s.contains("起执行")
    };
    let sents: Vec<&str> = sentences(text)
        .into_iter()
        .filter(|s| about_doc(s))
        .collect();
    for s in &sents {
        if let Some(d) = VALID_UNTIL_RE.captures_iter(s).find_map(|c| {
            c.get(1)
                .or(c.get(2))
                .or(c.get(3))
                .and_then(|m| parse_date(m.as_str()))
        }) {
            return Some(d);
        }
    }
    for s in &sents {
        if let Some(c) = VALID_YEARS_RE.captures(s) {
            let n = c.get(1)?.as_str();
            let years = if n.chars().all(|c| c.is_ascii_digit()) {
                n.parse().ok()?
            } else {
                parse_chinese_number(n)?
            };
            return add_years_minus_day(effective?, u32::try_from(years).ok()?);
        }
    }
    None
}

/// `《…》（…）同时废止` and `原…停止执行` clauses, as written.
pub fn supersedes_from_text(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sent in sentences(text) {
        if !SUPERSEDE_WORD_RE.is_match(sent) {
            continue;
        }
        for clause in sent.split(['，', ',']) {
            let Some(m) = SUPERSEDE_WORD_RE.find(clause) else {
                continue;
            };
            let before = &clause[..m.start()];
            let mut any = false;
            let cited: Vec<_> = CITED_RE.captures_iter(before).collect();
            // "…令第70号发布的《X》同时废止": a lone citation takes the 文号 written before it.
            let leading_number = if cited.len() == 1 {
                cited[0]
                    .get(0)
                    .and_then(|m| find_doc_numbers(&before[..m.start()]).into_iter().last())
                    .map(|f| f.number)
            } else {
                None
            };
            for c in cited {
                let Some(title) = c.get(1) else { continue };
                let item = match c.get(2).map(|n| n.as_str()) {
                    Some(n) if !find_doc_numbers(n).is_empty() => {
                        format!("《{}》（{}）", title.as_str(), normalize_doc_number(n))
                    }
                    _ => match &leading_number {
                        Some(n) => format!("《{}》（{n}）", title.as_str()),
                        None => format!("《{}》", title.as_str()),
                    },
                };
                any = true;
                if !out.contains(&item) {
                    out.push(item);
                }
            }
            if !any && let Some(c) = ORIGINAL_RE.captures(clause) {
                let Some(t) = c.get(1) else { continue };
                let t = t.as_str().trim().trim_start_matches(['的']).to_string();
                // "原…同时废止" must name a document, not a clause of this one.
                if ends_like_title(&t) && !sentence_has_subject(&t) {
                    let item = format!("《{t}》");
                    if !out.contains(&item) {
                        out.push(item);
                    }
                }
            }
        }
    }
    out
}

/// Whether a title names a page that explains another document (解读, 问答, 常见问题):
/// the 文号 and dates it quotes are that document's, not its own.
fn is_interpretation(title: &str) -> bool {
    [
        "解读",
        "答问",
        "问答",
        "一图读懂",
        "图解",
        "答记者问",
        "常见问题",
    ]
    .iter()
    .any(|w| title.contains(w))
}

/// A status stated by a banner or an editor's note at the head of a page
/// (`【失效提示】本解读对应的《…》已于2025年1月1日废止`, `【编者注：本办法已根据…修正】`).
fn banner_status(line: &str) -> Option<Status> {
    let t = line.trim();
    let opener: String = t.chars().take(8).collect();
    if !(t.starts_with(['【', '[', '［'])
        && ["提示", "编者", "注", "说明", "公告"]
            .iter()
            .any(|w| opener.contains(w)))
    {
        return None;
    }
    if t.contains("废止") {
        Some(Status::Repealed)
    } else if ["修订", "修正", "修改"].iter().any(|w| t.contains(w)) {
        Some(Status::Amended)
    } else if t.contains("失效") {
        Some(Status::Expired)
    } else {
        None
    }
}

fn level_from(title: &str, doc_number: Option<&str>, issuer: Option<&str>) -> Option<Level> {
    let core = PAREN_SUFFIX_RE.replace(title.trim(), "").into_owned();
    let core = core.trim();
    if is_interpretation(title) {
        return Some(Level::Interpretation);
    }
    if [
        "办事指南",
        "服务指南",
        "申请指南",
        "办理指南",
        "操作指南",
        "操作口径",
        "使用口径",
        "受理口径",
        "办理口径",
        "操作规程",
    ]
    .iter()
    .any(|w| title.contains(w))
    {
        return Some(Level::ServiceGuide);
    }
    let dn = doc_number.unwrap_or("");
    let iss = issuer.unwrap_or("");
    if core.starts_with("中华人民共和国") && core.ends_with('法') {
        return Some(Level::Law);
    }
    if dn.contains("人民代表大会常务委员会公告") || iss.contains("人民代表大会")
    {
        return Some(Level::LocalRegulation);
    }
    if dn.contains("令第") {
        if (dn.starts_with("国务院") || dn.starts_with("中华人民共和国国务院"))
            && core.ends_with("条例")
        {
            return Some(Level::AdministrativeRegulation);
        }
        return Some(Level::GovernmentRule);
    }
    if core.ends_with("条例") {
        if core.starts_with("国务院") || iss.contains("国务院") {
            return Some(Level::AdministrativeRegulation);
        }
        return Some(Level::LocalRegulation);
    }
    if !dn.is_empty() {
        return Some(Level::NormativeDocument);
    }
    if ends_like_title(title) {
        return Some(Level::NormativeDocument);
    }
    None
}

fn head_lines<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for l in lines.iter().take(25) {
        if let Some(lab) = parse_label(l)
            && matches!(
                lab.kind,
                LabelKind::Article | LabelKind::Chapter | LabelKind::Part | LabelKind::Top
            )
        {
            break;
        }
        out.push(*l);
    }
    out
}

/// Extracts every policy field from cleaned text. Warnings name the line (1-based)
/// where a date looked malformed.
pub fn extract_policy(text: &str, hints: &Hints) -> (PolicyFields, Vec<MetaWarning>) {
    let mut warnings = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let nonempty: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let head = head_lines(&nonempty);
    let bodies = hints.bodies.clone().unwrap_or_else(Bodies::embedded);
    let cover = find_cover(&nonempty);
    let mut labeled = labeled_fields(&nonempty.iter().take(40).copied().collect::<Vec<_>>());
    if labeled.source.is_none() {
        labeled.source = nonempty.iter().rev().find_map(|l| {
            let c = PROVIDED_BY_RE.captures(l)?;
            Some(c.get(1)?.as_str().to_string())
        });
    }

    for (i, l) in lines.iter().enumerate() {
        for f in find_dates(l) {
            if f.date.is_none() {
                warnings.push((Some(i + 1), format!("日期无法解析：{}", &l[f.start..f.end])));
            }
        }
    }

    // 文号: a labelled field, else the first uncited one in the head.
    let head_text = head.join("\n");
    let doc_number = labeled.doc_number.clone().or_else(|| {
        find_doc_numbers(&head_text)
            .into_iter()
            .find(|f| !f.cited)
            .map(|f| f.number)
    });

    // The title as the file states it; a promulgating cover's title is the cover's, and the
    // file's title is then the inner document's name.
    let stated_title = hints
        .title
        .as_deref()
        .map(clean_title)
        .filter(|t| !t.is_empty())
        .or_else(|| labeled.title.as_deref().map(clean_title))
        .or_else(|| title_from_head(&bodies, &head));
    let title = cover.as_ref().map(|c| clean_title(&c.title)).or_else(|| {
        stated_title.as_deref().map(|t| {
            issued_inner(t)
                .map(|n| clean_title(&n))
                .unwrap_or_else(|| t.to_string())
        })
    });

    // The 落款 of a cover stands before the inner document, not at the end of the file.
    let sig_zone = match cover.as_ref().and_then(|c| c.inner_start) {
        Some(k) if k > 0 => &nonempty[..k],
        _ => &nonempty[..],
    };
    // Some files print the cover's 落款 after the inner document instead.
    let (sig_orgs, sig_date, _) = match signature(&bodies, sig_zone) {
        (o, None, _) if o.is_empty() && sig_zone.len() < nonempty.len() => {
            signature(&bodies, &nonempty)
        }
        found => found,
    };
    let title_orgs = stated_title.as_deref().and_then(|t| {
        let i = t.find("关于")?;
        bodies.split(&t[..i])
    });
    // 版头 issuers printed one per line above the title (…文件 on the last of them).
    // A page puts its 信息公开 box, a banner or a 来源 line above them.
    let header_orgs: Vec<String> = head
        .iter()
        .take(10)
        .skip_while(|l| bodies.split(l.trim().trim_end_matches("文件")).is_none())
        .map_while(|l| bodies.split(l.trim().trim_end_matches("文件")))
        .flatten()
        .collect();
    let cover_issuer = cover
        .as_ref()
        .filter(|c| matches!(c.kind, CoverKind::Order | CoverKind::Announcement))
        .and_then(|c| c.issuer.clone());
    // A 信息公开 box often names only the lead body of a joint document; the 版头 or
    // the 落款 that name it and more are the fuller reading.
    let labeled_issuer = labeled.issuer.clone().map(|lab| {
        let named: Vec<&str> = lab.split('、').collect();
        [&header_orgs, &sig_orgs]
            .into_iter()
            .filter(|orgs| {
                orgs.len() > named.len() && named.iter().all(|n| orgs.iter().any(|o| o == n))
            })
            .map(|orgs| orgs.join("、"))
            .next()
            .unwrap_or(lab)
    });
    let issuer = cover_issuer
        .or(labeled_issuer)
        .or_else(|| (!sig_orgs.is_empty()).then(|| sig_orgs.join("、")))
        .or_else(|| (header_orgs.len() >= 2).then(|| header_orgs.join("、")))
        .or_else(|| title_orgs.map(|o| o.join("、")))
        .or_else(|| (!header_orgs.is_empty()).then(|| header_orgs.join("、")))
        .or_else(|| doc_number.as_deref().and_then(issuer_from_doc_number))
        .or_else(|| {
            labeled
                .source
                .as_deref()
                .and_then(|s| bodies.split(s))
                .map(|b| b.join("、"))
        })
        .map(|i| bodies.formal_issuer(&i));

    // 成文 date: labelled, signature, a 公布/通过 note in the head, a date line in
    // the head, then the page's 发布日期.
    let head_date_line = head
        .iter()
        .find(|l| is_date_line(l))
        .and_then(|l| parse_date(l));
    let interpretation = title.as_deref().is_some_and(is_interpretation);
    let published = if interpretation {
        // The dates in its head are the interpreted document's.
        labeled.written.or(sig_date).or(labeled.published)
    } else {
        None
    };
    let published = published
        .or(labeled.written)
        .or(sig_date)
        .or(head_date_line)
        .or_else(|| head.iter().find_map(|l| revision_note_date(l)))
        .or_else(|| head.iter().find_map(|l| publication_note_date(l)))
        .or_else(|| {
            head.iter()
                .filter(|l| l.contains("通过"))
                .find_map(|l| parse_date(l))
        })
        .or(labeled.published)
        .or(labeled.updated);

    // A 解读 takes no effect of its own: the 施行 and 有效期 in its text are the
    // interpreted document's.
    let effective = labeled.effective.or_else(|| {
        (!interpretation)
            .then(|| effective_from_text(text, published))
            .flatten()
    });
    let expires = labeled.expires.or_else(|| {
        (!interpretation)
            .then(|| expiry_from_text(text, effective.or(published)))
            .flatten()
    });

    let status_override = labeled
        .status
        .filter(|s| *s != Status::InForce)
        .or_else(|| {
            let mut scope: Vec<&str> = head.iter().take(6).copied().collect();
            if let Some(t) = hints.title.as_deref() {
                scope.push(t);
            }
            scope.iter().find_map(|l| {
                let t = l.trim();
                let mark = STATUS_MARK_RE
                    .captures(t)
                    .and_then(|c| c.get(1))
                    .map(|m| m.as_str())
                    .or_else(|| {
                        matches!(
                            t,
                            "已废止"
                                | "已失效"
                                | "已修订"
                                | "此文件已废止"
                                | "本文件已废止"
                                | "本文件已失效"
                        )
                        .then_some(t)
                    })?;
                Some(if mark.contains("修") {
                    Status::Amended
                } else if mark.contains("失效") {
                    Status::Expired
                } else {
                    Status::Repealed
                })
            })
        })
        .or_else(|| head.iter().find_map(|l| banner_status(l)));

    // A 解读 has no 文号 of its own; the ones in its text are the interpreted document's.
    let doc_number = if interpretation {
        labeled.doc_number.clone()
    } else {
        doc_number
    };

    // A 文号 read from a history 题注 is the current text's: the latest revision's.
    let doc_number = match head.iter().find_map(|l| revision_note(l).map(|r| (l, r))) {
        Some((line, (_, Some(latest))))
            if labeled.doc_number.is_none()
                && doc_number
                    .as_deref()
                    .is_some_and(|n| find_doc_numbers(line).iter().any(|f| f.number == n)) =>
        {
            Some(latest)
        }
        _ => doc_number,
    };

    // OCR misreads the first character of a 文号 (沪 → 六): repair it only when the
    // signature names exactly the issuer the repaired prefix stands for.
    let doc_number = doc_number.map(|n| match (&issuer, issuer_from_doc_number(&n)) {
        (Some(iss), None) => crate::docnum::repair_prefix(&n, iss).unwrap_or(n),
        _ => n,
    });

    let level = labeled.level.or_else(|| {
        level_from(
            title.as_deref().unwrap_or(""),
            doc_number.as_deref(),
            issuer.as_deref(),
        )
    });

    let fields = PolicyFields {
        title,
        doc_number,
        issuer,
        level,
        published,
        effective,
        expires,
        status_override,
        supersedes: supersedes_from_text(text),
    };
    (fields, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_page_title_loses_every_site_segment() {
        assert_eq!(
            clean_title(
                "关于做好本区加装电梯补贴工作的通知_规范性文件_政府信息公开_上海市宝山区人民政府"
            ),
            "关于做好本区加装电梯补贴工作的通知"
        );
        assert_eq!(
            clean_title("关于调整标准的通知_上海市民政局"),
            "关于调整标准的通知"
        );
        // Nothing that ends like a title is left by peeling: the text is kept whole.
        assert_eq!(
            clean_title("参保登记_一网通办_上海市人民政府"),
            "参保登记_一网通办_上海市人民政府"
        );
    }

    const NOTICE: &str = "上海市人力资源和社会保障局\n关于做好失业保险金申领工作的通知\n沪人社规〔2024〕12号\n各区人力资源和社会保障局：\n为做好失业保险金申领工作，现就有关事项通知如下：\n一、适用范围\n本通知适用于本市参保人员。\n二、其他\n本通知自2024年5月1日起施行，有效期至2029年4月30日。《上海市失业保险金申领办法》（沪人社规〔2019〕8号）同时废止。\n上海市人力资源和社会保障局\n二〇二四年四月二十二日";

    #[test]
    fn notice_fields() {
        let (f, w) = extract_policy(NOTICE, &Hints::default());
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            f.title.as_deref(),
            Some("上海市人力资源和社会保障局关于做好失业保险金申领工作的通知")
        );
        assert_eq!(f.doc_number.as_deref(), Some("沪人社规〔2024〕12号"));
        assert_eq!(f.issuer.as_deref(), Some("上海市人力资源和社会保障局"));
        assert_eq!(f.level, Some(Level::NormativeDocument));
        assert_eq!(f.published, Some(d("2024-04-22")));
        assert_eq!(f.effective, Some(d("2024-05-01")));
        assert_eq!(f.expires, Some(d("2029-04-30")));
        assert_eq!(
            f.supersedes,
            vec!["《上海市失业保险金申领办法》（沪人社规〔2019〕8号）".to_string()]
        );
    }

    #[test]
    fn government_rule_with_publication_note() {
        let text = "上海市养老服务补贴管理办法\n（2021年5月10日上海市人民政府令第45号公布 自2021年7月1日起施行）\n第一章 总则\n第一条 为了规范养老服务补贴，制定本办法。\n第二条 本办法有效期5年。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.title.as_deref(), Some("上海市养老服务补贴管理办法"));
        assert_eq!(f.doc_number.as_deref(), Some("上海市人民政府令第45号"));
        assert_eq!(f.issuer.as_deref(), Some("上海市人民政府"));
        assert_eq!(f.level, Some(Level::GovernmentRule));
        assert_eq!(f.published, Some(d("2021-05-10")));
        assert_eq!(f.effective, Some(d("2021-07-01")));
        assert_eq!(f.expires, Some(d("2026-06-30")));
    }

    #[test]
    fn effective_on_issue_and_joint_signature() {
        let text = "关于调整残疾人居家养护补贴标准的通知\n沪残联规[2023]3号\n一、标准\n每月补贴提高。\n二、施行\n本通知自印发之日起施行。\n上海市残疾人联合会 上海市财政局\n2023年3月8日";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.doc_number.as_deref(), Some("沪残联规〔2023〕3号"));
        assert_eq!(
            f.issuer.as_deref(),
            Some("上海市残疾人联合会、上海市财政局")
        );
        assert_eq!(f.published, Some(d("2023-03-08")));
        assert_eq!(f.effective, Some(d("2023-03-08")));
        assert_eq!(f.expires, None);
    }

    #[test]
    fn interpretation_has_level_and_no_own_number() {
        let text = "《上海市失业保险金申领办法》政策解读\n一、出台背景\n为贯彻落实《上海市失业保险金申领办法》（沪人社规〔2024〕12号），现解读如下。\n二、主要内容\n略。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(
            f.title.as_deref(),
            Some("《上海市失业保险金申领办法》政策解读")
        );
        assert_eq!(f.level, Some(Level::Interpretation));
        assert_eq!(f.doc_number, None);
    }

    #[test]
    fn labeled_info_box_wins() {
        let text = "索引号 | 0000-2024-001 | 主题分类 | 社会保障\n发文机关 | 上海市民政局 | 成文日期 | 2024年01月05日\n文号 | 沪民规〔2024〕1号 | 发布日期 | 2024年01月10日\n上海市民政局关于养老服务补贴的通知\n一、内容\n本通知自2024年2月1日起实施。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.issuer.as_deref(), Some("上海市民政局"));
        assert_eq!(f.doc_number.as_deref(), Some("沪民规〔2024〕1号"));
        assert_eq!(f.published, Some(d("2024-01-05")));
        assert_eq!(f.effective, Some(d("2024-02-01")));
        assert_eq!(
            f.title.as_deref(),
            Some("上海市民政局关于养老服务补贴的通知")
        );
    }

    #[test]
    fn local_regulation_and_status_mark() {
        let text = "上海市残疾人保障条例（已废止）\n（2019年9月26日上海市第十五届人民代表大会常务委员会第十四次会议通过）\n第一条 为了保障残疾人权益，制定本条例。\n第二条 本条例自2020年1月1日起施行。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.level, Some(Level::LocalRegulation));
        assert_eq!(f.status_override, Some(Status::Repealed));
        assert_eq!(f.published, Some(d("2019-09-26")));
        assert_eq!(f.effective, Some(d("2020-01-01")));
    }

    #[test]
    fn supersede_forms() {
        let s = supersedes_from_text(
            "本办法自2024年1月1日起施行。《甲办法》（沪府发[2019]8号）和《乙规定》同时废止。",
        );
        assert_eq!(s, vec!["《甲办法》（沪府发〔2019〕8号）", "《乙规定》"]);
        let s = supersedes_from_text(
            "本办法自2025年1月1日起施行。1999年4月15日上海市人民政府令第70号发布的《上海市失业保险办法》同时废止。",
        );
        assert_eq!(s, vec!["《上海市失业保险办法》（上海市人民政府令第70号）"]);
        let s = supersedes_from_text("原《上海市养老服务补贴实施细则》停止执行。");
        assert_eq!(s, vec!["《上海市养老服务补贴实施细则》"]);
        let s = supersedes_from_text("原市民政局制定的养老服务补贴实施办法同时废止。");
        assert_eq!(s, vec!["《市民政局制定的养老服务补贴实施办法》"]);
        assert!(supersedes_from_text("根据《社会保险法》制定本办法。").is_empty());
    }

    #[test]
    fn validity_in_chinese_years() {
        let (f, _) = extract_policy(
            "某某通知\n本通知自2024年5月1日起施行，有效期三年。",
            &Hints::default(),
        );
        assert_eq!(f.expires, Some(d("2027-04-30")));
    }

    #[test]
    fn validity_of_something_else_is_ignored() {
        let (f, _) = extract_policy(
            "残疾人证办理指南\n一、说明\n第二代残疾人证的有效期为10年。\n二、其他\n本指南自2025年9月1日起实施。",
            &Hints::default(),
        );
        assert_eq!(f.expires, None);
        assert_eq!(f.effective, Some(d("2025-09-01")));
    }

    #[test]
    fn order_page_date_beats_meeting_date() {
        let text = "上海市人民政府令\n第27号\n《上海市失业保险办法》已经2024年11月18日市政府第62次常务会议通过，现予公布，自2025年1月1日起施行。\n市长 某某\n2024年11月25日\n上海市失业保险办法\n第一条 目的。\n第二条 范围。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.published, Some(d("2024-11-25")));
        assert_eq!(f.effective, Some(d("2025-01-01")));
    }

    #[test]
    fn ocr_debris_and_split_title() {
        let text = "相 2和名。 <性\n上海市人力资源和社会保障局文件\n -一\n上海市人力资源和社会保障局 上海市财政局\n关于做好一次性补\n助工作的通知\n六人社规 [2025] 27号\n各区：\n一、对象\n甲。\n二、标准\n乙。\n上海市人力资源和社会保障局 上海市财政局\n2025年12月10日";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(
            f.title.as_deref(),
            Some("上海市人力资源和社会保障局 上海市财政局关于做好一次性补助工作的通知")
        );
        assert_eq!(f.doc_number.as_deref(), Some("沪人社规〔2025〕27号"));
        assert_eq!(
            f.issuer.as_deref(),
            Some("上海市人力资源和社会保障局、上海市财政局")
        );
    }

    #[test]
    fn administrative_regulation_and_law() {
        let text = "失业保险条例\n（1999年1月22日中华人民共和国国务院令第258号发布 自发布之日起施行）\n第一章 总则\n第一条 为了保障失业人员失业期间的基本生活，制定本条例。\n第二条 城镇企业事业单位按照规定参加失业保险。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.title.as_deref(), Some("失业保险条例"));
        assert_eq!(
            f.doc_number.as_deref(),
            Some("中华人民共和国国务院令第258号")
        );
        assert_eq!(f.issuer.as_deref(), Some("中华人民共和国国务院"));
        assert_eq!(f.level, Some(Level::AdministrativeRegulation));
        assert_eq!(f.published, Some(d("1999-01-22")));
        assert_eq!(f.effective, Some(d("1999-01-22")));
        let law = "中华人民共和国社会保险法\n（2010年10月28日第十一届全国人民代表大会常务委员会第十七次会议通过）\n第一条 为了规范社会保险关系，制定本法。\n第二条 国家建立社会保险制度。";
        let (f, _) = extract_policy(law, &Hints::default());
        assert_eq!(f.level, Some(Level::Law));
        assert_eq!(f.published, Some(d("2010-10-28")));
    }

    #[test]
    fn order_cover_gives_number_issuer_and_date_and_the_rule_its_title() {
        let text = "上海市人民政府令\n第12号\n《上海市社区托育服务管理办法》已经2025年3月3日市政府第80次常务会议通过，现予公布，自2025年5月1日起施行。\n市长　某某某\n2025年3月10日\n上海市社区托育服务管理办法\n第一章　总则\n第一条　为了规范社区托育服务，制定本办法。\n第二条　本办法适用于本市。\n第三十条　本办法自2025年5月1日起施行。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.title.as_deref(), Some("上海市社区托育服务管理办法"));
        assert_eq!(f.doc_number.as_deref(), Some("上海市人民政府令第12号"));
        assert_eq!(f.issuer.as_deref(), Some("上海市人民政府"));
        assert_eq!(f.level, Some(Level::GovernmentRule));
        assert_eq!(f.published, Some(d("2025-03-10")));
        assert_eq!(f.effective, Some(d("2025-05-01")));
    }

    #[test]
    fn announcement_cover_of_a_regulation() {
        let text = "上海市人民代表大会常务委员会公告\n［十六届］第20号\n《上海市养老服务条例》已由上海市第十六届人民代表大会常务委员会第十次会议于2024年6月20日修订通过，现予公布，自2024年9月1日起施行。\n上海市人民代表大会常务委员会\n2024年6月20日\n上海市养老服务条例\n（2020年12月30日上海市第十五届人民代表大会常务委员会第二十八次会议通过 2024年6月20日上海市第十六届人民代表大会常务委员会第十次会议修订）\n第一条　为了……\n第二条　……";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.title.as_deref(), Some("上海市养老服务条例"));
        assert_eq!(
            f.doc_number.as_deref(),
            Some("上海市人民代表大会常务委员会公告〔十六届〕第20号")
        );
        assert_eq!(f.issuer.as_deref(), Some("上海市人民代表大会常务委员会"));
        assert_eq!(f.level, Some(Level::LocalRegulation));
        assert_eq!(f.published, Some(d("2024-06-20")));
        assert_eq!(f.effective, Some(d("2024-09-01")));
    }

    #[test]
    fn issuance_cover_signed_before_the_inner_rule() {
        let text = "上海市民政局上海市财政局上海市残疾人联合会\n关于印发《上海市困难残疾人临时救助办法》的通知\n沪民规〔2025〕4号\n各区民政局、财政局、残联：\n现将《上海市困难残疾人临时救助办法》印发给你们，请认真贯彻执行。\n上海市民政局\n（印章）\n上海市财政局\n（印章）\n上海市残疾人联合会\n（印章）\n2025年2月1日\n上海市困难残疾人临时救助办法\n第一条　为了……\n第二条　……\n第十条　本办法自2025年3月1日起施行，有效期至2030年2月28日。\n抄送：市政府办公厅。\n上海市民政局办公室　2025年2月3日印发";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.title.as_deref(), Some("上海市困难残疾人临时救助办法"));
        assert_eq!(f.doc_number.as_deref(), Some("沪民规〔2025〕4号"));
        assert_eq!(
            f.issuer.as_deref(),
            Some("上海市民政局、上海市财政局、上海市残疾人联合会")
        );
        assert_eq!(f.published, Some(d("2025-02-01")));
        assert_eq!(f.effective, Some(d("2025-03-01")));
        assert_eq!(f.expires, Some(d("2030-02-28")));
    }

    #[test]
    fn header_issuers_one_per_line_and_ocr_joined_signature() {
        let text = "上海市卫生健康委员会\n上海市财政局\n上海市医疗保障局\n文件\n沪卫规〔2025〕9号\n关于做好家庭医生签约服务费结算工作的通知\n各区卫生健康委：\n一、总体要求\n甲。\n二、结算\n乙。\n上海市卫生健康委员会”上海市财政局“上海市医疗保障局\n2025年4月8日";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(
            f.title.as_deref(),
            Some("关于做好家庭医生签约服务费结算工作的通知")
        );
        assert_eq!(
            f.issuer.as_deref(),
            Some("上海市卫生健康委员会、上海市财政局、上海市医疗保障局")
        );
        assert_eq!(f.published, Some(d("2025-04-08")));
    }

    #[test]
    fn revised_text_is_dated_by_its_latest_revision() {
        let text = "上海市计划生育奖励与补助办法\n（2004年4月15日上海市人民政府令第19号发布 根据2010年12月20日上海市人民政府令第52号第一次修正 2021年11月10日上海市人民政府令第60号修订）\n第一条　为了……\n第二条　……";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.published, Some(d("2021-11-10")));
        assert_eq!(f.doc_number.as_deref(), Some("上海市人民政府令第60号"));
    }

    #[test]
    fn number_first_layout_and_validity_ranges() {
        let text = "沪府规〔2023〕7号\n\n上海市人民政府关于印发《上海市某某补贴办法（试行）》的通知\n各区人民政府：\n现将办法印发给你们。\n一、范围\n甲。\n二、期限\n本办法有效期自2023年6月1日至2025年5月31日。\n上海市人民政府\n2023年5月20日";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.doc_number.as_deref(), Some("沪府规〔2023〕7号"));
        // The cover promulgates the 办法: the document is the 办法.
        assert_eq!(f.title.as_deref(), Some("上海市某某补贴办法（试行）"));
        assert_eq!(f.issuer.as_deref(), Some("上海市人民政府"));
        assert_eq!(f.expires, Some(d("2025-05-31")));
        let (f, _) = extract_policy(
            "某某通知\n本通知自2024年1月1日起执行至2026年12月31日止。",
            &Hints::default(),
        );
        assert_eq!(f.effective, Some(d("2024-01-01")));
        assert_eq!(f.expires, Some(d("2026-12-31")));
    }

    #[test]
    fn issuer_from_title_or_number_when_unsigned() {
        let (f, _) = extract_policy(
            "上海市医疗保障局关于某事的通知\n一、甲。\n二、乙。",
            &Hints::default(),
        );
        assert_eq!(f.issuer.as_deref(), Some("上海市医疗保障局"));
        let (f, _) = extract_policy(
            "关于某事的通知\n沪医保规〔2025〕3号\n一、甲。\n二、乙。",
            &Hints::default(),
        );
        assert_eq!(f.issuer.as_deref(), Some("上海市医疗保障局"));
    }

    #[test]
    fn bad_date_warns_with_line() {
        let (_, w) = extract_policy("某某通知\n本通知自2024年2月30日起施行。", &Hints::default());
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].0, Some(2));
    }

    #[test]
    fn html_title_hint_is_cleaned() {
        let h = Hints {
            title: Some(
                "关于做好育儿补贴发放工作的通知（沪卫规〔2025〕2号）_上海市卫生健康委员会".into(),
            ),
            bodies: None,
        };
        let (f, _) = extract_policy("正文", &h);
        assert_eq!(f.title.as_deref(), Some("关于做好育儿补贴发放工作的通知"));
    }

    #[test]
    fn interpretation_page_takes_no_number_or_dates_of_the_interpreted_text() {
        let text = "首页 / 政务公开 / 政策解读\n《关于调整本市特困人员救助供养标准的通知》政策解读\n来源：上海市民政局 发布时间：2025-06-20 字号：大 中 小\n相关文件：上海市民政局关于调整本市特困人员救助供养标准的通知（沪民规〔2025〕9号）\n一、为什么要调整？\n标准联动调整。\n二、什么时候开始执行？\n《通知》自2025年7月1日起执行，有效期至2030年6月30日。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(
            f.title.as_deref(),
            Some("《关于调整本市特困人员救助供养标准的通知》政策解读")
        );
        assert_eq!(f.level, Some(Level::Interpretation));
        assert_eq!(f.doc_number, None);
        assert_eq!(f.issuer.as_deref(), Some("上海市民政局"));
        assert_eq!(f.published, Some(d("2025-06-20")));
        assert_eq!(f.effective, None);
        assert_eq!(f.expires, None);
    }

    #[test]
    fn faq_page_issuer_from_its_footer_and_title_past_the_breadcrumb() {
        let text = "首页 / 办事服务 / 工伤保险 / 常见问题\n工伤保险待遇常见问题\n发布时间：2019-08-22 【打印】\n1. 问：多长时间内申请？\n答：30日内。\n2. 问：要哪些材料？\n答：申请表。\n（本页内容由上海市人力资源和社会保障局提供）";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.title.as_deref(), Some("工伤保险待遇常见问题"));
        assert_eq!(f.issuer.as_deref(), Some("上海市人力资源和社会保障局"));
        assert_eq!(f.level, Some(Level::Interpretation));
        assert_eq!(f.published, Some(d("2019-08-22")));
    }

    #[test]
    fn banner_states_the_status() {
        let text = "【提示】本文件已于2019年修订，修订后文本见《上海市某某救助办法》（沪民规〔2019〕15号）。\n上海市某某救助办法\n第一条 为了规范，制定本办法。\n第二条 本办法自2015年10月1日起施行。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.status_override, Some(Status::Amended));
        let text = "【失效提示】本解读对应的《某办法》已于2025年1月1日废止。\n关于《某办法》的解读\n一、背景\n略。\n二、内容\n略。";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.status_override, Some(Status::Repealed));
    }

    #[test]
    fn a_box_naming_the_lead_body_is_widened_by_the_signature() {
        let text = "发布机构：上海市残疾人联合会\n上海市残疾人职业技能培训补贴办法\n第一条 为了促进就业，制定本办法。\n第二条 本办法自2024年5月1日起施行。\n上海市残疾人联合会 上海市人力资源和社会保障局 上海市财政局\n2024年4月10日";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(
            f.issuer.as_deref(),
            Some("上海市残疾人联合会、上海市人力资源和社会保障局、上海市财政局")
        );
        // A signature naming other bodies only does not replace the box.
        let text = "发布机构：上海市民政局\n某某办法\n第一条 甲。\n第二条 乙。\n上海市财政局\n2024年4月10日";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.issuer.as_deref(), Some("上海市民政局"));
    }

    #[test]
    fn several_labels_on_one_line() {
        let l = labeled_fields(&[
            "事项编码：310100165000 事项类型：行政给付 发布日期：2025-09-03 版本号：V6.2",
        ]);
        assert_eq!(l.published, Some(d("2025-09-03")));
        assert_eq!(l.doc_number, None);
    }

    #[test]
    fn signature_read_through_seal_fragments() {
        let text = "关于印发《上海市某某服务管理办法》的通知\n沪民规〔2025〕11号\n一、甲\n略。\n二、乙\n略。\n上海市民政局 。 上海市卫生健康委员会\n则 2025年9月22日";
        let (f, _) = extract_policy(text, &Hints::default());
        assert_eq!(f.published, Some(d("2025-09-22")));
        assert_eq!(
            f.issuer.as_deref(),
            Some("上海市民政局、上海市卫生健康委员会")
        );
    }
}
