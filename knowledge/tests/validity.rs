//! Validity as of a date, and kind / 事项 / department filters, through every
//! retrieval channel: BM25 filters inside tantivy, the vector channel filters on
//! qdrant-edge payloads, hybrid fuses both.

mod common;

use std::sync::OnceLock;

use chrono::NaiveDate;
use common::{
    DEPT_GA, DEPT_RS, Fixture, MATTER_GA, MATTER_SY, MODES, corpus, d, doc_ids, request, search,
};
use zhiban_knowledge::{DocKind, Mode, SearchResult, Snapshot, Status};

struct Shared {
    fixture: Fixture,
    snapshot: Snapshot,
}

/// One snapshot for every test in this file; it is read-only.
fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("knowledge-validity-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        remove_stale_fixtures(root.parent().unwrap());
        let fixture = corpus();
        let (store, _) = common::build_and_publish(&root, &fixture.docs);
        let snapshot = store.open_current().unwrap();
        Shared { fixture, snapshot }
    })
}

/// The shared snapshot lives as long as the test process; remove those of earlier
/// processes that have exited (Linux only: elsewhere they stay in target/tmp).
fn remove_stale_fixtures(tmp: &std::path::Path) {
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(pid) = name.strip_prefix("knowledge-validity-")
            && !std::path::Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn meta_of<'a>(fx: &'a Fixture, doc_id: &str) -> &'a zhiban_knowledge::DocumentMeta {
    &fx.docs
        .iter()
        .find(|d| d.meta.doc_id == doc_id)
        .unwrap()
        .meta
}

/// Every hit's status is the document's status on `as_of`, and without
/// `include_not_current` every hit is in force.
fn check_statuses(fx: &Fixture, r: &SearchResult, as_of: NaiveDate, include: bool, ctx: &str) {
    assert_eq!(r.as_of, as_of, "{ctx}");
    for h in &r.hits {
        let expected = meta_of(fx, &h.doc_id).status_on(as_of);
        assert_eq!(
            h.status, expected,
            "{ctx}: status of {} ({})",
            h.title, h.doc_id
        );
        if !include {
            assert_eq!(
                h.status,
                Status::InForce,
                "{ctx}: non-current hit {} {:?}",
                h.title,
                h.doc_number
            );
        }
    }
}

/// Searches `query` as of `date` in `mode`, both current-only and with
/// non-current texts, and checks that `doc` appears exactly when it should.
fn expect(query: &str, doc: &str, date: &str, status: Status, mode: Mode) {
    let s = shared();
    let date = d(date);
    assert_eq!(
        meta_of(&s.fixture, doc).status_on(date),
        status,
        "fixture status of {doc} on {date}"
    );
    for include in [false, true] {
        let r = search(&s.snapshot, &request(query, mode, Some(date), include));
        let ctx = format!("{mode:?} {query:?} as of {date} include_not_current={include}");
        check_statuses(&s.fixture, &r, date, include, &ctx);
        let present = doc_ids(&r).contains(doc);
        let should = include || status == Status::InForce;
        assert_eq!(
            present,
            should,
            "{ctx}: presence of {doc} ({status}); hits: {:?}",
            titles(&r)
        );
        if present {
            let h = r.hits.iter().find(|h| h.doc_id == doc).unwrap();
            assert_eq!(h.status, status, "{ctx}");
        }
    }
}

fn titles(r: &SearchResult) -> Vec<String> {
    r.hits
        .iter()
        .map(|h| {
            format!(
                "{}{} [{}]",
                h.title,
                h.doc_number.clone().unwrap_or_default(),
                h.status
            )
        })
        .collect()
}

const SY_QUERY: &str = "失业保险金申领条件和发放标准";

#[test]
fn two_versions_of_one_rule_on_boundary_dates() {
    let s = shared();
    let (old, new) = (&s.fixture.ids.old_rule, &s.fixture.ids.new_rule);
    for mode in MODES {
        // The day before the old rule took effect: neither version applies.
        expect(SY_QUERY, old, "2018-12-31", Status::NotYetEffective, mode);
        expect(SY_QUERY, new, "2018-12-31", Status::NotYetEffective, mode);
        // Its effective day.
        expect(SY_QUERY, old, "2019-01-01", Status::InForce, mode);
        // Mid-life.
        expect(SY_QUERY, old, "2021-06-01", Status::InForce, mode);
        expect(SY_QUERY, new, "2021-06-01", Status::NotYetEffective, mode);
        // Its last valid day.
        expect(SY_QUERY, old, "2024-06-30", Status::InForce, mode);
        expect(SY_QUERY, new, "2024-06-30", Status::NotYetEffective, mode);
        // The day the replacement takes effect.
        expect(SY_QUERY, old, "2024-07-01", Status::Amended, mode);
        expect(SY_QUERY, new, "2024-07-01", Status::InForce, mode);
        expect(SY_QUERY, old, "2026-11-29", Status::Amended, mode);
        expect(SY_QUERY, new, "2026-11-29", Status::InForce, mode);
    }
}

