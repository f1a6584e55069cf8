//! The embedded default embedder: latent semantic analysis (LSA) trained on the
//! corpus when a snapshot is built.
//!
//! # Model
//!
//! Each text becomes a sparse TF-IDF vector over two feature families — jieba words
//! (`w:失业`) and CJK character bigrams (`g:失业`) — with sublinear term frequency
//! (`1 + ln tf`) and smoothed IDF, L2-normalised. A randomized SVD (Halko et al.,
//! with power iterations) of the chunk × feature matrix gives the top `dim` right
//! singular vectors `V` and values `σ`; a text's embedding is `x · V · σ^-α`,
//! L2-normalised, so documents and queries live in the same space.
//!
//! # What it can and cannot capture
//!
//! It captures *co-occurrence within this corpus*: words that appear in the same
//! articles (`失业保险金` / `申领` / `登记`) land close together, so a query can
//! match an article that shares few of its exact words, and the bigram features
//! soften segmentation differences. It cannot know synonyms the corpus never puts
//! side by side, colloquial words absent from the corpus (`被炒了` for `解除劳动合同`),
//! word order, negation or anything about the world outside these texts. A real
//! sentence-embedding model behind [`super::OpenAiEmbedder`] is what closes that gap.
//!
//! Training is deterministic (fixed seed, sorted vocabulary, single thread): the
//! same chunks always give the same model, byte for byte.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use nalgebra::{DMatrix, SymmetricEigen};
use serde::{Deserialize, Serialize};

use super::{Embedder, l2_normalize};
use crate::analysis::Analyzer;
use crate::error::{Error, Result};
use crate::lexical::AnalyzedQuery;

/// Training parameters of [`LocalEmbedder`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LsaConfig {
    /// Output dimension (number of singular vectors kept).
    pub dim: usize,
    /// Extra random directions for the randomized SVD.
    pub oversample: usize,
    /// Power iterations; 2 is enough for a sharply decaying spectrum.
    pub power_iters: usize,
    /// A feature must occur in at least this many chunks.
    pub min_df: u32,
    /// Keep at most this many features (most frequent first).
    pub max_features: usize,
    /// Singular-value exponent α in `x · V · σ^-α` (0 = classic LSI, 1 = whitened).
    pub alpha: f32,
    /// Whether bigram features are used besides words.
    pub bigrams: bool,
    /// RNG seed.
    pub seed: u64,
}

impl Default for LsaConfig {
    fn default() -> Self {
        LsaConfig {
            dim: 256,
            oversample: 16,
            power_iters: 2,
            min_df: 2,
            max_features: 60_000,
            alpha: 1.0,
            bigrams: true,
            seed: 0x5EED_2B1A,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModelHeader {
    format: u32,
    config: LsaConfig,
    dim: usize,
    /// Features in row order of the projection, with their IDF.
    features: Vec<(String, f32)>,
    /// Singular values, for the record.
    singular_values: Vec<f32>,
}

/// LSA embedder trained on the corpus. See the module docs.
pub struct LocalEmbedder {
    analyzer: Analyzer,
    header: ModelHeader,
    index: HashMap<String, u32>,
    /// Row-major `features × dim`.
    proj: Vec<f32>,
}

impl std::fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("dim", &self.header.dim)
            .field("features", &self.header.features.len())
            .finish()
    }
}

const HEADER_FILE: &str = "lsa.json";
const MATRIX_FILE: &str = "lsa.f32";

fn features_of(analyzer: &Analyzer, text: &str, bigrams: bool) -> Vec<String> {
    let mut out: Vec<String> = analyzer
        .words(text)
        .into_iter()
        .map(|w| format!("w:{w}"))
        .collect();
    if bigrams {
        out.extend(analyzer.bigrams(text).into_iter().map(|g| format!("g:{g}")));
    }
    out
}

fn term_counts<'a>(tokens: impl Iterator<Item = &'a str>) -> HashMap<&'a str, u32> {
    let mut m = HashMap::new();
    for t in tokens {
        *m.entry(t).or_insert(0) += 1;
    }
    m
}

