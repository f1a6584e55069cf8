//! Versioned, atomically published snapshots of the knowledge base.
//!
//! ```text
//! INDEX_DIR/
//!   CURRENT                 id of the published snapshot (replaced by rename)
//!   HISTORY                 published ids, oldest first (for rollback)
//!   snapshots/
//!     20261129T120000Z-3f2a…/   one complete snapshot
//!       manifest.json           counts, configs, per-file sizes and BLAKE3 sums
//!       documents.jsonl         every document with its chunks (source of truth)
//!       minhash.u32             MinHash signature of every chunk (precomputed)
//!       lexical/                tantivy index
//!       vectors/                exact vector table (or a qdrant-edge shard)
//!       embedder/               the trained local embedder
//!       analysis.json           user dictionary, stopwords, alias table
//!     .build-…/                 a build in progress (never read)
//! ```
//!
//! A build writes everything into a `.build-*` directory, writes the manifest
//! last, fsyncs, and renames the directory to its id. Publishing writes `CURRENT`
//! through a temporary file and a rename. A crash at any point therefore leaves
//! `CURRENT` naming a complete snapshot: readers never see a half-built one, and
//! the previous snapshot stays on disk for rollback.
//!
//! Opening checks every file against the manifest's size and BLAKE3 sum before
//! anything is used, and computes nothing that the build could have stored: the
//! chunk table comes from `documents.jsonl`, the MinHash signatures from
//! `minhash.u32`, the vectors are read as they are. A server keeps one open
//! [`Snapshot`] and swaps it when a new one is published (see [`crate::live`]).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::analysis::{Analyzer, DEFAULT_STOPWORDS, UserWord};
use crate::document::{DocKind, Document, DocumentMeta};
use crate::embed::{Embedder, LocalEmbedder, LsaConfig, OpenAiEmbedder, OpenAiEmbedderConfig};
use crate::error::{Error, Result};
use crate::expansion::QueryExpansion;
use crate::lexical::{self, Bm25Params, LexicalIndex};
use crate::records::{ChunkRecord, MINHASH_LEN};
use crate::retrieve::FusionParams;
#[cfg(feature = "qdrant-edge")]
use crate::vector::EdgeStore;
use crate::vector::{
    ExactStore, QdrantStore, QdrantStoreConfig, VectorPayload, VectorPoint, VectorStore,
};

const CURRENT: &str = "CURRENT";
const HISTORY: &str = "HISTORY";
const SNAPSHOTS: &str = "snapshots";
const MANIFEST: &str = "manifest.json";
const DOCUMENTS: &str = "documents.jsonl";
const ANALYSIS: &str = "analysis.json";
const MINHASH: &str = "minhash.u32";
const VECTORS: &str = "vectors";
/// Layout version written by this build. 2: precomputed MinHash signatures, the
/// exact vector store as the default, checksums verified on open.
pub const FORMAT: u32 = 2;

/// Which embedder a snapshot uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EmbeddingBackend {
    /// The corpus-trained LSA embedder, saved inside the snapshot.
    #[default]
    Local,
    /// An OpenAI-compatible endpoint (its API key is never written to disk).
    OpenAi(OpenAiEmbedderConfig),
}

/// Which vector store a snapshot uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VectorBackend {
    /// The exact in-process store inside the snapshot directory (the default).
    #[default]
    Exact,
    /// qdrant-edge inside the snapshot directory; needs the cargo feature
    /// `qdrant-edge` to build or open.
    Edge,
    /// A Qdrant server; the collection is `<collection>_<snapshot id>`.
    Qdrant(QdrantStoreConfig),
}

/// Everything a build needs besides the documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildOptions {
    /// Local embedder training parameters.
    pub lsa: LsaConfig,
    /// BM25 field boosts.
    pub bm25: Bm25Params,
    /// Fusion parameters.
    pub fusion: FusionParams,
    /// Extra jieba words (catalog names and aliases).
    pub user_words: Vec<(String, Option<usize>, Option<String>)>,
    /// Stopwords; `None` = the built-in list.
    pub stopwords: Option<Vec<String>>,
    /// Alias → canonical pairs for query expansion.
    pub expansions: Vec<(String, String)>,
    /// Lay word → statute words pairs for query expansion (`过世` → `死亡 注销`).
    /// Absent in manifests written before the table existed.
    #[serde(default)]
    pub lay_terms: Vec<(String, String)>,
    /// Embedder.
    pub embedding: EmbeddingBackend,
    /// Vector store.
    pub vectors: VectorBackend,
    /// Content hash of every source file, for incremental ingest.
    pub sources: BTreeMap<String, String>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            lsa: LsaConfig::default(),
            bm25: Bm25Params::default(),
            fusion: FusionParams::default(),
            user_words: Vec::new(),
            stopwords: None,
            expansions: Vec::new(),
            lay_terms: Vec::new(),
            embedding: EmbeddingBackend::Local,
            vectors: VectorBackend::Exact,
            sources: BTreeMap::new(),
        }
    }
}

