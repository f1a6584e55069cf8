//! What kind of turn a reply is, whatever field was asked: cancel the matter, ask for a
//! person, correct an earlier answer, ask a side question, agree, refuse, or just answer.
//!
//! [`classify`] returns every act it finds, in the fixed order Cancel, Handoff, Correction,
//! Question, Affirm, Deny, Inform, so the flow can check the weightier ones first. Rules:
//! * Cancel is about the matter (`不办了`, `算了不弄了`, `取消`, `我不申请了`); declining one
//!   item (`不领失业金`, `不用了`) is Deny, not Cancel. Cancel replaces Deny.
//! * Correction (`不对，是…`, `刚才说错了`, `改一下`, `应该是…`, `失业时间写错了是…`) carries
//!   the field named before or after the marker (`field_hint`, the word as said, e.g. `失业时间`,
//!   `工资`) and the rest of the reply after the marker (`rest`). It replaces Deny (`不对` is
//!   how a correction starts) and Affirm.
//! * Question: a question mark or a final `吗/呢/么`, or an interrogative word (`多少`, `怎么`,
//!   `哪些`, `什么`, `能不能`, `多久`, `啥`, `咋`…) not inside a statement (`没什么毛病`).
//! * Affirm/Deny come from [`parse_yes_no`], only for replies that are short or start with the
//!   decision, so that `我是上个月被辞退的` is Inform and not Affirm.
//! * Inform: the reply carries something beyond the acts above (a value to parse); not set
//!   with Cancel, Handoff, Question or Correction (whose value is in `rest`).

use super::yesno::parse_yes_no;
use super::{Parsed, correction_tail, is_pause, normalize};

/// One act of a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum Act {
    /// Stop the whole matter.
    Cancel,
    /// Hand over to a human clerk.
    Handoff,
    /// An earlier answer was wrong.
    Correction {
        /// The field the resident named (`失业时间`, `工资`), as said.
        field_hint: Option<String>,
        /// What follows the correction marker, to be parsed for the new value.
        rest: String,
    },
    /// A side question, not an answer.
    Question,
    /// Yes.
    Affirm,
    /// No.
    Deny,
    /// An answer with content.
    Inform,
}

const CANCEL: &[&str] = &[
    "不办了",
    "不弄了",
    "不搞了",
    "不申请了",
    "不想办了",
    "不想申请了",
    "不登记了",
    "不想弄了",
    "别办了",
    "不要办了",
    "不用办了",
    "取消",
    "退出",
    "放弃申请",
    "放弃办理",
    "不办理了",
    "先不办",
    "结束办理",
    "终止办理",
    "撤回申请",
    "不做了这个",
];

const HANDOFF: &[&str] = &[
    "转人工",
    "人工服务",
    "人工客服",
    "要人工",
    "找人工",
    "人工",
    "工作人员",
    "客服",
    "真人",
    "找个人",
    "和人说",
    "跟人说",
    "窗口的人",
    "柜台",
    "经办人",
];

const CORRECTION: &[&str] = &[
    "刚才说错了",
    "我说错了",
    "说错了",
    "搞错了",
    "写错了",
    "填错了",
    "弄错了",
    "打错了",
    "记错了",
    "输错了",
    "更正",
    "改一下",
    "改成",
    "改为",
    "改下",
    "要改",
    "修改",
    "应该是",
    "其实是",
    "不对",
    "错了",
];

/// Fields residents name when they correct, longest first.
const FIELDS: &[&str] = &[
    "劳动合同开始时间",
    "合同开始时间",
    "失业时间",
    "失业日期",
    "失业原因",
    "求职意向",
    "健康状况",
    "开始月份",
    "开始时间",
    "申请日期",
    "月工资",
    "工资",
    "收入",
    "身份证号",
    "身份证",
    "手机号",
    "手机",
    "电话",
    "姓名",
    "名字",
    "原因",
    "日期",
    "时间",
    "地址",
    "金额",
];

const QUESTION_WORDS: &[&str] = &[
    "多少",
    "多久",
    "多长",
    "怎么",
    "怎样",
    "哪些",
    "哪里",
    "哪儿",
    "哪个",
    "什么",
    "啥",
    "咋",
    "能不能",
    "可不可以",
    "可以吗",
    "能否",
    "是否",
    "有没有",
    "为什么",
    "为啥",
    "如何",
    "几个",
    "几天",
    "几月",
    "几号",
    "几年",
    "要不要带",
    "需不需要",
    "会不会",
    "是不是",
];

/// Words that make an interrogative word part of a statement.
const NOT_QUESTION: &[&str] = &[
    "没什么",
    "没啥",
    "不怎么",
    "什么都",
    "啥都",
    "怎么都",
    "多少钱都",
    "不知道",
    "没多少",
    "没多久",
    "多少有点",
    "多少也",
];

