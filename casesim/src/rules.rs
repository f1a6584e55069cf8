//! Eligibility and validation rules of the five agent matters, with the policy article each rule
//! comes from.
//!
//! [`RULES`] is the single table that maps a rule id to its matter, a plain-language summary and
//! its basis (policy title + 第X条). Evaluation functions below take the facts loaded for one
//! resident and return one [`Check`] per rule, so that a caller always sees *which* article failed.
//! Article numbers follow the policy texts under `data/policies`; where those were still being
//! written the citation is our best reading and is marked for review in the table comment.

use crate::synth::{add_months, age_on, month_start};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

/// Shanghai's monthly minimum wage (元), in force from 2025-07-01.
pub const MINIMUM_WAGE: i64 = 2_740;
/// 本市上年度职工月平均工资 (元); SQ-RS-019 caps the wage at twice this. A configured figure.
pub const AVG_MONTHLY_WAGE_LAST_YEAR: i64 = 12_434;
/// SQ-RS-019 pays at most this many months in total (第五条).
pub const RURAL_SUBSIDY_MAX_MONTHS: i64 = 36;
/// 上年度本市城镇企业退休人员月平均养老金 (元), used by SQ-MZ-020 for the 80+ band. A configured figure.
pub const AVG_ENTERPRISE_PENSION: i64 = 5_200;
/// 支内回沪 帮困补助 保障线 (元/月), 沪民规〔2023〕8号 二、（一）.
pub const ZHINEI_PENSION_THRESHOLD: i64 = 4_200;
/// 高龄补贴 for 支内回沪 recipients aged 80+ (元/月), 二、（二）.
pub const ZHINEI_AGED_SUPPLEMENT: i64 = 200;

/// One rule and where it comes from.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Rule {
    /// Stable rule id, e.g. `RS-AGE`.
    pub id: &'static str,
    /// Matter codes the rule applies to.
    pub matters: &'static [&'static str],
    /// What the rule requires, in Chinese.
    pub summary: &'static str,
    /// Policy title (《…》).
    pub policy: &'static str,
    /// Article as labelled in the policy: `第七条`, `第二条第（三）项`, `一、（二）`.
    pub article: &'static str,
}

const UNEMP: &[&str] = &["SQ-RS-001", "SQ-RS-002"];
const UNEMP_REG_POLICY: &str = "《上海市失业登记管理办法》";
const RURAL: &[&str] = &["SQ-RS-019"];
const RURAL_POLICY: &str = "《上海市郊区农村富余劳动力跨区非农就业补贴办法》";
const ELDER: &[&str] = &["SQ-MZ-020"];
const ELDER_POLICY: &str = "《上海市养老服务补贴管理办法》";
const ZHINEI: &[&str] = &["SQ-MZ-031"];
const ZHINEI_POLICY: &str =
    "《关于进一步做好本市支援外地建设退休（职）回沪定居人员帮困补助工作的通知》";
const DISAB: &[&str] = &["SQ-CL-033"];
const DISAB_POLICY: &str = "《上海市残疾人居家养护服务管理办法》";