/// Deterministic standard-normal generator (SplitMix64 + Box–Muller).
struct Gaussian {
    state: u64,
    spare: Option<f64>,
}

impl Gaussian {
    fn new(seed: u64) -> Self {
        Gaussian {
            state: seed,
            spare: None,
        }
    }
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn sample(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let (u1, u2) = (self.uniform(), self.uniform());
        let r = (-2.0 * u1.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }
}

/// Sparse rows: `(feature, value)` per document.
type Rows = Vec<Vec<(u32, f32)>>;

// Dense matrices below are flat row-major buffers so that the inner loops of the
// sparse products run over contiguous memory.

/// `A · M` for `M` (features × l) → n × l.
fn a_times(rows: &Rows, m: &[f64], l: usize) -> Vec<f64> {
    let mut out = vec![0f64; rows.len() * l];
    for (i, row) in rows.iter().enumerate() {
        let o = &mut out[i * l..(i + 1) * l];
        for &(t, v) in row {
            let v = v as f64;
            let r = &m[t as usize * l..(t as usize + 1) * l];
            for (x, y) in o.iter_mut().zip(r) {
                *x += v * y;
            }
        }
    }
    out
}

/// `Aᵀ · M` for `M` (n × l) → features × l.
fn at_times(rows: &Rows, nfeat: usize, m: &[f64], l: usize) -> Vec<f64> {
    let mut out = vec![0f64; nfeat * l];
    for (i, row) in rows.iter().enumerate() {
        let r = &m[i * l..(i + 1) * l];
        for &(t, v) in row {
            let v = v as f64;
            let o = &mut out[t as usize * l..(t as usize + 1) * l];
            for (x, y) in o.iter_mut().zip(r) {
                *x += v * y;
            }
        }
    }
    out
}

/// Orthonormal basis of the columns of a row-major `nrows × l` matrix, row-major.
fn orthonormal_columns(m: &[f64], nrows: usize, l: usize) -> Vec<f64> {
    let q = DMatrix::from_row_slice(nrows, l, m).qr().q();
    // The transpose's column-major storage is the row-major layout of `q`.
    q.transpose().as_slice().to_vec()
}

impl LocalEmbedder {
    /// Trains a model on `texts` (the chunks of a snapshot).
    ///
    /// # Errors
    /// Fails when the corpus has too few distinct features to train on.
    pub fn train(analyzer: &Analyzer, texts: &[&str], config: LsaConfig) -> Result<Self> {
        let docs: Vec<Vec<String>> = texts
            .iter()
            .map(|t| features_of(analyzer, t, config.bigrams))
            .collect();
        // Document frequencies.
        let mut df: HashMap<&str, u32> = HashMap::new();
        for d in &docs {
            for t in term_counts(d.iter().map(String::as_str)).into_keys() {
                *df.entry(t).or_insert(0) += 1;
            }
        }
        let mut feats: Vec<(&str, u32)> = df
            .into_iter()
            .filter(|(_, n)| *n >= config.min_df)
            .collect();
        // Sorting by (df desc, text) makes the vocabulary independent of hash order.
        feats.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        feats.truncate(config.max_features);
        let n = texts.len().max(1) as f32;
        let features: Vec<(String, f32)> = feats
            .iter()
            .map(|(t, d)| (t.to_string(), ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0))
            .collect();
        let index: HashMap<String, u32> = features
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (t.clone(), i as u32))
            .collect();
        let idf: Vec<f32> = features.iter().map(|(_, w)| *w).collect();
        let rows: Rows = docs
            .iter()
            .map(|d| tfidf_row(&index, &idf, d.iter().map(String::as_str)))
            .collect();

        let nfeat = features.len();
        let l = (config.dim + config.oversample).min(nfeat).min(rows.len());
        if l == 0 {
            return Err(Error::Embedding(format!(
                "corpus too small to train the local embedder: {} chunks, {} features",
                rows.len(),
                nfeat
            )));
        }
        let k = config.dim.min(l);

