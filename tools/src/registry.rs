//! The tool registry: what each tool is called, what it takes and returns, which fields are PII,
//! whether it writes, and how long it may take.
//!
//! Tool ids are stable (they are also the operation names on the line systems); the Chinese
//! display name is what clerks and the agent see. A PII field is declared once, in the JSON Schema,
//! with `"x-pii": "<KIND>"` (so an LLM reading the schema knows to pass a token); the paths in
//! [`ToolSpec::pii_args`] and [`ToolSpec::pii_result`] (`name`, `applicant.id_number`,
//! `records[].name`) are derived from those marks ([`crate::paths`]), never written by hand.

use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use zhiban_pii::PiiKind;

/// Read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Queries and checks; safe to retry.
    Read,
    /// Creates or changes a case; carries an idempotency key.
    Write,
}

/// A PII field at `path` (`a`, `a.b`, `list[].field`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiiField {
    /// Path inside the arguments or result.
    pub path: String,
    /// Kind.
    pub kind: PiiKind,
}

/// One tool.
#[derive(Debug, Clone, Serialize)]
pub struct ToolSpec {
    /// Stable id (also the line-system operation), e.g. `unemployment_submit`.
    pub id: &'static str,
    /// Chinese display name, e.g. `失业登记提交`.
    pub name: &'static str,
    /// Chinese description for the agent and clerks.
    pub description: &'static str,
    /// Line system the tool calls (`rs`, `mz`, `cl`, `sl`).
    pub line_system: &'static str,
    /// Matter code when the tool belongs to one agent matter.
    pub matter: Option<&'static str>,
    /// Read or write.
    pub access: Access,
    /// Per-attempt timeout.
    #[serde(serialize_with = "ser_ms", rename = "timeout_ms")]
    pub timeout: Duration,
    /// JSON Schema of the arguments.
    pub args_schema: Value,
    /// JSON Schema of the result.
    pub result_schema: Value,
    /// PII fields in the arguments (arrive as tokens), derived from `args_schema`.
    pub pii_args: Vec<PiiField>,
    /// PII fields in the result (sealed before they leave), derived from `result_schema`.
    pub pii_result: Vec<PiiField>,
}

impl ToolSpec {
    /// A tool; its PII fields are read from the schemas' `x-pii` marks, reads get a 5 s and
    /// writes an 8 s per-attempt timeout.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: &'static str,
        name: &'static str,
        description: &'static str,
        line_system: &'static str,
        matter: Option<&'static str>,
        access: Access,
        args_schema: Value,
        result_schema: Value,
    ) -> Self {
        let timeout = if access == Access::Write {
            Duration::from_secs(8)
        } else {
            Duration::from_secs(5)
        };
        ToolSpec {
            id,
            name,
            description,
            line_system,
            matter,
            access,
            timeout,
            pii_args: crate::paths::pii_fields(&args_schema),
            pii_result: crate::paths::pii_fields(&result_schema),
            args_schema,
            result_schema,
        }
    }
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// Chinese name of a line system, for messages.
pub fn line_system_name(id: &str) -> &'static str {
    match id {
        "rs" => "人社业务系统",
        "mz" => "民政业务系统",
        "cl" => "残联业务系统",
        _ => "社区事务受理系统",
    }
}

/// All tools, by id.
#[derive(Debug, Clone)]
pub struct Registry {
    tools: BTreeMap<&'static str, ToolSpec>,
}

