//! Resident ID numbers, mobiles and names in whatever form they were typed (spaced, hyphenated,
//! full-width). IDs and mobiles come from the project's one PII detector
//! ([`zhiban_pii::detect`]), so the checksum rules live in one place.
//!
//! Names have no checksum: [`find_name`] only reads a name after an explicit cue (`我叫`, `姓名`,
//! `本人`, `申请人是`, or a whole clause `我是…` / `叫…`), of 2–4 Han characters starting with a common surname, and stops at
//! words that do not belong in a name (`我叫张三今年45` → `张三`). It would rather miss a name
//! than invent one.

use std::sync::LazyLock;

use regex::Regex;
use zhiban_pii::token::PiiKind;

use super::normalize;

/// The first valid 18-character resident ID in `text`, normalised (ASCII digits, `X` upper).
pub fn find_id_number(text: &str) -> Option<String> {
    first_of(text, PiiKind::IdCard)
}

/// The first mainland mobile number in `text`, as 11 ASCII digits.
pub fn find_mobile(text: &str) -> Option<String> {
    first_of(text, PiiKind::Mobile)
}

fn first_of(text: &str, kind: PiiKind) -> Option<String> {
    zhiban_pii::detect(text)
        .into_iter()
        .find(|d| d.kind == kind)
        .map(|d| d.value.as_str().to_string())
}

static RE_NAME_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:我叫|我的名字叫|我的名字是|名字叫|名字是|名字[:：]|叫做|姓名[:：]?\s*(?:是|为)?|本人(?:是|叫)?|申请人(?:是|叫|姓名是|姓名)?[:：]?)\s*(?P<n>\p{Han}{2,6})")
        .expect("static regex")
});
// `我是…` introduces many things (`我是上个月被辞退的`): only a whole short clause counts.
static RE_WO_SHI: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[，,。.！!\s])(?:我是|叫|叫做)\s*(?P<n>\p{Han}{2,4})(?:[，,。.！!\s]|$)")
        .expect("static regex")
});

/// Characters that end a name: particles, pronouns and the first characters of what people say
/// after their name.
const STOP: &[char] = &[
    '今', '年', '是', '的', '在', '了', '啊', '呀', '吧', '我', '你', '您', '他', '她', '身', '电',
    '手', '住', '家', '现', '男', '女', '岁', '这', '那', '就', '和', '跟', '与', '请', '麻', '谢',
    '哦', '呢', '嘛', '想', '要', '来', '办', '申', '号', '出', '证', '户', '联', '失', '去', '刚',
    '已', '也', '还', '都', '先', '从', '被', '师', '阿', '姨', '叔', '老', '婆', '公', '爷', '奶',
    '哥', '姐', '弟', '妹', '本', '人',
];

/// Two-character surnames, which otherwise look like a name's first two characters.
const COMPOUND: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里",
];

/// Common single-character surnames (the top of the national register and then some).
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由";

/// The resident's name after an explicit cue, or `None`.
pub fn find_name(text: &str) -> Option<String> {
    let norm = normalize(text);
    if norm.len() > 4096 {
        return None;
    }
    for c in RE_NAME_CUE
        .captures_iter(&norm)
        .chain(RE_WO_SHI.captures_iter(&norm))
    {
        let Some(n) = c.name("n") else { continue };
        let raw = n.as_str();
        let (surname_len, rest) = match COMPOUND.iter().find(|s| raw.starts_with(*s)) {
            Some(s) => (2, &raw[s.len()..]),
            None => {
                let first = raw.chars().next()?;
                if !SURNAMES.contains(first) {
                    continue;
                }
                (1, &raw[first.len_utf8()..])
            }
        };
        let given: String = rest.chars().take_while(|ch| !STOP.contains(ch)).collect();
        let given_len = given.chars().count();
        if given_len == 0 || surname_len + given_len > 4 {
            continue;
        }
        // A name that runs straight into more Han text than it can hold is not clearly cut.
        if given_len == rest.chars().count()
            && surname_len + given_len == raw.chars().count()
            && raw.chars().count() > 4
        {
            continue;
        }
        let surname: String = raw.chars().take(surname_len).collect();
        return Some(format!("{surname}{given}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_id(body: &str) -> String {
        format!(
            "{body}{}",
            zhiban_pii::detect::resident_id_check_char(body).unwrap()
        )
    }

    #[test]
    fn ids_in_typed_forms() {
        let id = valid_id("31011019850312771");
        let spaced = format!("我身份证是 {} {} {}", &id[..6], &id[6..14], &id[14..]);
        assert_eq!(find_id_number(&spaced), Some(id.clone()));
        let fw: String = id
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c))
            .collect();
        assert_eq!(find_id_number(&fw), Some(id.clone()));
        assert_eq!(find_id_number("31011019850312771"), None);
        assert_eq!(
            find_mobile("手机 139-1234-5678").as_deref(),
            Some("13912345678")
        );
    }

    #[test]
    fn names_after_cues() {
        assert_eq!(find_name("我叫张三").as_deref(), Some("张三"));
        assert_eq!(find_name("姓名：李四").as_deref(), Some("李四"));
        assert_eq!(find_name("本人王五").as_deref(), Some("王五"));
        assert_eq!(find_name("申请人是欧阳明月").as_deref(), Some("欧阳明月"));
        assert_eq!(find_name("我叫张三今年45岁").as_deref(), Some("张三"));
        assert_eq!(find_name("本人辞职"), None);
        assert_eq!(find_name("我是上个月底被公司辞退的"), None);
    }
}