/// The acts of one reply (see the module docs for their order and overlaps).
pub fn classify(text: &str) -> Vec<Act> {
    let norm = normalize(text);
    let t: &str = &norm;
    let mut acts = Vec::new();
    if t.len() > 4096 || t.chars().all(is_pause) {
        return acts;
    }
    let cancel =
        (CANCEL.iter().any(|p| t.contains(p)) || drops_matter(t)) && !t.contains("取消登记证明");
    if cancel {
        acts.push(Act::Cancel);
    }
    let handoff = HANDOFF.iter().any(|p| t.contains(p)) && !t.contains("人工智能");
    if handoff {
        acts.push(Act::Handoff);
    }
    let correction = correction(t);
    let corrected = correction.is_some();
    if let Some(c) = correction {
        acts.push(c);
    }
    let question = is_question(t);
    if question {
        acts.push(Act::Question);
    }
    let content = has_content(t);
    if !cancel && !corrected && !handoff {
        // A statement (`我是上个月被辞退的`) holds yes/no words without deciding anything; only a
        // bare decision, or one the reply starts with, is Affirm/Deny.
        let decides = starts_with_decision(t) || (!content && !question);
        match parse_yes_no(decision_part(t, question)) {
            Parsed::Value(true) if decides => acts.push(Act::Affirm),
            Parsed::Value(false) if decides => acts.push(Act::Deny),
            _ => {}
        }
    }
    if content && !acts.iter().any(|a| !matches!(a, Act::Affirm | Act::Deny)) {
        acts.push(Act::Inform);
    }
    acts
}

/// `不办失业登记了` / `不申请这个补贴了`: giving up the matter, named between the verb and `了`.
/// Declining the benefit inside a matter (`不申请失业金了`) is a Deny, not a Cancel.
fn drops_matter(t: &str) -> bool {
    [
        "不办",
        "不想办",
        "不申请",
        "不想申请",
        "不登记",
        "不弄",
        "不搞",
    ]
    .iter()
    .any(|v| {
        t.match_indices(v).any(|(p, _)| {
            let after = &t[p + v.len()..];
            let object: String = after.chars().take_while(|c| *c != '了').take(9).collect();
            object.chars().count() <= 8
                && after[object.len()..].starts_with('了')
                && !object.contains("失业金")
                && !object.contains("失业保险金")
        })
    })
}

fn correction(t: &str) -> Option<Act> {
    let marker = CORRECTION
        .iter()
        .filter_map(|m| t.find(m).map(|p| (p, m.len())))
        .min_by_key(|&(p, l)| (p, usize::MAX - l));
    // `不是X，是Y` also corrects, without a marker.
    let (pos, len) = match marker {
        Some(m) => m,
        None => {
            let p = t.find("不是")?;
            let tail = correction_tail(t);
            if tail.len() == t.len() {
                return None;
            }
            let start = t.len() - tail.len();
            let _ = p;
            return Some(Act::Correction {
                field_hint: field_in(t),
                rest: clean_rest(&t[start..]),
            });
        }
    };
    let after = &t[pos + len..];
    let rest = clean_rest(correction_tail(after));
    // A bare `不对` with nothing after is a refusal, not a correction.
    if rest.is_empty() && !t.contains("错") && !t.contains("改") && !t.contains("更正") {
        return None;
    }
    Some(Act::Correction {
        field_hint: field_in(t),
        rest,
    })
}

fn field_in(t: &str) -> Option<String> {
    let hits: Vec<(usize, usize, &str)> = FIELDS
        .iter()
        .filter_map(|f| t.find(f).map(|p| (p, p + f.len(), *f)))
        .collect();
    // Drop a field word inside a longer one (`时间` in `失业时间`), then take the first.
    hits.iter()
        .filter(|&&(s, e, _)| {
            !hits
                .iter()
                .any(|&(s2, e2, _)| s2 <= s && e <= e2 && e2 - s2 > e - s)
        })
        .min_by_key(|&&(s, _, _)| s)
        .map(|&(_, _, f)| f.to_string())
}

/// What follows a correction marker, without the pauses, a leading `是`/`应该是` or a field
/// name the resident repeated (`失业时间是三月五号` → `三月五号`).
fn clean_rest(s: &str) -> String {
    let mut r = s.trim_matches(is_pause);
    loop {
        let before = r;
        for f in FIELDS {
            if let Some(x) = r.strip_prefix(f) {
                r = x;
            }
        }
        for p in [
            "应该是",
            "其实是",
            "我的",
            "是",
            "为",
            "成",
            "应该",
            "了",
            "一下",
            "下",
        ] {
            if let Some(x) = r.strip_prefix(p) {
                r = x;
            }
        }
        r = r.trim_matches(is_pause);
        if r == before {
            break;
        }
    }
    r.to_string()
}

