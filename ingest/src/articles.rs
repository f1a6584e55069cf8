//! Article splitting: cleaned policy text → chunks with labels and heading paths.
//!
//! Two structures are recognised. Legal texts use 编/章/节/条: every 第X条 is a leaf
//! chunk (its 款 and （一） 项 stay inside), with the enclosing 编/章/节 headings as
//! its path. Notices use 一、 / （一） / 1. / （1）: every top-level 一、 item is a leaf,
//! unless it has （一） children, in which case each child is a leaf labelled
//! `二、（一）`. A 问答 page whose questions carry no number (`问：…` / `答：…`) has
//! one leaf per question, labelled `第三问`. Text before the first article is an
//! unlabelled preamble chunk.
//! Numbers must advance (1 → 2 → 3, small gaps tolerated) for a line to open a new
//! unit, so a wrapped line that starts with "第八条规定的…" stays where it is.

use crate::labels::{Label, LabelKind, parse_label};
use crate::numerals::to_chinese_number;

/// One chunk before ids are assigned: `(article label, path, text)`.
pub type RawChunk = (Option<String>, Vec<String>, String);

/// The structure detected in a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    /// 第X条 articles.
    Articles,
    /// 一、 items (with optional （一） children).
    Notice,
    /// Only （一） items at the top.
    SubOnly,
    /// Only 1. items at the top.
    ArabicOnly,
    /// Unnumbered `问：` / `答：` pairs.
    Questions,
    /// Numbered questions (`1.问：` / `一、问：`): the questions' numbering drives the
    /// split, and lists inside the answers stay in their answer.
    NumberedQuestions,
    /// No numbering found.
    None,
}

fn accepts(last: u64, l: &Label) -> bool {
    if l.inserted {
        return last > 0 && l.number == last;
    }
    if last == 0 {
        l.number <= 3
    } else {
        l.number > last && l.number <= last + 3
    }
}

/// Counts how many lines of `kind` form an advancing sequence.
fn sequence_len(lines: &[&str], kind: LabelKind) -> usize {
    let mut last = 0;
    let mut n = 0;
    for l in lines {
        if let Some(lab) = parse_label(l)
            && lab.kind == kind
            && accepts(last, &lab)
        {
            last = lab.number;
            n += 1;
        }
    }
    n
}

/// Decides which numbering drives the split.
pub fn detect_structure(lines: &[&str]) -> Structure {
    if sequence_len(lines, LabelKind::Article) >= 2 {
        Structure::Articles
    } else if question_numbering(lines).is_some() {
        // Before 一、 and （一）: a numbered 问答 page's answers carry lists of their own.
        Structure::NumberedQuestions
    } else if sequence_len(lines, LabelKind::Top) >= 2 {
        Structure::Notice
    } else if lines
        .iter()
        .filter(|l| parse_label(l).is_none() && question_of(l).is_some())
        .count()
        >= 2
    {
        // Before 1. and （一）: those number the lists inside the answers.
        Structure::Questions
    } else if sequence_len(lines, LabelKind::Sub) >= 2 {
        Structure::SubOnly
    } else if sequence_len(lines, LabelKind::Arabic) >= 2 {
        Structure::ArabicOnly
    } else {
        Structure::None
    }
}

/// The numbering of a page's questions: the label kind that at least two `问：` lines
/// carry in an advancing sequence (`1.问：` → `2.问：`), the most used one if several.
fn question_numbering(lines: &[&str]) -> Option<LabelKind> {
    let mut best: Option<(usize, LabelKind)> = None;
    let mut runs: Vec<(LabelKind, u64, usize)> = Vec::new();
    for line in lines {
        let Some(lab) = parse_label(line) else {
            continue;
        };
        if question_of(line).is_none() {
            continue;
        }
        match runs.iter_mut().find(|r| r.0 == lab.kind) {
            Some(r) if accepts(r.1, &lab) => {
                r.1 = lab.number;
                r.2 += 1;
            }
            Some(_) => {}
            None if accepts(0, &lab) => runs.push((lab.kind, lab.number, 1)),
            None => {}
        }
    }
    for (kind, _, n) in runs {
        if n >= 2 && best.is_none_or(|(m, _)| n > m) {
            best = Some((n, kind));
        }
    }
    best.map(|(_, kind)| kind)
}

/// The question of a `问：……？` line, after any numbering label (`1. 问：……`).
fn question_of(line: &str) -> Option<&str> {
    let t = line.trim();
    let t = parse_label(t).map_or(t, |l| t[l.len..].trim_start());
    ["问：", "问:", "问题：", "Q：", "Q:", "【问】"]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .map(str::trim)
        .filter(|q| !q.is_empty())
}

