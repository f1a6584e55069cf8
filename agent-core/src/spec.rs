//! Flow specs: one TOML per matter under `data/flows/`, embedded in the binary.
//!
//! A spec lists the matter's steps in the seed's order — checks (a tool whose verdict gates the
//! flow), lookups, form inputs, materials, the confirmation and the submit — with their prompts as
//! tera templates, the arguments each tool call takes (paths into the session: `applicant.name`,
//! `form.失业时间`, `results.准入判断.matter_code`, `materials`, or a literal `=远程受理`) and the
//! interaction budget. The engine decides the order of tool calls from the spec alone; nothing a
//! resident or a model says changes it.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The specs shipped with zhiban, `(agent id, TOML)`.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "unemployment_registration",
        include_str!("../../data/flows/unemployment_registration.toml"),
    ),
    (
        "rural_cross_district_subsidy",
        include_str!("../../data/flows/rural_cross_district_subsidy.toml"),
    ),
    (
        "elderly_care_subsidy",
        include_str!("../../data/flows/elderly_care_subsidy.toml"),
    ),
    (
        "zhinei_hardship_subsidy",
        include_str!("../../data/flows/zhinei_hardship_subsidy.toml"),
    ),
    (
        "disability_home_care",
        include_str!("../../data/flows/disability_home_care.toml"),
    ),
];

/// Why a spec was refused.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// TOML did not parse.
    #[error("流程配置 {agent} 无法解析：{message}")]
    Parse {
        /// Agent id.
        agent: String,
        /// Parser message.
        message: String,
    },
    /// The spec is inconsistent.
    #[error("流程配置 {agent} 有误：{message}")]
    Invalid {
        /// Agent id.
        agent: String,
        /// What is wrong.
        message: String,
    },
}

/// One matter's flow.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Agent id (`unemployment_registration`).
    pub id: String,
    /// Chinese name.
    pub name: String,
    /// Matter code.
    pub matter: String,
    /// The seed's bound on interactions.
    pub max_interactions: u32,
    /// The seed's names of the tools the flow calls.
    pub tools: Vec<String>,
    /// What to bring to a centre (handoff summary).
    #[serde(default)]
    pub bring: Vec<String>,
    /// Opening line (tera).
    pub intro: String,
    /// Steps, in order.
    pub steps: Vec<Step>,
}

/// Kind of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// A tool call whose verdict gates the flow.
    Check,
    /// A tool call that fetches facts (no verdict).
    Lookup,
    /// A form input.
    Input,
    /// An uploaded material.
    Material,
    /// The confirmation of the summary.
    Confirm,
    /// 提交.
    Submit,
}

/// Type of a form input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    /// A day (`YYYY-MM-DD`).
    Date,
    /// A month (`YYYY-MM`).
    Month,
    /// An amount in yuan.
    Amount,
    /// "是"/"否".
    YesNo,
    /// true/false.
    Checkbox,
    /// One of a named option set.
    Choice,
    /// Free text, kept verbatim.
    Text,
    /// A value the system already holds, confirmed by the resident.
    ConfirmValue,
}

/// What a failed check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFail {
    /// The flow ends `ineligible`, explaining why with the policy article.
    Ineligible,
    /// The input named by `reask` is asked again with the check's reason.
    Reask,
}

/// One step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Id: the seed's name of the call or field (`准入判断`, `失业时间`).
    pub id: String,
    /// Kind.
    pub kind: StepKind,
    /// Tool (registry id) for check, lookup and submit.
    pub tool: Option<String>,
    /// Tool arguments: name → path (or `=literal`).
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    /// Check: what a failure does.
    pub on_fail: Option<OnFail>,
    /// Check with `on_fail = "reask"`: the input to ask again.
    pub reask: Option<String>,
    /// Check: an on-demand input the resident may declare when the check fails and
    /// `declare_when` holds (the 征地人员 checkbox); the check then re-runs.
    pub declare_field: Option<String>,
    /// Condition (tera expression rendering to true/false) for `declare_field`.
    pub declare_when: Option<String>,
    /// Lookup: the result field that says the lookup found something.
    pub passed: Option<String>,
    /// Input type.
    #[serde(rename = "type")]
    pub input_type: Option<InputType>,
    /// Named option set for choices.
    pub options: Option<String>,
    /// Dates: refuse days after today.
    #[serde(default)]
    pub not_future: bool,
    /// Amount bounds.
    pub min: Option<f64>,
    /// Amount bounds.
    pub max: Option<f64>,
    /// Path of a value the flow proposes (the resident may accept it).
    pub suggest: Option<String>,
    /// Path of the value a `confirm_value` input confirms.
    pub value: Option<String>,
    /// Condition (tera) under which the step applies.
    pub when: Option<String>,
    /// Only asked when a check declares it.
    #[serde(default)]
    pub on_demand: bool,
    /// Material: words whose presence in the recognised text identifies it.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Material: a recogniser that extracts fields (`pension_certificate`).
    pub recognise: Option<String>,
    /// Material: the newest acceptable age of the document, in days.
    pub max_age_days: Option<i64>,
    /// Prompt (tera).
    pub prompt: Option<String>,
}