#[test]
fn exactly_one_version_is_current_on_each_side_of_the_switch() {
    let s = shared();
    let (old, new) = (&s.fixture.ids.old_rule, &s.fixture.ids.new_rule);
    for mode in MODES {
        for (date, want, not) in [
            ("2021-06-01", old, new),
            ("2024-06-30", old, new),
            ("2024-07-01", new, old),
        ] {
            let r = search(&s.snapshot, &request(SY_QUERY, mode, Some(d(date)), false));
            let ids = doc_ids(&r);
            assert!(
                ids.contains(want) && !ids.contains(not),
                "{mode:?} {date}: {:?}",
                titles(&r)
            );
            // The rule text itself ranks first among policies for this query.
            let first_policy = r.hits.iter().find(|h| h.kind == DocKind::Policy).unwrap();
            assert_eq!(
                &first_policy.doc_id,
                want,
                "{mode:?} {date}: {:?}",
                titles(&r)
            );
        }
    }
}

#[test]
fn as_of_today_serves_the_new_rule() {
    let s = shared();
    let today = chrono::Local::now().date_naive();
    for mode in MODES {
        let r = search(&s.snapshot, &request(SY_QUERY, mode, None, false));
        assert_eq!(r.as_of, today);
        check_statuses(&s.fixture, &r, today, false, &format!("{mode:?} today"));
        let ids = doc_ids(&r);
        assert!(
            ids.contains(&s.fixture.ids.new_rule),
            "{mode:?}: {:?}",
            titles(&r)
        );
        assert!(
            !ids.contains(&s.fixture.ids.old_rule),
            "{mode:?}: {:?}",
            titles(&r)
        );
        // Asked for explicitly, the old text comes back labelled 已修订.
        let all = search(&s.snapshot, &request(SY_QUERY, mode, None, true));
        let old = all
            .hits
            .iter()
            .find(|h| h.doc_id == s.fixture.ids.old_rule)
            .expect("old rule with include_not_current");
        assert_eq!(old.status, Status::Amended);
        assert_eq!(old.doc_number.as_deref(), Some("江人社规〔2018〕9号"));
    }
}

#[test]
fn not_yet_effective_rule_on_boundary_dates() {
    let s = shared();
    let id = &s.fixture.ids.future_rule;
    let q = "长期护理保险待遇申请条件";
    for mode in MODES {
        expect(q, id, "2026-11-29", Status::NotYetEffective, mode);
        expect(q, id, "2026-12-31", Status::NotYetEffective, mode);
        expect(q, id, "2027-01-01", Status::InForce, mode);
        expect(q, id, "2030-06-01", Status::InForce, mode);
    }
}

#[test]
fn expired_rule_on_boundary_dates() {
    let s = shared();
    let id = &s.fixture.ids.expired_rule;
    let q = "企业稳岗返还补贴怎么申请";
    for mode in MODES {
        expect(q, id, "2020-12-31", Status::NotYetEffective, mode);
        expect(q, id, "2021-01-01", Status::InForce, mode);
        // 有效期至 is inclusive.
        expect(q, id, "2023-12-31", Status::InForce, mode);
        expect(q, id, "2024-01-01", Status::Expired, mode);
        expect(q, id, "2026-11-29", Status::Expired, mode);
    }
}

#[test]
fn repealed_rule_on_boundary_dates() {
    let s = shared();
    let id = &s.fixture.ids.repealed_rule;
    let q = "灵活就业人员社会保险补贴标准";
    for mode in MODES {
        expect(q, id, "2018-05-01", Status::InForce, mode);
        expect(q, id, "2022-02-28", Status::InForce, mode);
        expect(q, id, "2022-03-01", Status::Repealed, mode);
        expect(q, id, "2025-01-01", Status::Repealed, mode);
    }
}

#[test]
fn documents_without_dates_are_always_current() {
    let s = shared();
    for mode in MODES {
        for date in ["1990-01-01", "2026-11-29", "2099-12-31"] {
            let r = search(
                &s.snapshot,
                &request("居住证签注事项编码实施主体", mode, Some(d(date)), false),
            );
            assert!(
                doc_ids(&r).contains(&s.fixture.ids.catalog_ga),
                "{mode:?} {date}: {:?}",
                titles(&r)
            );
        }
    }
}

#[test]
fn include_not_current_returns_every_version_with_its_status() {
    let s = shared();
    let ids = &s.fixture.ids;
    let date = d("2026-11-29");
    for mode in MODES {
        let mut seen = std::collections::BTreeMap::new();
        for q in [
            SY_QUERY,
            "长期护理保险待遇",
            "稳岗返还补贴",
            "灵活就业社会保险补贴",
        ] {
            let r = search(&s.snapshot, &request(q, mode, Some(date), true));
            check_statuses(&s.fixture, &r, date, true, &format!("{mode:?} {q}"));
            for h in r.hits {
                seen.insert(h.doc_id, h.status);
            }
        }
        assert_eq!(seen.get(&ids.old_rule), Some(&Status::Amended), "{mode:?}");
        assert_eq!(seen.get(&ids.new_rule), Some(&Status::InForce), "{mode:?}");
        assert_eq!(
            seen.get(&ids.future_rule),
            Some(&Status::NotYetEffective),
            "{mode:?}"
        );
        assert_eq!(
            seen.get(&ids.expired_rule),
            Some(&Status::Expired),
            "{mode:?}"
        );
        assert_eq!(
            seen.get(&ids.repealed_rule),
            Some(&Status::Repealed),
            "{mode:?}"
        );
    }
}