/// A heading for the path: the line up to its first full stop or colon, at most
/// 40 characters. A question heads its answer: `1. 问：……？` is headed by the question.
fn heading_of(line: &str) -> String {
    let t = line.trim();
    let t = question_of(t).unwrap_or(t);
    let cut = t.find(['。', '：', ':']).map(|i| &t[..i]).unwrap_or(t);
    cut.chars().take(40).collect()
}

fn is_attachment_heading(line: &str) -> bool {
    let t = line.trim();
    (t.starts_with("附件") || t.starts_with("附：")) && t.chars().count() <= 40
}

fn push_text(buf: &mut String, line: &str) {
    if !buf.is_empty() {
        buf.push('\n');
    }
    buf.push_str(line.trim());
}

fn split_articles(lines: &[&str]) -> Vec<RawChunk> {
    let mut out: Vec<RawChunk> = Vec::new();
    let mut heads: Vec<(LabelKind, String)> = Vec::new();
    let mut cur: Option<(String, Vec<String>, String)> = None;
    let mut preamble = String::new();
    let mut attachment: Option<(Vec<String>, String)> = None;
    let mut last = 0u64;
    let mut last_head: [u64; 3] = [0; 3];
    let flush = |cur: &mut Option<(String, Vec<String>, String)>, out: &mut Vec<RawChunk>| {
        if let Some((label, path, text)) = cur.take() {
            out.push((Some(label), path, text));
        }
    };
    for line in lines {
        if let Some((_, buf)) = attachment.as_mut() {
            push_text(buf, line);
            continue;
        }
        if last > 0 && is_attachment_heading(line) {
            flush(&mut cur, &mut out);
            attachment = Some((vec![heading_of(line)], line.trim().to_string()));
            continue;
        }
        let lab = parse_label(line);
        match lab {
            Some(l)
                if matches!(
                    l.kind,
                    LabelKind::Part | LabelKind::Chapter | LabelKind::Section
                ) && line.chars().count() <= 40
                    && !line.contains('。') =>
            {
                let slot = match l.kind {
                    LabelKind::Part => 0,
                    LabelKind::Chapter => 1,
                    _ => 2,
                };
                if l.number > last_head[slot] && l.number <= last_head[slot] + 3 {
                    flush(&mut cur, &mut out);
                    last_head[slot] = l.number;
                    for h in last_head.iter_mut().skip(slot + 1) {
                        *h = 0;
                    }
                    heads.retain(|(k, _)| *k < l.kind);
                    heads.push((
                        l.kind,
                        line.split_whitespace().collect::<Vec<_>>().join(" "),
                    ));
                    continue;
                }
            }
            Some(l) if l.kind == LabelKind::Article && accepts(last, &l) => {
                flush(&mut cur, &mut out);
                last = l.number;
                let mut path: Vec<String> = heads.iter().map(|(_, h)| h.clone()).collect();
                path.push(l.text.clone());
                cur = Some((l.text, path, line.trim().to_string()));
                continue;
            }
            _ => {}
        }
        match cur.as_mut() {
            Some((_, _, buf)) => push_text(buf, line),
            None => push_text(&mut preamble, line),
        }
    }
    flush(&mut cur, &mut out);
    if let Some((path, text)) = attachment {
        out.push((None, path, text));
    }
    if !preamble.trim().is_empty() {
        out.insert(0, (None, Vec::new(), preamble));
    }
    out
}

struct Item {
    label: String,
    heading: String,
    text: String,
    subs: Vec<(String, String)>,
}