impl Registry {
    /// The built-in tools.
    pub fn builtin() -> Self {
        let mut tools = BTreeMap::new();
        for t in builtin_tools() {
            tools.insert(t.id, t);
        }
        Registry { tools }
    }
    /// A registry of other tools (a deployment's own line interfaces, tests).
    pub fn from_specs(specs: impl IntoIterator<Item = ToolSpec>) -> Self {
        Registry {
            tools: specs.into_iter().map(|t| (t.id, t)).collect(),
        }
    }
    /// A tool by id or Chinese name.
    pub fn get(&self, name: &str) -> Option<&ToolSpec> {
        self.tools
            .get(name)
            .or_else(|| self.tools.values().find(|t| t.name == name))
    }
    /// All tools, ordered by id.
    pub fn iter(&self) -> impl Iterator<Item = &ToolSpec> {
        self.tools.values()
    }
    /// Number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

// ---- schema helpers -------------------------------------------------------------------------

fn s(desc: &str) -> Value {
    json!({"type": "string", "description": desc})
}
fn pii(desc: &str, kind: PiiKind) -> Value {
    json!({"type": "string", "description": format!("{desc}（个人信息，以加密令牌传递）"), "x-pii": kind.as_str()})
}
fn date(desc: &str) -> Value {
    json!({"type": "string", "description": desc, "pattern": "^\\d{4}-\\d{2}(-\\d{2})?$"})
}
fn int(desc: &str) -> Value {
    json!({"type": "integer", "description": desc})
}
fn number(desc: &str) -> Value {
    json!({"type": "number", "description": desc})
}
fn yes_no(desc: &str) -> Value {
    json!({"type": "string", "description": desc, "enum": ["是", "否"]})
}
/// `materials: [{kind, ref, status, reason?, extracted?}]`, as the session collected them.
fn materials_schema() -> Value {
    let mut item = obj(
        &[
            ("kind", s("材料名称，如“征地安置证明”“劳动合同”")),
            ("ref", s("附件编号（会话中的附件引用，如A1）")),
            (
                "status",
                json!({"type": "string", "enum": ["accepted", "rejected"], "description": "核验结果"}),
            ),
            ("reason", s("未通过核验的原因")),
            (
                "extracted",
                json!({"type": "object", "description": "从材料中识别出的内容（个人信息以令牌表示）", "additionalProperties": true}),
            ),
        ],
        &["kind", "ref", "status"],
    );
    item["description"] = json!("一份已核验的材料");
    json!({"type": "array", "items": item, "description": "本次申请收取的材料"})
}
fn boolean(desc: &str) -> Value {
    json!({"type": "boolean", "description": desc})
}
fn arr(items: Value) -> Value {
    json!({"type": "array", "items": items})
}
fn nullable(mut v: Value) -> Value {
    if let Some(t) = v.get("type").cloned() {
        v["type"] = json!([t, "null"]);
    }
    v
}
fn obj(props: &[(&str, Value)], required: &[&str]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_string(), v.clone());
    }
    json!({"type": "object", "properties": p, "required": required, "additionalProperties": false})
}
fn applicant_args(extra: &[(&str, Value)], required: &[&str]) -> Value {
    let mut props = vec![
        ("name", pii("申请人姓名", PiiKind::Name)),
        ("id_number", pii("申请人居民身份证号码", PiiKind::IdCard)),
    ];
    props.extend(extra.iter().cloned());
    obj(&props, required)
}

fn check_schema() -> Value {
    obj(
        &[
            ("rule_id", s("规则编号")),
            ("passed", boolean("是否满足")),
            ("message", s("核查情况")),
            ("basis", s("政策依据（文件名称及条款）")),
        ],
        &["rule_id", "passed", "message", "basis"],
    )
}

fn decision_schema(extra: &[(&str, Value)]) -> Value {
    let mut props = vec![
        ("matter_code", s("事项编码")),
        ("matter_name", s("事项名称")),
        ("eligible", boolean("是否符合条件")),
        ("summary", s("结论说明")),
        ("checks", arr(check_schema())),
    ];
    props.extend(extra.iter().cloned());
    obj(&props, &["matter_code", "eligible", "checks"])
}

fn submit_args(extra: &[(&str, Value)], extra_required: &[&str]) -> Value {
    let mut props = vec![
        ("name", pii("申请人姓名", PiiKind::Name)),
        ("id_number", pii("申请人居民身份证号码", PiiKind::IdCard)),
        (
            "mobile",
            pii("联系电话；不填则以系统登记的联系电话为准", PiiKind::Mobile),
        ),
        ("street", s("受理街道（镇）")),
        (
            "channel",
            json!({"type": "string", "description": "受理渠道", "enum": ["窗口", "全市通办", "一网通办", "长三角", "自助机", "远程受理"]}),
        ),
        ("window_no", s("受理窗口")),
        ("ticket_no", s("叫号号码")),
        ("clerk", s("受理人员工号")),
        ("remark", s("备注")),
        (
            "idempotency_key",
            s("幂等键：同一申请重试时保持不变；不填则按申请内容自动生成"),
        ),
        ("materials", materials_schema()),
    ];
    props.extend(extra.iter().cloned());
    // A resident applying through MAP has a mobile on file; the flows do not ask for it again.
    let mut required = vec!["name", "id_number"];
    required.extend_from_slice(extra_required);
    obj(&props, &required)
}