/// The rule table, checked against the texts in `data/policies` (沪人社规〔2023〕18号,
/// 沪人社规〔2024〕9号, 沪民规〔2024〕9号, 沪民规〔2023〕8号, 沪残联规〔2022〕3号).
pub const RULES: &[Rule] = &[
    Rule {
        id: "RS-AGE",
        matters: UNEMP,
        summary: "年满16周岁至法定退休年龄，且未按月领取基本养老金",
        policy: UNEMP_REG_POLICY,
        article: "第四条",
    },
    Rule {
        id: "RS-NOT-EMPLOYED",
        matters: UNEMP,
        summary: "处于无业状态，未在用人单位就业或办理灵活就业登记",
        policy: UNEMP_REG_POLICY,
        article: "第七条第（一）项",
    },
    Rule {
        id: "RS-NOT-REGISTERED",
        matters: UNEMP,
        summary: "未处于有效失业登记状态",
        policy: UNEMP_REG_POLICY,
        article: "第七条第（五）项",
    },
    Rule {
        id: "RS-NONLOCAL-BASIS",
        matters: &["SQ-RS-002"],
        summary: "非本市户籍人员须曾在本市参加失业保险，或持有有效《上海市居住证》",
        policy: UNEMP_REG_POLICY,
        article: "第八条",
    },
    Rule {
        id: "RS-DATE-NOT-FUTURE",
        matters: UNEMP,
        summary: "填报的失业时间不得晚于申请当日",
        policy: UNEMP_REG_POLICY,
        article: "第六条",
    },
    Rule {
        id: "RS-DATE-AFTER-CONTRIB",
        matters: UNEMP,
        summary: "填报的失业时间应在最后缴费月份之后",
        policy: UNEMP_REG_POLICY,
        article: "第六条",
    },
    Rule {
        id: "R019-HUKOU",
        matters: RURAL,
        summary: "本市郊区农业户籍，或本市征地安置人员",
        policy: RURAL_POLICY,
        article: "第二条第（一）项",
    },
    Rule {
        id: "R019-AGE",
        matters: RURAL,
        summary: "年满16周岁，未达到法定退休年龄",
        policy: RURAL_POLICY,
        article: "第二条第（二）项",
    },
    Rule {
        id: "R019-CROSS-DISTRICT",
        matters: RURAL,
        summary: "离开户籍所在区，在本市其他区的用人单位从事非农工作",
        policy: RURAL_POLICY,
        article: "第二条第（三）项",
    },
    Rule {
        id: "R019-CONTRACT",
        matters: RURAL,
        summary: "签订1年以上期限的劳动合同",
        policy: RURAL_POLICY,
        article: "第二条第（四）项",
    },
    Rule {
        id: "R019-WAGE",
        matters: RURAL,
        summary: "月工资不低于最低工资标准，且不高于上年度职工月平均工资的2倍",
        policy: RURAL_POLICY,
        article: "第三条",
    },
    Rule {
        id: "R019-CAP",
        matters: RURAL,
        summary: "累计享受补贴不超过36个月",
        policy: RURAL_POLICY,
        article: "第五条",
    },
    Rule {
        id: "R019-START-IN-CONTRACT",
        matters: RURAL,
        summary: "劳动合同履行满1个月后方可申请，补贴起始月份应在劳动合同期限内",
        policy: RURAL_POLICY,
        article: "第六条",
    },
    Rule {
        id: "R019-START-MONTH",
        matters: RURAL,
        summary: "补贴自申请次月起计算；合同履行超过6个月才申请的，自申请当月起计算，不予追溯",
        policy: RURAL_POLICY,
        article: "第六条",
    },
    Rule {
        id: "R019-NO-OVERLAP",
        matters: RURAL,
        summary: "同一时期不得重复享受本补贴或其他就业岗位补贴",
        policy: RURAL_POLICY,
        article: "第十二条",
    },
    Rule {
        id: "MZ020-HUKOU-AGE",
        matters: ELDER,
        summary: "具有本市户籍，年满60周岁",
        policy: ELDER_POLICY,
        article: "第四条第（一）项",
    },
    Rule {
        id: "MZ020-ASSESSMENT",
        matters: ELDER,
        summary: "老年照护需求统一评估为照护二级至六级，且在有效期内",
        policy: ELDER_POLICY,
        article: "第四条第（二）项",
    },
    Rule {
        id: "MZ020-INCOME-BAND",
        matters: ELDER,
        summary: "低保、低收入困难家庭成员，或年满80周岁且养老金低于上年度企业退休人员月平均养老金，或年满90周岁独居",
        policy: ELDER_POLICY,
        article: "第四条第（三）项",
    },
    Rule {
        id: "MZ031-ZHINEI",
        matters: ZHINEI,
        summary: "原为本市户籍，因支援外地建设离沪并在外地办理退休（职）",
        policy: ZHINEI_POLICY,
        article: "一、（一）",
    },
    Rule {
        id: "MZ031-RETURNED",
        matters: ZHINEI,
        summary: "户籍已迁回本市，在本市实际居住满6个月",
        policy: ZHINEI_POLICY,
        article: "一、（二）1",
    },
    Rule {
        id: "MZ031-PENSION",
        matters: ZHINEI,
        summary: "在外地按月领取养老金，且本人月养老收入低于保障线（每月4200元）",
        policy: ZHINEI_POLICY,
        article: "一、（二）2、3",
    },
    Rule {
        id: "MZ031-NOT-DIBAO",
        matters: ZHINEI,
        summary: "未享受本市城乡最低生活保障或特困人员救助供养",
        policy: ZHINEI_POLICY,
        article: "一、（三）",
    },
    Rule {
        id: "CL033-HUKOU-CERT",
        matters: DISAB,
        summary: "具有本市户籍，持有第二代《中华人民共和国残疾人证》",
        policy: DISAB_POLICY,
        article: "第三条第（一）项",
    },
    Rule {
        id: "CL033-AGE",
        matters: DISAB,
        summary: "年龄在16周岁以上、60周岁以下",
        policy: DISAB_POLICY,
        article: "第三条第（二）项",
    },
    Rule {
        id: "CL033-GRADE",
        matters: DISAB,
        summary: "一级、二级重度残疾，或三级智力、精神残疾",
        policy: DISAB_POLICY,
        article: "第三条第（三）项",
    },
    Rule {
        id: "CL033-NO-JOB",
        matters: DISAB,
        summary: "无业",
        policy: DISAB_POLICY,
        article: "第三条第（四）项",
    },
    Rule {
        id: "CL033-NOT-INSTITUTION",
        matters: DISAB,
        summary: "在家居住，未入住养老机构、残疾人养护机构",
        policy: DISAB_POLICY,
        article: "第三条第（五）项",
    },
];

/// Look a rule up by id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The result of one rule for one resident.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Rule id.
    pub rule_id: &'static str,
    /// Whether the rule is met.
    pub passed: bool,
    /// What was found, in Chinese.
    pub message: String,
    /// `《policy》第X条`.
    pub basis: String,
}

