//! One option of a fixed list, by its label, by an alias or by meaning (`公司倒闭了` →
//! 用人单位破产、关闭、撤销), by its position (`第二个`, `选2`), and free text kept verbatim
//! (求职意向).
//!
//! Matching: every label and alias found in the reply adds its length in characters to its
//! option, longest phrases first and without reusing characters (so `合同到期没续` counts for
//! 期满终止 once per cue, and `不太好` is not also read as `好`). A phrase right after a negation
//! (`不是辞职`) does not count; a self-correction (`不是辞职，是裁员`) counts only its corrected
//! part. The best option wins; a tie is `Ambiguous`; no cue at all falls back to the longest
//! common substring with a label (≥ 3 characters, or half a short label; for typos and
//! clipped labels).
//!
//! The sets: 失业原因 follows the 失业登记 form's drop-down as the guides in `data/guides`
//! record it (劳动合同期满终止, 用人单位解除劳动合同, 用人单位经济性裁员) plus the categories of
//! 《上海市失业登记办法》 practice (协商一致解除, 本人辞职, 单位破产关闭撤销, 个体工商户停业歇业,
//! 毕业后未就业, 其他); a relocated employer (`厂子搬走了`) is 用人单位解除劳动合同, which is how the
//! contract ends when a resident does not follow the move. 健康状况 uses 健康 (the guides'
//! value) and the brief's scale 一般 / 较差 / 有慢性病 / 残疾, after GB/T 2261.3 (健康或良好,
//! 一般或较弱, 有慢性病, 残疾); `腿脚不好` alone is 较差, not 残疾, which needs a certificate.

use std::sync::LazyLock;

use regex::Regex;

use super::numerals::parse_int;
use super::{Parsed, correction_tail, is_pause, normalize};

/// One option of a closed list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The canonical label, as the form writes it.
    pub label: &'static str,
    /// Other ways residents say it, including cues by meaning.
    pub aliases: &'static [&'static str],
}

const UNEMPLOYMENT_REASON: &[Choice] = &[
    Choice {
        label: "劳动合同期满终止",
        aliases: &[
            "合同期满",
            "合同到期",
            "期满",
            "到期",
            "合同满了",
            "合同结束",
            "合同终止",
            "没续签",
            "没有续签",
            "不续签",
            "没续约",
            "不续约",
            "没续",
            "不续了",
            "没再续",
            "不给续",
            "合同到了",
            "不跟我续",
            "不再续",
            "续合同",
            "不续合同",
            "没续合同",
        ],
    },
    Choice {
        label: "用人单位解除劳动合同",
        aliases: &[
            "辞退",
            "开除",
            "解雇",
            "被炒",
            "炒鱿鱼",
            "炒了",
            "开掉",
            "把我开了",
            "单位解除",
            "公司解除",
            "跟我解除",
            "和我解除",
            "解除了合同",
            "单位把我",
            "被解除",
            "不要我了",
            "让我走",
            "叫我走",
            "被辞",
            "搬走",
            "搬迁",
            "搬到外地",
            "迁走",
            "搬到",
            "搬去",
            "没跟去",
            "让我回家",
            "叫我回家",
            "被开",
            "劝退",
        ],
    },
    Choice {
        label: "用人单位经济性裁员",
        aliases: &[
            "裁员",
            "裁掉",
            "被裁",
            "裁了",
            "裁人",
            "优化",
            "减员",
            "缩编",
            "精简",
            "经济性",
        ],
    },
    Choice {
        label: "协商一致解除劳动合同",
        aliases: &[
            "协商一致",
            "协商离职",
            "协商解除",
            "协商",
            "谈好",
            "商量好",
            "商量",
            "补偿",
            "n+1",
            "N+1",
            "赔偿金",
            "买断",
            "好聚好散",
            "双方同意",
        ],
    },
    Choice {
        label: "本人辞职",
        aliases: &[
            "辞职",
            "离职",
            "不想干",
            "不干了",
            "自己走",
            "主动离开",
            "主动走",
            "跳槽",
            "辞了",
            "自离",
            "裸辞",
            "主动辞",
            "自己提",
            "不做了",
            "不想做",
            "自己辞",
            "辞的",
        ],
    },
    Choice {
        label: "用人单位破产、关闭、撤销",
        aliases: &[
            "倒闭",
            "破产",
            "关门",
            "关闭",
            "撤销",
            "注销",
            "黄了",
            "停产",
            "公司没了",
            "厂子没了",
            "解散",
            "开不下去",
            "垮了",
        ],
    },
    Choice {
        label: "个体工商户停业、歇业",
        aliases: &[
            "个体户",
            "个体工商",
            "个体",
            "歇业",
            "停业",
            "小店",
            "店关了",
            "店不开",
            "不开店",
            "摊位",
            "摊子",
            "铺子",
            "自己开店",
            "开的店",
            "自己开的",
            "开的小店",
            "我的店",
            "自己的店",
        ],
    },
    Choice {
        label: "毕业后未就业",
        aliases: &[
            "毕业",
            "应届",
            "还没工作过",
            "没工作过",
            "从没上过班",
            "没上过班",
            "刚出校门",
        ],
    },
    Choice {
        label: "其他",
        aliases: &["其它", "别的原因", "其他原因", "其它原因", "别的情况"],
    },
];

