//! The submit and 跨区 schemas carry every field and material the flows collect, with PII
//! marked; a submit missing a required field is refused before anything reaches the line side,
//! with a Chinese message naming the field.

mod common;

use common::*;
use serde_json::{Value, json};
use zhiban_tools::{Registry, Transport};

fn props(reg: &Registry, tool: &str) -> (Vec<String>, Vec<String>) {
    let t = reg.get(tool).unwrap();
    let p = t.args_schema["properties"].as_object().unwrap();
    let req = t.args_schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    (p.keys().cloned().collect(), req)
}

#[test]
fn submits_declare_the_flow_fields() {
    let reg = Registry::builtin();
    for (tool, fields, required) in [
        (
            "unemployment_submit",
            &[
                "unemployment_date",
                "unemployment_reason",
                "job_intention",
                "health_status",
                "claim_unemployment_benefit",
                "matter_code",
            ][..],
            &[
                "unemployment_date",
                "unemployment_reason",
                "job_intention",
                "health_status",
                "claim_unemployment_benefit",
            ][..],
        ),
        (
            "rural_subsidy_submit",
            &["start_month", "monthly_wage", "land_expropriated_declared"],
            &["start_month", "monthly_wage"],
        ),
        (
            "elderly_subsidy_submit",
            &["assessment_level", "assessment_application_no"],
            &[],
        ),
        (
            "zhinei_submit",
            &["pension_monthly", "pension_certificate"],
            &[],
        ),
        (
            "disability_care_submit",
            &["application_date"],
            &["application_date"],
        ),
    ] {
        let (p, req) = props(&reg, tool);
        for f in fields
            .iter()
            .chain(["materials", "name", "id_number", "mobile"].iter())
        {
            assert!(p.iter().any(|k| k == f), "{tool}: {f}");
        }
        for r in required {
            assert!(req.iter().any(|k| k == r), "{tool}: {r} required");
        }
        let t = reg.get(tool).unwrap();
        let pii: Vec<&str> = t.pii_args.iter().map(|f| f.path.as_str()).collect();
        for k in ["name", "id_number", "mobile"] {
            assert!(pii.contains(&k), "{tool}: {k} is PII");
        }
        // Nothing the flow sends as a plain value is marked PII by mistake.
        for f in fields.iter() {
            assert!(!pii.iter().any(|p| p.starts_with(f)), "{tool}: {f}");
        }
        let m = &t.args_schema["properties"]["materials"]["items"];
        assert_eq!(
            m["properties"]["status"]["enum"],
            json!(["accepted", "rejected"])
        );
    }
    let t = reg.get("unemployment_submit").unwrap();
    assert_eq!(
        t.args_schema["properties"]["claim_unemployment_benefit"]["enum"],
        json!(["是", "否"])
    );
    assert_eq!(
        reg.get("rural_subsidy_submit").unwrap().args_schema["properties"]["monthly_wage"]["type"],
        "number"
    );
    let z = &reg.get("zhinei_submit").unwrap().args_schema["properties"]["pension_certificate"];
    assert_eq!(z["required"], json!(["issuer", "issued_on"]));
}

#[test]
fn the_rural_tools_say_the_rule_casesim_applies() {
    let reg = Registry::builtin();
    let (p, _) = props(&reg, "rural_subsidy_eligibility");
    assert!(p.iter().any(|k| k == "land_expropriated_declared"));
    let r = &reg.get("rural_subsidy_eligibility").unwrap().result_schema["properties"];
    for k in [
        "required_materials",
        "contract_start_month",
        "contract_end",
        "employer_district",
        "earliest_start_month",
    ] {
        assert!(r.get(k).is_some(), "{k}");
    }
    let d = reg.get("rural_subsidy_start_check").unwrap().description;
    assert!(
        d.contains("第六条")
            && d.contains("次月")
            && d.contains("超过6个月")
            && !d.contains("12个月前"),
        "{d}"
    );
}

#[tokio::test]
async fn a_submit_missing_a_required_field_is_refused_by_name_before_the_line_side() {
    let e = env(Transport::Rest, |_| {}).await;
    let (id, name, mobile, _) = resident(&e.sim, 12).await;
    let c = ctx("schema");
    e.sim.clear_requests();
    let plain = json!({"name": name, "id_number": id, "mobile": mobile, "unemployment_date": "2026-10-01",
        "job_intention": "保洁", "health_status": "健康", "claim_unemployment_benefit": "否"});
    let args = tokenize(&e.rt, &c, "unemployment_submit", plain);
    let err =
        e.rt.invoke(&c, "unemployment_submit", args)
            .await
            .unwrap_err()
            .to_string();
    assert!(err.contains("unemployment_reason"), "{err}");
    assert!(e.sim.requests().is_empty(), "refused before the line side");
    let bad: Value = json!({"name": name, "id_number": id, "mobile": mobile, "application_date": "2026-11-01",
        "materials": [{"kind": "残疾人证", "ref": "A1", "status": "ok"}]});
    let args = tokenize(&e.rt, &c, "disability_care_submit", bad);
    let err =
        e.rt.invoke(&c, "disability_care_submit", args)
            .await
            .unwrap_err()
            .to_string();
    assert!(err.contains("accepted"), "{err}");
    e.sim.stop().await;
}