/// An eligibility or validation decision.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// Matter code the decision is about.
    pub matter_code: &'static str,
    /// True when every check passed.
    pub eligible: bool,
    /// One entry per rule.
    pub checks: Vec<Check>,
}

impl Decision {
    fn new(matter_code: &'static str, checks: Vec<Check>) -> Self {
        Decision {
            matter_code,
            eligible: checks.iter().all(|c| c.passed),
            checks,
        }
    }
}

fn check(id: &'static str, passed: bool, message: impl Into<String>) -> Check {
    let basis = rule(id)
        .map(|r| format!("{}{}", r.policy, r.article))
        .unwrap_or_default();
    Check {
        rule_id: id,
        passed,
        message: message.into(),
        basis,
    }
}

/// A resident as the rules see it.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// 男 / 女.
    pub gender: String,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// 本市城镇 / 本市农村 / 外省市.
    pub hukou: String,
    /// District name of the 户籍 (for 本市) .
    pub hukou_place: String,
    /// 征地人员.
    pub land_expropriated: bool,
    /// Holds a residence permit.
    pub residence_permit: bool,
    /// 残疾类别 and 等级.
    pub disability: Option<(String, i64)>,
    /// In an institution.
    pub in_institution: bool,
    /// 低保 / 低收入.
    pub low_income: Option<String>,
    /// Monthly pension.
    pub pension_monthly: Option<i64>,
    /// 支内: province, returned date.
    pub zhinei: Option<(String, Option<NaiveDate>)>,
}

/// An employment spell as the rules see it.
#[derive(Debug, Clone)]
pub struct Job {
    /// Workplace district name.
    pub district: String,
    /// 农业 / 非农.
    pub industry: String,
    /// First contribution month.
    pub start: NaiveDate,
    /// Last contribution month; None = ongoing.
    pub end: Option<NaiveDate>,
    /// Contract end.
    pub contract_end: Option<NaiveDate>,
    /// Monthly wage.
    pub wage: i64,
}

/// Assessment facts.
#[derive(Debug, Clone)]
pub struct AssessmentFacts {
    /// Level 0–6.
    pub level: i64,
    /// Date.
    pub assessed_on: NaiveDate,
    /// Valid until.
    pub valid_until: NaiveDate,
}

/// Everything the rules need about one resident.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Person.
    pub person: Person,
    /// Employment spells.
    pub jobs: Vec<Job>,
    /// Date of an active unemployment registration.
    pub unemployment_registered: Option<NaiveDate>,
    /// Latest assessment.
    pub assessment: Option<AssessmentFacts>,
    /// Existing subsidy periods for SQ-RS-019 (start month, end month).
    pub rural_subsidies: Vec<(NaiveDate, NaiveDate)>,
    /// People registered in the household (1 = lives alone).
    pub household_size: i64,
    /// 失业保险缴费月数 as recorded; `None` = derived from the employment spells.
    pub unemployment_insurance_months: Option<i64>,
}

impl Facts {
    fn current_job(&self) -> Option<&Job> {
        self.jobs.iter().find(|j| j.end.is_none())
    }
    fn last_contribution(&self) -> Option<NaiveDate> {
        self.jobs.iter().filter_map(|j| j.end).max()
    }
    /// Months of 失业保险 contributions in Shanghai: the recorded figure, or every month of every
    /// spell up to `today`.
    pub fn insured_months(&self, today: NaiveDate) -> i64 {
        self.unemployment_insurance_months.unwrap_or_else(|| {
            let now = month_start(today);
            self.jobs
                .iter()
                .map(|j| {
                    let end = j.end.unwrap_or(now).min(now);
                    (months_between(month_start(j.start), month_start(end)) + 1).max(0)
                })
                .sum()
        })
    }
    fn local(&self) -> bool {
        self.person.hukou.starts_with("本市")
    }
    fn age(&self, today: NaiveDate) -> i64 {
        self.person
            .birth_date
            .map(|b| age_on(b, today))
            .unwrap_or(0)
    }
}

/// Statutory retirement date under the 2025 gradual reform: men 60 → 63 (one month later per four
/// months of birth from 1965-01), women workers 50 → 55 (one month per two months from 1975-01).
pub fn retirement_date(gender: &str, birth: NaiveDate) -> NaiveDate {
    let (base_years, reform_from, step, cap) = if gender == "女" {
        (50, (1975, 1), 2, 60)
    } else {
        (60, (1965, 1), 4, 36)
    };
    let months_since =
        (birth.year() - reform_from.0) * 12 + birth.month0() as i32 - (reform_from.1 - 1);
    let delay = if months_since < 0 {
        0
    } else {
        (months_since / step + 1).min(cap)
    };
    add_months(birth, base_years * 12 + delay)
}

/// Retirement age in whole years (for the generator).
pub fn retirement_age(gender: &str, birth: NaiveDate) -> i64 {
    age_on(birth, retirement_date(gender, birth))
}