const HEALTH_STATUS: &[Choice] = &[
    Choice {
        label: "健康",
        aliases: &[
            "挺好",
            "没啥问题",
            "没啥毛病",
            "没什么问题",
            "很好",
            "蛮好",
            "不错",
            "没毛病",
            "没什么毛病",
            "没啥毛病",
            "没病",
            "良好",
            "硬朗",
            "结实",
            "好着呢",
            "身体好",
            "倍儿棒",
            "棒",
            "好得很",
            "健健康康",
            "无病",
            "没有病",
            "没有什么病",
            "没啥病",
            "没有慢性病",
            "没慢性病",
            "没大病",
            "没什么大病",
            "没啥大病",
            "没有什么大病",
        ],
    },
    Choice {
        label: "一般",
        aliases: &[
            "还行",
            "还可以",
            "凑合",
            "马马虎虎",
            "过得去",
            "普通",
            "小毛病",
            "还好",
            "一般般",
            "说得过去",
            "偶尔",
        ],
    },
    Choice {
        label: "较差",
        aliases: &[
            "不太好",
            "不好",
            "很差",
            "差",
            "虚弱",
            "体弱",
            "经常生病",
            "老生病",
            "不怎么好",
            "不是很好",
            "腿脚不好",
            "腿脚不便",
            "行动不便",
            "不太行",
            "不行了",
            "病恹恹",
            "住院",
            "卧床",
        ],
    },
    Choice {
        label: "有慢性病",
        aliases: &[
            "慢性病",
            "慢病",
            "高血压",
            "糖尿病",
            "心脏病",
            "高血脂",
            "冠心病",
            "哮喘",
            "关节炎",
            "三高",
            "常年吃药",
            "长期吃药",
            "天天吃药",
            "肾病",
            "痛风",
            "血压高",
            "血糖高",
            "慢阻肺",
            "肝炎",
            "胃病",
            "老毛病",
            "血压",
            "血糖",
            "血脂",
            "慢性",
        ],
    },
    Choice {
        label: "残疾",
        aliases: &[
            "残疾",
            "残障",
            "残疾证",
            "残废",
            "坐轮椅",
            "轮椅",
            "截肢",
            "失明",
            "瘫痪",
            "聋",
            "盲人",
            "肢残",
            "智障",
        ],
    },
];

