//! Masking of personal data in cases and tickets before they become documents.
//!
//! Numbers (resident IDs with the GB 11643 check and a real birth date, 15-digit legacy
//! IDs, mobiles, landlines, bank cards with the Luhn check, full-width digits and spaced
//! groups) are found by `zhiban_pii::detect`, the detector the tool runtime tokenises
//! with, so the checks exist once and ingest cannot drift from it. Names in known fields
//! and clause subjects (申请人/经办人/联系人…) are masked here: they need the wording of
//! case and ticket text, which the runtime detector does not know.

use std::sync::LazyLock;

use regex::Regex;
use zhiban_pii::PiiKind;

use crate::re;

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

/// The placeholder a detected number is replaced with, or `None` to keep it.
fn placeholder(kind: PiiKind) -> Option<&'static str> {
    match kind {
        PiiKind::IdCard | PiiKind::LegacyIdCard => Some("[身份证号]"),
        PiiKind::Mobile => Some("[手机号]"),
        PiiKind::Landline => Some("[电话]"),
        PiiKind::BankCard => Some("[银行卡号]"),
        // A unified social credit code names an organisation (or an individual business),
        // is printed on its licence and public in the credit register: not personal data,
        // and staff search cases and tickets by it. Left as written.
        PiiKind::CreditCode => None,
        // The detector reports only the kinds above; should it learn more, mask them.
        PiiKind::Name | PiiKind::Address | PiiKind::Other => Some("[个人信息]"),
    }
}

/// Replaces every number the runtime detector finds (byte spans of `text`).
fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for d in zhiban_pii::detect(text) {
        // Spans are ordered and non-overlapping; the guard keeps a broken promise from
        // slicing out of order instead of panicking on an ingest path.
        let (Some(before), Some(p)) = (text.get(at..d.start), placeholder(d.kind)) else {
            continue;
        };
        out.push_str(before);
        out.push_str(p);
        at = d.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
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
    let s = mask_numbers(text);
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

    use zhiban_pii::detect::resident_id_check_char;

    /// A synthetic, checksum-valid ID (test data, not a real person).
    fn synthetic_id() -> String {
        let body = "31010419800101123";
        let check = resident_id_check_char(body).unwrap_or('?');
        format!("{body}{check}")
    }

    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c),
                'X' => 'Ｘ',
                other => other,
            })
            .collect()
    }

    #[test]
    fn ids_phones_cards() {
        let id = synthetic_id();
        let s = mask_pii(&format!(
            "身份证{id}，手机13812345678，座机021-64001234，卡号6222021234567890128。"
        ));
        assert_eq!(
            s,
            "身份证[身份证号]，手机[手机号]，座机[电话]，卡号[银行卡号]。"
        );
    }

    #[test]
    fn full_width_ids_and_mobiles_are_masked() {
        // NFKC: "３１０１…" is the same ID as "3101…"; the regex detector let it through.
        let id = synthetic_id();
        let text = format!("身份证{}，手机１３８１２３４５６７８。", full_width(&id));
        assert_eq!(mask_pii(&text), "身份证[身份证号]，手机[手机号]。");
        let spaced = format!("证件号：{} {} {}", &id[..6], &id[6..14], &id[14..]);
        assert_eq!(mask_pii(&spaced), "证件号：[身份证号]");
    }

    #[test]
    fn legacy_fifteen_digit_ids_are_masked() {
        // First-generation ID: region 310104, born 1949-12-31 (YYMMDD), sequence 002.
        assert_eq!(
            mask_pii("老身份证310104491231002。"),
            "老身份证[身份证号]。"
        );
        // A 15-digit number without a real birth date is left alone.
        assert_eq!(
            mask_pii("流水号310104491331002。"),
            "流水号310104491331002。"
        );
    }

    #[test]
    fn phones_in_other_spellings() {
        for (text, want) in [
            ("电话+8613812345678", "电话+86[手机号]"),
            ("电话 +86 138 1234 5678", "电话 +86 [手机号]"),
            ("座机(021)64001234", "座机[电话]"),
            ("座机（021）64001234", "座机[电话]"),
            ("卡号6222 0212 3456 7890 128", "卡号[银行卡号]"),
        ] {
            assert_eq!(mask_pii(text), want, "{text}");
        }
    }

    #[test]
    fn credit_codes_of_organisations_are_kept() {
        let body = "91310000MA1K4AB0C";
        let code = format!(
            "{body}{}",
            zhiban_pii::detect::credit_code_check_char(body).unwrap_or('?')
        );
        let text = format!("用人单位统一社会信用代码{code}。");
        assert_eq!(mask_pii(&text), text);
    }

    #[test]
    fn invalid_checksum_is_not_an_id() {
        let mut id = synthetic_id();
        let last = id.pop().unwrap_or('0');
        id.push(if last == '1' { '2' } else { '1' });
        assert_eq!(mask_pii(&id), id);
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
        // The digits of this case number happen to pass the Luhn check; the card beside it
        // is a card.
        let t = "办件编号SL-310117-20240102-2301，卡号6222 0212 3456 7890 128";
        assert_eq!(
            mask_pii(t),
            "办件编号SL-310117-20240102-2301，卡号[银行卡号]"
        );
        // Digits that pass as an ID born 2024-01-02 are still a case number.
        let body = "31011720240102230";
        let id_like = format!("{body}{}", resident_id_check_char(body).unwrap_or('?'));
        let case = format!(
            "SL-{}-{}-{}",
            &id_like[..6],
            &id_like[6..14],
            &id_like[14..]
        );
        let t = format!("办件编号{case}，申请人电话13812345678");
        assert_eq!(mask_pii(&t), format!("办件编号{case}，申请人电话[手机号]"));
    }

    #[test]
    fn amounts_and_dates_survive() {
        let s = "补贴2175元，2024年5月1日起，编号SQ-RS-001";
        assert_eq!(mask_pii(s), s);
    }
}