fn working_age(f: &Facts, today: NaiveDate) -> (bool, String) {
    let Some(birth) = f.person.birth_date else {
        return (false, "缺少出生日期".into());
    };
    let age = age_on(birth, today);
    let retire = retirement_date(&f.person.gender, birth);
    if age < 16 {
        (false, format!("年龄{age}周岁，未满16周岁"))
    } else if today >= retire {
        (false, format!("已于{retire}达到法定退休年龄"))
    } else {
        (true, format!("年龄{age}周岁，法定退休日期{retire}"))
    }
}

/// 失业登记 准入判断; the matter is SQ-RS-001 for 本市户籍 and SQ-RS-002 otherwise.
pub fn unemployment_eligibility(f: &Facts, today: NaiveDate) -> Decision {
    let matter = if f.local() { "SQ-RS-001" } else { "SQ-RS-002" };
    let (ok, msg) = working_age(f, today);
    let mut checks = vec![match f.person.pension_monthly {
        Some(p) if ok => check("RS-AGE", false, format!("已按月领取养老金{p}元")),
        _ => check("RS-AGE", ok, msg),
    }];
    match f.current_job() {
        Some(j) => checks.push(check(
            "RS-NOT-EMPLOYED",
            false,
            format!("存在自{}起的在职缴费记录", j.start.format("%Y-%m")),
        )),
        None => checks.push(check("RS-NOT-EMPLOYED", true, "当月无在职缴费记录")),
    }
    match f.unemployment_registered {
        Some(d) => checks.push(check(
            "RS-NOT-REGISTERED",
            false,
            format!("已于{d}办理失业登记，仍在有效期内"),
        )),
        None => checks.push(check("RS-NOT-REGISTERED", true, "无有效失业登记")),
    }
    if matter == "SQ-RS-002" {
        let months = f.insured_months(today);
        let worked_here = months > 0;
        let ok = f.person.residence_permit || worked_here;
        let msg = match (worked_here, f.person.residence_permit) {
            (true, true) => {
                format!("曾在本市参加失业保险{months}个月，并持有有效《上海市居住证》")
            }
            (true, false) => format!("曾在本市参加失业保险{months}个月"),
            (false, true) => "持有有效《上海市居住证》".to_string(),
            _ => "既无本市失业保险缴费记录，也无有效《上海市居住证》".to_string(),
        };
        checks.push(check("RS-NONLOCAL-BASIS", ok, msg));
    }
    Decision::new(matter, checks)
}

/// 失业时间校验.
pub fn unemployment_date_check(f: &Facts, date: NaiveDate, today: NaiveDate) -> Decision {
    let matter = if f.local() { "SQ-RS-001" } else { "SQ-RS-002" };
    let mut checks = vec![if date > today {
        check(
            "RS-DATE-NOT-FUTURE",
            false,
            format!("失业时间{date}晚于今天{today}"),
        )
    } else {
        check(
            "RS-DATE-NOT-FUTURE",
            true,
            format!("失业时间{date}不晚于今天"),
        )
    }];
    let c = if let Some(j) = f.current_job() {
        check(
            "RS-DATE-AFTER-CONTRIB",
            false,
            format!("自{}起仍在缴费，尚未中断就业", j.start.format("%Y-%m")),
        )
    } else if let Some(last) = f.last_contribution() {
        let earliest = add_months(month_start(last), 1);
        if date >= earliest {
            check(
                "RS-DATE-AFTER-CONTRIB",
                true,
                format!("最后缴费月份{}，失业时间在其之后", last.format("%Y-%m")),
            )
        } else {
            check(
                "RS-DATE-AFTER-CONTRIB",
                false,
                format!(
                    "最后缴费月份为{}，失业时间应不早于{earliest}",
                    last.format("%Y-%m")
                ),
            )
        }
    } else {
        check("RS-DATE-AFTER-CONTRIB", true, "无缴费记录")
    };
    checks.push(c);
    Decision::new(matter, checks)
}

fn months_between(a: NaiveDate, b: NaiveDate) -> i64 {
    (b.year() as i64 - a.year() as i64) * 12 + b.month() as i64 - a.month() as i64
}

/// What the 跨区 flow needs besides the verdict: the material a declared 征地 status calls for,
/// and the current contract from which 第六条 fixes the start month. No personal data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuralInfo {
    /// 征地 flag in the 户籍 record.
    pub land_expropriated_in_system: bool,
    /// The applicant declared being a 征地安置人员.
    pub land_expropriated_declared: bool,
    /// The 户籍 check passed only on the declaration; the submit must carry the material.
    pub hukou_conditional: bool,
    /// Materials the policy requires because of the answers (第八条: 征地安置证明).
    pub required_materials: Vec<&'static str>,
    /// 户籍所在区.
    pub hukou_district: String,
    /// District of the current employer.
    pub employer_district: Option<String>,
    /// 农业 / 非农 of the current job.
    pub industry: Option<String>,
    /// First month of the current contract, `YYYY-MM`.
    pub contract_start_month: Option<String>,
    /// Contract end date (`None`: open-ended or no current job).
    pub contract_end: Option<String>,
    /// Months of the contract term.
    pub contract_months: Option<i64>,
    /// The first day an application can be made (the contract has run one month).
    pub can_apply_from: Option<String>,
    /// The start month 第六条 gives an application made today, `YYYY-MM` (`None` when one
    /// cannot be made today).
    pub earliest_start_month: Option<String>,
    /// The rule applied, in Chinese.
    pub start_month_rule: &'static str,
}

