//! Test residents planted by QA and the dialogue tests (`--casesim-fixtures FILE.jsonl`).
//!
//! One resident a line, in the format of the contract ("Test residents for the reference case
//! system"). A file is all or nothing: every line is parsed and checked before anything is written,
//! and the rows go in inside one transaction, so a bad line leaves the database as it was. Keys
//! that start with `_` are comments (`_note`) at any depth; every other unknown key is refused so
//! that a typo cannot pass silently.
//!
//! Identity is checked as strictly as the 公安 record would be: the GB 11643 check digit, the birth
//! date written in the ID, and the gender in its 17th digit (odd = 男, even = 女) must agree with
//! the fields, because a fixture that contradicts its own ID would make the rules read facts no
//! real applicant can have.

use crate::synth::{DISTRICTS, birth_from_id, id_number_valid};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Why a fixture file was refused (nothing of it was loaded).
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read.
    #[error("无法读取测试居民文件 {path}：{source}")]
    Io {
        /// The file.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// One line is malformed or contradicts itself.
    #[error("测试居民文件第{line}行有误：{message}（整份文件未加载）")]
    Line {
        /// 1-based line number in the file.
        line: usize,
        /// What is wrong, in Chinese.
        message: String,
    },
}

/// 残疾人证.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixtureDisability {
    /// 视力 / 听力 / 言语 / 肢体 / 智力 / 精神 / 多重.
    pub category: String,
    /// 1 (most severe) to 4.
    pub grade: i64,
    /// 残疾人证号 (derived from the ID when absent).
    #[serde(default)]
    pub cert_no: Option<String>,
}

/// 支内 history.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixtureZhinei {
    /// Province supported, e.g. 贵州.
    pub province: String,
    /// Years spent there.
    #[serde(default)]
    pub years: Option<i64>,
    /// Date of return to Shanghai (absent = not returned).
    #[serde(default)]
    pub returned_on: Option<String>,
}

/// One employment spell (one 参保 record).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixtureJob {
    /// Employer name.
    pub employer: String,
    /// District of the workplace.
    pub employer_district: String,
    /// Trade; a farm trade (农业, 种植, 养殖, 林业, 渔业, 畜牧) counts as 农业, anything else as 非农.
    #[serde(default)]
    pub industry: Option<String>,
    /// First month with contributions, `YYYY-MM`.
    pub start_month: String,
    /// Last month with contributions, `YYYY-MM`; absent = still employed (unless
    /// `separation_date` is given, whose month is then the last one).
    #[serde(default)]
    pub end_month: Option<String>,
    /// Contract end date.
    #[serde(default)]
    pub contract_end: Option<String>,
    /// Monthly wage (元), default 6,000.
    #[serde(default)]
    pub monthly_wage: Option<i64>,
    /// 退工 date.
    #[serde(default)]
    pub separation_date: Option<String>,
    /// 退工 reason.
    #[serde(default)]
    pub separation_reason: Option<String>,
}

/// A 失业登记 record.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixtureRegistration {
    /// 登记日期.
    pub registered_on: String,
    /// 失业时间.
    pub unemployed_since: String,
    /// 有效 / 已注销 / …; only 有效 blocks a new registration.
    pub status: String,
}

/// A 老年照护需求统一评估 record.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixtureAssessment {
    /// 申请号.
    pub application_no: String,
    /// 0 (未达等级) to 6.
    pub level: i64,
    /// Assessment date.
    pub assessed_on: String,
    /// Valid until.
    pub valid_until: String,
    /// Agency (default `{district}第1评估所`).
    #[serde(default)]
    pub agency: Option<String>,
    /// 登记状态 (default 已登记; only 已登记 counts for the rules).
    #[serde(default)]
    pub status: Option<String>,
}

/// A subsidy already being paid.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixtureSubsidy {
    /// Matter code, e.g. SQ-RS-019.
    pub matter_code: String,
    /// First month, `YYYY-MM`.
    pub start_month: String,
    /// Last month, `YYYY-MM`.
    pub end_month: String,
}