/// One file of a snapshot, for integrity checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the snapshot directory.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// BLAKE3 of the content, hex.
    pub blake3: String,
}

/// What a snapshot holds; written last, so its presence marks a complete build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version.
    pub format: u32,
    /// Snapshot id.
    pub id: String,
    /// Build time (UTC, RFC 3339).
    pub created: String,
    /// Documents per kind.
    pub documents: BTreeMap<String, usize>,
    /// Total chunks.
    pub chunks: usize,
    /// Embedder identity.
    pub embedder: String,
    /// Embedding dimension.
    pub dim: usize,
    /// Build options (secrets stripped).
    pub options: BuildOptions,
    /// Seconds the build took.
    pub build_seconds: f64,
    /// Every file with size and checksum.
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AnalysisFile {
    user_words: Vec<(String, Option<usize>, Option<String>)>,
    stopwords: Option<Vec<String>>,
    expansions: Vec<(String, String)>,
    /// Absent in snapshots written before the lay-vocabulary table.
    #[serde(default)]
    lay_terms: Vec<(String, String)>,
}

/// An index directory holding snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotStore {
    root: PathBuf,
}

/// A snapshot that was written but perhaps not published.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    /// Its id.
    pub id: String,
    /// Its manifest.
    pub manifest: Manifest,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(bytes).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir);
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io(path))
}

fn sync_dir(dir: &Path) {
    // Directory fsync makes the rename durable on Linux; where it is unsupported the
    // rename is still atomic, only not yet durable, so a failure is not fatal.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn analyzer_from(
    user_words: &[(String, Option<usize>, Option<String>)],
    stopwords: &Option<Vec<String>>,
) -> Analyzer {
    let words: Vec<UserWord> = user_words
        .iter()
        .map(|(w, f, t)| UserWord {
            word: w.clone(),
            freq: *f,
            tag: t.clone(),
        })
        .collect();
    match stopwords {
        Some(s) => Analyzer::with_user_words(&words, s.iter().map(String::as_str)),
        None => Analyzer::with_user_words(&words, DEFAULT_STOPWORDS.lines()),
    }
}

fn collection_name(cfg: &QdrantStoreConfig, id: &str) -> String {
    format!(
        "{}_{}",
        cfg.collection,
        id.replace(['-', 'T'], "_").to_lowercase()
    )
}

