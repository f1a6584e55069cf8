//! Crawled government pages: keep headings, paragraphs and tables; drop navigation,
//! breadcrumbs, sidebars, scripts, styles, footers, 备案 lines and page chrome.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};

use crate::error::{Error, Result};

/// Text of a page and the best title the markup offers.
#[derive(Debug, Clone, PartialEq)]
pub struct HtmlText {
    /// Body text, one block per line, tables as `a | b | c` rows.
    pub text: String,
    /// `<h1>` (or `<meta name="ArticleTitle">`, or `<title>`) text.
    pub title: Option<String>,
}

const DROP_TAGS: &[&str] = &[
    "script", "style", "noscript", "nav", "footer", "header", "aside", "iframe", "form", "button",
    "select", "input", "svg", "template", "head", "object", "embed",
];
const DROP_MARKS: &[&str] = &[
    "nav",
    "menu",
    "breadcrumb",
    "crumb",
    "sidebar",
    "side-bar",
    "footer",
    "foot",
    "share",
    "print",
    "toolbar",
    "fontsize",
    "font-size",
    "zihao",
    "location",
    "position",
    "topbar",
    "top-bar",
    "banner",
    "copyright",
    "related",
    "xgxx",
    "login",
    "search",
    "weixin",
    "qrcode",
    "skip",
];
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "section",
    "article",
    "main",
    "br",
    "tr",
    "table",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "center",
    "hr",
    "body",
];

/// Lines that are site chrome whatever markup they sit in.
const CHROME_WORDS: &[&str] = &[
    "ICP",
    "备案号",
    "网安备",
    "版权所有",
    "Copyright",
    "copyright",
    "©",
    "打印本页",
    "关闭窗口",
    "【大】",
    "【中】",
    "【小】",
    "分享到",
    "当前位置",
    "您现在的位置",
    "网站地图",
    "联系我们",
    "技术支持",
    "主办单位",
    "承办单位",
    "网站标识码",
    "公网安备",
    "扫一扫",
    "无障碍浏览",
    "无障碍阅读",
    "无障碍模式",
    "无障碍版",
    "返回顶部",
    "保存本页",
    "【打印】",
    "【关闭】",
    "浏览次数",
    "访问量",
];

/// The page's 发布日期 (`发布时间：2025-03-14 10:20 来源：… 浏览次数：…`).
static PAGE_DATE_RE: LazyLock<Regex> = LazyLock::new(|| {
    crate::re(
        r"(发布日期|发布时间|发文日期|公布日期|成文日期|印发日期)\s*[：:]\s*((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)",
    )
});
/// The body a 解读 or 问答 page comes from (`来源：上海市民政局`).
static PAGE_SOURCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    crate::re(
        r"(来源|信息来源|发布机构)\s*[：:]\s*([\p{Han}、（）]{3,40}?)(?:\s|$|浏览|点击|字号|【|\|)",
    )
});

/// `标签：值` out of a chrome line, by a pattern capturing the label and the value.
fn page_label(re: &Regex, line: &str) -> Option<String> {
    let c = re.captures(line)?;
    Some(format!("{}：{}", c.get(1)?.as_str(), c.get(2)?.as_str()))
}

/// The unlabelled time stamp that portals print on an article's 来源 line
/// (`2022-08-09 10:35　来源：市人社局`): the page's 发布日期.
fn source_line_date(line: &str) -> Option<String> {
    // The stamp sits beside the 来源 or beside a view counter ("时间：2021-05-17 点击：1873");
    // a bare date elsewhere may be any date the page mentions.
    let stamp_line = line.contains("来源：")
        || line.contains("来源:")
        || (COUNTER_WORDS.iter().any(|w| line.contains(w))
            && (line.contains("时间") || line.contains("日期")));
    if !stamp_line || line.chars().count() > 80 {
        return None;
    }
    let c = STAMP_RE.captures(line)?;
    Some(format!("发布日期：{}", c.get(1)?.as_str()))
}

const COUNTER_WORDS: &[&str] = &["点击", "浏览", "阅读数", "访问量", "阅读量"];

/// A guide's `更新时间：2024-11-20`, kept for a page that states no other date.
static PAGE_UPDATED_RE: LazyLock<Regex> = LazyLock::new(|| {
    crate::re(
        r"(更新时间)\s*[：:]\s*((?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?)",
    )
});

/// The footer's `主办单位：上海市残疾人联合会`: on a body's own site, the author of a page
/// that names no other.
static SITE_HOST_RE: LazyLock<Regex> = LazyLock::new(|| {
    crate::re(r"主办(?:单位)?\s*[：:]\s*([\p{Han}（）]{4,30}?)(?:\s|$|承办|地址|协办|技术|联系|　)")
});