fn split_notice(lines: &[&str], top: LabelKind, sub: Option<LabelKind>) -> Vec<RawChunk> {
    let mut preamble = String::new();
    let mut items: Vec<Item> = Vec::new();
    let mut last_top = 0u64;
    let mut last_sub = 0u64;
    let mut attachment: Option<String> = None;
    for line in lines {
        if let Some(buf) = attachment.as_mut() {
            push_text(buf, line);
            continue;
        }
        if last_top > 0 && is_attachment_heading(line) {
            attachment = Some(line.trim().to_string());
            continue;
        }
        let lab = parse_label(line);
        if let Some(l) = &lab {
            if l.kind == top && accepts(last_top, l) {
                last_top = l.number;
                last_sub = 0;
                items.push(Item {
                    label: l.text.clone(),
                    heading: heading_of(line),
                    text: line.trim().to_string(),
                    subs: Vec::new(),
                });
                continue;
            }
            if Some(l.kind) == sub
                && let Some(item) = items.last_mut()
                && accepts(last_sub, l)
            {
                last_sub = l.number;
                item.subs.push((l.text.clone(), line.trim().to_string()));
                continue;
            }
        }
        match items.last_mut() {
            Some(item) => match item.subs.last_mut() {
                Some((_, buf)) => push_text(buf, line),
                None => push_text(&mut item.text, line),
            },
            None => push_text(&mut preamble, line),
        }
    }
    let mut out: Vec<RawChunk> = Vec::new();
    if !preamble.trim().is_empty() {
        out.push((None, Vec::new(), preamble));
    }
    for item in items {
        if item.subs.is_empty() {
            out.push((Some(item.label), vec![item.heading], item.text));
        } else {
            // The item's own lead-in (beyond its heading) is a chunk of its own, labelled
            // by the item: "二、" is how a clerk cites it.
            if item.text.trim() != item.heading.trim() {
                out.push((
                    Some(item.label.clone()),
                    vec![item.heading.clone()],
                    item.text,
                ));
            }
            for (label, text) in item.subs {
                out.push((
                    Some(format!("{}{}", item.label, label)),
                    vec![item.heading.clone(), label],
                    text,
                ));
            }
        }
    }
    if let Some(a) = attachment {
        out.push((None, vec![heading_of(&a)], a));
    }
    out
}

/// One leaf per `问：` line, with the answer that follows it.
fn split_questions(lines: &[&str]) -> Vec<RawChunk> {
    let mut out: Vec<RawChunk> = Vec::new();
    let mut preamble = String::new();
    let mut n = 0u64;
    for line in lines {
        if parse_label(line).is_none() && question_of(line).is_some() {
            n += 1;
            out.push((
                Some(format!("第{}问", to_chinese_number(n))),
                vec![heading_of(line)],
                line.trim().to_string(),
            ));
            continue;
        }
        match out.last_mut() {
            Some((_, _, text)) => push_text(text, line),
            None => push_text(&mut preamble, line),
        }
    }
    if !preamble.trim().is_empty() {
        out.insert(0, (None, Vec::new(), preamble));
    }
    out
}