impl FlowSpec {
    /// Parse and check one spec.
    ///
    /// # Errors
    /// [`SpecError`].
    pub fn parse(agent: &str, toml_text: &str) -> Result<FlowSpec, SpecError> {
        let spec: FlowSpec = toml::from_str(toml_text).map_err(|e| SpecError::Parse {
            agent: agent.to_string(),
            message: e.to_string(),
        })?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), SpecError> {
        let bad = |message: String| SpecError::Invalid {
            agent: self.id.clone(),
            message,
        };
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.steps {
            if !seen.insert(s.id.as_str()) {
                return Err(bad(format!("步骤 {} 重复", s.id)));
            }
            match s.kind {
                StepKind::Check | StepKind::Lookup | StepKind::Submit if s.tool.is_none() => {
                    return Err(bad(format!("步骤 {} 缺少 tool", s.id)));
                }
                StepKind::Input if s.input_type.is_none() => {
                    return Err(bad(format!("输入 {} 缺少 type", s.id)));
                }
                StepKind::Input | StepKind::Material if s.prompt.is_none() => {
                    return Err(bad(format!("步骤 {} 缺少 prompt", s.id)));
                }
                _ => {}
            }
            if s.on_fail == Some(OnFail::Reask) && s.reask.is_none() {
                return Err(bad(format!("校验 {} 缺少 reask", s.id)));
            }
        }
        for s in &self.steps {
            for target in [&s.reask, &s.declare_field].into_iter().flatten() {
                if !self
                    .steps
                    .iter()
                    .any(|t| &t.id == target && t.kind == StepKind::Input)
                {
                    return Err(bad(format!("步骤 {} 引用的输入 {target} 不存在", s.id)));
                }
            }
        }
        let order: Vec<StepKind> = self.steps.iter().map(|s| s.kind).collect();
        if order.last() != Some(&StepKind::Submit) {
            return Err(bad("最后一步应为提交".into()));
        }
        let confirm = order.iter().position(|k| *k == StepKind::Confirm);
        if confirm != Some(order.len() - 2) {
            return Err(bad("提交前应紧接确认步骤".into()));
        }
        if self.steps.first().map(|s| s.kind) != Some(StepKind::Check) {
            return Err(bad("第一步应为准入判断".into()));
        }
        Ok(())
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Input and material steps, in order (the fields of the summary).
    pub fn fields(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| matches!(s.kind, StepKind::Input | StepKind::Material))
    }
}

/// Every built-in spec, parsed.
///
/// # Errors
/// [`SpecError`] for the first that does not parse.
pub fn builtin() -> Result<Vec<FlowSpec>, SpecError> {
    BUILTIN
        .iter()
        .map(|(agent, text)| FlowSpec::parse(agent, text))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_spec_parses_and_keeps_the_seed_bound() {
        let specs = builtin().unwrap();
        let bounds: BTreeMap<&str, u32> = specs
            .iter()
            .map(|s| (s.id.as_str(), s.max_interactions))
            .collect();
        assert_eq!(bounds["unemployment_registration"], 9);
        assert_eq!(bounds["rural_cross_district_subsidy"], 9);
        assert_eq!(bounds["elderly_care_subsidy"], 4);
        assert_eq!(bounds["zhinei_hardship_subsidy"], 3);
        assert_eq!(bounds["disability_home_care"], 5);
    }

    #[test]
    fn the_unemployment_flow_lists_the_seed_inputs_in_order() {
        let specs = builtin().unwrap();
        let f = specs
            .iter()
            .find(|s| s.id == "unemployment_registration")
            .unwrap();
        let inputs: Vec<&str> = f
            .steps
            .iter()
            .filter(|s| s.kind == StepKind::Input)
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(
            inputs,
            [
                "失业时间",
                "失业原因",
                "求职意向",
                "健康状况",
                "是否申领失业金"
            ]
        );
    }

    #[test]
    fn a_spec_without_a_confirmation_before_submit_is_refused() {
        let text = r#"
id = "x"
name = "x"
matter = "X"
max_interactions = 3
tools = []
intro = ""
[[steps]]
id = "准入判断"
kind = "check"
tool = "t"
on_fail = "ineligible"
[[steps]]
id = "提交"
kind = "submit"
tool = "t"
"#;
        let err = FlowSpec::parse("x", text).unwrap_err();
        assert!(matches!(err, SpecError::Invalid { .. }), "{err}");
    }
}