fn submit_result() -> Value {
    obj(
        &[
            ("case_no", s("办件编号")),
            ("matter_code", s("事项编码")),
            ("matter_name", s("事项名称")),
            ("status", s("办件状态")),
            ("accepted_at", s("受理时间")),
            ("promised_days", int("承诺时限（工作日）")),
            ("replayed", boolean("是否为重复提交（按幂等键返回原办件）")),
        ],
        &["case_no", "status"],
    )
}

fn rural_eligibility_extra() -> Vec<(&'static str, Value)> {
    vec![
        (
            "land_expropriated_in_system",
            boolean("户籍信息中是否有征地标志"),
        ),
        (
            "land_expropriated_declared",
            boolean("申请人是否申报为征地安置人员"),
        ),
        (
            "hukou_conditional",
            boolean("户籍条件是否仅凭申报通过（须提交征地安置证明）"),
        ),
        (
            "required_materials",
            arr(s("因申报情况须提交的材料，如“征地安置证明”")),
        ),
        ("hukou_district", s("户籍所在区")),
        ("employer_district", nullable(s("当前用人单位所在区"))),
        ("industry", nullable(s("当前就业行业类别：农业/非农"))),
        (
            "contract_start_month",
            nullable(s("当前劳动合同起始月份（YYYY-MM）")),
        ),
        ("contract_end", nullable(s("当前劳动合同终止日期"))),
        ("contract_months", nullable(int("劳动合同期限（月）"))),
        (
            "can_apply_from",
            nullable(s("劳动合同履行满1个月、可以申请的最早日期")),
        ),
        (
            "earliest_start_month",
            nullable(s(
                "今天申请时按第六条确定的补贴起始月份（YYYY-MM）；今天尚不能申请时为空",
            )),
        ),
        ("start_month_rule", s("起始月份规则说明")),
    ]
}

fn trajectory_schema() -> Value {
    arr(obj(
        &[
            ("seq", int("序号")),
            ("at", s("时间")),
            ("node", s("环节")),
            ("actor", s("处理方")),
            ("note", s("处理意见")),
        ],
        &["seq", "node"],
    ))
}