/// One test resident, as written in the file (see the contract for every field).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Fixture {
    pub name: String,
    #[serde(default)]
    pub id_type: Option<String>,
    pub id_number: String,
    pub gender: String,
    pub birth_date: String,
    pub hukou: String,
    #[serde(default)]
    pub hukou_place: Option<String>,
    pub district: String,
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub mobile: Option<String>,
    #[serde(default)]
    pub residence_permit: Option<bool>,
    #[serde(default)]
    pub land_expropriated: Option<bool>,
    #[serde(default)]
    pub lives_alone: Option<bool>,
    #[serde(default)]
    pub retired: Option<bool>,
    #[serde(default)]
    pub pension_monthly: Option<i64>,
    #[serde(default)]
    pub low_income: Option<String>,
    #[serde(default)]
    pub disability: Option<FixtureDisability>,
    #[serde(default)]
    pub in_institution: Option<bool>,
    #[serde(default)]
    pub zhinei: Option<FixtureZhinei>,
    #[serde(default)]
    pub employment: Vec<FixtureJob>,
    #[serde(default)]
    pub unemployment_insurance_months: Option<i64>,
    #[serde(default)]
    pub unemployment_registrations: Vec<FixtureRegistration>,
    #[serde(default)]
    pub assessments: Vec<FixtureAssessment>,
    #[serde(default)]
    pub subsidies: Vec<FixtureSubsidy>,
    /// Operation id → fields shallow-merged into that operation's result for this resident.
    #[serde(default)]
    pub result_overrides: BTreeMap<String, Map<String, Value>>,
    /// Line number in the file it came from (not a JSON field).
    #[serde(skip)]
    pub line: usize,
}

/// Read and check a fixture file.
///
/// # Errors
/// [`FixtureError::Io`] when unreadable, [`FixtureError::Line`] for the first bad line.
pub fn load_fixtures(path: impl AsRef<Path>) -> Result<Vec<Fixture>, FixtureError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_fixtures(&text)
}

/// Parse and check fixture lines (blank lines are skipped; line numbers count them).
///
/// # Errors
/// [`FixtureError::Line`] for the first bad line.
pub fn parse_fixtures(text: &str) -> Result<Vec<Fixture>, FixtureError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut apps = HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let raw = raw.trim().trim_start_matches('\u{feff}');
        if raw.is_empty() {
            continue;
        }
        let bad = |message: String| FixtureError::Line { line, message };
        let mut v: Value = serde_json::from_str(raw)
            .map_err(|e| bad(format!("不是合法的 JSON 对象（第{}列）", e.column())))?;
        if !v.is_object() {
            return Err(bad("每行应为一个 JSON 对象".into()));
        }
        strip_comments(&mut v);
        let mut f: Fixture = serde_json::from_value(v).map_err(|e| bad(serde_message(&e)))?;
        f.line = line;
        check(&mut f).map_err(bad)?;
        if !seen.insert(f.id_number.clone()) {
            return Err(bad(format!(
                "证件号码与前面的测试居民重复：{}",
                f.id_number
            )));
        }
        for a in &f.assessments {
            if !apps.insert(a.application_no.clone()) {
                return Err(bad(format!("评估申请号重复：{}", a.application_no)));
            }
        }
        out.push(f);
    }
    Ok(out)
}

/// Drops `_`-prefixed keys everywhere except inside `result_overrides`, whose content is what a
/// line system answers and so is QA's to choose.
fn strip_comments(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !k.starts_with('_'));
            for (k, child) in m.iter_mut() {
                if k != "result_overrides" {
                    strip_comments(child);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(strip_comments),
        _ => {}
    }
}

/// serde's English messages, said in Chinese.
fn serde_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_string).unwrap_or_default();
    if msg.starts_with("unknown field") {
        format!("不认识的字段“{}”（注释字段请以下划线开头）", quoted(&msg))
    } else if msg.starts_with("missing field") {
        format!("缺少必填字段“{}”", quoted(&msg))
    } else if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        let what = msg.split(", expected").next().unwrap_or(&msg);
        let what = what
            .replace("invalid type: ", "")
            .replace("invalid value: ", "");
        let want = msg
            .split(", expected ")
            .nth(1)
            .map(|w| w.split(" at line").next().unwrap_or(w).to_string())
            .unwrap_or_default();
        format!("字段取值类型不正确：得到 {what}，应为 {want}")
    } else {
        format!("格式不正确：{msg}")
    }
}

fn date(v: &str, label: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{label}应为 YYYY-MM-DD 格式的日期：{v}"))
}

/// A `YYYY-MM` month (a full date is accepted and means its month), as its first day.
pub(crate) fn month(v: &str, label: &str) -> Result<NaiveDate, String> {
    let v = v.trim();
    NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%Y-%m-%d").map(crate::synth::month_start))
        .map_err(|_| format!("{label}应为 YYYY-MM 格式的月份：{v}"))
}

