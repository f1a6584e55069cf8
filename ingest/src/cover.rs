//! Promulgating covers: a 令, a 人大常委会公告 or a 印发通知 that publishes another document.
//!
//! Such a file holds two documents. The cover (版头 `上海市人民政府令` / `第27号`, or
//! `X局 Y局关于印发《Z办法》的通知` with its 文号, 主送, one paragraph, 落款 and 成文日期) gives
//! the 文号, the issuers and the date; the inner document (Z, with its 第X条) is what the file is:
//! its name is the title. The header line of a 令 or 公告 is never a title.

use std::sync::LazyLock;

use regex::Regex;

use crate::re;

/// Which kind of cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverKind {
    /// 上海市人民政府令 第N号.
    Order,
    /// 上海市人民代表大会常务委员会公告.
    Announcement,
    /// X关于印发《Z》的通知.
    Issuance,
}

/// A cover found at the head of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// Which kind.
    pub kind: CoverKind,
    /// The inner document's name (the file's title).
    pub title: String,
    /// Index (in the lines given) of the inner document's own title line, when it is there.
    pub inner_start: Option<usize>,
    /// The body an order or announcement names in its header line (上海市人民政府).
    pub issuer: Option<String>,
}

/// What a promulgated document's name ends with (the contract's list: 办法, 条例, 规定, 细则).
const INNER_ENDINGS: &[&str] = &["办法", "条例", "规定", "细则"];

static ORDER_HEAD_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\s*([\p{Han}]{2,24}?(?:人民政府|政府))\s*令\s*(?:[（(]?\s*第\s*[0-9一二三四五六七八九十百零〇]{1,6}\s*号[）)]?)?\s*$",
    )
});
static ANNOUNCE_HEAD_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*([\p{Han}]{2,30}?人民代表大会常务委员会)\s*公告"));
static ISSUANCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"关于(?:印发|发布|公布|颁布)(?:修订后的|新修订的|修改后的)?\s*(?:《([^》]{2,80}?)》|[<〈]([^>〉]{2,80}?)[>〉]|[“\x22]([^”\x22]{2,80}?)[”\x22])\s*的(?:通知|决定|公告)",
    )
});
static QUOTED_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"[《<〈]\s*([^》>〉《<〈]{2,80}?)\s*[》>〉]"));
static PAREN_TAIL_RE: LazyLock<Regex> = LazyLock::new(|| re(r"[（(][^（）()]{1,12}[）)]\s*$"));

/// Whether `name` is the kind of document a cover promulgates (a trailing （试行） is allowed).
pub fn is_promulgated(name: &str) -> bool {
    let core = PAREN_TAIL_RE.replace(name.trim(), "");
    INNER_ENDINGS.iter().any(|e| core.ends_with(e))
}

/// The inner document's name when `title` is a 印发通知's title (`X关于印发《Z办法》的通知`).
pub fn issued_inner(title: &str) -> Option<String> {
    let compact: String = title.chars().filter(|c| !c.is_whitespace()).collect();
    let c = ISSUANCE_RE.captures(&compact)?;
    let name = (1..=3).find_map(|i| c.get(i))?.as_str().trim().to_string();
    is_promulgated(&name).then_some(name)
}

fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !"《》<>〈〉".contains(*c))
        .collect()
}

/// The first line after `from` that is the inner document's own title line (the name alone,
/// perhaps with （试行）, or split over two lines).
fn inner_title_line(lines: &[&str], from: usize, name: &str) -> Option<usize> {
    let want = compact(name);
    let core = compact(&PAREN_TAIL_RE.replace(name, ""));
    (from..lines.len()).find(|&i| {
        let l = compact(lines[i]);
        let two = lines.get(i + 1).map(|n| format!("{l}{}", compact(n)));
        l == want || l == core || two.is_some_and(|t| t == want)
    })
}

