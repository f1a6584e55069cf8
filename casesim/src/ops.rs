//! The operations the simulated line systems offer; REST and SOAP both land here.
//!
//! Every operation takes a JSON object of arguments and returns a JSON object, or an
//! [`OpError`] with a stable code and a Chinese message. Argument values may arrive as strings
//! even when they are numbers (untyped SOAP partners), so the accessors are lenient.

use crate::db::{Db, MATTERS, ResidentRow};
use crate::rules::{self, Decision};
use crate::synth::{age_on, id_number_valid};
use chrono::NaiveDate;
use serde_json::{Value, json};
use std::sync::Arc;

/// The operations, by stable id (the same ids the tool registry uses).
pub const OPERATIONS: &[&str] = &[
    "applicant_verify",
    "unemployment_eligibility",
    "unemployment_date_check",
    "unemployment_submit",
    "rural_subsidy_eligibility",
    "rural_subsidy_start_check",
    "rural_subsidy_submit",
    "elderly_subsidy_eligibility",
    "elderly_assessment_info",
    "elderly_subsidy_submit",
    "zhinei_eligibility",
    "zhinei_submit",
    "disability_care_eligibility",
    "disability_care_submit",
    "road_search",
    "case_trajectory",
    "ltc_registration_query",
    "matter_catalog",
    "rating_info",
    "current_ticket_matters",
    "pending_trajectory",
];

/// A business or argument error returned by an operation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct OpError {
    /// Stable machine code, e.g. `APPLICANT_NOT_FOUND`.
    pub code: &'static str,
    /// Message in Chinese.
    pub message: String,
    /// True when the caller's input is at fault (REST 4xx, SOAP `soap:Client`).
    pub client: bool,
}

impl OpError {
    fn bad(message: impl Into<String>) -> Self {
        OpError {
            code: "INVALID_ARGUMENT",
            message: message.into(),
            client: true,
        }
    }
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        OpError {
            code,
            message: message.into(),
            client: true,
        }
    }
    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %e, "casesim internal error");
        OpError {
            code: "INTERNAL",
            message: "业务系统内部错误，请稍后再试".into(),
            client: false,
        }
    }
}

type OpResult = Result<Value, OpError>;

/// Shared state of the operations.
#[derive(Debug)]
pub struct Ops {
    /// Database.
    pub db: Db,
    /// The simulator's "today".
    pub today: NaiveDate,
    /// Road names held in memory for fuzzy search: (name, district, street, kind, chars).
    roads: Vec<(String, String, String, String, Vec<char>)>,
    /// Serialises submits so that the idempotency check and the insert are one step.
    submit_lock: tokio::sync::Mutex<()>,
}

fn s<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    match args.get(key) {
        Some(Value::String(v)) if !v.trim().is_empty() => Some(v.trim()),
        _ => None,
    }
}

fn req<'a>(args: &'a Value, key: &str, label: &str) -> Result<&'a str, OpError> {
    s(args, key).ok_or_else(|| OpError::bad(format!("缺少必填项：{label}（{key}）")))
}

fn int(args: &Value, key: &str) -> Option<i64> {
    match args.get(key) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(v)) => v.trim().parse().ok(),
        _ => None,
    }
}

/// A yes/no argument; untyped SOAP partners send booleans as text.
fn flag(args: &Value, key: &str) -> Result<Option<bool>, OpError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(v)) => match v.trim() {
            "true" | "1" | "是" => Ok(Some(true)),
            "false" | "0" | "否" | "" => Ok(Some(false)),
            other => Err(OpError::bad(format!(
                "{key}应为布尔值（true/false）：{other}"
            ))),
        },
        Some(Value::Number(n)) => Ok(Some(n.as_f64().is_some_and(|x| x != 0.0))),
        Some(other) => Err(OpError::bad(format!("{key}应为布尔值：{other}"))),
    }
}

/// An amount argument (number or numeric text).
fn number(args: &Value, key: &str, label: &str) -> Result<Option<f64>, OpError> {
    let bad = || OpError::bad(format!("{label}（{key}）应为数字"));
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(bad),
        Some(Value::String(v)) if v.trim().is_empty() => Ok(None),
        Some(Value::String(v)) => v.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

fn req_number(args: &Value, key: &str, label: &str) -> Result<f64, OpError> {
    number(args, key, label)?.ok_or_else(|| OpError::bad(format!("缺少必填项：{label}（{key}）")))
}

fn strict_date(v: &str, label: &str) -> Result<NaiveDate, OpError> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| OpError::bad(format!("{label}格式不正确，应为YYYY-MM-DD：{v}")))
}

fn parse_date(v: &str, label: &str) -> Result<NaiveDate, OpError> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d"))
        .map_err(|_| OpError::bad(format!("{label}格式不正确，应为YYYY-MM-DD或YYYY-MM：{v}")))
}