/// 第六条 in the words the case system applies it.
pub const RURAL_START_RULE: &str = "劳动合同履行满1个月后方可申请；补贴自申请次月起计算；自劳动合同履行之日起超过6个月才申请的，自申请当月起计算，此前月份不予追溯；起始月份须在劳动合同期限内，且不得与已享受的补贴期重叠（《上海市郊区农村富余劳动力跨区非农就业补贴办法》第六条、第十二条）";

/// 郊区农村富余劳动力跨区非农就业补贴 准入判断. `declared_land` is the applicant's own statement
/// of being a 征地安置人员 (第二条第（一）项, 第八条): for a 本市非农业户籍 without the flag it
/// passes the 户籍 check on condition that the 征地安置证明 is submitted.
pub fn rural_eligibility(
    f: &Facts,
    today: NaiveDate,
    declared_land: bool,
) -> (Decision, RuralInfo) {
    let rural = f.person.hukou == "本市农村";
    let flagged = f.local() && f.person.land_expropriated;
    let conditional = !rural && !flagged && f.local() && declared_land;
    let hukou_ok = rural || flagged || conditional;
    let msg = if rural {
        "本市郊区农业户籍".to_string()
    } else if flagged {
        "本市征地安置人员（户籍信息中有征地标志）".to_string()
    } else if conditional {
        "申请人申报为本市征地安置人员，户籍信息中无征地标志，须提交区征地事务机构出具的征地安置证明"
            .to_string()
    } else if f.local() {
        format!(
            "户籍类型为{}，户籍信息中无征地标志（如属征地安置人员，可申报并提交征地安置证明）",
            f.person.hukou
        )
    } else {
        format!(
            "户籍类型为{}，非本市郊区农业户籍或征地安置人员",
            f.person.hukou
        )
    };
    let mut checks = vec![check("R019-HUKOU", hukou_ok, msg)];
    let (ok, msg) = working_age(f, today);
    checks.push(check("R019-AGE", ok, msg));
    let mut info = RuralInfo {
        land_expropriated_in_system: flagged,
        land_expropriated_declared: declared_land,
        hukou_conditional: conditional,
        required_materials: if conditional {
            vec!["征地安置证明"]
        } else {
            Vec::new()
        },
        hukou_district: f.person.hukou_place.clone(),
        start_month_rule: RURAL_START_RULE,
        ..RuralInfo::default()
    };
    match f.current_job() {
        None => {
            checks.push(check("R019-CROSS-DISTRICT", false, "无在职就业记录"));
            checks.push(check("R019-CONTRACT", false, "无在职劳动合同"));
            checks.push(check("R019-WAGE", false, "无在职工资记录"));
        }
        Some(j) => {
            let cross = j.district != f.person.hukou_place;
            let nonfarm = j.industry == "非农";
            checks.push(check(
                "R019-CROSS-DISTRICT",
                cross && nonfarm,
                format!(
                    "就业地{}，户籍地{}，行业{}",
                    j.district, f.person.hukou_place, j.industry
                ),
            ));
            let months = j
                .contract_end
                .map(|e| months_between(j.start, e) + 1)
                .unwrap_or(0);
            checks.push(check(
                "R019-CONTRACT",
                months >= 12,
                format!("劳动合同期限约{months}个月"),
            ));
            let cap = 2 * AVG_MONTHLY_WAGE_LAST_YEAR;
            checks.push(check(
                "R019-WAGE",
                j.wage >= MINIMUM_WAGE && j.wage <= cap,
                format!("月工资{}元，应在{MINIMUM_WAGE}元至{cap}元之间", j.wage),
            ));
            let apply_from = add_months(j.start, 1);
            info.employer_district = Some(j.district.clone());
            info.industry = Some(j.industry.clone());
            info.contract_start_month = Some(j.start.format("%Y-%m").to_string());
            info.contract_end = j.contract_end.map(|d| d.to_string());
            info.contract_months = j.contract_end.map(|_| months);
            info.can_apply_from = Some(apply_from.to_string());
            info.earliest_start_month = (apply_from <= today).then(|| {
                rural_expected_start(j.start, today)
                    .format("%Y-%m")
                    .to_string()
            });
        }
    }
    let used = used_subsidy_months(f, today);
    checks.push(check(
        "R019-CAP",
        used < RURAL_SUBSIDY_MAX_MONTHS,
        format!("已享受{used}个月，累计上限{RURAL_SUBSIDY_MAX_MONTHS}个月"),
    ));
    (Decision::new("SQ-RS-019", checks), info)
}

fn used_subsidy_months(f: &Facts, today: NaiveDate) -> i64 {
    let now = month_start(today);
    f.rural_subsidies
        .iter()
        .map(|(s, e)| {
            if *s > now {
                0
            } else {
                months_between(*s, (*e).min(now)) + 1
            }
        })
        .sum()
}