const ID_TYPE: &[Choice] = &[
    Choice {
        label: "居民身份证",
        aliases: &["身份证", "二代证", "大陆身份证", "内地身份证", "中国身份证"],
    },
    Choice {
        label: "港澳居民来往内地通行证",
        aliases: &["回乡证", "港澳", "香港", "澳门", "港澳通行证"],
    },
    Choice {
        label: "台湾居民来往大陆通行证",
        aliases: &["台胞证", "台湾"],
    },
    Choice {
        label: "外国人永久居留身份证",
        aliases: &["外国人", "永久居留", "绿卡", "外籍", "永居证", "外国护照"],
    },
];

/// The canonical option sets the flow specs reference by name: `unemployment_reason`,
/// `health_status`, `id_type`.
pub fn option_set(name: &str) -> Option<&'static [Choice]> {
    match name {
        "unemployment_reason" => Some(UNEMPLOYMENT_REASON),
        "health_status" => Some(HEALTH_STATUS),
        "id_type" => Some(ID_TYPE),
        _ => None,
    }
}

static RE_ORDINAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:我)?(?:选|选择)?\s*(?:第)?\s*(?P<n>[0-9]{1,2}|[一二两三四五六七八九十]{1,2})\s*(?:个|项|种|条|号)?(?:吧|的|啊)?$")
        .expect("static regex")
});

/// Negations that cancel a cue right after them.
const NEGATORS: &[&str] = &["不是", "并非", "没有", "不算", "不属于", "没"];

/// The option of `options` this reply picks.
pub fn match_choice(text: &str, options: &[Choice]) -> Parsed<usize> {
    let norm = normalize(text);
    let t = correction_tail(&norm);
    if t.len() > 4096 || options.is_empty() {
        return Parsed::Nothing;
    }
    let trimmed = t.trim_matches(is_pause);
    if let Some(c) = RE_ORDINAL.captures(trimmed)
        && let Some(n) = c.name("n").and_then(|n| parse_int(n.as_str()))
        && (1..=options.len() as u64).contains(&n)
    {
        return Parsed::Value(n as usize - 1);
    }
    let chars: Vec<char> = t.chars().collect();
    let mut phrases: Vec<(usize, Vec<char>)> = Vec::new();
    for (i, o) in options.iter().enumerate() {
        phrases.push((i, o.label.chars().collect()));
        for a in o.aliases {
            phrases.push((i, a.chars().collect()));
        }
    }
    phrases.sort_by_key(|p| std::cmp::Reverse(p.1.len()));
    let mut used = vec![false; chars.len()];
    let mut score = vec![0usize; options.len()];
    let mut saw_negated = false;
    for (opt, p) in &phrases {
        if p.is_empty() || p.len() > chars.len() {
            continue;
        }
        let mut start = 0;
        while start + p.len() <= chars.len() {
            let end = start + p.len();
            let hit = chars[start..end] == p[..] && !used[start..end].iter().any(|u| *u);
            if hit && negated(&chars, start) {
                saw_negated = true;
                start += 1;
            } else if hit {
                for u in &mut used[start..end] {
                    *u = true;
                }
                score[*opt] += p.len();
                start = end;
            } else {
                start += 1;
            }
        }
    }
    let best = score.iter().copied().max().unwrap_or(0);
    if best == 0 {
        // A cue the reply denies (`不是辞职`) leaves nothing to guess from.
        if saw_negated {
            return Parsed::Nothing;
        }
        return fuzzy(&chars, options);
    }
    let winners: Vec<usize> = (0..options.len()).filter(|&i| score[i] == best).collect();
    Parsed::from_candidates(winners)
}

fn negated(chars: &[char], start: usize) -> bool {
    let before: String = chars[start.saturating_sub(4)..start].iter().collect();
    let trimmed = before.trim_end_matches(['我', '自', '己', '被']);
    NEGATORS
        .iter()
        .any(|n| before.ends_with(n) || trimmed.ends_with(n))
}