fn district_ok(name: &str) -> bool {
    DISTRICTS.iter().any(|d| d.name == name)
}

const CATEGORIES: [&str; 7] = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"];

fn check(f: &mut Fixture) -> Result<(), String> {
    if f.name.trim().is_empty() {
        return Err("姓名不能为空".into());
    }
    if let Some(t) = &f.id_type
        && t != "居民身份证"
    {
        return Err(format!("证件类型暂只支持居民身份证：{t}"));
    }
    f.id_number = f.id_number.trim().to_ascii_uppercase();
    if !id_number_valid(&f.id_number) {
        return Err(format!(
            "证件号码不是有效的18位居民身份证号码（校验位或出生日期不对）：{}",
            f.id_number
        ));
    }
    let birth = date(&f.birth_date, "出生日期")?;
    if birth_from_id(&f.id_number) != Some(birth) {
        return Err(format!(
            "出生日期{birth}与证件号码中的出生日期{}不一致",
            &f.id_number[6..14]
        ));
    }
    let odd = f.id_number.as_bytes()[16].wrapping_sub(b'0') % 2 == 1;
    match (f.gender.as_str(), odd) {
        ("男", true) | ("女", false) => {}
        ("男", false) | ("女", true) => {
            return Err(format!(
                "性别{}与证件号码第17位（奇数为男、偶数为女）不一致",
                f.gender
            ));
        }
        (g, _) => return Err(format!("性别只能是“男”或“女”：{g}")),
    }
    if !["本市城镇", "本市农村", "外省市"].contains(&f.hukou.as_str()) {
        return Err(format!(
            "户籍类型只能是本市城镇、本市农村或外省市：{}",
            f.hukou
        ));
    }
    if !district_ok(&f.district) {
        return Err(format!("居住区不是本市的区：{}", f.district));
    }
    if let Some(st) = &f.street {
        let d = DISTRICTS.iter().find(|d| d.name == f.district);
        if d.is_some_and(|d| !d.streets.contains(&st.as_str())) {
            return Err(format!("街道（镇）“{st}”不属于{}", f.district));
        }
    }
    if f.hukou.starts_with("本市") {
        let place = f.hukou_place.clone().unwrap_or_else(|| f.district.clone());
        let Some(d) = DISTRICTS.iter().find(|d| d.name == place) else {
            return Err(format!("本市户籍的户籍地应为本市的区：{place}"));
        };
        if f.hukou == "本市农村" && !d.suburban {
            return Err(format!("本市农村户籍只存在于郊区，{place}不是郊区"));
        }
        f.hukou_place = Some(place);
    }
    if let Some(m) = &f.mobile
        && !(m.len() == 11 && m.starts_with('1') && m.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("手机号码应为以1开头的11位数字：{m}"));
    }
    if let Some(l) = &f.low_income
        && l != "低保"
        && l != "低收入"
    {
        return Err(format!("low_income 只能是“低保”“低收入”或 null：{l}"));
    }
    if let Some(p) = f.pension_monthly
        && p < 0
    {
        return Err("月养老金不能为负数".into());
    }
    if let Some(d) = &f.disability {
        if !CATEGORIES.contains(&d.category.as_str()) {
            return Err(format!(
                "残疾类别只能是{}：{}",
                CATEGORIES.join("、"),
                d.category
            ));
        }
        if !(1..=4).contains(&d.grade) {
            return Err(format!("残疾等级应为1至4级：{}", d.grade));
        }
    }
    if let Some(z) = &f.zhinei {
        if z.province.trim().is_empty() {
            return Err("支内省份不能为空".into());
        }
        if let Some(r) = &z.returned_on {
            date(r, "回沪日期")?;
        }
    }
    let mut ongoing = 0;
    for (k, j) in f.employment.iter_mut().enumerate() {
        let n = k + 1;
        if !district_ok(&j.employer_district) {
            return Err(format!(
                "第{n}段就业的用人单位所在区不是本市的区：{}",
                j.employer_district
            ));
        }
        let start = month(&j.start_month, &format!("第{n}段就业的起始月份"))?;
        if let Some(s) = &j.separation_date {
            let s = date(s, &format!("第{n}段就业的退工日期"))?;
            if j.end_month.is_none() {
                j.end_month = Some(s.format("%Y-%m").to_string());
            }
        }
        match &j.end_month {
            Some(e) => {
                if month(e, &format!("第{n}段就业的最后缴费月份"))? < start {
                    return Err(format!("第{n}段就业的最后缴费月份早于起始月份"));
                }
            }
            None => ongoing += 1,
        }
        if let Some(c) = &j.contract_end
            && date(c, &format!("第{n}段就业的合同终止日期"))? < start
        {
            return Err(format!("第{n}段就业的合同终止日期早于起始月份"));
        }
        if j.monthly_wage.is_some_and(|w| w < 0) {
            return Err(format!("第{n}段就业的月工资不能为负数"));
        }
    }
    if ongoing > 1 {
        return Err("同一时间只能有一段在职就业（未填 end_month 的就业）".into());
    }
    if f.unemployment_insurance_months.is_some_and(|m| m < 0) {
        return Err("失业保险缴费月数不能为负数".into());
    }
    for r in &f.unemployment_registrations {
        date(&r.registered_on, "失业登记日期")?;
        date(&r.unemployed_since, "失业时间")?;
        if r.status.trim().is_empty() {
            return Err("失业登记状态不能为空".into());
        }
    }
    for a in &f.assessments {
        if a.application_no.trim().is_empty() {
            return Err("评估申请号不能为空".into());
        }
        if !(0..=6).contains(&a.level) {
            return Err(format!("评估等级应为0至6：{}", a.level));
        }
        if date(&a.valid_until, "评估有效期")? < date(&a.assessed_on, "评估日期")? {
            return Err("评估有效期早于评估日期".into());
        }
    }
    for s in &f.subsidies {
        if month(&s.end_month, "补贴结束月份")? < month(&s.start_month, "补贴起始月份")?
        {
            return Err("补贴结束月份早于起始月份".into());
        }
    }
    for op in f.result_overrides.keys() {
        if !crate::ops::OPERATIONS.contains(&op.as_str()) {
            return Err(format!("result_overrides 中的接口名不存在：{op}"));
        }
    }
    Ok(())
}

