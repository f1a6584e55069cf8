//! The embedded LSA embedder is deterministic: two separate snapshot builds of the
//! same documents write byte-identical models, and a saved model embeds exactly as
//! the one that was trained.

mod common;

use std::fs;

use common::{build_and_publish, corpus};
use zhiban_knowledge::embed::{Embedder, LocalEmbedder, LsaConfig};
use zhiban_knowledge::{Analyzer, Mode};

#[test]
fn two_builds_write_byte_identical_models() {
    let d1 = tempfile::tempdir().unwrap();
    let d2 = tempfile::tempdir().unwrap();
    let (s1, b1) = build_and_publish(d1.path(), &corpus().docs);
    let (s2, b2) = build_and_publish(d2.path(), &corpus().docs);
    for file in ["embedder/lsa.f32", "embedder/lsa.json"] {
        let a = fs::read(s1.dir_of(&b1.id).join(file)).unwrap();
        let b = fs::read(s2.dir_of(&b2.id).join(file)).unwrap();
        assert!(!a.is_empty(), "{file} is empty");
        assert!(
            a == b,
            "{file} differs between two builds of the same documents"
        );
    }
    // The manifests agree on the checksums of every content file that does not embed
    // the build's id or time (tantivy and qdrant-edge metadata may).
    let sum = |b: &zhiban_knowledge::Built, path: &str| {
        b.manifest
            .files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.blake3.clone())
    };
    for path in [
        "embedder/lsa.f32",
        "embedder/lsa.json",
        "documents.jsonl",
        "analysis.json",
    ] {
        assert_eq!(sum(&b1, path), sum(&b2, path), "{path}");
        assert!(sum(&b1, path).is_some());
    }
    assert_eq!(b1.manifest.embedder, b2.manifest.embedder);
    assert_eq!(b1.manifest.dim, b2.manifest.dim);

    // Same model, same query vectors, same vector ranking.
    let o1 = s1.open_current().unwrap();
    let o2 = s2.open_current().unwrap();
    let q = "外地户籍失业人员在常住地申领失业保险金需要什么材料";
    assert_eq!(
        o1.embedder().embed_query(q).unwrap(),
        o2.embedder().embed_query(q).unwrap()
    );
    let r1 = common::search(&o1, &common::request(q, Mode::Vector, None, true));
    let r2 = common::search(&o2, &common::request(q, Mode::Vector, None, true));
    let key = |r: &zhiban_knowledge::SearchResult| -> Vec<(String, u32)> {
        r.hits
            .iter()
            .map(|h| (h.chunk_id.clone(), h.score.to_bits()))
            .collect()
    };
    assert!(!r1.hits.is_empty());
    assert_eq!(key(&r1), key(&r2));
}

#[test]
fn a_saved_model_embeds_like_the_trained_one() {
    let fx = corpus();
    let texts: Vec<String> = fx
        .docs
        .iter()
        .flat_map(|d| d.chunks.iter().map(|c| c.text.clone()))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let analyzer = Analyzer::new();
    let config = LsaConfig {
        dim: 16,
        ..LsaConfig::default()
    };
    let trained = LocalEmbedder::train(&analyzer, &refs, config).unwrap();
    let again = LocalEmbedder::train(&analyzer, &refs, config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    trained.save(dir.path()).unwrap();
    let loaded = LocalEmbedder::load(dir.path(), &analyzer).unwrap();
    assert_eq!(loaded.dim(), trained.dim());
    assert!(trained.dim() <= 16 && trained.dim() > 0);
    assert_eq!(loaded.vocabulary_size(), trained.vocabulary_size());
    assert_eq!(loaded.model_id(), trained.model_id());
    let docs = trained.embed_documents(&refs).unwrap();
    assert_eq!(docs, loaded.embed_documents(&refs).unwrap());
    assert_eq!(docs, again.embed_documents(&refs).unwrap());
    for q in ["失业保险金发放标准", "居住证签注", "长期护理保险"] {
        assert_eq!(
            trained.embed_query(q).unwrap(),
            loaded.embed_query(q).unwrap(),
            "{q}"
        );
    }
    // A second save of the loaded model is byte-identical to the first.
    let dir2 = tempfile::tempdir().unwrap();
    loaded.save(dir2.path()).unwrap();
    for f in ["lsa.f32", "lsa.json"] {
        assert_eq!(
            fs::read(dir.path().join(f)).unwrap(),
            fs::read(dir2.path().join(f)).unwrap(),
            "{f}"
        );
    }
}