/// The start month 第六条 gives for an application made `today` under a contract that began
/// `contract_start`: the next month, or this month when the contract has run more than 6 months.
pub fn rural_expected_start(contract_start: NaiveDate, today: NaiveDate) -> NaiveDate {
    let this_month = month_start(today);
    if months_between(contract_start, today) > 6 {
        this_month
    } else {
        add_months(this_month, 1)
    }
}

/// 补贴起始时间校验 for SQ-RS-019; `start` is any day in the start month.
pub fn rural_start_check(f: &Facts, start: NaiveDate, today: NaiveDate) -> Decision {
    let start = month_start(start);
    let mut checks = Vec::new();
    match f.current_job() {
        Some(j) => {
            let served_a_month = add_months(j.start, 1) <= today;
            let in_contract = start >= month_start(j.start)
                && j.contract_end.is_none_or(|e| start <= month_start(e));
            let until = j
                .contract_end
                .map(|e| e.to_string())
                .unwrap_or_else(|| "无固定期限".into());
            let msg = if served_a_month {
                format!("劳动合同期限{}至{until}", j.start)
            } else {
                format!("劳动合同自{}起履行，未满1个月", j.start)
            };
            checks.push(check(
                "R019-START-IN-CONTRACT",
                served_a_month && in_contract,
                msg,
            ));
            let expected = rural_expected_start(j.start, today);
            checks.push(check(
                "R019-START-MONTH",
                start == expected,
                format!(
                    "本次申请的补贴应自{}起计算，填报的是{}",
                    expected.format("%Y-%m"),
                    start.format("%Y-%m")
                ),
            ));
        }
        None => {
            checks.push(check("R019-START-IN-CONTRACT", false, "无在职劳动合同"));
            checks.push(check(
                "R019-START-MONTH",
                false,
                "无在职劳动合同，无法确定补贴起始月份",
            ));
        }
    }
    let overlap = f
        .rural_subsidies
        .iter()
        .find(|(s, e)| start >= *s && start <= *e);
    checks.push(match overlap {
        Some((s, e)) => check(
            "R019-NO-OVERLAP",
            false,
            format!("{}至{}已享受本补贴", s.format("%Y-%m"), e.format("%Y-%m")),
        ),
        None => check("R019-NO-OVERLAP", true, "无重叠补贴期"),
    });
    Decision::new("SQ-RS-019", checks)
}

/// 养老服务补贴: the band and the monthly amount (第六条) of an eligible applicant.
#[derive(Debug, Clone, Serialize)]
pub struct ElderlyBand {
    /// 低保 / 低收入 / 高龄.
    pub band: &'static str,
    /// Percentage of the base standard.
    pub percent: i64,
    /// 居家社区照护 monthly amount in 元.
    pub monthly_amount: i64,
}

/// 养老服务补贴 准入判断, plus the band when eligible.
pub fn elderly_eligibility(f: &Facts, today: NaiveDate) -> (Decision, Option<ElderlyBand>) {
    let age = f.age(today);
    let mut checks = vec![check(
        "MZ020-HUKOU-AGE",
        f.local() && age >= 60,
        format!("户籍类型{}，年龄{age}周岁", f.person.hukou),
    )];
    let mut level = None;
    checks.push(match &f.assessment {
        None => check("MZ020-ASSESSMENT", false, "无老年照护需求统一评估记录"),
        Some(a) => {
            let ok = a.valid_until >= today && (2..=6).contains(&a.level);
            if ok {
                level = Some(a.level);
            }
            let label = if a.level == 0 {
                "未达等级".to_string()
            } else {
                format!("照护{}级", a.level)
            };
            check(
                "MZ020-ASSESSMENT",
                ok,
                format!(
                    "评估结果{label}，评估日期{}，有效期至{}",
                    a.assessed_on, a.valid_until
                ),
            )
        }
    });
    let pension_low = f
        .person
        .pension_monthly
        .is_none_or(|p| p < AVG_ENTERPRISE_PENSION);
    let band: Option<(&'static str, i64)> = match f.person.low_income.as_deref() {
        Some("低保") => Some(("城乡低保家庭", 100)),
        Some("低收入") => Some(("低收入困难家庭", 80)),
        _ if age >= 80 && pension_low => Some(("80周岁以上且养老金低于平均水平", 50)),
        _ if age >= 90 && f.household_size == 1 => Some(("90周岁以上独居", 50)),
        _ => None,
    };
    let msg = band
        .map(|b| b.0.to_string())
        .unwrap_or_else(|| "非低保、低收入家庭，且不属于高龄低养老金或高龄独居".into());
    checks.push(check("MZ020-INCOME-BAND", band.is_some(), msg));
    let d = Decision::new("SQ-MZ-020", checks);
    let out = match (d.eligible, band, level) {
        (true, Some((name, pct)), Some(l)) => {
            let base = match l {
                2 | 3 => 400,
                4 => 500,
                _ => 650,
            };
            Some(ElderlyBand {
                band: name,
                percent: pct,
                monthly_amount: base * pct / 100,
            })
        }
        _ => None,
    };
    (d, out)
}