fn hash(s: &str) -> u64 {
    u64::from_str_radix(&crate::ops::fingerprint(s), 16).unwrap_or(0)
}

fn conflict(f: &Fixture, message: String) -> crate::Error {
    crate::Error::Fixture(FixtureError::Line {
        line: f.line,
        message,
    })
}

/// Writes one checked fixture inside `tx`, replacing the resident with the same ID number.
pub(crate) async fn write(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    f: &Fixture,
) -> crate::Result<()> {
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM residents WHERE id_number = ?")
        .bind(&f.id_number)
        .fetch_optional(&mut **tx)
        .await?;
    let rid = match existing {
        Some(rid) => {
            for sql in [
                "DELETE FROM ratings WHERE case_no IN (SELECT case_no FROM cases WHERE resident_id = ?1)",
                "DELETE FROM trajectory WHERE case_no IN (SELECT case_no FROM cases WHERE resident_id = ?1)",
                "DELETE FROM ratings WHERE rater_resident_id = ?1",
                "DELETE FROM cases WHERE resident_id = ?1",
                "DELETE FROM employment WHERE resident_id = ?1",
                "DELETE FROM unemployment_registrations WHERE resident_id = ?1",
                "DELETE FROM assessments WHERE resident_id = ?1",
                "DELETE FROM subsidies WHERE resident_id = ?1",
                "DELETE FROM result_overrides WHERE resident_id = ?1",
                "DELETE FROM residents WHERE id = ?1",
            ] {
                sqlx::query(sql).bind(rid).execute(&mut **tx).await?;
            }
            rid
        }
        None => {
            sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM residents")
                .fetch_one(&mut **tx)
                .await?
        }
    };
    // A household of its own: household facts come from `lives_alone`, not from strangers.
    let household: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(household_id), 0) + 1 FROM residents")
            .fetch_one(&mut **tx)
            .await?;
    let h = hash(&f.id_number);
    let Some(d) = DISTRICTS.iter().find(|d| d.name == f.district) else {
        return Err(conflict(f, format!("居住区不是本市的区：{}", f.district)));
    };
    let street = f
        .street
        .clone()
        .unwrap_or_else(|| d.streets[(h % d.streets.len() as u64) as usize].to_string());
    let address = match &f.address {
        Some(a) => a.clone(),
        None => {
            let roads: Vec<String> =
                sqlx::query_scalar("SELECT name FROM roads WHERE district = ? ORDER BY id")
                    .bind(d.name)
                    .fetch_all(&mut **tx)
                    .await?;
            let road = roads
                .get((h % roads.len().max(1) as u64) as usize)
                .cloned()
                .unwrap_or_else(|| "人民路".into());
            format!(
                "上海市{}{road}{}弄{}号{}室",
                d.name,
                h % 900 + 1,
                (h >> 12) % 40 + 1,
                (h >> 20) % 15 * 100 + 101
            )
        }
    };
    let mobile = f
        .mobile
        .clone()
        .unwrap_or_else(|| format!("139{:08}", (h >> 8) % 100_000_000));
    let hukou_place = match (&f.hukou_place, f.hukou.as_str()) {
        (Some(p), _) => p.clone(),
        (None, _) => crate::synth::OUTSIDE_AREAS
            .iter()
            .find(|a| a.0 == &f.id_number[..6])
            .map(|a| a.1.to_string())
            .unwrap_or_else(|| "外省市".into()),
    };
    let dis = f.disability.as_ref();
    let z = f.zhinei.as_ref();
    sqlx::query("INSERT INTO residents (id, id_number, name, gender, birth_date, household_id, hukou, hukou_place, land_expropriated, residence_permit, district, street, address, mobile, disability_category, disability_grade, disability_cert_no, in_institution, low_income, retired, pension_monthly, zhinei_province, zhinei_years, returned_on, synthetic, id_type, lives_alone, ui_months) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)")
        .bind(rid)
        .bind(&f.id_number)
        .bind(f.name.trim())
        .bind(&f.gender)
        .bind(f.birth_date.trim())
        .bind(household)
        .bind(&f.hukou)
        .bind(hukou_place)
        .bind(f.land_expropriated.unwrap_or(false) as i64)
        .bind(f.residence_permit.unwrap_or(false) as i64)
        .bind(d.name)
        .bind(&street)
        .bind(address)
        .bind(mobile)
        .bind(dis.map(|d| d.category.clone()))
        .bind(dis.map(|d| d.grade))
        .bind(dis.map(|d| d.cert_no.clone().unwrap_or_else(|| format!("{}{}1", f.id_number, d.grade))))
        .bind(f.in_institution.unwrap_or(false) as i64)
        .bind(&f.low_income)
        .bind(f.retired.unwrap_or(f.pension_monthly.is_some()) as i64)
        .bind(f.pension_monthly)
        .bind(z.map(|z| z.province.clone()))
        .bind(z.and_then(|z| z.years))
        .bind(z.and_then(|z| z.returned_on.clone()))
        .bind(f.id_type.clone().unwrap_or_else(|| "居民身份证".into()))
        .bind(f.lives_alone.unwrap_or(false) as i64)
        .bind(f.unemployment_insurance_months)
        .execute(&mut **tx)
        .await?;
    let m = |v: &str| {
        month(v, "月份")
            .map(|d| d.to_string())
            .map_err(|e| conflict(f, e))
    };
    for j in &f.employment {
        let end = j.end_month.as_deref().map(m).transpose()?;
        sqlx::query("INSERT INTO employment (resident_id, employer, employer_district, industry, start_month, end_month, contract_end, monthly_wage, separation_date, separation_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(rid)
            .bind(&j.employer)
            .bind(&j.employer_district)
            .bind(j.industry.clone().unwrap_or_else(|| "非农".into()))
            .bind(m(&j.start_month)?)
            .bind(end)
            .bind(&j.contract_end)
            .bind(j.monthly_wage.unwrap_or(6_000))
            .bind(&j.separation_date)
            .bind(&j.separation_reason)
            .execute(&mut **tx)
            .await?;
    }
    for r in &f.unemployment_registrations {
        sqlx::query("INSERT INTO unemployment_registrations (resident_id, registered_on, unemployed_since, status) VALUES (?, ?, ?, ?)")
            .bind(rid)
            .bind(&r.registered_on)
            .bind(&r.unemployed_since)
            .bind(r.status.trim())
            .execute(&mut **tx)
            .await?;
    }
    for a in &f.assessments {
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT resident_id FROM assessments WHERE application_no = ?")
                .bind(&a.application_no)
                .fetch_optional(&mut **tx)
                .await?;
        if taken.is_some() {
            return Err(conflict(
                f,
                format!("评估申请号{}已被系统中其他居民使用", a.application_no),
            ));
        }
        sqlx::query("INSERT INTO assessments (application_no, resident_id, level, assessed_on, valid_until, agency, street, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(&a.application_no)
            .bind(rid)
            .bind(a.level)
            .bind(&a.assessed_on)
            .bind(&a.valid_until)
            .bind(a.agency.clone().unwrap_or_else(|| format!("{}第1评估所", d.name)))
            .bind(&street)
            .bind(a.status.clone().unwrap_or_else(|| "已登记".into()))
            .execute(&mut **tx)
            .await?;
    }
    for s in &f.subsidies {
        sqlx::query("INSERT INTO subsidies (resident_id, matter_code, start_month, end_month) VALUES (?, ?, ?, ?)")
            .bind(rid)
            .bind(&s.matter_code)
            .bind(m(&s.start_month)?)
            .bind(m(&s.end_month)?)
            .execute(&mut **tx)
            .await?;
    }
    for (op, fields) in &f.result_overrides {
        sqlx::query(
            "INSERT INTO result_overrides (resident_id, operation, result) VALUES (?, ?, ?)",
        )
        .bind(rid)
        .bind(op)
        .bind(Value::Object(fields.clone()).to_string())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Whether a trade counts as 农业 for SQ-RS-019.
pub fn is_farm_trade(industry: &str) -> bool {
    let s = industry.trim();
    !s.starts_with('非')
        && ["农业", "种植", "养殖", "林业", "渔业", "畜牧", "农、林"]
            .iter()
            .any(|k| s.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(area: &str, birth: &str, seq: &str) -> String {
        let head = format!("{area}{birth}{seq}");
        let c = zhiban_pii::detect::resident_id_check_char(&head).unwrap();
        format!("{head}{c}")
    }

    fn line(extra: &str) -> String {
        let id = id("310115", "19900501", "123");
        format!(
            r#"{{"name":"测试甲","id_number":"{id}","birth_date":"1990-05-01","gender":"男","hukou":"本市城镇","district":"浦东新区"{extra}}}"#
        )
    }

    #[test]
    fn a_minimal_line_parses_and_comments_are_dropped() {
        let f = parse_fixtures(&line(
            r#","_note":"说明","disability":{"category":"肢体","grade":1,"_x":1}"#,
        ))
        .unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].hukou_place.as_deref(), Some("浦东新区"));
        assert_eq!(f[0].line, 1);
    }

    #[test]
    fn refusals_name_the_line_in_chinese() {
        let good = line("");
        for (extra, want) in [
            (r#","hukuo":"x""#, "不认识的字段“hukuo”"),
            (
                r#","employment":[{"employer":"甲","employer_district":"浦东新区","start_month":"2020-01","wage":1}]"#,
                "不认识的字段“wage”",
            ),
            (r#","low_income":"困难""#, "low_income"),
            (r#","residence_permit":"是""#, "类型不正确"),
            (r#","street":"外滩街道""#, "不属于浦东新区"),
        ] {
            let text = format!("{good}\n\n{}", line(extra));
            let e = parse_fixtures(&text).unwrap_err().to_string();
            assert!(e.contains("第3行") && e.contains(want), "{e}");
        }
        let wrong_gender = good.replace("\"男\"", "\"女\"");
        assert!(
            parse_fixtures(&wrong_gender)
                .unwrap_err()
                .to_string()
                .contains("第17位")
        );
        let wrong_birth = good.replace("1990-05-01", "1990-05-02");
        assert!(
            parse_fixtures(&wrong_birth)
                .unwrap_err()
                .to_string()
                .contains("出生日期")
        );
        let bad_sum = good.replace(&id("310115", "19900501", "123"), "310115199005011230");
        if !id_number_valid("310115199005011230") {
            assert!(
                parse_fixtures(&bad_sum)
                    .unwrap_err()
                    .to_string()
                    .contains("校验位")
            );
        }
        let missing = good.replace(r#","district":"浦东新区""#, "");
        assert!(
            parse_fixtures(&missing)
                .unwrap_err()
                .to_string()
                .contains("缺少必填字段“district”")
        );
        assert!(
            parse_fixtures(&format!("{good}\n{good}"))
                .unwrap_err()
                .to_string()
                .contains("重复")
        );
    }

    #[test]
    fn separation_date_ends_a_spell_and_farm_trades_are_recognised() {
        let f = parse_fixtures(&line(
            r#","employment":[{"employer":"甲","employer_district":"徐汇区","start_month":"2020-01","separation_date":"2026-08-31","separation_reason":"合同到期"}]"#,
        ))
        .unwrap();
        assert_eq!(f[0].employment[0].end_month.as_deref(), Some("2026-08"));
        assert!(is_farm_trade("农业") && is_farm_trade("蔬菜种植"));
        assert!(!is_farm_trade("非农") && !is_farm_trade("物流") && !is_farm_trade("农产品物流"));
    }
}
