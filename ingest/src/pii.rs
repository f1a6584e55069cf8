//! Masking of personal data in cases and tickets before they become documents:
//! resident ID numbers (GB 11643 checksum), mobiles, landlines, bank cards (Luhn),
//! and names in known fields (申请人/经办人/联系人…). Deliberately simple; the
//! runtime detector lives elsewhere.

use std::sync::LazyLock;

use regex::Regex;

use crate::re;

static ID_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(^|[^0-9A-Za-z])([1-9]\d{16}[0-9Xx])($|[^0-9A-Za-z])"));
static DIGITS_RE: LazyLock<Regex> =
    // Not after a letter or hyphen: `SL-310117-20240102-2301` is a case number whose
    // digits may pass Luhn by chance, not a card.
    LazyLock::new(|| re(r"(^|[^0-9A-Za-z-])(\d(?:[ -]?\d){12,18})($|[^0-9A-Za-z])"));
static MOBILE_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(^|[^0-9A-Za-z-])((?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4})($|[^0-9A-Za-z-])")
});
static LANDLINE_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(^|[^0-9A-Za-z-])((?:0\d{2,3}[- ]?)?[2-9]\d{6,7})($|[^0-9A-Za-z-])"));
const NAME_FIELDS: &str = "申请人|经办人|联系人|代理人|代办人|当事人|受托人|委托人|监护人|家属|老人|居民|患者|职工|工作人员|窗口人员|姓名";
const NAME_TAIL: &str = "[，,。；;、（(\\s\\d]|先生|女士|老人|阿姨|师傅|来|于|在|因|到|称|反映|前来|持|携|办理|申请|提交|表示|的|电|手|身|家|住|年|男|女|系|为|是|和|与|及|已|未|本|同|再|需|要|想|向|核|帮|协|陪|签|确|填|告|带|咨|说|指|通|发|查|接|受|审|录|将|把|被|让|给|也|又|当|随|即|立|主|自|没|不|等|对|去|按|经|从|拨|致|答|解|退|领|补|出|进|回|问|讲|看|所|共|及|$";

/// A known field, then a name that ends at a delimiter or a common next word.
static NAME_FIELD_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        "({NAME_FIELDS})(\\s*[:：为是]?\\s*)([{SURNAMES}][\\p{{Han}}]{{1,3}}?)({NAME_TAIL})"
    ))
});
/// A known field and a surname with no clear end: mask three characters, since
/// over-masking one character is better than leaking a given name.
static NAME_FIELD_FALLBACK_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        "({NAME_FIELDS})(\\s*[:：为是]?\\s*)([{SURNAMES}][\\p{{Han}}]{{2}})()"
    ))
});
/// A name as the subject of a clause: "，曹某某带着材料来到", "金某（34岁）到".
static NAME_SUBJECT_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        "(^|[，。；：\\s])([{SURNAMES}][\\p{{Han}}]{{1,2}}?)(（\\d{{1,3}}岁）|\\d{{1,3}}岁|带着|拿着|来到|前来|陪同|反映|表示|咨询|说要|说想)"
    ))
});
/// 于 is left out of the surname list because "申请人于2024年…" means "on"; it is a
/// surname only when an age follows the name: "申请人于立新，56岁".
static NAME_YU_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        "({NAME_FIELDS})(\\s*[:：]?\\s*)(于[\\p{{Han}}]{{1,2}})([，,]\\s*\\d{{1,3}}岁|（\\d{{1,3}}岁）)"
    ))
});
static SURNAME_MOUSOU_RE: LazyLock<Regex> = LazyLock::new(|| re(r"([\p{Han}])某某"));

/// Checks the GB 11643 check digit of an 18-character resident ID.
pub fn id_checksum_ok(id: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let chars: Vec<char> = id.chars().collect();
    if chars.len() != 18 {
        return false;
    }
    let mut sum = 0;
    for (i, w) in W.iter().enumerate() {
        let Some(d) = chars[i].to_digit(10) else {
            return false;
        };
        sum += d * w;
    }
    C[(sum % 11) as usize] == chars[17].to_ascii_uppercase()
}