impl SnapshotStore {
    /// A store rooted at `root` (created on first build).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SnapshotStore { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn snapshots_dir(&self) -> PathBuf {
        self.root.join(SNAPSHOTS)
    }

    /// Directory of snapshot `id`.
    pub fn dir_of(&self, id: &str) -> PathBuf {
        self.snapshots_dir().join(id)
    }

    /// Writes a new snapshot of `docs` without publishing it.
    ///
    /// # Errors
    /// I/O, indexing or embedding failures; nothing published changes.
    pub fn build(&self, docs: &[Document], options: &BuildOptions) -> Result<Built> {
        let started = Instant::now();
        let snaps = self.snapshots_dir();
        fs::create_dir_all(&snaps).map_err(io(&snaps))?;
        let content = content_hash(docs);
        let stamp = chrono::Utc::now()
            .format("%Y%m%dT%H%M%S%.3fZ")
            .to_string()
            .replace('.', "");
        let id = format!("{stamp}-{}", &content[..10]);
        let work = snaps.join(format!(".build-{id}"));
        if work.exists() {
            fs::remove_dir_all(&work).map_err(io(&work))?;
        }
        fs::create_dir_all(&work).map_err(io(&work))?;

        let result = self.build_into(&work, &id, docs, options, started);
        let manifest = match result {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_dir_all(&work);
                return Err(e);
            }
        };
        let dest = snaps.join(&id);
        fs::rename(&work, &dest).map_err(io(&dest))?;
        sync_dir(&snaps);
        Ok(Built { id, manifest })
    }

    fn build_into(
        &self,
        work: &Path,
        id: &str,
        docs: &[Document],
        options: &BuildOptions,
        started: Instant,
    ) -> Result<Manifest> {
        #[cfg(not(feature = "qdrant-edge"))]
        if options.vectors == VectorBackend::Edge {
            return Err(Error::BackendUnavailable {
                id: id.to_string(),
                backend: "qdrant-edge",
                feature: "qdrant-edge",
            });
        }
        let analyzer = analyzer_from(&options.user_words, &options.stopwords);
        // Documents: the source of truth, also reused by incremental ingest.
        let dp = work.join(DOCUMENTS);
        {
            let mut f = std::io::BufWriter::new(fs::File::create(&dp).map_err(io(&dp))?);
            for d in docs {
                serde_json::to_writer(&mut f, d).map_err(|e| Error::json(&dp, e))?;
                f.write_all(b"\n").map_err(io(&dp))?;
            }
            f.into_inner()
                .map_err(|e| Error::io(&dp, e.into_error()))?
                .sync_all()
                .map_err(io(&dp))?;
        }
        let ap = work.join(ANALYSIS);
        let analysis = AnalysisFile {
            user_words: options.user_words.clone(),
            stopwords: options.stopwords.clone(),
            expansions: options.expansions.clone(),
            lay_terms: options.lay_terms.clone(),
        };
        fs::write(
            &ap,
            serde_json::to_vec(&analysis).map_err(|e| Error::json(&ap, e))?,
        )
        .map_err(io(&ap))?;

        let records = records_of(docs, None)?;
        let mp = work.join(MINHASH);
        let mut sigs = Vec::with_capacity(records.len() * MINHASH_LEN * 4);
        for r in &records {
            for x in &r.minhash {
                sigs.extend_from_slice(&x.to_le_bytes());
            }
        }
        write_synced(&mp, &sigs)?;
        let t = Instant::now();
        lexical::build(&work.join("lexical"), &analyzer, &records)?;
        tracing::info!(seconds = t.elapsed().as_secs_f64(), "lexical index built");
        let t = Instant::now();

        let texts: Vec<String> = records.iter().map(embed_text).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let embedder: Box<dyn Embedder> = match &options.embedding {
            EmbeddingBackend::Local => {
                let m = LocalEmbedder::train(&analyzer, &refs, options.lsa)?;
                m.save(&work.join("embedder"))?;
                Box::new(m)
            }
            EmbeddingBackend::OpenAi(cfg) => Box::new(OpenAiEmbedder::new(cfg.clone())?),
        };
        tracing::info!(seconds = t.elapsed().as_secs_f64(), "embedder ready");
        let t = Instant::now();
        let vectors = embedder.embed_documents(&refs)?;
        let dim = embedder.dim();
        tracing::info!(seconds = t.elapsed().as_secs_f64(), "chunks embedded");
        let t = Instant::now();
        let store: Box<dyn VectorStore> = match &options.vectors {
            VectorBackend::Exact => Box::new(ExactStore::create(&work.join(VECTORS), dim)?),
            #[cfg(feature = "qdrant-edge")]
            VectorBackend::Edge => Box::new(EdgeStore::create(&work.join(VECTORS), dim)?),
            #[cfg(not(feature = "qdrant-edge"))]
            VectorBackend::Edge => {
                return Err(Error::BackendUnavailable {
                    id: id.to_string(),
                    backend: "qdrant-edge",
                    feature: "qdrant-edge",
                });
            }
            VectorBackend::Qdrant(cfg) => {
                let mut c = cfg.clone();
                c.collection = collection_name(cfg, id);
                Box::new(QdrantStore::connect(c, dim, true)?)
            }
        };
        let points: Vec<VectorPoint> = records
            .iter()
            .zip(vectors)
            .enumerate()
            .map(|(i, (r, v))| VectorPoint {
                id: i as u64,
                vector: v,
                payload: VectorPayload::of(r, &docs[r.doc as usize].meta.doc_id),
            })
            .collect();
        store.upsert(&points)?;
        store.flush()?;
        drop(store);
        tracing::info!(seconds = t.elapsed().as_secs_f64(), "vectors stored");

        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for d in docs {
            *counts
                .entry(d.meta.kind.unwrap_or(DocKind::Policy).as_str().to_string())
                .or_insert(0) += 1;
        }
        let mut opts = options.clone();
        if let EmbeddingBackend::OpenAi(c) = &mut opts.embedding {
            c.api_key.clear();
        }
        if let VectorBackend::Qdrant(c) = &mut opts.vectors {
            c.api_key = None;
        }
        // The alias table and dictionary live in analysis.json; keep the manifest small.
        opts.user_words.clear();
        opts.expansions.clear();
        opts.lay_terms.clear();
        opts.stopwords = None;
        let manifest = Manifest {
            format: FORMAT,
            id: id.to_string(),
            created: chrono::Utc::now().to_rfc3339(),
            documents: counts,
            chunks: records.len(),
            embedder: embedder.model_id(),
            dim,
            options: opts,
            build_seconds: started.elapsed().as_secs_f64(),
            files: list_files(work)?,
        };
        let mp = work.join(MANIFEST);
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::json(&mp, e))?;
        let mut f = fs::File::create(&mp).map_err(io(&mp))?;
        f.write_all(&bytes)
            .and_then(|_| f.sync_all())
            .map_err(io(&mp))?;
        sync_dir(work);
        Ok(manifest)
    }

    /// Makes `id` the snapshot that readers open. Atomic: a reader sees either the
    /// old id or the new one.
    ///
    /// # Errors
    /// When `id` is not a complete snapshot, or on I/O failure.
    pub fn publish(&self, id: &str) -> Result<()> {
        self.read_manifest(id)?;
        let mut history = self.history()?;
        if history.last().map(String::as_str) != Some(id) {
            history.push(id.to_string());
        }
        write_atomically(
            &self.root.join(HISTORY),
            (history.join("\n") + "\n").as_bytes(),
        )?;
        write_atomically(&self.root.join(CURRENT), format!("{id}\n").as_bytes())
    }

    /// Publishes the snapshot that was current before the current one, and returns
    /// its id.
    ///
    /// # Errors
    /// When there is nothing to roll back to.
    pub fn rollback(&self) -> Result<String> {
        let current = self
            .current_id()?
            .ok_or_else(|| Error::NoSnapshot(self.root.clone()))?;
        let mut history = self.history()?;
        while history.last().is_some_and(|h| *h == current) {
            history.pop();
        }
        let previous = history
            .last()
            .cloned()
            .ok_or_else(|| Error::CorruptSnapshot {
                id: current.clone(),
                reason: "no earlier published snapshot to roll back to".into(),
            })?;
        self.read_manifest(&previous)?;
        write_atomically(
            &self.root.join(HISTORY),
            (history.join("\n") + "\n").as_bytes(),
        )?;
        write_atomically(&self.root.join(CURRENT), format!("{previous}\n").as_bytes())?;
        Ok(previous)
    }

    /// Published ids, oldest first.
    ///
    /// # Errors
    /// I/O failure other than the file being absent.
    pub fn history(&self) -> Result<Vec<String>> {
        let p = self.root.join(HISTORY);
        match fs::read_to_string(&p) {
            Ok(s) => Ok(s
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::io(p, e)),
        }
    }

    /// The published snapshot id, if any.
    ///
    /// # Errors
    /// I/O failure other than the file being absent.
    pub fn current_id(&self) -> Result<Option<String>> {
        let p = self.root.join(CURRENT);
        match fs::read_to_string(&p) {
            Ok(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(p, e)),
        }
    }

    /// Complete snapshots on disk (builds in progress are not listed), oldest first.
    ///
    /// # Errors
    /// I/O failure.
    pub fn list(&self) -> Result<Vec<String>> {
        let dir = self.snapshots_dir();
        let mut ids = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ids),
            Err(e) => return Err(Error::io(dir, e)),
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.starts_with('.') && e.path().join(MANIFEST).is_file() {
                ids.push(name);
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Reads the manifest of `id`.
    ///
    /// # Errors
    /// When the snapshot is missing or incomplete.
    pub fn read_manifest(&self, id: &str) -> Result<Manifest> {
        if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
            return Err(Error::InvalidArgument {
                what: "snapshot id",
                value: id.into(),
                expected: "an id listed by the store",
            });
        }
        let p = self.dir_of(id).join(MANIFEST);
        let bytes = fs::read(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::CorruptSnapshot {
                id: id.into(),
                reason: "no manifest (incomplete build?)".into(),
            },
            _ => Error::io(&p, e),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| Error::json(p, e))
    }

    /// Recomputes every checksum of `id` against its manifest.
    ///
    /// # Errors
    /// [`Error::CorruptSnapshot`] naming the first file that differs.
    pub fn verify(&self, id: &str) -> Result<()> {
        let m = self.read_manifest(id)?;
        verified_files(&self.dir_of(id), &m, &[]).map(|_| ())
    }

    /// The documents of snapshot `id`, read without opening its indexes (what
    /// incremental ingest needs; works for snapshots of any format and backend).
    ///
    /// # Errors
    /// Missing snapshot, unreadable or malformed `documents.jsonl`.
    pub fn load_documents(&self, id: &str) -> Result<Vec<Document>> {
        self.read_manifest(id)?;
        read_documents(&self.dir_of(id).join(DOCUMENTS))
    }

    /// The options that rebuild snapshot `id` as it was built (dictionary, stopwords
    /// and aliases included; secrets are not stored, so remote backends need their
    /// keys set again).
    ///
    /// # Errors
    /// Missing snapshot or unreadable `analysis.json`.
    pub fn build_options_of(&self, id: &str) -> Result<BuildOptions> {
        let m = self.read_manifest(id)?;
        let ap = self.dir_of(id).join(ANALYSIS);
        let analysis: AnalysisFile = serde_json::from_slice(&fs::read(&ap).map_err(io(&ap))?)
            .map_err(|e| Error::json(&ap, e))?;
        let mut o = m.options;
        o.user_words = analysis.user_words;
        o.stopwords = analysis.stopwords;
        o.expansions = analysis.expansions;
        o.lay_terms = analysis.lay_terms;
        Ok(o)
    }

    /// Opens the published snapshot.
    ///
    /// # Errors
    /// [`Error::NoSnapshot`] when nothing is published.
    pub fn open_current(&self) -> Result<Snapshot> {
        let id = self
            .current_id()?
            .ok_or_else(|| Error::NoSnapshot(self.root.clone()))?;
        self.open(&id)
    }

    /// Opens snapshot `id` (published or not).
    ///
    /// # Errors
    /// Missing or incomplete snapshot, or unreadable parts.
    pub fn open(&self, id: &str) -> Result<Snapshot> {
        self.open_with(id, None, None)
    }

    /// Opens snapshot `id` with secrets for remote backends (API keys are never
    /// stored in the manifest). Every file is checked against the manifest first.
    /// Blocking: from async code, run it in `spawn_blocking` (or let
    /// [`crate::LiveSnapshot`] do it).
    ///
    /// # Errors
    /// [`Error::UnsupportedFormat`] for a snapshot of another layout version,
    /// [`Error::BackendUnavailable`] for a backend this build lacks,
    /// [`Error::CorruptSnapshot`] when a file differs from the manifest or the parts
    /// disagree with each other; I/O errors.
    pub fn open_with(
        &self,
        id: &str,
        embedding_api_key: Option<&str>,
        qdrant_api_key: Option<&str>,
    ) -> Result<Snapshot> {
        let manifest = self.read_manifest(id)?;
        if manifest.format != FORMAT {
            return Err(Error::UnsupportedFormat {
                id: id.into(),
                found: manifest.format,
                supported: FORMAT,
            });
        }
        #[cfg(not(feature = "qdrant-edge"))]
        if manifest.options.vectors == VectorBackend::Edge {
            return Err(Error::BackendUnavailable {
                id: id.into(),
                backend: "qdrant-edge",
                feature: "qdrant-edge",
            });
        }
        let corrupt = |reason: String| Error::CorruptSnapshot {
            id: id.into(),
            reason,
        };
        let dir = self.dir_of(id);
        let exact_header = format!("{VECTORS}/{}", crate::vector::exact::HEADER_FILE);
        let exact_table = format!("{VECTORS}/{}", crate::vector::exact::VECTORS_FILE);
        let mut needed = vec![DOCUMENTS, ANALYSIS, MINHASH];
        if manifest.options.vectors == VectorBackend::Exact {
            needed.extend([exact_header.as_str(), exact_table.as_str()]);
        }
        let mut bytes = verified_files(&dir, &manifest, &needed).map_err(|e| match e {
            Error::CorruptSnapshot { reason, .. } => corrupt(reason),
            other => other,
        })?;
        let mut take = |name: &str| bytes.remove(name).unwrap_or_default();
        let ap = dir.join(ANALYSIS);
        let analysis: AnalysisFile =
            serde_json::from_slice(&take(ANALYSIS)).map_err(|e| Error::json(&ap, e))?;
        let analyzer = analyzer_from(&analysis.user_words, &analysis.stopwords);
        let dp = dir.join(DOCUMENTS);
        let documents = parse_documents(&dp, &take(DOCUMENTS))?;
        let sigs = take(MINHASH);
        let records = records_of(&documents, Some(&sigs)).map_err(|e| match e {
            Error::CorruptSnapshot { reason, .. } => corrupt(reason),
            other => other,
        })?;
        if records.len() != manifest.chunks {
            return Err(corrupt(format!(
                "{} chunks on disk, manifest says {}",
                records.len(),
                manifest.chunks
            )));
        }
        let metas: Vec<DocumentMeta> = documents.into_iter().map(|d| d.meta).collect();
        let lexical = LexicalIndex::open(&dir.join("lexical"), &analyzer, records.len()).map_err(
            |e| match e {
                Error::CorruptSnapshot { reason, .. } => corrupt(reason),
                other => other,
            },
        )?;
        let embedder = match &manifest.options.embedding {
            EmbeddingBackend::Local => {
                SnapshotEmbedder::Local(LocalEmbedder::load(&dir.join("embedder"), &analyzer)?)
            }
            EmbeddingBackend::OpenAi(cfg) => {
                let mut c = cfg.clone();
                c.api_key = embedding_api_key.unwrap_or_default().to_string();
                SnapshotEmbedder::Remote(Box::new(OpenAiEmbedder::new(c)?))
            }
        };
        if embedder.as_dyn().dim() != manifest.dim {
            return Err(corrupt(format!(
                "embedder has dimension {}, manifest says {}",
                embedder.as_dyn().dim(),
                manifest.dim
            )));
        }
        let vectors = match &manifest.options.vectors {
            VectorBackend::Exact => {
                let store =
                    ExactStore::from_bytes(&take(&exact_header), &take(&exact_table), manifest.dim)
                        .map_err(|e| corrupt(e.to_string()))?;
                let n = store.count()?;
                if n != records.len() {
                    return Err(corrupt(format!("{n} vectors for {} chunks", records.len())));
                }
                SnapshotVectors::Exact(store)
            }
            #[cfg(feature = "qdrant-edge")]
            VectorBackend::Edge => {
                SnapshotVectors::Edge(Box::new(EdgeStore::open(&dir.join(VECTORS), manifest.dim)?))
            }
            #[cfg(not(feature = "qdrant-edge"))]
            VectorBackend::Edge => {
                return Err(Error::BackendUnavailable {
                    id: id.into(),
                    backend: "qdrant-edge",
                    feature: "qdrant-edge",
                });
            }
            VectorBackend::Qdrant(cfg) => {
                let mut c = cfg.clone();
                c.collection = collection_name(cfg, id);
                c.api_key = qdrant_api_key.map(String::from);
                SnapshotVectors::Qdrant(QdrantStore::connect(c, manifest.dim, false)?)
            }
        };
        let front_matter = front_matter_of(&records, metas.len());
        Ok(Snapshot {
            inner: Arc::new(SnapshotInner {
                id: id.to_string(),
                front_matter,
                fusion: manifest.options.fusion,
                manifest,
                analyzer,
                metas,
                records,
                lexical,
                embedder,
                vectors,
                expansions: QueryExpansion::new(analysis.expansions),
                lay_terms: QueryExpansion::new(analysis.lay_terms),
                dir,
            }),
        })
    }

    /// Deletes complete snapshots beyond the newest `keep` (never the current one or
    /// the one before it) and any leftover build directories. Returns what it removed.
    ///
    /// # Errors
    /// I/O failure.
    pub fn gc(&self, keep: usize) -> Result<Vec<String>> {
        let current = self.current_id()?;
        let history = self.history()?;
        let previous = history
            .iter()
            .rev()
            .find(|h| Some(*h) != current.as_ref())
            .cloned();
        let mut removed = Vec::new();
        let ids = self.list()?;
        let cut = ids.len().saturating_sub(keep);
        for id in &ids[..cut] {
            if Some(id) == current.as_ref() || Some(id) == previous.as_ref() {
                continue;
            }
            let d = self.dir_of(id);
            fs::remove_dir_all(&d).map_err(io(&d))?;
            removed.push(id.clone());
        }
        if let Ok(entries) = fs::read_dir(self.snapshots_dir()) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with(".build-") {
                    let _ = fs::remove_dir_all(e.path());
                    removed.push(name);
                }
            }
        }
        Ok(removed)
    }
}