        // Randomized range finder with power iterations.
        let mut g = Gaussian::new(config.seed);
        let omega: Vec<f64> = (0..nfeat * l).map(|_| g.sample()).collect();
        let n = rows.len();
        let mut y = orthonormal_columns(&a_times(&rows, &omega, l), n, l);
        for _ in 0..config.power_iters {
            // Only the short side (chunks × l) is re-orthonormalised: in f64 that is
            // stable for a couple of iterations, and a QR of the long side
            // (features × l) would dominate the whole build.
            let z = at_times(&rows, nfeat, &y, l);
            y = orthonormal_columns(&a_times(&rows, &z, l), n, l);
        }
        // Bᵀ = Aᵀ Q (features × l); B Bᵀ = (Bᵀ)ᵀ Bᵀ is small (l × l).
        let bt = at_times(&rows, nfeat, &y, l);
        let btm = DMatrix::from_row_slice(nfeat, l, &bt);
        drop(bt);
        let c = btm.tr_mul(&btm);
        let eig = SymmetricEigen::new(c);
        let mut order: Vec<usize> = (0..eig.eigenvalues.len()).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        order.truncate(k);
        // V = Bᵀ U Σ⁻¹ scaled by σ^-α, as one matrix product.
        let mut singular_values = Vec::with_capacity(k);
        let mut uk = DMatrix::<f64>::zeros(l, k);
        for (col, &e) in order.iter().enumerate() {
            let sigma = eig.eigenvalues[e].max(0.0).sqrt();
            singular_values.push(sigma as f32);
            if sigma <= 1e-12 {
                continue;
            }
            let scale = 1.0 / sigma * sigma.powf(-(config.alpha as f64));
            uk.set_column(col, &(eig.eigenvectors.column(e) * scale));
        }
        let v = &btm * &uk;
        let mut proj = vec![0f32; nfeat * k];
        for col in 0..k {
            // Fix the sign so the largest component is positive: SVD signs are arbitrary.
            let column = v.column(col);
            let pivot = column
                .iter()
                .copied()
                .fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            let sign = if pivot < 0.0 { -1.0 } else { 1.0 };
            for t in 0..nfeat {
                proj[t * k + col] = (column[t] * sign) as f32;
            }
        }
        let header = ModelHeader {
            format: 1,
            config,
            dim: k,
            features,
            singular_values,
        };
        Ok(LocalEmbedder {
            analyzer: analyzer.clone(),
            header,
            index,
            proj,
        })
    }