/// The host a page's footer names, unless it is a portal's: a 政府办公厅 (or 办公室) or a
/// 大数据中心 runs the portal that carries every body's pages, and writes none of them.
fn site_host(line: &str) -> Option<String> {
    let host = SITE_HOST_RE.captures(line)?.get(1)?.as_str();
    let portal =
        host.ends_with("办公厅") || host.ends_with("办公室") || host.contains("大数据中心");
    (!portal).then(|| format!("来源：{host}"))
}

/// The date control in a page header ("2021年6月2日 星期三") shows today, not the page.
static TODAY_WIDGET_RE: LazyLock<Regex> = LazyLock::new(|| {
    crate::re(r"^(?:19|20)\d{2}年\d{1,2}月\d{1,2}日\s*(?:星期|周)[一二三四五六日天]$")
});

static STAMP_RE: LazyLock<Regex> = LazyLock::new(|| {
    crate::re(r"((?:19|20)\d{2}-\d{1,2}-\d{1,2})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?")
});

/// Chrome words are looked for only in short lines that open no numbered unit: a
/// body line such as "（二）……设置无障碍通道" must never be taken for site chrome.
fn is_chrome_line(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() || TODAY_WIDGET_RE.is_match(t) {
        return true;
    }
    if crate::labels::parse_label(t).is_some() {
        return false;
    }
    let short = t.chars().count() <= 60;
    // The font-size switch "字号：大 中 小", not the 发文字号 of the metadata box.
    let font_size = t
        .match_indices("字号")
        .any(|(i, _)| !t[..i].ends_with('文'));
    (short && (font_size || CHROME_WORDS.iter().any(|w| t.contains(w))))
        || (t.contains('>') && t.starts_with("首页"))
        || t.starts_with("首页 >")
        || t.starts_with("首页>")
        || matches!(
            t,
            "首页" | "上一篇" | "下一篇" | "打印" | "关闭" | "大" | "中" | "小" | "|" | "字号"
        )
}

fn dropped(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    if DROP_TAGS.contains(&v.name()) {
        return true;
    }
    if v.attr("hidden").is_some()
        || v.attr("style")
            .is_some_and(|s| s.replace(' ', "").contains("display:none"))
    {
        return true;
    }
    let marks = format!(
        "{} {}",
        v.attr("class").unwrap_or(""),
        v.attr("id").unwrap_or("")
    )
    .to_ascii_lowercase();
    marks
        .split(|c: char| c.is_whitespace() || c == '_')
        .any(|token| {
            DROP_MARKS
                .iter()
                .any(|m| token == *m || token.starts_with(m) || token.ends_with(m))
        })
        || v.attr("role")
            .is_some_and(|r| r == "navigation" || r == "contentinfo")
}