fn is_question(t: &str) -> bool {
    let trimmed =
        t.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '。' | '.' | '～' | '~'));
    if trimmed.ends_with(['?', '？']) {
        return true;
    }
    let core = trimmed.trim_end_matches(|c: char| is_pause(c) || matches!(c, '啊' | '呀'));
    if core.ends_with(['吗', '么', '嘛']) && !core.ends_with("什么") && !core.ends_with("怎么")
    {
        return true;
    }
    if core.ends_with('呢') && core.chars().count() > 2 {
        return true;
    }
    // The spoken yes/no question that ends in the negation (`街道能帮着介绍不`, `有补贴没有`):
    // a modal or 有 earlier in the same clause, the clause closed by 不/没/没有 (not 是: `但是
    // 现在不` is an answer).
    let clause = core.rsplit(['，', ',', '。', '；']).next().unwrap_or(core);
    if let Some(head) = clause
        .strip_suffix("没有")
        .or_else(|| clause.strip_suffix('不'))
        .or_else(|| clause.strip_suffix('没'))
        && head.chars().count() >= 2
        && !head.ends_with(['不', '没', '也', '都', '还', '就', '并'])
        && ["能", "可以", "会", "有", "要", "行", "给", "算"]
            .iter()
            .any(|m| head.contains(m))
    {
        return true;
    }
    let mut masked = t.to_string();
    for n in NOT_QUESTION {
        if masked.contains(n) {
            masked = masked.replace(n, "　");
        }
    }
    QUESTION_WORDS.iter().any(|q| masked.contains(q))
}

/// The leading clause, where residents put yes or no (`对的，都没问题` / `不用了，谢谢`).
fn decision_part(t: &str, question: bool) -> &str {
    if !question && t.chars().count() <= 12 {
        return t;
    }
    let end = t
        .char_indices()
        .find(|&(_, c)| {
            matches!(
                c,
                ',' | '，' | '。' | '.' | '!' | '！' | '?' | '？' | ' ' | '；'
            )
        })
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let head = &t[..end];
    if head.chars().count() <= 8 { head } else { "" }
}

fn starts_with_decision(t: &str) -> bool {
    let mut head = t.trim_start_matches(is_pause);
    // `我不申请失业金了` / `那好吧`: a pronoun or `那` before the decision.
    for lead in ["那我", "我就", "那", "我"] {
        if let Some(h) = head.strip_prefix(lead) {
            head = h;
            break;
        }
    }
    [
        "好",
        "行",
        "可以",
        "对",
        "是的",
        "嗯",
        "没问题",
        "没错",
        "确认",
        "不",
        "没有",
        "算了",
        "暂时不",
        "先不",
        "要的",
        "ok",
        "OK",
    ]
    .iter()
    .any(|p| head.starts_with(p))
}

/// Whether anything is left after removing yes/no words, confirmations, fillers and pauses.
fn has_content(t: &str) -> bool {
    let mut rest = t.to_string();
    for p in [
        "提交",
        "就这样",
        "无误",
        "没错",
        "确定",
        "谢谢您",
        "麻烦了",
        "麻烦您",
        "请",
        "对的",
        "是的",
        "好的",
        "没问题",
        "不用了",
        "不需要",
        "不要",
        "不用",
        "不是",
        "谢谢",
        "麻烦",
        "您",
        "你",
        "了",
        "啊",
        "呀",
        "吧",
        "嗯",
        "哦",
        "好",
        "对",
        "是",
        "要",
        "不",
        "没有",
        "的",
        "都",
        "可以",
        "行",
        "确认",
        "领",
        "需要",
        "没",
        "算",
        "暂时",
        "先",
        "我",
    ] {
        rest = rest.replace(p, "");
    }
    rest.chars().any(|c| !is_pause(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(t: &str) -> Vec<&'static str> {
        classify(t)
            .iter()
            .map(|a| match a {
                Act::Cancel => "cancel",
                Act::Handoff => "handoff",
                Act::Correction { .. } => "correction",
                Act::Question => "question",
                Act::Affirm => "affirm",
                Act::Deny => "deny",
                Act::Inform => "inform",
            })
            .collect()
    }

    #[test]
    fn spoken_questions_ending_in_the_negation() {
        for t in [
            "街道能帮着介绍不",
            "那个……我这种情况以后找工作，街道能帮着介绍不",
            "这个有补贴没有",
            "材料可以晚点交不",
        ] {
            assert!(is_question(t), "{t}");
        }
        for t in [
            "不",
            "我想领，但是现在不",
            "暂时还没",
            "现在能领的都领了，别的不",
        ] {
            assert!(!is_question(t), "{t}");
        }
    }

    #[test]
    fn brief_examples() {
        assert_eq!(names("不办了"), ["cancel"]);
        assert_eq!(names("算了不弄了"), ["cancel"]);
        assert_eq!(names("不领失业金"), ["deny", "inform"]);
        assert_eq!(names("转人工"), ["handoff"]);
        assert_eq!(names("失业金能领多久？"), ["question"]);
        assert_eq!(names("需要带什么材料"), ["question"]);
        assert_eq!(names("对的都没问题"), ["affirm"]);
        assert_eq!(
            classify("不对，失业时间是三月五号"),
            vec![Act::Correction {
                field_hint: Some("失业时间".into()),
                rest: "三月五号".into()
            }]
        );
        assert_eq!(
            classify("刚才说错了，是4200"),
            vec![Act::Correction {
                field_hint: None,
                rest: "4200".into()
            }]
        );
        assert_eq!(
            classify("失业时间写错了是3月5号")[0],
            Act::Correction {
                field_hint: Some("失业时间".into()),
                rest: "3月5号".into()
            }
        );
    }
}
