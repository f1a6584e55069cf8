//! Edge cases of `Snapshot::search`: the hit count, empty and stopword-only queries,
//! unchanged articles shared by two versions of a rule, and builds that cannot work.

mod common;

use common::{corpus, d, request, search};
use zhiban_knowledge::{Document, Mode, SnapshotStore, Status};

#[test]
fn k_limits_the_number_of_hits() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::build_and_publish(dir.path(), &corpus().docs);
    let snap = store.open_current().unwrap();
    for mode in common::MODES {
        for k in [1usize, 3, 7] {
            let mut req = request("失业保险金申领", mode, None, true);
            req.k = k;
            let n = search(&snap, &req).hits.len();
            assert_eq!(n, k, "{mode:?} k={k}");
        }
    }
}

#[test]
fn k_zero_returns_no_hits() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::build_and_publish(dir.path(), &corpus().docs);
    let snap = store.open_current().unwrap();
    for mode in common::MODES {
        let mut req = request("失业保险金申领", mode, None, true);
        req.k = 0;
        assert_eq!(search(&snap, &req).hits.len(), 0, "{mode:?}");
    }
}

#[test]
fn queries_without_searchable_words_return_nothing_without_error() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::build_and_publish(dir.path(), &corpus().docs);
    let snap = store.open_current().unwrap();
    for mode in common::MODES {
        for q in ["", "   ", "？？！", "的了吗"] {
            let r = snap.search(&request(q, mode, None, true)).unwrap();
            assert!(r.hits.is_empty(), "{mode:?} {q:?}: {} hits", r.hits.len());
        }
        // Words the corpus has never seen: no vector evidence, no lexical match.
        let r = snap
            .search(&request("zzqx 9981", mode, None, true))
            .unwrap();
        assert!(r.hits.is_empty(), "{mode:?} unknown words");
    }
}

#[test]
fn mixed_width_and_case_queries_match() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::build_and_publish(dir.path(), &corpus().docs);
    let snap = store.open_current().unwrap();
    let fx = corpus();
    // The catalog record spells the code JC-SY-001; a clerk types it full-width, lower-case.
    for q in ["ｊｃ－ＳＹ－００１", "jc-sy-001"] {
        let r = search(&snap, &request(q, Mode::Bm25, None, false));
        assert_eq!(
            r.hits.first().map(|h| h.doc_id.clone()),
            Some(fx.ids.catalog_sy.clone()),
            "{q}"
        );
    }
}

/// Real amendments keep most articles word for word. Asked for every version, a
/// caller must still see the text that is in force, not only the superseded copy.
#[test]
fn an_unchanged_article_keeps_its_current_version_when_all_versions_are_asked_for() {
    let mut fx = corpus();
    let shared_article = "第一条 为规范本市失业保险金的申领和发放，保障失业人员失业期间的基本生活，根据有关法律法规，结合本市实际，制定本办法。";
    // Make the new version's 第一条 identical to the old one's.
    let new = fx.docs[1].clone();
    let mut raw: Vec<_> = new
        .chunks
        .iter()
        .map(|c| (c.article.clone(), c.path.clone(), c.text.clone()))
        .collect();
    raw[0].2 = shared_article.into();
    fx.docs[1] = Document::new(new.meta.clone(), raw);
    let new_id = fx.docs[1].meta.doc_id.clone();
    fx.docs[0].meta.superseded_by = Some(new_id.clone());
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = common::build_and_publish(dir.path(), &fx.docs);
    let snap = store.open_current().unwrap();
    for mode in common::MODES {
        let r = search(
            &snap,
            &request(
                "失业保险金申领和发放的立法目的",
                mode,
                Some(d("2026-11-29")),
                true,
            ),
        );
        let first_articles: Vec<(&str, Status)> = r
            .hits
            .iter()
            .filter(|h| h.article.as_deref() == Some("第一条"))
            .map(|h| (h.doc_id.as_str(), h.status))
            .collect();
        assert!(
            first_articles
                .iter()
                .any(|(id, s)| *id == new_id && *s == Status::InForce),
            "{mode:?}: the in-force 第一条 is missing; got {first_articles:?}"
        );
    }
}