fn read_documents(p: &Path) -> Result<Vec<Document>> {
    let bytes = fs::read(p).map_err(io(p))?;
    parse_documents(p, &bytes)
}

fn parse_documents(p: &Path, bytes: &[u8]) -> Result<Vec<Document>> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        Error::io(
            p,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        )
    })?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| Error::json(p, e)))
        .collect()
}

/// Marks the unlabelled records of documents that have at least one labelled record.
fn front_matter_of(records: &[ChunkRecord], n_docs: usize) -> Vec<bool> {
    let mut labelled = vec![false; n_docs];
    for r in records.iter().filter(|r| r.article.is_some()) {
        if let Some(slot) = labelled.get_mut(r.doc as usize) {
            *slot = true;
        }
    }
    records
        .iter()
        .map(|r| {
            let has_articles = labelled.get(r.doc as usize).copied().unwrap_or(false);
            (r.article.is_none() && has_articles) || is_purpose_clause(&r.text)
        })
        .collect()
}

/// The 立法目的 article that opens a rule (`第一条　为…，根据…，制定本办法。`). Like a
/// preamble it names the document's whole subject, so it matches every question about
/// the document, and it answers none of them: no condition, amount, material or
/// 期限 is ever stated there.
fn is_purpose_clause(text: &str) -> bool {
    let first = text.split('。').next().unwrap_or("");
    let blank = [' ', '\u{3000}', '\t', '\n', '\r'];
    let Some(mut body) = first.trim_start().strip_prefix("第一条") else {
        return false;
    };
    body = body.trim_start_matches(blank);
    // An article caption: `第一条（目的和依据）`.
    if let Some(rest) = body.strip_prefix('（')
        && let Some((_, after)) = rest.split_once('）')
    {
        body = after.trim_start_matches(blank);
    }
    body.starts_with('为')
        && ["制定本", "特制定", "制定此"]
            .iter()
            .any(|w| body.contains(w))
}