fn builtin_tools() -> Vec<ToolSpec> {
    use Access::{Read, Write};
    let elig = |extra: &[(&str, Value)]| decision_schema(extra);
    vec![
        ToolSpec::new(
            "applicant_verify",
            "申请人核实",
            "按姓名、证件类型和证件号码核实申请人身份，返回是否查到及匹配程度（完全匹配 / 证件号码匹配、姓名不一致 / 未匹配）。",
            "sl",
            None,
            Read,
            applicant_args(&[("id_type", json!({"type": "string", "description": "证件类型", "enum": ["居民身份证", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证"], "default": "居民身份证"}))], &["name", "id_number"]),
            obj(
                &[
                    ("found", boolean("是否查到")),
                    ("match_level", json!({"type": "string", "enum": ["完全匹配", "证件号码匹配、姓名不一致", "未匹配"]})),
                    ("name", pii("登记姓名", PiiKind::Name)),
                    ("id_number", pii("证件号码", PiiKind::IdCard)),
                    ("gender", s("性别")),
                    ("age", int("年龄")),
                    ("hukou_type", s("户籍类型")),
                    ("district", s("居住区")),
                    ("street", s("居住街道（镇）")),
                    ("message", s("说明")),
                ],
                &["found", "match_level"],
            ),
        ),
        ToolSpec::new(
            "unemployment_eligibility",
            "失业登记准入判断",
            "判断申请人能否办理失业登记：本市户籍对应 SQ-RS-001，非本市户籍对应 SQ-RS-002。逐条核查：年满16周岁未达法定退休年龄且未按月领取养老金（第四条）；当月无在职缴费记录（第七条第（一）项）；未处于有效失业登记状态（第七条第（五）项）；非本市户籍须曾在本市缴纳失业保险或持有有效《上海市居住证》（第八条），并返回政策依据。",
            "rs",
            Some("SQ-RS-001"),
            Read,
            applicant_args(&[], &["id_number"]),
            elig(&[]),
        ),
        ToolSpec::new(
            "unemployment_date_check",
            "失业时间校验",
            "校验申请人填写的失业时间（《上海市失业登记管理办法》第六条）：不得晚于申请当日；仍在缴费的不能登记；有缴费记录的，失业时间不得早于最后缴费月份的次月1日。",
            "rs",
            Some("SQ-RS-001"),
            Read,
            applicant_args(&[("unemployment_date", date("失业时间（YYYY-MM-DD）"))], &["id_number", "unemployment_date"]),
            elig(&[]),
        ),
        ToolSpec::new(
            "unemployment_submit",
            "失业登记提交",
            "向人社业务系统提交失业登记申请，生成办件编号；须填写失业时间（不得晚于申请当日）、失业原因、求职意向、健康状况、是否申领失业金（是/否），事项编码按户籍自动确定（本市户籍SQ-RS-001，非本市户籍SQ-RS-002，填写时须一致），可附已核验材料；已处于有效失业登记的不能重复登记；同一申请重复提交只会生成一个办件。",
            "rs",
            Some("SQ-RS-001"),
            Write,
            submit_args(
                &[
                    ("unemployment_date", date("失业时间（YYYY-MM-DD）")),
                    ("unemployment_reason", s("失业原因，如“劳动合同期满终止”“解除劳动合同”")),
                    ("job_intention", s("求职意向")),
                    ("health_status", s("健康状况")),
                    ("claim_unemployment_benefit", yes_no("是否申领失业保险金")),
                    (
                        "matter_code",
                        json!({"type": "string", "enum": ["SQ-RS-001", "SQ-RS-002"], "description": "事项编码：本市户籍SQ-RS-001，非本市户籍SQ-RS-002"}),
                    ),
                    ("address", pii("常住地址", PiiKind::Address)),
                ],
                &["unemployment_date", "unemployment_reason", "job_intention", "health_status", "claim_unemployment_benefit"],
            ),
            submit_result(),
        ),
        ToolSpec::new(
            "rural_subsidy_eligibility",
            "跨区非农就业补贴准入判断",
            "判断申请人能否申领郊区农村富余劳动力跨区非农就业补贴（SQ-RS-019）：本市郊区农业户籍或征地安置人员（第二条第（一）项；非农业户籍、户籍信息中无征地标志的，申报 land_expropriated_declared 后本项有条件通过，结果的 required_materials 列出须提交的征地安置证明，第八条）；年满16周岁未达法定退休年龄；在户籍所在区以外的本市其他区从事非农工作；劳动合同1年以上；月工资不低于最低工资标准且不高于上年度职工月平均工资2倍（第三条）；累计享受不超过36个月（第五条）。同时返回当前劳动合同起始月份、终止日期、用人单位所在区，以及按第六条今天申请时的补贴起始月份 earliest_start_month。",
            "rs",
            Some("SQ-RS-019"),
            Read,
            applicant_args(&[("land_expropriated_declared", boolean("申请人申报为本市征地安置人员（户籍信息中无征地标志时填写）"))], &["id_number"]),
            elig(&rural_eligibility_extra()),
        ),
        ToolSpec::new(
            "rural_subsidy_start_check",
            "补贴起始时间校验",
            "校验跨区非农就业补贴的起始月份（《上海市郊区农村富余劳动力跨区非农就业补贴办法》第六条、第十二条）：劳动合同履行满1个月后方可申请；补贴自申请次月起计算，自劳动合同履行之日起超过6个月才申请的，自申请当月起计算，此前月份不予追溯；起始月份须在劳动合同期限内，且不得与已享受的本补贴期重叠。",
            "rs",
            Some("SQ-RS-019"),
            Read,
            applicant_args(&[("start_month", date("补贴起始月份（YYYY-MM）"))], &["id_number", "start_month"]),
            elig(&[]),
        ),
        ToolSpec::new(
            "rural_subsidy_submit",
            "跨区非农就业补贴提交",
            "提交跨区非农就业补贴申请，生成办件编号；须填写补贴开始月份和月工资收入（应在最低工资标准至上年度职工月平均工资2倍之间，第三条）；申报为征地安置人员（land_expropriated_declared）而户籍信息中无征地标志的，materials 中须有已核验的“征地安置证明”（第八条）；同一申请重复提交只会生成一个办件。",
            "rs",
            Some("SQ-RS-019"),
            Write,
            submit_args(
                &[
                    ("start_month", date("补贴开始月份（YYYY-MM）")),
                    ("monthly_wage", number("月工资收入（元）")),
                    ("land_expropriated_declared", boolean("征地人员：申请人申报为本市征地安置人员")),
                    ("bank_card", pii("补贴发放银行卡号", PiiKind::BankCard)),
                ],
                &["start_month", "monthly_wage"],
            ),
            submit_result(),
        ),
        ToolSpec::new(
            "elderly_subsidy_eligibility",
            "养老服务补贴准入判断",
            "判断申请人能否申请养老服务补贴（SQ-MZ-020）：本市户籍且年满60周岁（第四条第（一）项）；老年照护需求统一评估为照护二级至六级且在有效期内（第四条第（二）项）；属城乡低保家庭、低收入困难家庭，或年满80周岁且月养老金低于上年度本市企业退休人员月平均养老金，或年满90周岁独居（第四条第（三）项）；符合条件的给出补贴档次及居家社区照护月补贴金额。",
            "mz",
            Some("SQ-MZ-020"),
            Read,
            applicant_args(&[], &["id_number"]),
            elig(&[(
                "subsidy_band",
                json!({"type": ["object", "null"], "description": "补贴档次及居家社区照护月补贴金额（元）", "properties": {"band": {"type": "string"}, "percent": {"type": "integer"}, "monthly_amount": {"type": "integer"}}}),
            )]),
        ),
        ToolSpec::new(
            "elderly_assessment_info",
            "老年照护需求统一评估信息",
            "查询申请人最近一次老年照护统一需求评估：评估等级、评估日期、有效期和评估机构。",
            "mz",
            Some("SQ-MZ-020"),
            Read,
            applicant_args(&[], &["id_number"]),
            obj(
                &[
                    ("found", boolean("是否查到")),
                    ("application_no", s("申请号")),
                    ("level", int("评估等级（0为未达等级）")),
                    ("level_label", s("等级说明")),
                    ("assessed_on", s("评估日期")),
                    ("valid_until", s("有效期至")),
                    ("valid", boolean("是否在有效期内")),
                    ("agency", s("评估机构")),
                    ("status", s("登记状态")),
                    ("message", s("说明")),
                ],
                &["found"],
            ),
        ),
        ToolSpec::new(
            "elderly_subsidy_submit",
            "养老服务补贴提交",
            "提交养老服务补贴申请，生成办件编号；可填写评估结果和评估申请号（申请号须为申请人本人的评估记录，评估结果须与记录一致，填评估结果时须同时填申请号）；同一申请重复提交只会生成一个办件。",
            "mz",
            Some("SQ-MZ-020"),
            Write,
            submit_args(
                &[
                    (
                        "assessment_level",
                        json!({"type": ["integer", "string"], "description": "评估结果：照护等级，按“老年照护需求统一评估信息”返回的 level（或“照护三级”这样的说明）"}),
                    ),
                    ("assessment_application_no", s("老年照护需求统一评估申请号")),
                    ("address", pii("居住地址", PiiKind::Address)),
                ],
                &[],
            ),
            submit_result(),
        ),
        ToolSpec::new(
            "zhinei_eligibility",
            "支内回沪帮困补助准入判断",
            "判断申请人能否申请本市支援外地建设退休（职）回沪定居人员帮困补助（SQ-MZ-031）：支内经历、回沪定居满6个月及户籍、月养老收入低于保障线、未享受低保，并给出每月补助金额。",
            "mz",
            Some("SQ-MZ-031"),
            Read,
            applicant_args(&[], &["id_number"]),
            elig(&[("monthly_amount", nullable(int("每月帮困补助金额（元）")))]),
        ),
        ToolSpec::new(
            "zhinei_submit",
            "支内回沪帮困补助提交",
            "提交支内回沪帮困补助申请，生成办件编号；可填写按已核验养老金证明认定的月养老金和养老金证明（出具单位、出具日期）；同一申请重复提交只会生成一个办件。",
            "mz",
            Some("SQ-MZ-031"),
            Write,
            submit_args(
                &[
                    ("pension_monthly", number("月养老金（元），按已核验的养老金证明")),
                    (
                        "pension_certificate",
                        obj(
                            &[("issuer", s("出具单位")), ("issued_on", date("出具日期（YYYY-MM-DD）"))],
                            &["issuer", "issued_on"],
                        ),
                    ),
                ],
                &[],
            ),
            submit_result(),
        ),
        ToolSpec::new(
            "disability_care_eligibility",
            "残疾人居家养护准入判断",
            "判断申请人能否申请残疾人居家养护服务（SQ-CL-033）：残疾人证、一二级重残或三级智力精神残疾、16至59周岁、无业、未入住机构。",
            "cl",
            Some("SQ-CL-033"),
            Read,
            applicant_args(&[], &["id_number"]),
            elig(&[]),
        ),
        ToolSpec::new(
            "disability_care_submit",
            "残疾人居家养护提交",
            "提交残疾人居家养护服务申请，生成办件编号；须填写申请日期（不得晚于今天）；同一申请重复提交只会生成一个办件。",
            "cl",
            Some("SQ-CL-033"),
            Write,
            submit_args(
                &[
                    ("application_date", date("申请日期（YYYY-MM-DD）")),
                    ("guardian_name", pii("监护人姓名", PiiKind::Name)),
                    ("guardian_mobile", pii("监护人电话", PiiKind::Mobile)),
                ],
                &["application_date"],
            ),
            submit_result(),
        ),
        ToolSpec::new(
            "road_search",
            "路名库查询",
            "按关键字模糊查询本市路名（路、街、弄、公路），可限定区，返回路名、所属区和街道（镇）。",
            "sl",
            None,
            Read,
            obj(&[("query", s("路名或其中几个字")), ("district", s("限定的区，如“浦东新区”")), ("limit", int("最多返回条数，默认10"))], &["query"]),
            obj(
                &[("total", int("匹配总数")), ("roads", arr(obj(&[("name", s("路名")), ("district", s("区")), ("street", s("街道（镇）")), ("kind", s("类型")), ("score", json!({"type": "number"}))], &["name", "district"])))],
                &["total", "roads"],
            ),
        ),
        ToolSpec::new(
            "case_trajectory",
            "综合查询（业务轨迹）",
            "按办件编号或申请人证件号码查询办件及其业务轨迹（收件、受理、审核、办结等环节）。",
            "sl",
            None,
            Read,
            obj(&[("case_no", s("办件编号")), ("id_number", pii("申请人居民身份证号码", PiiKind::IdCard))], &[]),
            obj(
                &[(
                    "cases",
                    arr(obj(
                        &[
                            ("case_no", s("办件编号")),
                            ("matter_code", s("事项编码")),
                            ("matter_name", s("事项名称")),
                            ("status", s("状态")),
                            ("source", s("来源渠道")),
                            ("submitted_at", s("提交时间")),
                            ("street", s("受理街道")),
                            (
                                "form",
                                json!({"type": "object", "description": "提交时填写的事项信息及所收材料（不含个人身份信息）", "additionalProperties": true}),
                            ),
                            ("trajectory", trajectory_schema()),
                        ],
                        &["case_no", "status"],
                    )),
                ), ("found", boolean("是否查到"))],
                &["found", "cases"],
            ),
        ),
        ToolSpec::new(
            "ltc_registration_query",
            "长护险登记查询",
            "按证件号码或申请号查询长期护理保险（老年照护统一需求评估）登记情况，只能查询本街道（镇）的记录。",
            "sl",
            None,
            Read,
            obj(&[("id_number", pii("居民身份证号码", PiiKind::IdCard)), ("application_no", s("申请号")), ("street", s("查询人所在街道（镇），用于权限范围"))], &["street"]),
            obj(
                &[
                    ("found", boolean("是否查到")),
                    (
                        "records",
                        arr(obj(
                            &[
                                ("application_no", s("申请号")),
                                ("name", pii("姓名", PiiKind::Name)),
                                ("id_number", pii("证件号码", PiiKind::IdCard)),
                                ("address", pii("住址", PiiKind::Address)),
                                ("level", int("评估等级")),
                                ("assessed_on", s("评估日期")),
                                ("valid_until", s("有效期至")),
                                ("status", s("登记状态")),
                                ("street", s("所属街道（镇）")),
                            ],
                            &["application_no", "status"],
                        )),
                    ),
                ],
                &["found", "records"],
            ),
        ),
        ToolSpec::new(
            "matter_catalog",
            "全口径事项清单",
            "查询社区事务受理事项清单，可按口径筛选：社区、全市通办、长三角、自助机、远程受理，也可按关键字查找。",
            "sl",
            None,
            Read,
            obj(&[("channel", json!({"type": "string", "enum": ["社区", "全市通办", "长三角", "自助机", "远程受理"], "description": "清单口径"})), ("keyword", s("事项名称、编码或部门关键字"))], &[]),
            obj(
                &[
                    ("channel", s("口径")),
                    ("total", int("事项数")),
                    ("matters", arr(obj(&[("code", s("事项编码")), ("name", s("事项名称")), ("department", s("实施部门")), ("channels", arr(s("可办渠道"))), ("promised_days", int("承诺时限（工作日）"))], &["code", "name"]))),
                ],
                &["total", "matters"],
            ),
        ),
        ToolSpec::new(
            "rating_info",
            "好差评信息",
            "按办件编号或评价编号查询好差评信息：评价编号、办件编号、事项名称、评价渠道、评价等级、评价时间、评价内容、整改情况、评价人。",
            "sl",
            None,
            Read,
            obj(&[("case_no", s("办件编号")), ("rating_id", s("评价编号"))], &[]),
            obj(
                &[
                    ("found", boolean("是否查到")),
                    (
                        "ratings",
                        arr(obj(
                            &[
                                ("rating_id", s("评价编号")),
                                ("case_no", s("办件编号")),
                                ("matter_name", s("事项名称")),
                                ("channel", s("评价渠道")),
                                ("level", s("评价等级")),
                                ("rated_at", s("评价时间")),
                                ("comment", s("评价内容")),
                                ("rectification", s("整改情况")),
                                ("rater_name", pii("评价人", PiiKind::Name)),
                            ],
                            &["rating_id", "case_no", "level"],
                        )),
                    ),
                ],
                &["found", "ratings"],
            ),
        ),
        ToolSpec::new(
            "current_ticket_matters",
            "当前号码办理事项",
            "按叫号号码查询当天该号码办理的全部事项，每个事项返回办件编号、事项、申请人、状态、窗口、承诺时限、评价等17项信息。",
            "sl",
            None,
            Read,
            obj(&[("ticket_no", s("叫号号码，如A012")), ("date", date("日期，默认当天"))], &["ticket_no"]),
            obj(
                &[
                    ("ticket_no", s("叫号号码")),
                    ("date", s("日期")),
                    ("total", int("事项数")),
                    (
                        "matters",
                        arr(obj(
                            &[
                                ("case_no", s("办件编号")),
                                ("matter_code", s("事项编码")),
                                ("matter_name", s("事项名称")),
                                ("applicant_name", pii("申请人姓名", PiiKind::Name)),
                                ("id_number", pii("申请人证件号码", PiiKind::IdCard)),
                                ("mobile", pii("联系电话", PiiKind::Mobile)),
                                ("status", s("办件状态")),
                                ("source", s("来源渠道")),
                                ("submitted_at", s("提交时间")),
                                ("window_no", nullable(s("窗口"))),
                                ("clerk", nullable(s("受理人员"))),
                                ("street", s("街道（镇）")),
                                ("district", s("区")),
                                ("department", s("实施部门")),
                                ("promised_days", int("承诺时限（工作日）")),
                                ("deadline", s("办理期限")),
                                ("rating_level", nullable(s("评价等级"))),
                            ],
                            &["case_no", "status"],
                        )),
                    ),
                ],
                &["ticket_no", "matters"],
            ),
        ),
        ToolSpec::new(
            "pending_trajectory",
            "全市通办/一网通办待办轨迹",
            "查询全市通办或一网通办渠道尚未办结的办件及其轨迹，可限定街道（镇）。",
            "sl",
            None,
            Read,
            obj(&[("source", json!({"type": "string", "enum": ["全市通办", "一网通办"], "description": "来源"})), ("street", s("街道（镇）")), ("limit", int("最多返回条数，默认20"))], &["source"]),
            obj(
                &[
                    ("source", s("来源")),
                    ("total", int("条数")),
                    (
                        "items",
                        arr(obj(
                            &[
                                ("case_no", s("办件编号")),
                                ("matter_name", s("事项名称")),
                                ("applicant_name", pii("申请人姓名", PiiKind::Name)),
                                ("status", s("状态")),
                                ("submitted_at", s("提交时间")),
                                ("street", s("街道（镇）")),
                                ("trajectory", trajectory_schema()),
                            ],
                            &["case_no", "status"],
                        )),
                    ),
                ],
                &["items"],
            ),
        ),
    ]
    .into_iter()
    .map(|mut t| {
        // Results may carry fields a newer line system adds; do not reject them.
        if let Some(o) = t.result_schema.as_object_mut() {
            o.insert("additionalProperties".into(), Value::Bool(true));
        }
        t
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pii_fields_come_from_the_schema_marks_alone() {
        let reg = Registry::builtin();
        assert_eq!(reg.len(), 21);
        // Sorted: with serde_json's `preserve_order` (on in some builds) maps keep insertion order.
        let paths = |v: &[PiiField]| -> Vec<String> {
            let mut p: Vec<String> = v.iter().map(|f| format!("{}:{}", f.path, f.kind)).collect();
            p.sort();
            p
        };
        let t = reg.get("disability_care_submit").unwrap();
        assert_eq!(
            paths(&t.pii_args),
            [
                "guardian_mobile:MOBILE",
                "guardian_name:NAME",
                "id_number:ID_CARD",
                "mobile:MOBILE",
                "name:NAME"
            ]
        );
        let t = reg.get("ltc_registration_query").unwrap();
        assert_eq!(paths(&t.pii_args), ["id_number:ID_CARD"]);
        assert_eq!(
            paths(&t.pii_result),
            [
                "records[].address:ADDRESS",
                "records[].id_number:ID_CARD",
                "records[].name:NAME"
            ]
        );
        for t in reg.iter() {
            // Every marked property is a string field a token can fill.
            for p in t.pii_args.iter().chain(&t.pii_result) {
                assert!(!p.path.is_empty(), "{}", t.id);
            }
            if t.access == Access::Write {
                assert!(t.pii_args.iter().any(|f| f.path == "id_number"), "{}", t.id);
            }
        }
        assert_eq!(
            reg.get("失业登记提交").map(|t| t.id),
            Some("unemployment_submit")
        );
    }

    #[test]
    fn the_nine_and_seventeen_field_results_are_declared() {
        let reg = Registry::builtin();
        let r = reg.get("rating_info").unwrap();
        assert_eq!(
            r.result_schema["properties"]["ratings"]["items"]["properties"]
                .as_object()
                .unwrap()
                .len(),
            9
        );
        let t = reg.get("current_ticket_matters").unwrap();
        assert_eq!(
            t.result_schema["properties"]["matters"]["items"]["properties"]
                .as_object()
                .unwrap()
                .len(),
            17
        );
    }
}