    /// Writes the model into `dir` (`lsa.json` + `lsa.f32`).
    ///
    /// # Errors
    /// I/O failures.
    pub fn save(&self, dir: &Path) -> Result<()> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let hp = dir.join(HEADER_FILE);
        let json = serde_json::to_vec(&self.header).map_err(|e| Error::json(&hp, e))?;
        fs::write(&hp, json).map_err(|e| Error::io(&hp, e))?;
        let mp = dir.join(MATRIX_FILE);
        let mut f = fs::File::create(&mp).map_err(|e| Error::io(&mp, e))?;
        let mut buf = Vec::with_capacity(self.proj.len() * 4);
        for x in &self.proj {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        f.write_all(&buf)
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::io(&mp, e))?;
        Ok(())
    }

    /// Loads a model saved by [`LocalEmbedder::save`].
    ///
    /// # Errors
    /// Missing or corrupt files.
    pub fn load(dir: &Path, analyzer: &Analyzer) -> Result<Self> {
        let hp = dir.join(HEADER_FILE);
        let bytes = fs::read(&hp).map_err(|e| Error::io(&hp, e))?;
        let header: ModelHeader =
            serde_json::from_slice(&bytes).map_err(|e| Error::json(&hp, e))?;
        let mp = dir.join(MATRIX_FILE);
        let raw = fs::read(&mp).map_err(|e| Error::io(&mp, e))?;
        // A corrupt header must not overflow the size computation (a panic in
        // debug builds, a wrapped and possibly matching size in release ones).
        let want = header
            .features
            .len()
            .checked_mul(header.dim)
            .and_then(|n| n.checked_mul(4));
        if want != Some(raw.len()) || header.dim == 0 {
            return Err(Error::Embedding(format!(
                "{}: {} features × {} dimensions do not match {} bytes",
                mp.display(),
                header.features.len(),
                header.dim,
                raw.len()
            )));
        }
        let proj = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let index = header
            .features
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (t.clone(), i as u32))
            .collect();
        Ok(LocalEmbedder {
            analyzer: analyzer.clone(),
            header,
            index,
            proj,
        })
    }

    /// Number of features in the vocabulary.
    pub fn vocabulary_size(&self) -> usize {
        self.header.features.len()
    }

    fn project<'a>(&self, tokens: impl Iterator<Item = &'a str>) -> Vec<f32> {
        let counts = term_counts(tokens);
        self.project_weighted(counts.into_iter().map(|(t, c)| (t, c as f32)))
    }

    /// Projects weighted features; a weight below 1 (an expansion-only token) is
    /// used as is, counts above 1 are damped as `1 + ln c`, as in training.
    fn project_weighted<'a>(&self, features: impl Iterator<Item = (&'a str, f32)>) -> Vec<f32> {
        let k = self.header.dim;
        let mut out = vec![0f32; k];
        let mut weights: Vec<(u32, f32)> = features
            .filter_map(|(t, c)| {
                let tf = if c >= 1.0 { 1.0 + c.ln() } else { c };
                self.index
                    .get(t)
                    .map(|&i| (i, tf * self.header.features[i as usize].1))
            })
            .collect();
        // Summation order must not depend on hash order, or the output would vary
        // in the last bits between runs.
        weights.sort_unstable_by_key(|(i, _)| *i);
        let norm = weights.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm == 0.0 {
            return out;
        }
        for (i, w) in weights {
            let row = &self.proj[i as usize * k..(i as usize + 1) * k];
            let w = w / norm;
            for (o, r) in out.iter_mut().zip(row) {
                *o += w * r;
            }
        }
        l2_normalize(&mut out);
        out
    }

    fn embed_text(&self, text: &str) -> Vec<f32> {
        let f = features_of(&self.analyzer, text, self.header.config.bigrams);
        self.project(f.iter().map(String::as_str))
    }
}

fn tfidf_row<'a>(
    index: &HashMap<String, u32>,
    idf: &[f32],
    tokens: impl Iterator<Item = &'a str>,
) -> Vec<(u32, f32)> {
    let mut row: Vec<(u32, f32)> = term_counts(tokens)
        .into_iter()
        .filter_map(|(t, c)| {
            index
                .get(t)
                .map(|&i| (i, (1.0 + (c as f32).ln()) * idf[i as usize]))
        })
        .collect();
    row.sort_unstable_by_key(|(i, _)| *i);
    let norm = row.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut row {
            *w /= norm;
        }
    }
    row
}

impl Embedder for LocalEmbedder {
    fn model_id(&self) -> String {
        let c = &self.header.config;
        format!(
            "local-lsa/v{}:dim={},features={},alpha={},bigrams={},seed={:x}",
            self.header.format,
            self.header.dim,
            self.header.features.len(),
            c.alpha,
            c.bigrams,
            c.seed
        )
    }