#[test]
fn building_nothing_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    assert!(matches!(
        store.build(&[], &common::options()),
        Err(zhiban_knowledge::Error::Embedding(_))
    ));
    assert!(store.list().unwrap().is_empty());
    assert_eq!(store.current_id().unwrap(), None);
    let left: Vec<_> = std::fs::read_dir(dir.path().join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A 办法 whose preamble repeats every word of a question about its 补贴标准, and whose
/// answering article says them only through its 章 heading.
fn rule_with_front_matter() -> Document {
    use zhiban_knowledge::{DocKind, DocumentMeta, Level};
    Document::new(
        DocumentMeta {
            kind: Some(DocKind::Policy),
            source_file: "policies/江川市助餐服务补贴办法.txt".into(),
            title: "江川市助餐服务补贴办法".into(),
            level: Some(Level::NormativeDocument),
            published: Some(d("2025-01-06")),
            ..Default::default()
        },
        vec![
            (
                None,
                Vec::new(),
                "江川市助餐服务补贴办法。为做好助餐服务补贴工作，明确助餐服务补贴对象、助餐服务补贴标准和助餐服务补贴发放，制定本办法。".into(),
            ),
            (
                Some("第一条".into()),
                vec!["第一章 总则".into(), "第一条".into()],
                "第一条 为了规范本市老年人用餐服务，制定本办法。".into(),
            ),
            (
                Some("第五条".into()),
                vec!["第二章 补贴标准".into(), "第五条".into()],
                "第五条 每人每餐给予三元，由区财政承担。".into(),
            ),
        ],
    )
}

fn ranked_labels(weight: f32, query: &str) -> Vec<Option<String>> {
    ranked_with(rule_with_front_matter(), query, |f| {
        f.front_matter_weight = weight;
    })
}

#[test]
fn front_matter_is_weighed_down_below_the_articles() {
    let q = "助餐服务补贴标准";
    // Undemoted, the preamble that repeats every word comes first.
    assert_eq!(ranked_labels(1.0, q).first(), Some(&None));
    // Weighed down to nothing, every article that matches outranks it.
    let demoted = ranked_labels(0.0, q);
    assert_eq!(
        demoted.first(),
        Some(&Some("第五条".to_string())),
        "{demoted:?}"
    );
    assert!(demoted.contains(&None), "still found: {demoted:?}");
}

#[test]
fn an_article_is_found_by_its_heading() {
    // "补贴标准" is only in the 章 heading of 第五条, never in its text.
    let labels = ranked_labels(0.0, "补贴标准");
    assert_eq!(
        labels.first(),
        Some(&Some("第五条".to_string())),
        "{labels:?}"
    );
}

/// A rule whose scope article repeats every subject word of a question, and whose
/// answering article holds only the word that names what is asked (费用).
fn rule_with_scope_article() -> Document {
    use zhiban_knowledge::{DocKind, DocumentMeta, Level};
    let article = |label: &str, text: &str| {
        (
            Some(label.to_string()),
            vec![label.to_string()],
            text.to_string(),
        )
    };
    Document::new(
        DocumentMeta {
            kind: Some(DocKind::Policy),
            source_file: "policies/江川市公房承租人变更规定.txt".into(),
            title: "江川市公房承租人变更规定".into(),
            level: Some(Level::NormativeDocument),
            published: Some(d("2025-01-06")),
            ..Default::default()
        },
        vec![
            article(
                "第二条",
                "第二条 本规定适用于本市公房承租人变更。公房承租人变更由公房经营单位办理，公房承租人变更应当书面申请。",
            ),
            article("第五条", "第五条 申请人应当提交户口簿和租赁凭证。"),
            article("第九条", "第九条 办理时不收取任何费用。"),
        ],
    )
}

fn ranked_with(
    doc: Document,
    query: &str,
    set: impl Fn(&mut zhiban_knowledge::FusionParams),
) -> Vec<Option<String>> {
    let dir = tempfile::tempdir().unwrap();
    let store = SnapshotStore::new(dir.path());
    let mut opts = common::options();
    set(&mut opts.fusion);
    let built = store.build(&[doc], &opts).unwrap();
    store.publish(&built.id).unwrap();
    let snap = store.open_current().unwrap();
    search(&snap, &request(query, Mode::Bm25, None, true))
        .hits
        .into_iter()
        .map(|h| h.article)
        .collect()
}

#[test]
fn the_article_holding_what_is_asked_outranks_the_one_repeating_the_subject() {
    let q = "公房承租人变更要多少费用";
    let plain = ranked_with(rule_with_scope_article(), q, |f| f.coverage_weight = 0.0);
    assert_eq!(
        plain.first(),
        Some(&Some("第二条".to_string())),
        "{plain:?}"
    );
    let covered = ranked_with(rule_with_scope_article(), q, |f| f.coverage_weight = 3.0);
    assert_eq!(
        covered.first(),
        Some(&Some("第九条".to_string())),
        "{covered:?}"
    );
}

#[test]
fn the_purpose_article_is_weighed_down_like_a_preamble() {
    // 第一条 of the 助餐 rule states its purpose in the question's own words.
    let q = "老年人用餐服务";
    let plain = ranked_with(rule_with_front_matter(), q, |f| f.front_matter_weight = 1.0);
    assert_eq!(
        plain.first(),
        Some(&Some("第一条".to_string())),
        "{plain:?}"
    );
    let demoted = ranked_with(rule_with_front_matter(), q, |f| f.front_matter_weight = 0.0);
    assert_ne!(
        demoted.first(),
        Some(&Some("第一条".to_string())),
        "{demoted:?}"
    );
}