/// The option whose label shares the longest run of characters with the reply (≥ 2).
fn fuzzy(chars: &[char], options: &[Choice]) -> Parsed<usize> {
    let mut best = 1usize;
    let mut winners = Vec::new();
    for (i, o) in options.iter().enumerate() {
        let label: Vec<char> = o.label.chars().collect();
        let l = longest_common_run(chars, &label);
        if l > best {
            best = l;
            winners.clear();
        }
        // Two shared characters of a long label (`合同`) say nothing.
        if l == best && l >= 2 && (l >= 3 || 2 * l >= label.len()) {
            winners.push(i);
        }
    }
    Parsed::from_candidates(winners)
}

fn longest_common_run(a: &[char], b: &[char]) -> usize {
    if a.is_empty() || b.is_empty() || a.len() > 512 {
        return 0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    let mut best = 0;
    for &ca in a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            if ca == cb {
                cur[j + 1] = prev[j] + 1;
                best = best.max(cur[j + 1]);
            }
        }
        prev = cur;
    }
    best
}

/// Fillers stripped from the start of free text, longest first.
const LEAD_FILLERS: &[&str] = &[
    "嗯嗯",
    "嗯",
    "呃",
    "额",
    "啊",
    "那个",
    "就是说",
    "就是",
    "这个嘛",
    "这个",
    "我想要",
    "我想",
    "我希望",
    "希望",
    "我打算",
    "打算",
    "我要",
    "我的话",
    "的话",
];

/// Free text (求职意向 and the like) kept verbatim except for leading fillers (`嗯`, `我想`),
/// trailing particles (`吧`, `啊`) and outer punctuation; `None` when nothing is left.
pub fn free_text(text: &str) -> Option<String> {
    // Verbatim: no normalisation, so the form gets the resident's own characters.
    let mut t: &str = text.trim_matches(|c: char| is_pause(c));
    loop {
        let before = t;
        for f in LEAD_FILLERS {
            if let Some(rest) = t.strip_prefix(f) {
                t = rest.trim_start_matches(is_pause);
                break;
            }
        }
        t = t
            .trim_end_matches(|c: char| {
                is_pause(c) || matches!(c, '吧' | '啊' | '呀' | '哈' | '哦' | '呢' | '嘛')
            })
            .trim_start_matches(is_pause);
        if t == before {
            break;
        }
    }
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(set: &str, text: &str) -> Parsed<&'static str> {
        let opts = option_set(set).unwrap();
        match_choice(text, opts).map(|i| opts[i].label)
    }

    #[test]
    fn reasons_by_meaning() {
        for (t, l) in [
            ("公司倒闭了", "用人单位破产、关闭、撤销"),
            ("合同到期没续", "劳动合同期满终止"),
            ("被辞退了", "用人单位解除劳动合同"),
            ("我自己不想干了", "本人辞职"),
            ("裁员", "用人单位经济性裁员"),
            ("厂子搬走了", "用人单位解除劳动合同"),
            ("协商离职拿了补偿", "协商一致解除劳动合同"),
            ("不是我自己辞职的，是公司裁员", "用人单位经济性裁员"),
            ("第二个", "用人单位解除劳动合同"),
        ] {
            assert_eq!(pick("unemployment_reason", t), Parsed::Value(l), "{t}");
        }
        assert_eq!(pick("unemployment_reason", "不是辞职"), Parsed::Nothing);
    }

    #[test]
    fn health_cues() {
        for (t, l) in [
            ("身体挺好", "健康"),
            ("没什么毛病", "健康"),
            ("有高血压", "有慢性病"),
            ("腿脚不好", "较差"),
            ("身体不太好", "较差"),
        ] {
            assert_eq!(pick("health_status", t), Parsed::Value(l), "{t}");
        }
    }

    #[test]
    fn free_text_strips_conservatively() {
        assert_eq!(
            free_text("嗯，我想找个保安的工作吧").as_deref(),
            Some("找个保安的工作")
        );
        assert_eq!(free_text("仓库管理员").as_deref(), Some("仓库管理员"));
        assert_eq!(free_text("嗯。"), None);
    }
}
