//! Yes or no to a closed question (是否申领失业金, 是否征地人员, confirming an 评估结果 or a
//! summary).
//!
//! Phrases are matched, not single characters, and in three passes: first phrases that look
//! negative but agree (`没问题`, `没错`, `没有异议`, `不是不要`), then negative phrases, then
//! positive ones. A reply with a negative phrase is `false` even if it also has a positive one
//! (`好的，不用了`), since residents put the decision last and politeness first. Indifference
//! (`要不要都行`, `无所谓`) and indecision (`还没想好`, `不知道`) are `Nothing`: the flow should
//! ask again rather than guess, and so is a reply that asks back (`领伐？`). Hedges keep their
//! direction (`应该要吧` → `true`).

use super::{Parsed, is_pause, normalize};

/// The reply gives no decision.
const UNDECIDED: &[&str] = &[
    "要不要都行",
    "领不领都行",
    "都行",
    "都可以吧",
    "无所谓",
    "随便",
    "还没想好",
    "没想好",
    "没想过",
    "不知道",
    "不晓得",
    "不清楚",
    "不是很清楚",
    "不太清楚",
    "不大清楚",
    "搞不清",
    "不确定",
    "说不好",
    "说不准",
    "不一定",
    "考虑一下",
    "考虑考虑",
    "想一想",
    "想想",
    "再说吧",
    "再看看",
    "看情况",
    "不好说",
    "拿不准",
    "犹豫",
    "不太懂",
    "不明白",
    "啥意思",
    "什么意思",
];

/// Agreement that contains a negation character.
const AGREE_WITH_NEGATION: &[&str] = &[
    "没有问题",
    "没问题",
    "没啥问题",
    "没什么问题",
    "没毛病",
    "没错",
    "没有错",
    "不会错",
    "错不了",
    "没有异议",
    "没异议",
    "无异议",
    "没意见",
    "没有意见",
    "不是不要",
    "不是不领",
    "不是不需要",
    "不是不想",
    "不是不同意",
    "不是不申请",
    "不反对",
    "不错",
    "可不是",
    "那还用说",
    "何乐而不为",
];

const NO: &[&str] = &[
    "不用",
    "不要",
    "不领",
    "不需要",
    "不需",
    "不是",
    "没有",
    "没",
    "否",
    "算了",
    "不了",
    "暂时不",
    "先不",
    "不对",
    "不行",
    "不可以",
    "不同意",
    "不认可",
    "不接受",
    "有异议",
    "有意见",
    "别",
    "不想",
    "不太",
    "不怎么",
    "没兴趣",
    "不申请",
    "不申领",
    "不打算",
    "不愿意",
    "不必",
    "免了",
    "拉倒",
    "不确认",
    "错了",
    "不正确",
    "不属于",
    "不算",
    "木有",
    "no",
    "No",
    "NO",
];

const YES: &[&str] = &[
    "要", "领", "需要", "是", "对", "好", "可以", "行", "确认", "确定", "嗯", "恩", "正确", "同意",
    "愿意", "申请", "申领", "当然", "肯定", "必须", "想", "认可", "属于", "算是", "有的", "ok",
    "OK", "Ok", "yes", "Yes", "en",
];

/// Whether this reply says yes (`true`) or no (`false`) to a closed question.
pub fn parse_yes_no(text: &str) -> Parsed<bool> {
    let norm = normalize(text);
    let t: &str = &norm;
    if t.len() > 4096 || t.chars().all(is_pause) {
        return Parsed::Nothing;
    }
    if UNDECIDED.iter().any(|p| t.contains(p)) {
        return Parsed::Nothing;
    }
    // A question back (`领伐？`, `要不要`, `是不是`) is not an answer.
    if t.trim_end().ends_with(['?', '？']) || a_not_a(t) {
        return Parsed::Nothing;
    }
    let mut rest = t.to_string();
    let mut agreed = false;
    for p in AGREE_WITH_NEGATION {
        if rest.contains(p) {
            agreed = true;
            rest = rest.replace(p, "　");
        }
    }
    let only_negation = rest
        .chars()
        .filter(|c| !is_pause(*c))
        .all(|c| matches!(c, '不' | '没' | '否' | '无'))
        && rest.chars().any(|c| !is_pause(c) && c != '　');
    if only_negation || NO.iter().any(|p| rest.contains(p)) {
        return Parsed::Value(false);
    }
    let bare =
        rest.trim_matches(|c: char| is_pause(c) || matches!(c, '啊' | '呀' | '的' | '吧' | '嘛'));
    if agreed || YES.iter().any(|p| rest.contains(p)) || matches!(bare, "中" | "成" | "妥" | "嗯呐")
    {
        return Parsed::Value(true);
    }
    Parsed::Nothing
}

/// An A-not-A question (`要不要`, `是不是`) with nothing after it that decides.
fn a_not_a(t: &str) -> bool {
    let chars: Vec<char> = t.chars().collect();
    chars.windows(3).enumerate().any(|(i, w)| {
        // `没有没有` repeats a no; it does not ask `有没有`.
        let repeated = i > 0 && chars[i - 1] == w[1];
        w[0] == w[2] && (w[1] == '不' || w[1] == '没') && w[0] != '不' && !repeated && {
            // `是不是不要` still decides nothing; `要不要？要` decides after the question.
            let after: String = chars[i + 3..].iter().collect();
            !after
                .chars()
                .any(|c| !is_pause(c) && c != '啊' && c != '呢' && c != '呀')
                || after.contains("都")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brief_examples() {
        for s in [
            "要领的",
            "要",
            "领",
            "需要",
            "是的",
            "对",
            "对的都没问题",
            "没问题",
            "可以",
            "好的",
            "确认",
            "嗯",
            "应该要吧",
            "不是不要",
        ] {
            assert_eq!(parse_yes_no(s), Parsed::Value(true), "{s}");
        }
        for s in [
            "不用了",
            "不要",
            "不领",
            "不需要",
            "不是",
            "没有",
            "否",
            "算了不领了",
            "暂时不用",
            "不是3800",
            "好的，不用了",
        ] {
            assert_eq!(parse_yes_no(s), Parsed::Value(false), "{s}");
        }
        for s in ["还没想好", "不知道", "要不要都行", "", "？", "要不要啊"] {
            assert_eq!(parse_yes_no(s), Parsed::Nothing, "{s}");
        }
    }
}
