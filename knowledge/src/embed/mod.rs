//! Embeddings behind one trait.
//!
//! * [`LocalEmbedder`] — the embedded default: latent semantic analysis trained on
//!   the snapshot's own chunks when the snapshot is built, saved inside it.
//!   Deterministic, no network, microseconds per query.
//! * [`OpenAiEmbedder`] — any OpenAI-compatible `/v1/embeddings` endpoint (bge-m3
//!   or similar in production), with batching, retries and a dimension check.
//!
//! Both are synchronous: retrieval is CPU work measured in microseconds, and the
//! remote embedder drives its own small runtime. From async code, call them inside
//! `tokio::task::spawn_blocking`.

mod local;
mod openai;

pub use local::{LocalEmbedder, LsaConfig};
pub use openai::{OpenAiEmbedder, OpenAiEmbedderConfig};

use crate::error::Result;
use crate::lexical::AnalyzedQuery;

/// Turns text into dense vectors of a fixed dimension.
pub trait Embedder: Send + Sync {
    /// A string identifying the model and its parameters, recorded in manifests.
    fn model_id(&self) -> String;
    /// Output dimension.
    fn dim(&self) -> usize;
    /// Embeds documents (chunks) for indexing.
    ///
    /// # Errors
    /// Fails when the model or endpoint fails or returns a wrong dimension.
    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
    /// Embeds one query.
    ///
    /// # Errors
    /// As [`Embedder::embed_documents`].
    fn embed_query(&self, text: &str) -> Result<Vec<f32>>;
    /// Embeds a query whose tokens were already computed for the lexical channel.
    /// Embedders that work on tokens override this to skip a second analysis.
    ///
    /// # Errors
    /// As [`Embedder::embed_documents`].
    fn embed_analyzed(&self, text: &str, _analyzed: &AnalyzedQuery) -> Result<Vec<f32>> {
        self.embed_query(text)
    }
}

/// Scales `v` to unit length in place (leaves a zero vector alone).
pub fn l2_normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        for x in v {
            *x /= n;
        }
    }
}