fn walk(el: ElementRef<'_>, out: &mut String) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => {
                let s: String = t
                    .chars()
                    .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
                    .collect();
                out.push_str(&s);
            }
            Node::Element(e) => {
                let Some(child_el) = ElementRef::wrap(child) else {
                    continue;
                };
                if dropped(&child_el) {
                    continue;
                }
                let name = e.name();
                if name == "table" {
                    out.push('\n');
                    table(child_el, out);
                    out.push('\n');
                    continue;
                }
                let block = BLOCK_TAGS.contains(&name);
                if block {
                    out.push('\n');
                }
                walk(child_el, out);
                if block {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
}

fn cell_text(el: ElementRef<'_>) -> String {
    let mut s = String::new();
    walk(el, &mut s);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn table(el: ElementRef<'_>, out: &mut String) {
    let Ok(tr) = Selector::parse("tr") else {
        return;
    };
    let Ok(cells) = Selector::parse("td, th") else {
        return;
    };
    for row in el.select(&tr) {
        let texts: Vec<String> = row.select(&cells).map(cell_text).collect();
        let texts: Vec<String> = texts.into_iter().filter(|t| !t.is_empty()).collect();
        if texts.is_empty() {
            continue;
        }
        out.push_str(&texts.join(" | "));
        out.push('\n');
    }
}

fn first_text(doc: &Html, sel: &str) -> Option<String> {
    let s = Selector::parse(sel).ok()?;
    doc.select(&s)
        .map(|e| {
            e.text()
                .collect::<String>()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .find(|t| !t.is_empty())
}

/// The title of a service-portal guide whose headings are generic (`<h1>办事指南</h1>`,
/// the portal's name): the matter it guides, from its 事项名称 row or, on a 一网通办
/// page, the first segment of `<title>`, named as guides are (`…办事指南`).
fn guide_title(doc: &Html, page_title: Option<&str>) -> Option<String> {
    let whole: String = Selector::parse("body")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .map(|b| b.text().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let matter = MATTER_NAME_RE
        .captures(&whole)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim().to_string())
        .or_else(|| {
            let t = page_title?;
            t.contains("一网通办")
                .then(|| t.split('_').next().unwrap_or("").trim().to_string())
        })
        .filter(|m| m.chars().count() >= 4)?;
    Some(if crate::meta::ends_like_title(&matter) {
        matter
    } else {
        format!("{matter}办事指南")
    })
}

static MATTER_NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| crate::re(r"事项名称\s*[：:]\s*([^\s：:|]{4,40})"));

/// Extracts the readable content of an HTML page.
///
/// # Errors
/// [`Error::NoHtmlContent`] when nothing readable remains.
pub fn html_to_text(html: &str) -> Result<HtmlText> {
    let doc = Html::parse_document(html);
    let meta_title = Selector::parse(r#"meta[name="ArticleTitle"]"#)
        .ok()
        .and_then(|s| {
            doc.select(&s)
                .find_map(|e| e.value().attr("content").map(str::to_string))
        });
    let heading_title = Selector::parse("h1, h2").ok().and_then(|s| {
        doc.select(&s)
            .map(|e| {
                e.text()
                    .collect::<String>()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .find(|t| crate::meta::ends_like_title(t) && !crate::meta::is_bare_title_word(t))
    });
    let page_title = first_text(&doc, "title");
    let title = meta_title
        .or(heading_title)
        .or_else(|| guide_title(&doc, page_title.as_deref()))
        .or_else(|| page_title.as_deref().map(crate::meta::clean_title))
        .or_else(|| first_text(&doc, "h1"));
    // The whole body, minus chrome: content containers differ too much between
    // sites, and the 信息公开 box with the 文号 often sits outside them.
    let root = Selector::parse("body")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .unwrap_or_else(|| doc.root_element());
    let mut raw = String::new();
    walk(root, &mut raw);
    let all: Vec<String> = raw
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    // The page's 发布日期 often shares a line with 浏览次数 or 打印本页, or sits below the
    // text: keep it, as a labelled line near the top where the metadata reader looks.
    let page_date = all
        .iter()
        .find_map(|l| page_label(&PAGE_DATE_RE, l))
        .or_else(|| all.iter().find_map(|l| source_line_date(l)))
        .or_else(|| all.iter().find_map(|l| page_label(&PAGE_UPDATED_RE, l)));
    // The footer that names the page's author is chrome and is dropped with it.
    let whole: String = root.text().collect();
    let page_source = all
        .iter()
        .find_map(|l| page_label(&PAGE_SOURCE_RE, l))
        .or_else(|| {
            let c = crate::meta::PROVIDED_BY_RE.captures(&whole)?;
            Some(format!("来源：{}", c.get(1)?.as_str()))
        })
        .or_else(|| whole.lines().rev().find_map(site_host));
    let mut lines: Vec<String> = all.into_iter().filter(|l| !is_chrome_line(l)).collect();
    for found in [page_source, page_date].into_iter().flatten() {
        if !lines.iter().take(40).any(|l| l.contains(&found)) {
            lines.insert(0, found);
        }
    }
    if let Some(t) = &title
        && !lines
            .iter()
            .take(5)
            .any(|l| l.contains(t.as_str()) || t.contains(l.as_str()))
        && !t.is_empty()
    {
        lines.insert(0, t.clone());
    }
    let text = lines.join("\n");
    if text.trim().is_empty() {
        return Err(Error::NoHtmlContent);
    }
    Ok(HtmlText { text, title })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_on_the_source_line_is_the_page_date() {
        assert_eq!(
            super::source_line_date("2022-08-09 10:35 来源：市人社局 【字号 大 中 小】 打印本页")
                .as_deref(),
            Some("发布日期：2022-08-09")
        );
        // A date in a body sentence is not a page stamp.
        assert_eq!(super::source_line_date("自2022-09-01起施行"), None);
        assert_eq!(
            super::source_line_date("时间：2021-05-17　　点击：1873").as_deref(),
            Some("发布日期：2021-05-17")
        );
        assert_eq!(
            super::source_line_date("点击下方链接，2021-05-17前报名"),
            None
        );
    }

    #[test]
    fn a_body_site_host_names_the_author_and_a_portal_host_does_not() {
        assert_eq!(
            super::site_host("主办单位：上海市残疾人联合会　　地址：上海市长宁区某某路100号")
                .as_deref(),
            Some("来源：上海市残疾人联合会")
        );
        assert_eq!(
            super::site_host("主办：上海市人民政府办公厅　承办：上海市大数据中心"),
            None
        );
    }

    #[test]
    fn the_header_date_control_is_chrome() {
        assert!(super::is_chrome_line("2021年6月2日 星期三"));
        assert!(!super::is_chrome_line("2021年6月2日"));
    }

    const PAGE: &str = r#"<html><head><title>关于失业登记的通知_上海市人力资源和社会保障局</title><style>.x{}</style><script>var a=1;</script></head>
<body><div class="top-nav"><a href="/">首页</a><a>政务公开</a></div>
<div class="breadcrumb">首页 &gt; 政务公开 &gt; 文件</div>
<div class="main"><h1>关于失业登记的通知</h1>
<div class="fontsize">字号：大 中 小 打印本页</div>
<table class="info"><tr><td>文号</td><td>沪人社规〔2024〕12号</td></tr></table>
<div id="zoom"><p>各区人力资源和社会保障局：</p><p>一、适用范围</p><p>本通知适用于本市。</p>
<table><tr><th>项目</th><th>标准</th></tr><tr><td>失业保险金</td><td>2175元</td></tr></table></div></div>
<div class="sidebar">相关链接</div>
<div class="footer">版权所有 上海市人力资源和社会保障局 沪ICP备12345678号</div></body></html>"#;

    #[test]
    fn page_date_survives_its_chrome_line() {
        let html = r#"<html><body><div class="nav">首页 &gt; 政务公开</div><h1>关于做好助餐服务补贴工作的通知</h1>
<div class="meta"><span>发布时间：</span>2025-03-14 10:20 <span>来源：上海市徐汇区民政局</span> 浏览次数：1024 打印本页</div>
<div id="zoom"><p>一、对象</p><p>甲。</p><p>二、标准</p><p>乙。</p></div></body></html>"#;
        let t = html_to_text(html).unwrap();
        assert!(t.text.contains("发布时间：2025-03-14"), "{}", t.text);
        assert!(t.text.contains("来源：上海市徐汇区民政局"), "{}", t.text);
        assert!(!t.text.contains("浏览次数"), "{}", t.text);
    }

    #[test]
    fn keeps_content_drops_chrome() {
        let h = html_to_text(PAGE).unwrap();
        assert_eq!(h.title.as_deref(), Some("关于失业登记的通知"));
        assert!(h.text.contains("一、适用范围"), "{}", h.text);
        assert!(h.text.contains("项目 | 标准"), "{}", h.text);
        assert!(h.text.contains("失业保险金 | 2175元"));
        for bad in [
            "首页",
            "版权所有",
            "ICP",
            "相关链接",
            "var a",
            "字号",
            ".x{}",
        ] {
            assert!(!h.text.contains(bad), "{bad} in {}", h.text);
        }
    }

    #[test]
    fn empty_page_is_an_error() {
        assert!(matches!(
            html_to_text("<html><script>x</script></html>"),
            Err(Error::NoHtmlContent)
        ));
    }

    #[test]
    fn body_lines_with_chrome_words_are_kept() {
        let html = r#"<html><body><div class="nav">首页 &gt; 政务公开</div><h1>上海市社区老年助餐服务管理办法</h1>
<p>发文字号：沪民规〔2025〕3号</p>
<div id="zoom"><p>第五条 社区长者食堂应当具备以下条件：</p><p>（二）就餐区域设置无障碍通道；</p>
<p>第六条 异地就医备案的老年人可以就近就餐。</p></div>
<div>无障碍浏览</div></body></html>"#;
        let t = html_to_text(html).unwrap();
        assert!(
            t.text.contains("（二）就餐区域设置无障碍通道"),
            "{}",
            t.text
        );
        assert!(t.text.contains("第六条 异地就医备案"), "{}", t.text);
        assert!(t.text.contains("发文字号：沪民规〔2025〕3号"), "{}", t.text);
        assert!(!t.text.contains("无障碍浏览"), "{}", t.text);
    }

    #[test]
    fn footer_naming_the_author_becomes_the_source() {
        let html = r#"<html><body><h1>失业登记办事指南</h1><p>一、事项名称</p><p>失业登记</p>
<div class="footer"><p>版权所有 上海市人民政府 本页内容由上海市人力资源和社会保障局提供</p></div></body></html>"#;
        let t = html_to_text(html).unwrap();
        assert!(
            t.text.contains("来源：上海市人力资源和社会保障局"),
            "{}",
            t.text
        );
        assert!(!t.text.contains("版权所有"), "{}", t.text);
    }
}