/// Finds a promulgating cover in the first lines of `lines` (non-empty, trimmed or not).
pub fn find_cover(lines: &[&str]) -> Option<Cover> {
    let head = &lines[..lines.len().min(12)];
    for (i, l) in head.iter().enumerate().take(8) {
        let (kind, issuer) = if let Some(c) = ORDER_HEAD_RE.captures(l) {
            (CoverKind::Order, c.get(1).map(|m| m.as_str().to_string()))
        } else if let Some(c) = ANNOUNCE_HEAD_RE.captures(l) {
            (
                CoverKind::Announcement,
                c.get(1).map(|m| m.as_str().to_string()),
            )
        } else {
            continue;
        };
        // The name: the first 《…》 of the cover's paragraph that names a promulgated kind.
        let name = lines[i + 1..lines.len().min(i + 12)].iter().find_map(|p| {
            QUOTED_RE
                .captures_iter(p)
                .filter_map(|c| c.get(1).map(|m| m.as_str().trim().to_string()))
                .find(|n| is_promulgated(n))
        });
        let name = match name {
            Some(n) => n,
            // No quoted name (OCR lost the marks): the first title-like line after the cover.
            None => lines[i + 1..lines.len().min(i + 16)]
                .iter()
                .map(|l| l.trim())
                .find(|l| l.chars().count() <= 40 && !l.contains('。') && is_promulgated(l))?
                .to_string(),
        };
        let inner_start = inner_title_line(lines, i + 1, &name);
        return Some(Cover {
            kind,
            title: name,
            inner_start,
            issuer,
        });
    }
    // 印发通知: its title may run over two or three lines.
    for i in 0..head.len() {
        let joined: String = head[i..head.len().min(i + 3)].concat();
        let Some(name) = issued_inner(&joined) else {
            continue;
        };
        let mention = (i..head.len())
            .find(|&j| issued_inner(&head[i..=j].concat()).is_some())
            .unwrap_or(i);
        return Some(Cover {
            kind: CoverKind::Issuance,
            inner_start: inner_title_line(lines, mention + 1, &name),
            title: name,
            issuer: None,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<&str> {
        s.lines().filter(|l| !l.trim().is_empty()).collect()
    }

    #[test]
    fn order_with_its_rule() {
        let t = "上海市人民政府令\n第12号\n《上海市社区托育服务管理办法》已经2025年3月3日市政府第80次常务会议通过，现予公布，自2025年5月1日起施行。\n市长　某某某\n2025年3月10日\n上海市社区托育服务管理办法\n（2025年3月10日上海市人民政府令第12号公布）\n第一条　为了规范……";
        let c = find_cover(&lines(t)).unwrap();
        assert_eq!(c.kind, CoverKind::Order);
        assert_eq!(c.title, "上海市社区托育服务管理办法");
        assert_eq!(c.inner_start, Some(5));
        assert_eq!(c.issuer.as_deref(), Some("上海市人民政府"));
    }

    #[test]
    fn announcement_with_its_regulation() {
        let t = "上海市人民代表大会常务委员会公告\n〔十六届〕第20号\n《上海市养老服务条例》已由上海市第十六届人民代表大会常务委员会第十次会议于2024年6月20日修订通过，现予公布，自2024年9月1日起施行。\n上海市人民代表大会常务委员会\n2024年6月20日\n上海市养老服务条例\n第一章　总则\n第一条　……";
        let c = find_cover(&lines(t)).unwrap();
        assert_eq!(c.kind, CoverKind::Announcement);
        assert_eq!(c.title, "上海市养老服务条例");
        assert_eq!(c.inner_start, Some(5));
        assert_eq!(c.issuer.as_deref(), Some("上海市人民代表大会常务委员会"));
    }

    #[test]
    fn issuance_over_two_lines_and_ocr_marks() {
        let t = "上海市民政局 上海市财政局\n关于印发<上海市困难家庭临时救助\n实施细则（试行）>的通知\n沪民规〔2025〕4号\n各区民政局、财政局：\n现将《上海市困难家庭临时救助实施细则（试行）》印发给你们，请遵照执行。\n上海市民政局　上海市财政局\n2025年2月1日\n上海市困难家庭临时救助实施细则（试行）\n第一条　……";
        let c = find_cover(&lines(t)).unwrap();
        assert_eq!(c.kind, CoverKind::Issuance);
        assert_eq!(c.title, "上海市困难家庭临时救助实施细则（试行）");
        assert_eq!(c.inner_start, Some(8));
    }

    #[test]
    fn an_ordinary_notice_and_a_plan_have_no_cover() {
        let t = "上海市民政局关于做好2025年养老服务补贴发放工作的通知\n沪民规〔2025〕2号\n一、……";
        assert!(find_cover(&lines(t)).is_none());
        assert!(issued_inner("关于印发《上海市育儿补贴制度实施方案》的通知").is_none());
        assert_eq!(
            issued_inner(
                "市妇联 市卫生健康委关于印发修订后的《上海市困难妇女“两癌”救助办法》的通知"
            )
            .as_deref(),
            Some("上海市困难妇女“两癌”救助办法")
        );
    }
}