/// The chunk table. With `signatures` (the bytes of `minhash.u32`) the MinHash of
/// each chunk is read from there instead of being computed.
fn records_of(docs: &[Document], signatures: Option<&[u8]>) -> Result<Vec<ChunkRecord>> {
    let chunks: usize = docs.iter().map(|d| d.chunks.len()).sum();
    if let Some(sig) = signatures
        && sig.len() != chunks * MINHASH_LEN * 4
    {
        return Err(Error::CorruptSnapshot {
            id: String::new(),
            reason: format!(
                "{MINHASH} holds {} bytes, {chunks} chunks need {}",
                sig.len(),
                chunks * MINHASH_LEN * 4
            ),
        });
    }
    let mut out = Vec::with_capacity(chunks);
    for (i, d) in docs.iter().enumerate() {
        let doc = u32::try_from(i).map_err(|_| Error::InvalidArgument {
            what: "document count",
            value: docs.len().to_string(),
            expected: "at most 4294967295 documents",
        })?;
        match signatures {
            None => out.extend(ChunkRecord::from_document(doc, d)),
            Some(sig) => {
                for mut r in ChunkRecord::from_document_unhashed(doc, d) {
                    let at = out.len() * MINHASH_LEN * 4;
                    r.minhash = sig[at..at + MINHASH_LEN * 4]
                        .chunks_exact(4)
                        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect();
                    out.push(r);
                }
            }
        }
    }
    Ok(out)
}