/// 支内回沪帮困补助 准入判断, plus the monthly 补助 when eligible (保障线 minus pension, plus the
/// 80+ supplement).
pub fn zhinei_eligibility(f: &Facts, today: NaiveDate) -> (Decision, Option<i64>) {
    let mut checks = Vec::new();
    let mut returned_on = None;
    match &f.person.zhinei {
        None => {
            checks.push(check("MZ031-ZHINEI", false, "无支援外地建设记录"));
            checks.push(check("MZ031-RETURNED", false, "无回沪定居记录"));
        }
        Some((province, returned)) => {
            checks.push(check(
                "MZ031-ZHINEI",
                true,
                format!("曾支援{province}建设并在当地退休"),
            ));
            returned_on = *returned;
            checks.push(match returned {
                Some(d) if f.local() && add_months(*d, 6) <= today => check(
                    "MZ031-RETURNED",
                    true,
                    format!("{d}回沪定居，户籍已迁回本市"),
                ),
                Some(d) if f.local() => check(
                    "MZ031-RETURNED",
                    false,
                    format!("{d}回沪，实际居住未满6个月"),
                ),
                Some(_) => check("MZ031-RETURNED", false, "已回沪但户籍未迁回本市"),
                None => check("MZ031-RETURNED", false, "尚未回沪定居"),
            });
        }
    }
    checks.push(match f.person.pension_monthly {
        Some(p) => check(
            "MZ031-PENSION",
            p < ZHINEI_PENSION_THRESHOLD,
            format!("月养老收入{p}元，保障线{ZHINEI_PENSION_THRESHOLD}元"),
        ),
        None => check("MZ031-PENSION", false, "无按月领取养老金记录"),
    });
    let dibao = f.person.low_income.as_deref() == Some("低保");
    checks.push(check(
        "MZ031-NOT-DIBAO",
        !dibao,
        if dibao {
            "已享受城乡最低生活保障"
        } else {
            "未享受低保或特困供养"
        },
    ));
    let d = Decision::new("SQ-MZ-031", checks);
    let amount = match (d.eligible, f.person.pension_monthly, returned_on) {
        (true, Some(p), Some(_)) => Some(
            ZHINEI_PENSION_THRESHOLD - p
                + if f.age(today) >= 80 {
                    ZHINEI_AGED_SUPPLEMENT
                } else {
                    0
                },
        ),
        _ => None,
    };
    (d, amount)
}