#[test]
fn kind_filter_in_every_mode() {
    let s = shared();
    for mode in MODES {
        for kind in [
            DocKind::Policy,
            DocKind::Guide,
            DocKind::Case,
            DocKind::Catalog,
        ] {
            let mut req = request(
                "外地户籍人员申领失业保险金和办理居住证",
                mode,
                Some(d("2026-11-29")),
                false,
            );
            req.filter.kinds = vec![kind];
            let r = search(&s.snapshot, &req);
            assert!(!r.hits.is_empty(), "{mode:?} {kind}: no hits");
            assert!(
                r.hits.iter().all(|h| h.kind == kind),
                "{mode:?} {kind}: {:?}",
                titles(&r)
            );
        }
        let mut req = request("失业保险金", mode, Some(d("2026-11-29")), false);
        req.filter.kinds = vec![DocKind::Guide, DocKind::Catalog];
        let r = search(&s.snapshot, &req);
        let kinds: std::collections::BTreeSet<_> = r.hits.iter().map(|h| h.kind).collect();
        assert_eq!(
            kinds,
            [DocKind::Guide, DocKind::Catalog].into_iter().collect(),
            "{mode:?}"
        );
    }
}

#[test]
fn matter_and_department_filters_in_every_mode() {
    let s = shared();
    let ids = &s.fixture.ids;
    let q = "外地户籍人员办理居住证签注和申领失业保险金";
    let date = Some(d("2026-11-29"));
    for mode in MODES {
        let mut req = request(q, mode, date, false);
        req.filter.matter_codes = vec![MATTER_GA.into()];
        let r = search(&s.snapshot, &req);
        assert_eq!(
            doc_ids(&r),
            [ids.guide_ga.clone(), ids.catalog_ga.clone()]
                .into_iter()
                .collect(),
            "{mode:?} matter GA: {:?}",
            titles(&r)
        );

        let mut req = request(q, mode, date, false);
        req.filter.matter_codes = vec![MATTER_SY.into()];
        let r = search(&s.snapshot, &req);
        assert_eq!(
            doc_ids(&r),
            [
                ids.guide_sy.clone(),
                ids.case_sy.clone(),
                ids.catalog_sy.clone()
            ]
            .into_iter()
            .collect(),
            "{mode:?} matter SY: {:?}",
            titles(&r)
        );

        let mut req = request(q, mode, date, false);
        req.filter.departments = vec![DEPT_GA.into()];
        let r = search(&s.snapshot, &req);
        assert_eq!(
            doc_ids(&r),
            [
                ids.guide_ga.clone(),
                ids.catalog_ga.clone(),
                ids.residence_rule.clone()
            ]
            .into_iter()
            .collect(),
            "{mode:?} department GA: {:?}",
            titles(&r)
        );

        // Filters combine: catalog records of the unemployment matter, of 人社.
        let mut req = request(q, mode, date, false);
        req.filter.kinds = vec![DocKind::Catalog];
        req.filter.matter_codes = vec![MATTER_SY.into()];
        req.filter.departments = vec![DEPT_RS.into()];
        let r = search(&s.snapshot, &req);
        assert_eq!(
            doc_ids(&r),
            [ids.catalog_sy.clone()].into_iter().collect(),
            "{mode:?} combined"
        );

        // A matter nobody has returns nothing rather than everything.
        let mut req = request(q, mode, date, false);
        req.filter.matter_codes = vec!["JC-XX-999".into()];
        assert!(
            search(&s.snapshot, &req).hits.is_empty(),
            "{mode:?} unknown matter"
        );

        // Filters and validity together: the case (published 2025-03-10) is not yet
        // applicable in 2024.
        let mut req = request(q, mode, Some(d("2024-12-01")), false);
        req.filter.matter_codes = vec![MATTER_SY.into()];
        let r = search(&s.snapshot, &req);
        assert_eq!(
            doc_ids(&r),
            [ids.guide_sy.clone(), ids.catalog_sy.clone()]
                .into_iter()
                .collect(),
            "{mode:?} matter SY 2024"
        );
    }
}

/// A caller that restricts the date itself (a clerk checking what applied on the day
/// of an application) must get that date's texts, whatever `as_of` says.
#[test]
fn the_callers_valid_on_is_respected_not_overwritten() {
    let s = shared();
    let fx = &s.fixture;
    for mode in MODES {
        let mut req = request("失业保险金发放标准", mode, Some(d("2026-11-29")), false);
        req.filter.valid_on = Some(d("2021-06-01"));
        let r = search(&s.snapshot, &req);
        let ids = doc_ids(&r);
        assert!(
            ids.contains(&fx.ids.old_rule) && !ids.contains(&fx.ids.new_rule),
            "{mode:?}: {ids:?}"
        );
    }
}