/// Checks every file listed in `manifest` against its size and BLAKE3 sum, and
/// returns the bytes of those named in `keep` (so they are read once). A file in
/// `keep` that the manifest does not list is an error too.
fn verified_files(
    dir: &Path,
    manifest: &Manifest,
    keep: &[&str],
) -> Result<std::collections::HashMap<String, Vec<u8>>> {
    let corrupt = |reason: String| Error::CorruptSnapshot {
        id: manifest.id.clone(),
        reason,
    };
    if let Some(missing) = keep
        .iter()
        .find(|k| !manifest.files.iter().any(|f| f.path == **k))
    {
        return Err(corrupt(format!("the manifest does not list {missing}")));
    }
    let mut kept = std::collections::HashMap::new();
    for f in &manifest.files {
        let p = dir.join(&f.path);
        let bytes = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(corrupt(format!("{} is missing", f.path)));
            }
            Err(e) => return Err(Error::io(p, e)),
        };
        if bytes.len() as u64 != f.bytes || blake3::hash(&bytes).to_hex().as_str() != f.blake3 {
            return Err(corrupt(format!("{} differs from the manifest", f.path)));
        }
        if keep.contains(&f.path.as_str()) {
            kept.insert(f.path.clone(), bytes);
        }
    }
    Ok(kept)
}