/// 残疾人居家养护服务 准入判断.
pub fn disability_eligibility(f: &Facts, today: NaiveDate) -> Decision {
    let age = f.age(today);
    let mut checks = Vec::new();
    match &f.person.disability {
        None => {
            checks.push(check("CL033-HUKOU-CERT", false, "未持有残疾人证"));
            checks.push(check(
                "CL033-AGE",
                (16..=59).contains(&age),
                format!("年龄{age}周岁"),
            ));
            checks.push(check("CL033-GRADE", false, "无残疾等级"));
        }
        Some((cat, grade)) => {
            checks.push(check(
                "CL033-HUKOU-CERT",
                f.local(),
                format!("户籍类型{}，持{cat}残疾{grade}级残疾人证", f.person.hukou),
            ));
            checks.push(check(
                "CL033-AGE",
                (16..=59).contains(&age),
                format!("年龄{age}周岁"),
            ));
            let ok = *grade <= 2 || (*grade == 3 && (cat == "智力" || cat == "精神"));
            checks.push(check("CL033-GRADE", ok, format!("{cat}残疾{grade}级")));
        }
    }
    checks.push(match f.current_job() {
        Some(_) => check("CL033-NO-JOB", false, "有在职就业记录"),
        None => check("CL033-NO-JOB", true, "无在职就业记录"),
    });
    checks.push(check(
        "CL033-NOT-INSTITUTION",
        !f.person.in_institution,
        if f.person.in_institution {
            "已入住机构"
        } else {
            "居家生活"
        },
    ));
    Decision::new("SQ-CL-033", checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_rule_used_has_a_table_entry() {
        for r in RULES {
            assert!(
                r.policy.starts_with('《') && r.policy.ends_with('》') && !r.article.is_empty(),
                "{}",
                r.id
            );
        }
        let ids: std::collections::HashSet<_> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), RULES.len(), "duplicate rule id");
    }

    #[test]
    fn retirement_reform_steps() {
        assert_eq!(retirement_date("男", d(1964, 12, 10)), d(2024, 12, 10));
        assert_eq!(retirement_date("男", d(1965, 1, 10)), d(2025, 2, 10));
        assert_eq!(retirement_date("男", d(1965, 5, 10)), d(2025, 7, 10));
        assert_eq!(retirement_date("男", d(1980, 1, 1)), d(2043, 1, 1));
        assert_eq!(retirement_date("女", d(1975, 3, 1)), d(2025, 5, 1));
    }

    fn worker(hukou: &str) -> Facts {
        Facts {
            person: Person {
                gender: "男".into(),
                birth_date: Some(d(1990, 5, 1)),
                hukou: hukou.into(),
                hukou_place: "奉贤区".into(),
                ..Person::default()
            },
            ..Facts::default()
        }
    }

    #[test]
    fn unemployment_date_must_follow_last_contribution() {
        let today = d(2026, 11, 15);
        let mut f = worker("本市城镇");
        f.jobs.push(Job {
            district: "奉贤区".into(),
            industry: "非农".into(),
            start: d(2020, 1, 1),
            end: Some(d(2026, 8, 1)),
            contract_end: None,
            wage: 6000,
        });
        assert!(!unemployment_date_check(&f, d(2026, 8, 20), today).eligible);
        assert!(unemployment_date_check(&f, d(2026, 9, 1), today).eligible);
        assert!(!unemployment_date_check(&f, d(2026, 12, 1), today).eligible);
        assert!(unemployment_eligibility(&f, today).eligible);
        assert_eq!(
            unemployment_eligibility(&worker("外省市"), today).matter_code,
            "SQ-RS-002"
        );
        assert!(!unemployment_eligibility(&worker("外省市"), today).eligible);
    }

    #[test]
    fn rural_subsidy_needs_cross_district_long_contract() {
        let today = d(2026, 11, 15);
        let mut f = worker("本市农村");
        f.jobs.push(Job {
            district: "徐汇区".into(),
            industry: "非农".into(),
            start: d(2026, 8, 1),
            end: None,
            contract_end: Some(d(2027, 7, 31)),
            wage: 5000,
        });
        assert!(rural_eligibility(&f, today, false).0.eligible);
        // Contract running 3 months: the subsidy starts next month (第六条), never earlier.
        assert!(rural_start_check(&f, d(2026, 12, 1), today).eligible);
        assert!(!rural_start_check(&f, d(2026, 9, 1), today).eligible);
        // Running more than 6 months: from this month, not retroactively.
        f.jobs[0].start = d(2026, 2, 1);
        assert!(rural_start_check(&f, d(2026, 11, 1), today).eligible);
        assert!(!rural_start_check(&f, d(2026, 12, 1), today).eligible);
        f.rural_subsidies.push((d(2026, 3, 1), d(2027, 2, 1)));
        assert!(!rural_start_check(&f, d(2026, 11, 1), today).eligible);
        f.rural_subsidies = vec![(d(2023, 1, 1), d(2025, 12, 1))];
        assert!(
            !rural_eligibility(&f, today, false).0.eligible,
            "36-month cap"
        );
        f.jobs[0].district = "奉贤区".into();
        assert!(!rural_eligibility(&f, today, false).0.eligible);
    }

    #[test]
    fn disability_grade_three_only_for_intellectual_or_mental() {
        let today = d(2026, 11, 15);
        let mut f = worker("本市城镇");
        f.person.disability = Some(("肢体".into(), 3));
        assert!(!disability_eligibility(&f, today).eligible);
        f.person.disability = Some(("精神".into(), 3));
        assert!(disability_eligibility(&f, today).eligible);
    }

    #[test]
    fn elderly_band_and_amount_follow_article_six() {
        let today = d(2026, 11, 15);
        let mut f = worker("本市城镇");
        f.person.birth_date = Some(d(1944, 1, 1));
        f.assessment = Some(AssessmentFacts {
            level: 4,
            assessed_on: d(2026, 1, 1),
            valid_until: d(2027, 12, 31),
        });
        f.person.low_income = Some("低收入".into());
        let (dec, band) = elderly_eligibility(&f, today);
        assert!(dec.eligible);
        assert_eq!(band.unwrap().monthly_amount, 400);
        f.person.low_income = None;
        f.person.pension_monthly = Some(3_000);
        assert!(
            elderly_eligibility(&f, today).0.eligible,
            "80+ with a low pension"
        );
        f.person.pension_monthly = Some(8_000);
        assert!(
            !elderly_eligibility(&f, today).0.eligible,
            "80+ with a high pension"
        );
        f.assessment = Some(AssessmentFacts {
            level: 1,
            assessed_on: d(2026, 1, 1),
            valid_until: d(2027, 12, 31),
        });
        f.person.low_income = Some("低保".into());
        assert!(
            !elderly_eligibility(&f, today).0.eligible,
            "照护一级 is not enough"
        );
    }

    #[test]
    fn zhinei_pays_the_gap_to_the_threshold() {
        let today = d(2026, 11, 15);
        let mut f = worker("本市城镇");
        f.person.birth_date = Some(d(1944, 3, 1));
        f.person.zhinei = Some(("新疆".into(), Some(d(2010, 5, 1))));
        f.person.pension_monthly = Some(3_500);
        let (dec, amount) = zhinei_eligibility(&f, today);
        assert!(dec.eligible);
        assert_eq!(amount, Some(4_200 - 3_500 + 200));
        f.person.zhinei = Some(("新疆".into(), Some(d(2026, 9, 1))));
        assert!(
            !zhinei_eligibility(&f, today).0.eligible,
            "lived here under 6 months"
        );
        f.person.zhinei = Some(("新疆".into(), Some(d(2010, 5, 1))));
        f.person.low_income = Some("低保".into());
        assert!(!zhinei_eligibility(&f, today).0.eligible, "低保 excludes");
    }
}