fn decision_json(d: &Decision) -> Value {
    let name = MATTERS
        .iter()
        .find(|m| m.0 == d.matter_code)
        .map(|m| m.1)
        .unwrap_or("");
    let failed: Vec<&str> = d
        .checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.message.as_str())
        .collect();
    json!({
        "matter_code": d.matter_code,
        "matter_name": name,
        "eligible": d.eligible,
        "summary": if d.eligible { "符合条件".to_string() } else { format!("不符合条件：{}", failed.join("；")) },
        "checks": d.checks,
    })
}

/// FNV-1a of a string, hex; stable across processes (used for request fingerprints).
pub fn fingerprint(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Fingerprint of a JSON value independent of key order.
pub fn value_fingerprint(v: &Value) -> String {
    fingerprint(&zhiban_wire::canonical_json(v))
}

impl Ops {
    /// Build the operations over an opened database.
    ///
    /// # Errors
    /// Database errors while loading the road list.
    pub async fn new(db: Db, today: NaiveDate) -> crate::Result<Arc<Ops>> {
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT name, district, street, kind FROM roads ORDER BY id")
                .fetch_all(&db.pool)
                .await?;
        let roads = rows.into_iter().map(|(n, d, s, k)| {
            let chars = n.chars().collect();
            (n, d, s, k, chars)
        });
        Ok(Arc::new(Ops {
            db,
            today,
            roads: roads.collect(),
            submit_lock: tokio::sync::Mutex::new(()),
        }))
    }

    /// Run operation `op` on `args`; `idempotency_key` matters only to submits. A result planted
    /// for the applicant (`result_overrides` of a test resident) is shallow-merged over it.
    pub async fn call(&self, op: &str, args: &Value, idempotency_key: Option<&str>) -> OpResult {
        let mut v = self.call_inner(op, args, idempotency_key).await?;
        if let Some(id) = s(args, "id_number")
            && let Some(planted) = self
                .db
                .result_override(id, op)
                .await
                .map_err(OpError::internal)?
            && let Some(o) = v.as_object_mut()
        {
            o.extend(planted);
        }
        Ok(v)
    }

    async fn call_inner(&self, op: &str, args: &Value, idempotency_key: Option<&str>) -> OpResult {
        if !args.is_object() {
            return Err(OpError::bad("请求参数应为对象"));
        }
        match op {
            "applicant_verify" => self.applicant_verify(args).await,
            "unemployment_eligibility" => {
                let (_, f) = self.applicant(args).await?;
                Ok(decision_json(&rules::unemployment_eligibility(
                    &f, self.today,
                )))
            }
            "unemployment_date_check" => {
                let (_, f) = self.applicant(args).await?;
                let d = parse_date(req(args, "unemployment_date", "失业时间")?, "失业时间")?;
                Ok(decision_json(&rules::unemployment_date_check(
                    &f, d, self.today,
                )))
            }
            "rural_subsidy_eligibility" => {
                let (_, f) = self.applicant(args).await?;
                let declared = flag(args, "land_expropriated_declared")?.unwrap_or(false);
                let (d, info) = rules::rural_eligibility(&f, self.today, declared);
                let mut v = decision_json(&d);
                if let (Some(o), Ok(Value::Object(extra))) =
                    (v.as_object_mut(), serde_json::to_value(info))
                {
                    o.extend(extra);
                }
                Ok(v)
            }
            "rural_subsidy_start_check" => {
                let (_, f) = self.applicant(args).await?;
                let d = parse_date(req(args, "start_month", "补贴起始月份")?, "补贴起始月份")?;
                Ok(decision_json(&rules::rural_start_check(&f, d, self.today)))
            }
            "elderly_subsidy_eligibility" => {
                let (_, f) = self.applicant(args).await?;
                let (d, band) = rules::elderly_eligibility(&f, self.today);
                let mut v = decision_json(&d);
                v["subsidy_band"] = serde_json::to_value(band).map_err(OpError::internal)?;
                Ok(v)
            }
            "elderly_assessment_info" => self.assessment_info(args).await,
            "zhinei_eligibility" => {
                let (_, f) = self.applicant(args).await?;
                let (d, amount) = rules::zhinei_eligibility(&f, self.today);
                let mut v = decision_json(&d);
                v["monthly_amount"] = amount.map(Value::from).unwrap_or(Value::Null);
                Ok(v)
            }
            "disability_care_eligibility" => {
                let (_, f) = self.applicant(args).await?;
                Ok(decision_json(&rules::disability_eligibility(
                    &f, self.today,
                )))
            }
            "unemployment_submit"
            | "rural_subsidy_submit"
            | "elderly_subsidy_submit"
            | "zhinei_submit"
            | "disability_care_submit" => self.submit(op, args, idempotency_key).await,
            "road_search" => self.road_search(args),
            "case_trajectory" => self.case_trajectory(args).await,
            "ltc_registration_query" => self.ltc_query(args).await,
            "matter_catalog" => self.matter_catalog(args).await,
            "rating_info" => self.rating_info(args).await,
            "current_ticket_matters" => self.ticket_matters(args).await,
            "pending_trajectory" => self.pending(args).await,
            other => Err(OpError::new(
                "UNKNOWN_OPERATION",
                format!("不支持的接口：{other}"),
            )),
        }
    }

    async fn find(&self, id_number: &str) -> Result<Option<ResidentRow>, OpError> {
        if !id_number_valid(id_number) {
            return Err(OpError::bad("证件号码格式或校验位不正确"));
        }
        self.db.resident(id_number).await.map_err(OpError::internal)
    }

    async fn applicant(&self, args: &Value) -> Result<(ResidentRow, rules::Facts), OpError> {
        let id = req(args, "id_number", "证件号码")?;
        let r = self.find(id).await?.ok_or_else(|| {
            OpError::new("APPLICANT_NOT_FOUND", "未查询到该申请人的户籍或参保信息")
        })?;
        if let Some(name) = s(args, "name")
            && name != r.name
        {
            return Err(OpError::new("NAME_MISMATCH", "申请人姓名与证件号码不一致"));
        }
        let f = self.db.facts(&r).await.map_err(OpError::internal)?;
        Ok((r, f))
    }

    async fn applicant_verify(&self, args: &Value) -> OpResult {
        let id_type = s(args, "id_type").unwrap_or("居民身份证");
        let name = req(args, "name", "姓名")?;
        let id = req(args, "id_number", "证件号码")?;
        if id_type != "居民身份证" {
            return Ok(
                json!({"found": false, "match_level": "未匹配", "message": format!("暂不支持以{id_type}核验")}),
            );
        }
        let r = self.find(id).await?;
        Ok(match r {
            None => {
                json!({"found": false, "match_level": "未匹配", "message": "未查询到该证件号码"})
            }
            Some(r) => {
                let exact = r.name == name;
                json!({
                    "found": true,
                    "match_level": if exact { "完全匹配" } else { "证件号码匹配、姓名不一致" },
                    "name": r.name,
                    "id_number": r.id_number,
                    "gender": r.gender,
                    "age": NaiveDate::parse_from_str(&r.birth_date, "%Y-%m-%d").map(|b| age_on(b, self.today)).unwrap_or(0),
                    "hukou_type": r.hukou,
                    "district": r.district,
                    "street": r.street,
                    "message": if exact { "核验通过" } else { "姓名与登记信息不一致，请核对" },
                })
            }
        })
    }

    async fn assessment_info(&self, args: &Value) -> OpResult {
        let (r, _) = self.applicant(args).await?;
        let row: Option<(String, i64, String, String, String, String)> =
            sqlx::query_as("SELECT application_no, level, assessed_on, valid_until, agency, status FROM assessments WHERE resident_id = ? ORDER BY assessed_on DESC LIMIT 1")
                .bind(r.id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(OpError::internal)?;
        Ok(match row {
            None => json!({"found": false, "message": "未查询到老年照护统一需求评估记录"}),
            Some((no, level, on, until, agency, status)) => json!({
                "found": true,
                "application_no": no,
                "level": level,
                "level_label": if level == 0 { "未达等级".to_string() } else { format!("照护{level}级") },
                "assessed_on": on,
                "valid_until": until,
                "valid": until.as_str() >= self.today.to_string().as_str(),
                "agency": agency,
                "status": status,
            }),
        })
    }

    async fn submit(&self, op: &str, args: &Value, key: Option<&str>) -> OpResult {
        let _guard = self.submit_lock.lock().await;
        let fp = value_fingerprint(args);
        if let Some(k) = key {
            let prior: Option<(String, String, String)> = sqlx::query_as(
                "SELECT operation, request_hash, response FROM idempotency WHERE key = ?",
            )
            .bind(k)
            .fetch_optional(&self.db.pool)
            .await
            .map_err(OpError::internal)?;
            if let Some((prior_op, hash, resp)) = prior {
                if prior_op != op || hash != fp {
                    return Err(OpError::new(
                        "IDEMPOTENCY_CONFLICT",
                        "同一幂等键已用于不同的申请内容",
                    ));
                }
                let mut v: Value = serde_json::from_str(&resp).map_err(OpError::internal)?;
                v["replayed"] = Value::Bool(true);
                return Ok(v);
            }
        }
        let (r, _f) = self.applicant(args).await?;
        let matter = match op {
            "unemployment_submit" => {
                if r.hukou.starts_with("本市") {
                    "SQ-RS-001"
                } else {
                    "SQ-RS-002"
                }
            }
            "rural_subsidy_submit" => "SQ-RS-019",
            "elderly_subsidy_submit" => "SQ-MZ-020",
            "zhinei_submit" => "SQ-MZ-031",
            _ => "SQ-CL-033",
        };
        let (record, notes) = self.submit_fields(op, matter, args, &r, &_f).await?;
        let mut tx = self.db.pool.begin().await.map_err(OpError::internal)?;
        if op == "unemployment_submit" {
            let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM unemployment_registrations WHERE resident_id = ? AND status = '有效'")
                .bind(r.id)
                .fetch_one(&mut *tx)
                .await
                .map_err(OpError::internal)?;
            if active > 0 {
                return Err(OpError::new(
                    "ALREADY_REGISTERED",
                    "该申请人已处于失业登记状态，无需重复登记",
                ));
            }
        }
        let next: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM cases")
            .fetch_one(&mut *tx)
            .await
            .map_err(OpError::internal)?;
        let now = chrono::Local::now().naive_local().time();
        let at = format!("{} {}", self.today, now.format("%H:%M:%S"));
        let case_no = format!("SL{}{:06}", self.today.format("%Y%m%d"), next);
        let street = s(args, "street").unwrap_or(&r.street).to_string();
        let source = s(args, "channel").unwrap_or("窗口").to_string();
        let mut stored = args.clone();
        if let Some(o) = stored.as_object_mut() {
            o.insert("form".into(), record);
        }
        let payload = serde_json::to_string(&stored).map_err(OpError::internal)?;
        sqlx::query("INSERT INTO cases (id, case_no, matter_code, resident_id, status, source, submitted_at, street, district, window_no, clerk, ticket_no, payload, idempotency_key) VALUES (?, ?, ?, ?, '已受理', ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(next)
            .bind(&case_no)
            .bind(matter)
            .bind(r.id)
            .bind(&source)
            .bind(&at)
            .bind(&street)
            .bind(&r.district)
            .bind(s(args, "window_no"))
            .bind(s(args, "clerk"))
            .bind(s(args, "ticket_no"))
            .bind(&payload)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(OpError::internal)?;
        let received = if notes.is_empty() {
            format!("通过{source}收件")
        } else {
            format!("通过{source}收件；{}", notes.join("；"))
        };
        for (seq, node, note) in [(1, "收件", received), (2, "受理", format!("{street}受理"))]
        {
            sqlx::query("INSERT INTO trajectory (case_no, seq, at, node, actor, note) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(&case_no)
                .bind(seq)
                .bind(&at)
                .bind(node)
                .bind(if seq == 1 { "系统" } else { "窗口" })
                .bind(note)
                .execute(&mut *tx)
                .await
                .map_err(OpError::internal)?;
        }
        if op == "unemployment_submit" {
            sqlx::query("INSERT INTO unemployment_registrations (resident_id, registered_on, unemployed_since, status, case_no) VALUES (?, ?, ?, '有效', ?)")
                .bind(r.id)
                .bind(self.today.to_string())
                .bind(s(args, "unemployment_date"))
                .bind(&case_no)
                .execute(&mut *tx)
                .await
                .map_err(OpError::internal)?;
        }
        let name = MATTERS
            .iter()
            .find(|m| m.0 == matter)
            .map(|m| m.1)
            .unwrap_or("");
        let promised = MATTERS
            .iter()
            .find(|m| m.0 == matter)
            .map(|m| m.8)
            .unwrap_or(0);
        let resp = json!({
            "case_no": case_no,
            "matter_code": matter,
            "matter_name": name,
            "status": "已受理",
            "accepted_at": at,
            "promised_days": promised,
            "replayed": false,
        });
        if let Some(k) = key {
            sqlx::query("INSERT INTO idempotency (key, operation, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?)")
                .bind(k)
                .bind(op)
                .bind(&fp)
                .bind(resp.to_string())
                .bind(&at)
                .execute(&mut *tx)
                .await
                .map_err(OpError::internal)?;
        }
        tx.commit().await.map_err(OpError::internal)?;
        Ok(resp)
    }

    /// Checks the matter's form fields and materials; returns the case's form record (fields
    /// without identity data, materials without extracted content) and lines for the 收件 note.
    async fn submit_fields(
        &self,
        op: &str,
        matter: &str,
        args: &Value,
        r: &ResidentRow,
        f: &rules::Facts,
    ) -> Result<(Value, Vec<String>), OpError> {
        let mut form = serde_json::Map::new();
        let mut notes = Vec::new();
        let mut put = |k: &str, v: Value| {
            form.insert(k.to_string(), v);
        };
        let materials = materials(args)?;
        match op {
            "unemployment_submit" => {
                let d = strict_date(req(args, "unemployment_date", "失业时间")?, "失业时间")?;
                if d > self.today {
                    return Err(OpError::bad(format!("失业时间{d}不得晚于申请当日")));
                }
                put("unemployment_date", json!(d.to_string()));
                for (k, label) in [
                    ("unemployment_reason", "失业原因"),
                    ("job_intention", "求职意向"),
                    ("health_status", "健康状况"),
                ] {
                    put(k, json!(req(args, k, label)?));
                }
                let claim = req(args, "claim_unemployment_benefit", "是否申领失业金")?;
                if claim != "是" && claim != "否" {
                    return Err(OpError::bad(format!(
                        "是否申领失业金（claim_unemployment_benefit）只能填“是”或“否”：{claim}"
                    )));
                }
                put("claim_unemployment_benefit", json!(claim));
                if let Some(code) = s(args, "matter_code")
                    && code != matter
                {
                    return Err(OpError::new(
                        "MATTER_MISMATCH",
                        format!("申请人户籍类型为{}，应办理{matter}，不是{code}", r.hukou),
                    ));
                }
                put("matter_code", json!(matter));
                notes.push(format!(
                    "失业时间{d}，失业原因{}",
                    s(args, "unemployment_reason").unwrap_or("")
                ));
            }
            "rural_subsidy_submit" => {
                let start = parse_date(req(args, "start_month", "补贴起始月份")?, "补贴起始月份")?;
                put("start_month", json!(start.format("%Y-%m").to_string()));
                let wage = req_number(args, "monthly_wage", "月工资收入")?;
                let cap = 2 * rules::AVG_MONTHLY_WAGE_LAST_YEAR;
                if wage < rules::MINIMUM_WAGE as f64 || wage > cap as f64 {
                    return Err(OpError::new(
                        "WAGE_OUT_OF_RANGE",
                        format!(
                            "月工资收入{wage}元不在{}元至{cap}元之间（《上海市郊区农村富余劳动力跨区非农就业补贴办法》第三条）",
                            rules::MINIMUM_WAGE
                        ),
                    ));
                }
                put("monthly_wage", json!(wage));
                let declared = flag(args, "land_expropriated_declared")?.unwrap_or(false);
                put("land_expropriated_declared", json!(declared));
                let (_, info) = rules::rural_eligibility(f, self.today, declared);
                if declared && !r.hukou.starts_with("本市") {
                    return Err(OpError::new(
                        "NOT_APPLICABLE",
                        format!("户籍类型为{}，不属于本市征地安置人员", r.hukou),
                    ));
                }
                for need in &info.required_materials {
                    let ok = materials
                        .iter()
                        .any(|m| m["kind"] == *need && m["status"] == "accepted");
                    if !ok {
                        return Err(OpError::new(
                            "MATERIAL_MISSING",
                            format!(
                                "缺少材料：{need}（非农业户籍、户籍信息中无征地标志的征地安置人员须提交，《上海市郊区农村富余劳动力跨区非农就业补贴办法》第八条）"
                            ),
                        ));
                    }
                }
                notes.push(format!("补贴起始月份{}", start.format("%Y-%m")));
                if info.hukou_conditional {
                    notes.push("申报为征地安置人员，已核对征地安置证明".into());
                }
            }
            "elderly_subsidy_submit" => {
                let app = s(args, "assessment_application_no");
                let level = args.get("assessment_level").filter(|v| !v.is_null());
                if level.is_some() && app.is_none() {
                    return Err(OpError::bad(
                        "填写评估结果时须同时填写评估申请号（assessment_application_no）",
                    ));
                }
                if let Some(no) = app {
                    let row: Option<i64> = sqlx::query_scalar(
                        "SELECT level FROM assessments WHERE application_no = ? AND resident_id = ?",
                    )
                    .bind(no)
                    .bind(r.id)
                    .fetch_optional(&self.db.pool)
                    .await
                    .map_err(OpError::internal)?;
                    let Some(recorded) = row else {
                        return Err(OpError::new(
                            "ASSESSMENT_MISMATCH",
                            format!("评估申请号{no}不是该申请人的老年照护需求统一评估记录"),
                        ));
                    };
                    if let Some(l) = level
                        && level_number(l) != Some(recorded)
                    {
                        return Err(OpError::new(
                            "ASSESSMENT_MISMATCH",
                            format!("评估结果{}与评估记录（照护{recorded}级）不一致", plain(l)),
                        ));
                    }
                    put("assessment_application_no", json!(no));
                    put("assessment_level", json!(recorded));
                    notes.push(format!("评估申请号{no}，照护{recorded}级"));
                }
            }
            "zhinei_submit" => {
                if let Some(p) = number(args, "pension_monthly", "月养老金")? {
                    if p < 0.0 {
                        return Err(OpError::bad("月养老金（pension_monthly）不能为负数"));
                    }
                    put("pension_monthly", json!(p));
                    notes.push(format!("月养老金{p}元"));
                }
                match args.get("pension_certificate") {
                    None | Some(Value::Null) => {}
                    Some(c @ Value::Object(_)) => {
                        let issuer = req(c, "issuer", "养老金证明出具单位")?;
                        let on = strict_date(
                            req(c, "issued_on", "养老金证明出具日期")?,
                            "养老金证明出具日期",
                        )?;
                        put(
                            "pension_certificate",
                            json!({"issuer": issuer, "issued_on": on.to_string()}),
                        );
                    }
                    Some(_) => {
                        return Err(OpError::bad(
                            "养老金证明（pension_certificate）应为含 issuer、issued_on 的对象",
                        ));
                    }
                }
            }
            _ => {
                let d = strict_date(req(args, "application_date", "申请日期")?, "申请日期")?;
                if d > self.today {
                    return Err(OpError::bad(format!("申请日期{d}不得晚于今天")));
                }
                put("application_date", json!(d.to_string()));
            }
        }
        if !materials.is_empty() {
            let list: Vec<String> = materials
                .iter()
                .map(|m| {
                    let st = if m["status"] == "accepted" {
                        "已收"
                    } else {
                        "未通过"
                    };
                    format!("{}（{st}）", plain(&m["kind"]))
                })
                .collect();
            notes.push(format!("材料：{}", list.join("、")));
        }
        form.insert("materials".into(), Value::Array(materials));
        Ok((Value::Object(form), notes))
    }

    fn road_search(&self, args: &Value) -> OpResult {
        let q = req(args, "query", "路名关键字")?;
        let district = s(args, "district");
        let limit = int(args, "limit").unwrap_or(10).clamp(1, 50) as usize;
        let q_norm: String = q.chars().filter(|c| !c.is_whitespace()).collect();
        let q_core = q_norm.trim_end_matches(['路', '街', '弄']);
        let qc: Vec<char> = q_core.chars().collect();
        let mut hits: Vec<(f64, usize)> = Vec::new();
        for (i, (name, d, _st, _k, chars)) in self.roads.iter().enumerate() {
            if district.is_some_and(|want| !d.starts_with(want.trim_end_matches('区'))) {
                continue;
            }
            let score = if *name == q_norm {
                1.0
            } else if name.starts_with(q_core) && !q_core.is_empty() {
                0.9
            } else if name.contains(q_core) && !q_core.is_empty() {
                0.8
            } else {
                // Characters in common, in order (LCS), against the longer of the two.
                let lcs = lcs_len(&qc, chars) as f64;
                let denom = qc.len().max(chars.len().min(qc.len() + 2)) as f64;
                if denom == 0.0 { 0.0 } else { 0.7 * lcs / denom }
            };
            if score >= 0.35 {
                hits.push((score, i));
            }
        }
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let total = hits.len();
        let roads: Vec<Value> = hits
            .into_iter()
            .take(limit)
            .map(|(score, i)| {
                let (n, d, st, k, _) = &self.roads[i];
                json!({"name": n, "district": d, "street": st, "kind": k, "score": (score * 100.0).round() / 100.0})
            })
            .collect();
        Ok(json!({"total": total, "roads": roads}))
    }

    async fn trajectory_of(&self, case_no: &str) -> Result<Vec<Value>, OpError> {
        let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, node, actor, note FROM trajectory WHERE case_no = ? ORDER BY seq",
        )
        .bind(case_no)
        .fetch_all(&self.db.pool)
        .await
        .map_err(OpError::internal)?;
        Ok(rows.into_iter().map(|(seq, at, node, actor, note)| json!({"seq": seq, "at": at, "node": node, "actor": actor, "note": note})).collect())
    }

    async fn case_trajectory(&self, args: &Value) -> OpResult {
        type CaseRow = (String, String, String, String, String, String, String);
        let rows: Vec<CaseRow> = if let Some(no) = s(args, "case_no") {
            sqlx::query_as("SELECT case_no, matter_code, status, source, submitted_at, street, payload FROM cases WHERE case_no = ?").bind(no).fetch_all(&self.db.pool).await
        } else if let Some(id) = s(args, "id_number") {
            let r = self.find(id).await?.ok_or_else(|| OpError::new("APPLICANT_NOT_FOUND", "未查询到该申请人"))?;
            sqlx::query_as("SELECT case_no, matter_code, status, source, submitted_at, street, payload FROM cases WHERE resident_id = ? ORDER BY submitted_at DESC LIMIT 20").bind(r.id).fetch_all(&self.db.pool).await
        } else {
            return Err(OpError::bad("请提供办件编号（case_no）或证件号码（id_number）"));
        }
        .map_err(OpError::internal)?;
        let mut cases = Vec::new();
        for (no, code, status, source, at, street, payload) in rows {
            // Only the form record written at submit: identity data stays out of this answer.
            let form = serde_json::from_str::<Value>(&payload)
                .ok()
                .and_then(|p| p.get("form").cloned())
                .unwrap_or_else(|| json!({}));
            let name = MATTERS
                .iter()
                .find(|m| m.0 == code)
                .map(|m| m.1)
                .unwrap_or("");
            let traj = self.trajectory_of(&no).await?;
            cases.push(json!({"case_no": no, "matter_code": code, "matter_name": name, "status": status, "source": source, "submitted_at": at, "street": street, "form": form, "trajectory": traj}));
        }
        Ok(json!({"found": !cases.is_empty(), "cases": cases}))
    }

    async fn ltc_query(&self, args: &Value) -> OpResult {
        let street = req(args, "street", "查询街道")?;
        type Row = (String, i64, i64, String, String, String, String);
        let rows: Vec<Row> = if let Some(no) = s(args, "application_no") {
            sqlx::query_as("SELECT application_no, resident_id, level, assessed_on, valid_until, status, street FROM assessments WHERE application_no = ?").bind(no).fetch_all(&self.db.pool).await
        } else if let Some(id) = s(args, "id_number") {
            match self.find(id).await? {
                None => return Ok(json!({"found": false, "records": []})),
                Some(r) => sqlx::query_as("SELECT application_no, resident_id, level, assessed_on, valid_until, status, street FROM assessments WHERE resident_id = ? ORDER BY assessed_on DESC")
                    .bind(r.id)
                    .fetch_all(&self.db.pool)
                    .await,
            }
        } else {
            return Err(OpError::bad("请提供证件号码（id_number）或申请号（application_no）"));
        }
        .map_err(OpError::internal)?;
        if !rows.is_empty() && rows.iter().all(|r| r.6 != street) {
            return Err(OpError::new(
                "OUT_OF_SCOPE",
                "该登记记录不属于本街道（镇），无权查询",
            ));
        }
        let mut records = Vec::new();
        for (no, rid, level, on, until, status, st) in rows.into_iter().filter(|r| r.6 == street) {
            let Some(r) = self
                .db
                .resident_by_id(rid)
                .await
                .map_err(OpError::internal)?
            else {
                continue;
            };
            records.push(json!({
                "application_no": no, "name": r.name, "id_number": r.id_number, "address": r.address,
                "level": level, "assessed_on": on, "valid_until": until, "status": status, "street": st,
            }));
        }
        Ok(json!({"found": !records.is_empty(), "records": records}))
    }

    async fn matter_catalog(&self, args: &Value) -> OpResult {
        let channel = s(args, "channel");
        let column = match channel {
            None => None,
            Some("社区") => Some("community"),
            Some("全市通办") => Some("citywide"),
            Some("长三角") | Some("长三角通办") => Some("delta"),
            Some("自助机") => Some("kiosk"),
            Some("远程受理") | Some("远程虚拟窗口") => Some("remote"),
            Some(other) => {
                return Err(OpError::bad(format!(
                    "不支持的清单口径：{other}（可选：社区、全市通办、长三角、自助机、远程受理）"
                )));
            }
        };
        let keyword = s(args, "keyword");
        let labels = [
            ("community", "社区"),
            ("citywide", "全市通办"),
            ("delta", "长三角"),
            ("kiosk", "自助机"),
            ("remote", "远程受理"),
        ];
        let mut out = Vec::new();
        for m in MATTERS.iter() {
            let flags = [m.3, m.4, m.5, m.6, m.7];
            if let Some(col) = column
                && let Some(i) = labels.iter().position(|l| l.0 == col)
                && flags[i] == 0
            {
                continue;
            }
            if keyword.is_some_and(|k| !m.1.contains(k) && !m.0.contains(k) && !m.2.contains(k)) {
                continue;
            }
            let channels: Vec<&str> = labels
                .iter()
                .zip(flags)
                .filter(|(_, f)| *f == 1)
                .map(|(l, _)| l.1)
                .collect();
            out.push(json!({"code": m.0, "name": m.1, "department": m.2, "channels": channels, "promised_days": m.8}));
        }
        Ok(json!({"channel": channel.unwrap_or("全部"), "total": out.len(), "matters": out}))
    }

    async fn rating_info(&self, args: &Value) -> OpResult {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            i64,
        );
        let sql = "SELECT r.rating_id, r.case_no, c.matter_code, r.channel, r.level, r.rated_at, r.comment, r.rectification, r.rater_resident_id FROM ratings r JOIN cases c ON c.case_no = r.case_no";
        let rows: Vec<Row> = if let Some(no) = s(args, "case_no") {
            sqlx::query_as(&format!("{sql} WHERE r.case_no = ?"))
                .bind(no)
                .fetch_all(&self.db.pool)
                .await
        } else if let Some(id) = s(args, "rating_id") {
            sqlx::query_as(&format!("{sql} WHERE r.rating_id = ?"))
                .bind(id)
                .fetch_all(&self.db.pool)
                .await
        } else {
            return Err(OpError::bad(
                "请提供办件编号（case_no）或评价编号（rating_id）",
            ));
        }
        .map_err(OpError::internal)?;
        let mut ratings = Vec::new();
        for (rid, case_no, code, channel, level, at, comment, rect, rater) in rows {
            let rater_name = self
                .db
                .resident_by_id(rater)
                .await
                .map_err(OpError::internal)?
                .map(|r| r.name)
                .unwrap_or_default();
            let matter_name = MATTERS
                .iter()
                .find(|m| m.0 == code)
                .map(|m| m.1)
                .unwrap_or("");
            ratings.push(json!({
                "rating_id": rid, "case_no": case_no, "matter_name": matter_name, "channel": channel, "level": level,
                "rated_at": at, "comment": comment, "rectification": rect, "rater_name": rater_name,
            }));
        }
        Ok(json!({"found": !ratings.is_empty(), "ratings": ratings}))
    }

    async fn ticket_matters(&self, args: &Value) -> OpResult {
        let ticket = req(args, "ticket_no", "当前号码")?;
        let day = match s(args, "date") {
            Some(d) => parse_date(d, "日期")?,
            None => self.today,
        };
        type Row = (
            String,
            String,
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT case_no, matter_code, resident_id, status, source, submitted_at, window_no, clerk, street, district FROM cases WHERE ticket_no = ? AND submitted_at LIKE ? ORDER BY submitted_at",
        )
        .bind(ticket)
        .bind(format!("{day}%"))
        .fetch_all(&self.db.pool)
        .await
        .map_err(OpError::internal)?;
        let mut matters = Vec::new();
        for (case_no, code, rid, status, source, at, window, clerk, street, district) in rows {
            let Some(r) = self
                .db
                .resident_by_id(rid)
                .await
                .map_err(OpError::internal)?
            else {
                continue;
            };
            let m = MATTERS.iter().find(|m| m.0 == code);
            let promised = m.map(|m| m.8).unwrap_or(0);
            let deadline = day + chrono::Duration::days(promised);
            let rating: Option<String> =
                sqlx::query_scalar("SELECT level FROM ratings WHERE case_no = ? LIMIT 1")
                    .bind(&case_no)
                    .fetch_optional(&self.db.pool)
                    .await
                    .map_err(OpError::internal)?;
            matters.push(json!({
                "case_no": case_no, "matter_code": code, "matter_name": m.map(|m| m.1).unwrap_or(""),
                "applicant_name": r.name, "id_number": r.id_number, "mobile": r.mobile,
                "status": status, "source": source, "submitted_at": at, "window_no": window, "clerk": clerk,
                "street": street, "district": district, "department": m.map(|m| m.2).unwrap_or(""),
                "promised_days": promised, "deadline": deadline.to_string(), "rating_level": rating,
            }));
        }
        Ok(
            json!({"ticket_no": ticket, "date": day.to_string(), "total": matters.len(), "matters": matters}),
        )
    }

    async fn pending(&self, args: &Value) -> OpResult {
        let source = req(args, "source", "来源（全市通办或一网通办）")?;
        if source != "全市通办" && source != "一网通办" {
            return Err(OpError::bad(format!(
                "来源只能是全市通办或一网通办：{source}"
            )));
        }
        let limit = int(args, "limit").unwrap_or(20).clamp(1, 100);
        let street = s(args, "street");
        type Row = (String, String, i64, String, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT case_no, matter_code, resident_id, status, submitted_at, street FROM cases WHERE source = ? AND status NOT IN ('已办结', '不予受理') AND (? IS NULL OR street = ?) ORDER BY submitted_at DESC LIMIT ?",
        )
        .bind(source)
        .bind(street)
        .bind(street)
        .bind(limit)
        .fetch_all(&self.db.pool)
        .await
        .map_err(OpError::internal)?;
        let mut items = Vec::new();
        for (no, code, rid, status, at, st) in rows {
            let name = self
                .db
                .resident_by_id(rid)
                .await
                .map_err(OpError::internal)?
                .map(|r| r.name)
                .unwrap_or_default();
            let traj = self.trajectory_of(&no).await?;
            let matter_name = MATTERS
                .iter()
                .find(|m| m.0 == code)
                .map(|m| m.1)
                .unwrap_or("");
            items.push(json!({"case_no": no, "matter_name": matter_name, "applicant_name": name, "status": status, "submitted_at": at, "street": st, "trajectory": traj}));
        }
        Ok(json!({"source": source, "total": items.len(), "items": items}))
    }
}

fn plain(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// An assessment level as a number: `3`, `"3"`, `"照护3级"`, `"照护三级"`; 0 for 未达等级.
fn level_number(v: &Value) -> Option<i64> {
    if let Some(n) = v.as_i64() {
        return Some(n);
    }
    let t = v.as_str()?.trim();
    if t.contains("未达") {
        return Some(0);
    }
    const CN: [char; 7] = ['零', '一', '二', '三', '四', '五', '六'];
    t.chars().find_map(|c| {
        c.to_digit(10)
            .map(i64::from)
            .or_else(|| CN.iter().position(|x| *x == c).map(|p| p as i64))
    })
}

/// `materials: [{kind, ref, status, extracted?}]`, checked; `extracted` is kept out of the
/// case record (it may hold identity data the line side has no column for).
fn materials(args: &Value) -> Result<Vec<Value>, OpError> {
    let items = match args.get("materials") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        // An untyped SOAP partner sends one element without the array wrapper.
        Some(o @ Value::Object(_)) => std::slice::from_ref(o),
        Some(_) => return Err(OpError::bad("材料（materials）应为数组")),
    };
    let mut out = Vec::new();
    for (i, m) in items.iter().enumerate() {
        let n = i + 1;
        if !m.is_object() {
            return Err(OpError::bad(format!("第{n}项材料应为对象")));
        }
        let kind = req(m, "kind", &format!("第{n}项材料的材料名称"))?;
        let r = req(m, "ref", &format!("第{n}项材料的附件编号"))?;
        let status = req(m, "status", &format!("第{n}项材料的核验状态"))?;
        if status != "accepted" && status != "rejected" {
            return Err(OpError::bad(format!(
                "第{n}项材料的核验状态只能是 accepted 或 rejected：{status}"
            )));
        }
        if m.get("extracted")
            .is_some_and(|e| !e.is_null() && !e.is_object())
        {
            return Err(OpError::bad(format!(
                "第{n}项材料的识别结果（extracted）应为对象"
            )));
        }
        out.push(json!({"kind": kind, "ref": r, "status": status}));
    }
    Ok(out)
}

fn lcs_len(a: &[char], b: &[char]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    for x in a {
        let mut cur = vec![0usize; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        prev = cur;
    }
    prev[b.len()]
}