/// Splits cleaned text into chunks. Returns the structure used and the chunks.
pub fn split(text: &str) -> (Structure, Vec<RawChunk>) {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let structure = detect_structure(&lines);
    let chunks = match structure {
        Structure::Articles => split_articles(&lines),
        Structure::Notice => split_notice(&lines, LabelKind::Top, Some(LabelKind::Sub)),
        Structure::SubOnly => split_notice(&lines, LabelKind::Sub, None),
        Structure::ArabicOnly => split_notice(&lines, LabelKind::Arabic, None),
        Structure::Questions => split_questions(&lines),
        Structure::NumberedQuestions => match question_numbering(&lines) {
            Some(kind) => split_notice(&lines, kind, None),
            None => split_questions(&lines),
        },
        Structure::None => {
            if lines.is_empty() {
                Vec::new()
            } else {
                vec![(
                    None,
                    Vec::new(),
                    lines
                        .iter()
                        .map(|l| l.trim())
                        .collect::<Vec<_>>()
                        .join("\n"),
                )]
            }
        }
    };
    (structure, chunks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn labels(c: &[RawChunk]) -> Vec<Option<&str>> {
        c.iter().map(|(l, _, _)| l.as_deref()).collect()
    }

    #[test]
    fn chapters_and_articles() {
        let t = "上海市某某办法\n第一章 总则\n第一条 为了规范，制定本办法。\n第二条 本办法适用于：\n（一）甲；\n（二）乙。\n第二章 申领条件\n第三条 符合条件的，可以申领。依照本办法第二条规定办理。\n第四条 另一条。";
        let (s, c) = split(t);
        assert_eq!(s, Structure::Articles);
        assert_eq!(
            labels(&c),
            vec![
                None,
                Some("第一条"),
                Some("第二条"),
                Some("第三条"),
                Some("第四条")
            ]
        );
        assert_eq!(
            c[3].1,
            vec!["第二章 申领条件".to_string(), "第三条".to_string()]
        );
        assert!(c[2].2.contains("（二）乙。"));
        assert_eq!(c[0].2, "上海市某某办法");
    }

    #[test]
    fn wrapped_reference_does_not_open_an_article() {
        let t = "第一条 内容依照\n第八条规定的程序办理。\n第二条 其他。";
        let (_, c) = split(t);
        assert_eq!(labels(&c), vec![Some("第一条"), Some("第二条")]);
        assert!(c[0].2.contains("第八条规定"));
    }

    #[test]
    fn notice_with_children() {
        let t = "关于某事的通知\n各区：\n一、总体要求\n做好工作。\n二、申领条件\n符合下列条件：\n（一）本市户籍；\n（二）已登记。\n三、其他\n本通知自印发之日起施行。";
        let (s, c) = split(t);
        assert_eq!(s, Structure::Notice);
        assert_eq!(
            labels(&c),
            vec![
                None,
                Some("一、"),
                Some("二、"),
                Some("二、（一）"),
                Some("二、（二）"),
                Some("三、")
            ]
        );
        assert_eq!(
            c[3].1,
            vec!["二、申领条件".to_string(), "（一）".to_string()]
        );
        assert_eq!(c[1].1, vec!["一、总体要求".to_string()]);
    }

    #[test]
    fn no_numbering_is_one_chunk() {
        let (s, c) = split("一段话。\n又一段话。");
        assert_eq!(s, Structure::None);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].0, None);
    }

    #[test]
    fn attachments_do_not_restart_articles() {
        let t = "第一条 甲。\n第二条 乙。\n附件：申请表\n第一条 表格说明。";
        let (_, c) = split(t);
        assert_eq!(labels(&c), vec![Some("第一条"), Some("第二条"), None]);
    }

    proptest! {
        #[test]
        fn article_count_matches_generated(n in 2usize..60) {
            let mut t = String::from("标题\n");
            for i in 1..=n {
                t.push_str(&format!("第{}条 内容{}。\n", crate::numerals::to_chinese_number(i as u64), i));
            }
            let (_, c) = split(&t);
            prop_assert_eq!(c.iter().filter(|x| x.0.is_some()).count(), n);
        }

        #[test]
        fn never_panics_and_keeps_text(s in "[一二三（）第条章、。\\n甲乙 ]{0,80}") {
            let (_, c) = split(&s);
            let total: usize = c.iter().map(|x| x.2.chars().filter(|c| !c.is_whitespace()).count()).sum();
            let orig = s.chars().filter(|c| !c.is_whitespace()).count();
            prop_assert_eq!(total, orig);
        }
    }

    #[test]
    fn unnumbered_questions_are_items() {
        let t = "异地就医备案政策问答\n近期不少参保人员来电咨询。\n问：哪些人员需要办理备案？\n答：以下人员：\n1. 异地安置退休人员；\n2. 异地长期居住人员。\n问：需要哪些材料？\n答：身份证件。\n问：可以通过哪些途径办理？\n答：线上线下均可。";
        let (s, c) = split(t);
        assert_eq!(s, Structure::Questions);
        assert_eq!(
            labels(&c),
            vec![None, Some("第一问"), Some("第二问"), Some("第三问")]
        );
        assert_eq!(c[1].1, vec!["哪些人员需要办理备案？".to_string()]);
        assert!(c[1].2.contains("2. 异地长期居住人员"));
    }

    #[test]
    fn numbered_questions_are_headed_by_the_question() {
        let t = "工伤保险待遇常见问题\n1. 问：申请工伤认定需要哪些材料？\n答：主要包括：\n（1）申请表；\n（2）劳动关系证明。\n2. 问：停工留薪期的工资怎么发？\n答：原待遇不变。";
        let (s, c) = split(t);
        assert_eq!(s, Structure::NumberedQuestions);
        assert_eq!(labels(&c), vec![None, Some("1."), Some("2.")]);
        assert_eq!(c[1].1, vec!["申请工伤认定需要哪些材料？".to_string()]);
    }

    #[test]
    fn lists_inside_numbered_answers_stay_in_their_answer() {
        // The answers' （一） and 一、 lists would otherwise outnumber the questions.
        let t = "答记者问\n1.问：哪些人可以参加？\n答：以下三类：\n（一）高校毕业生；\n（二）失业青年；\n（三）其他人员。\n2.问：有哪些补贴？\n答：一、生活费；二、保险。\n一、见习生活费按月发放。\n二、意外伤害保险由基地办理。\n3.问：何时施行？\n答：2022年9月1日起。";
        let (s, c) = split(t);
        assert_eq!(s, Structure::NumberedQuestions);
        assert_eq!(labels(&c), vec![None, Some("1."), Some("2."), Some("3.")]);
        assert!(c[1].2.contains("（三）其他人员"));
        assert!(c[2].2.contains("二、意外伤害保险"));
    }
}