/// Luhn check for bank card numbers.
pub fn luhn_ok(digits: &str) -> bool {
    let ds: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if ds.len() < 13 || ds.len() > 19 {
        return false;
    }
    let sum: u32 = ds
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn replace_loop(re: &Regex, s: &str, f: impl Fn(&str) -> Option<String>) -> String {
    // The delimiters are captured, so adjacent matches need a second pass.
    let mut cur = s.to_string();
    for _ in 0..3 {
        let next = re
            .replace_all(&cur, |c: &regex::Captures<'_>| {
                let a = c.get(1).map_or("", |m| m.as_str());
                let b = c.get(2).map_or("", |m| m.as_str());
                let z = c.get(3).map_or("", |m| m.as_str());
                match f(b) {
                    Some(r) => format!("{a}{r}{z}"),
                    None => format!("{a}{b}{z}"),
                }
            })
            .into_owned();
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

/// Masks a personal name: keeps the surname, stars the rest (`张三丰` → `张**`).
pub fn mask_name(name: &str) -> String {
    let mut cs = name.chars();
    match cs.next() {
        Some(first) => format!("{first}{}", "*".repeat(cs.count().max(1))),
        None => String::new(),
    }
}

/// Masks the personal data in free text.
pub fn mask_pii(text: &str) -> String {
    let s = replace_loop(&ID_RE, text, |id| {
        id_checksum_ok(id).then(|| "[身份证号]".to_string())
    });
    let s = replace_loop(&DIGITS_RE, &s, |d| {
        let plain: String = d.chars().filter(|c| c.is_ascii_digit()).collect();
        luhn_ok(&plain).then(|| "[银行卡号]".to_string())
    });
    let s = replace_loop(&MOBILE_RE, &s, |_| Some("[手机号]".to_string()));
    let s = replace_loop(&LANDLINE_RE, &s, |m| {
        (m.contains('-') || m.starts_with('0') || m.len() >= 8).then(|| "[电话]".to_string())
    });
    let mask_group = |re: &Regex, s: &str, name_at: usize| -> String {
        re.replace_all(s, |c: &regex::Captures<'_>| {
            let mut out = String::new();
            for i in 1..c.len() {
                let part = c.get(i).map_or("", |m| m.as_str());
                if i == name_at && !part.contains('某') {
                    out.push_str(&mask_name(part));
                } else {
                    out.push_str(part);
                }
            }
            out
        })
        .into_owned()
    };
    let s = mask_group(&NAME_FIELD_RE, &s, 3);
    let s = mask_group(&NAME_FIELD_FALLBACK_RE, &s, 3);
    let s = mask_group(&NAME_SUBJECT_RE, &s, 2);
    let s = mask_group(&NAME_YU_RE, &s, 3);
    SURNAME_MOUSOU_RE.replace_all(&s, "${1}**").into_owned()
}

/// Common surnames: a name in a known field must start with one to be masked, so
/// "申请人提交" is not taken for a person called 提交. Surnames that are also common
/// function characters (和, 于, 向, 时 …) are left out to avoid masking ordinary
/// words; names written X某某 are masked whatever the surname.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤温康施牛樊葛邢乔伍庞颜倪庄聂章鲁岳翟殷詹欧耿兰焦俞柳祝符舒阮柯纪梅童凌毕季裴霍涂苗盛翁冉骆蓝辛靳柴鲍喻祁蒲房滕屈饶牟尤穆卓缪项芦麦褚娄窦戚岑费卜晏柏瞿桂佟臧闵苟邬卞姬仇栾隋刁巫寇桑郎甄仲虞敖巩佘苑迟邝傅萧闻鞠寿粟";

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic, checksum-valid ID (test data, not a real person).
    fn synthetic_id() -> String {
        let base = "31010419800101123";
        for c in ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X'] {
            let id = format!("{base}{c}");
            if id_checksum_ok(&id) {
                return id;
            }
        }
        unreachable!()
    }

    #[test]
    fn ids_phones_cards() {
        let id = synthetic_id();
        let s = mask_pii(&format!(
            "身份证{id}，手机13812345678，座机021-64001234，卡号6222021234567890128。"
        ));
        assert!(s.contains("[身份证号]"), "{s}");
        assert!(s.contains("[手机号]"), "{s}");
        assert!(s.contains("[电话]"), "{s}");
        assert!(s.contains("[银行卡号]"), "{s}");
        assert!(!s.contains("13812345678"));
    }

    #[test]
    fn invalid_checksum_is_not_an_id() {
        let mut id = synthetic_id();
        let last = id.pop().unwrap();
        id.push(if last == '1' { '2' } else { '1' });
        assert!(!mask_pii(&id).contains("[身份证号]"));
    }

    #[test]
    fn names_in_fields() {
        assert_eq!(
            mask_pii("申请人张三丰，经办人：李明。"),
            "申请人张**，经办人：李*。"
        );
        assert_eq!(mask_pii("联系人王某某来电"), "联系人王**来电");
        assert_eq!(mask_pii("申请人提交了材料"), "申请人提交了材料");
        assert_eq!(mask_pii("申请人和代理人应当到场"), "申请人和代理人应当到场");
        assert_eq!(mask_pii("申请人向窗口提交"), "申请人向窗口提交");
        assert_eq!(mask_pii("经办人李明核对后办结"), "经办人李*核对后办结");
        assert_eq!(
            mask_pii("登记的申请人姓名为傅丹。"),
            "登记的申请人姓名为傅*。"
        );
        assert_eq!(mask_pii("申请人秦长根59岁"), "申请人秦**59岁");
        assert_eq!(
            mask_pii("申请人邹晓雯失业保险金领满"),
            "申请人邹**失业保险金领满"
        );
        assert_eq!(mask_pii("当天，方敏带着一叠材料"), "当天，方*带着一叠材料");
        assert_eq!(
            mask_pii("2025年1月，金宏伟（34岁）到窗口"),
            "2025年1月，金**（34岁）到窗口"
        );
        assert_eq!(mask_pii("居民陈某某反映"), "居民陈**反映");
    }

    #[test]
    fn yu_is_a_surname_only_before_an_age() {
        assert_eq!(
            mask_pii("本案申请人于立新，56岁。"),
            "本案申请人于**，56岁。"
        );
        let t = "申请人于2024年3月提交材料，申请人于近日来电。";
        assert_eq!(mask_pii(t), t);
    }

    #[test]
    fn case_numbers_are_not_bank_cards() {
        // The digits of this case number happen to pass the Luhn check.
        let t = "办件编号SL-310117-20240102-2301，卡号6222 0212 3456 7890 128";
        let m = mask_pii(t);
        assert!(m.contains("SL-310117-20240102-2301"), "{m}");
    }

    #[test]
    fn amounts_and_dates_survive() {
        let s = "补贴2175元，2024年5月1日起，编号SQ-RS-001";
        assert_eq!(mask_pii(s), s);
    }
}