/// The text a chunk is embedded from: title and heading path give the model the
/// context that a bare article lacks.
pub(crate) fn embed_text(r: &ChunkRecord) -> String {
    if r.text.starts_with(&r.title) {
        r.text.clone()
    } else {
        format!("{}\n{}", r.title, r.text)
    }
}

fn content_hash(docs: &[Document]) -> String {
    let mut h = blake3::Hasher::new();
    for d in docs {
        h.update(d.meta.doc_id.as_bytes());
        for c in &d.chunks {
            h.update(c.chunk_id.as_bytes());
        }
    }
    h.finalize().to_hex().to_string()
}

fn list_files(dir: &Path) -> Result<Vec<FileEntry>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).map_err(io(&d))? {
            let e = e.map_err(io(&d))?;
            let p = e.path();
            let ft = e.file_type().map_err(io(&p))?;
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                // Lock files are runtime state, not content.
                if rel.ends_with(".lock")
                    || rel.contains("/.tantivy-")
                    || rel.starts_with(".tantivy-")
                {
                    continue;
                }
                let bytes = fs::read(&p).map_err(io(&p))?;
                out.push(FileEntry {
                    path: rel,
                    bytes: bytes.len() as u64,
                    blake3: blake3::hash(&bytes).to_hex().to_string(),
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// An open, immutable snapshot. Cheap to clone; share it between threads.
#[derive(Clone)]
pub struct Snapshot {
    inner: Arc<SnapshotInner>,
}

struct SnapshotInner {
    id: String,
    manifest: Manifest,
    analyzer: Analyzer,
    metas: Vec<DocumentMeta>,
    records: Vec<ChunkRecord>,
    lexical: LexicalIndex,
    embedder: SnapshotEmbedder,
    vectors: SnapshotVectors,
    expansions: QueryExpansion,
    lay_terms: QueryExpansion,
    fusion: FusionParams,
    /// Per record: an unlabelled chunk (preamble, cover, attachment) of a document that
    /// has labelled articles. Such a chunk is a worse citation than the article that
    /// answers, so fusion weighs it down.
    front_matter: Vec<bool>,
    dir: PathBuf,
}

/// The embedder of an open snapshot; retrieval needs to know which ones do
/// network calls (those are awaited, not run on a blocking thread).
pub(crate) enum SnapshotEmbedder {
    Local(LocalEmbedder),
    Remote(Box<OpenAiEmbedder>),
}

impl SnapshotEmbedder {
    pub(crate) fn as_dyn(&self) -> &dyn Embedder {
        match self {
            SnapshotEmbedder::Local(e) => e,
            SnapshotEmbedder::Remote(e) => e.as_ref(),
        }
    }
}

/// The vector store of an open snapshot.
pub(crate) enum SnapshotVectors {
    Exact(ExactStore),
    #[cfg(feature = "qdrant-edge")]
    Edge(Box<EdgeStore>),
    Qdrant(QdrantStore),
}

impl SnapshotVectors {
    pub(crate) fn as_dyn(&self) -> &dyn VectorStore {
        match self {
            SnapshotVectors::Exact(v) => v,
            #[cfg(feature = "qdrant-edge")]
            SnapshotVectors::Edge(v) => v.as_ref(),
            SnapshotVectors::Qdrant(v) => v,
        }
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("id", &self.inner.id)
            .field("documents", &self.inner.metas.len())
            .field("chunks", &self.inner.records.len())
            .finish()
    }
}

impl Snapshot {
    /// Snapshot id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }
    /// Its manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }
    /// Document metadata, in snapshot order.
    pub fn documents(&self) -> &[DocumentMeta] {
        &self.inner.metas
    }
    /// Reads the full documents (with chunks) back from disk.
    ///
    /// # Errors
    /// I/O or JSON failure.
    pub fn load_documents(&self) -> Result<Vec<Document>> {
        read_documents(&self.inner.dir.join(DOCUMENTS))
    }
    /// The chunk table.
    pub fn records(&self) -> &[ChunkRecord] {
        &self.inner.records
    }

    /// Whether record `i` is front matter: unlabelled, in a document with articles.
    pub fn is_front_matter(&self, i: u32) -> bool {
        self.inner
            .front_matter
            .get(i as usize)
            .copied()
            .unwrap_or(false)
    }
    /// The analyzer (with this snapshot's user dictionary).
    pub fn analyzer(&self) -> &Analyzer {
        &self.inner.analyzer
    }
    /// The lexical index.
    pub fn lexical(&self) -> &LexicalIndex {
        &self.inner.lexical
    }
    /// The embedder.
    pub fn embedder(&self) -> &dyn Embedder {
        self.inner.embedder.as_dyn()
    }
    /// The vector store.
    pub fn vectors(&self) -> &dyn VectorStore {
        self.inner.vectors.as_dyn()
    }
    pub(crate) fn embedder_backend(&self) -> &SnapshotEmbedder {
        &self.inner.embedder
    }
    pub(crate) fn vector_backend(&self) -> &SnapshotVectors {
        &self.inner.vectors
    }
    /// True when a search may make network calls (a remote embedder or a Qdrant
    /// server); otherwise it is CPU work only.
    pub fn is_remote(&self) -> bool {
        matches!(self.inner.embedder, SnapshotEmbedder::Remote(_))
            || matches!(self.inner.vectors, SnapshotVectors::Qdrant(_))
    }
    /// The alias table.
    pub fn expansions(&self) -> &QueryExpansion {
        &self.inner.expansions
    }

    /// The lay-vocabulary table (`过世` → `死亡 注销`).
    pub fn lay_terms(&self) -> &QueryExpansion {
        &self.inner.lay_terms
    }
    /// Fusion parameters in effect.
    pub fn fusion(&self) -> FusionParams {
        self.inner.fusion
    }
    /// BM25 field boosts in effect.
    pub fn bm25(&self) -> Bm25Params {
        self.inner.manifest.options.bm25
    }
}

#[cfg(test)]
mod tests {
    use super::is_purpose_clause;

    #[test]
    fn the_opening_purpose_article_is_front_matter() {
        assert!(is_purpose_clause(
            "第一条　为规范本市临时救助工作，根据《社会救助暂行办法》，制定本办法。"
        ));
        assert!(is_purpose_clause(
            "第一条 为了保障困难群众基本生活，特制定本细则。"
        ));
        assert!(is_purpose_clause(
            "第一条（目的和依据）\n为减轻残疾儿童家庭康复负担，根据本市有关规定，制定本办法。"
        ));
    }

    #[test]
    fn other_articles_are_not() {
        // A first article that states a rule, not a purpose.
        assert!(!is_purpose_clause("第一条　本办法适用于本市户籍居民。"));
        // A later article that happens to open with 为.
        assert!(!is_purpose_clause(
            "第八条　为保障急需，街道可以先行救助，并制定本街道的工作规程。"
        ));
        // 制定 in a later sentence does not make a purpose clause.
        assert!(!is_purpose_clause(
            "第一条　为申请人提供帮助。区民政部门制定本区细则。"
        ));
    }
}