    fn dim(&self) -> usize {
        self.header.dim
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| self.embed_text(t)).collect())
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embed_text(text))
    }

    fn embed_analyzed(&self, text: &str, analyzed: &AnalyzedQuery) -> Result<Vec<f32>> {
        if self.header.config.bigrams && analyzed.grams.is_empty() && !analyzed.words.is_empty() {
            // The lexical side skipped bigrams; analyse afresh rather than lose them.
            return self.embed_query(text);
        }
        let mut feats: Vec<(String, f32)> = analyzed
            .words
            .iter()
            .map(|(w, n)| (format!("w:{w}"), *n))
            .collect();
        if self.header.config.bigrams {
            feats.extend(analyzed.grams.iter().map(|(g, n)| (format!("g:{g}"), *n)));
        }
        Ok(self.project_weighted(feats.iter().map(|(t, n)| (t.as_str(), *n))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<String> {
        let base = [
            "失业人员申领失业保险金应当办理失业登记",
            "失业保险金按月发放，失业登记后方可申领",
            "养老服务补贴根据老年照护需求评估等级发放",
            "老年照护需求评估等级为二级至六级的老人可以申请养老服务补贴",
            "残疾人居家养护服务面向重度残疾人",
            "重度残疾人可以申请居家养护服务补贴",
            "跨区非农就业补贴按月发放给农村富余劳动力",
            "农村富余劳动力跨区就业的，可以申请非农就业补贴",
        ];
        base.iter().map(|s| s.to_string()).collect()
    }

    /// Analyzer, corpus and a small training configuration shared by the tests.
    fn fixture() -> (Analyzer, Vec<String>, LsaConfig) {
        let cfg = LsaConfig {
            dim: 4,
            oversample: 2,
            min_df: 1,
            ..Default::default()
        };
        (Analyzer::new(), corpus(), cfg)
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn training_is_deterministic() {
        let (a, texts, cfg) = fixture();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let m1 = LocalEmbedder::train(&a, &refs, cfg).unwrap();
        let m2 = LocalEmbedder::train(&a, &refs, cfg).unwrap();
        assert_eq!(m1.proj, m2.proj);
        let q1 = m1.embed_query("失业了怎么领钱").unwrap();
        let q2 = m2.embed_query("失业了怎么领钱").unwrap();
        assert_eq!(q1, q2);
    }

    #[test]
    fn related_texts_are_closer_than_unrelated_ones() {
        let (a, texts, cfg) = fixture();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let m = LocalEmbedder::train(&a, &refs, cfg).unwrap();
        let docs = m.embed_documents(&refs).unwrap();
        let q = m.embed_query("老人评估后能拿补贴吗").unwrap();
        assert!(cos(&q, &docs[3]) > cos(&q, &docs[0]));
        assert!(cos(&docs[0], &docs[1]) > cos(&docs[0], &docs[4]));
    }

    #[test]
    fn save_and_load_round_trip() {
        let (a, texts, cfg) = fixture();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let m = LocalEmbedder::train(&a, &refs, cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        m.save(dir.path()).unwrap();
        let l = LocalEmbedder::load(dir.path(), &a).unwrap();
        assert_eq!(
            m.embed_query("失业登记").unwrap(),
            l.embed_query("失业登记").unwrap()
        );
        assert_eq!(m.model_id(), l.model_id());
    }

    #[test]
    fn a_header_whose_sizes_overflow_is_an_error_not_a_panic() {
        let (a, texts, cfg) = fixture();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let m = LocalEmbedder::train(&a, &refs, cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        m.save(dir.path()).unwrap();
        let hp = dir.path().join(HEADER_FILE);
        let mut header: serde_json::Value =
            serde_json::from_slice(&fs::read(&hp).unwrap()).unwrap();
        header["dim"] = serde_json::json!(usize::MAX / 2);
        fs::write(&hp, serde_json::to_vec(&header).unwrap()).unwrap();
        assert!(matches!(
            LocalEmbedder::load(dir.path(), &a),
            Err(Error::Embedding(_))
        ));
    }

    #[test]
    fn analyzed_and_raw_queries_agree() {
        let (a, texts, cfg) = fixture();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let m = LocalEmbedder::train(&a, &refs, cfg).unwrap();
        let q = "农村劳动力跨区就业补贴";
        let aq = AnalyzedQuery::new(&a, q, true);
        let x = m.embed_analyzed(q, &aq).unwrap();
        let y = m.embed_query(q).unwrap();
        for (p, r) in x.iter().zip(&y) {
            assert!((p - r).abs() < 1e-5);
        }
    }
}
