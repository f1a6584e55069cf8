//! Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint.
//!
//! Production points this at bge-m3 (or a similar model) served by vLLM, Xinference,
//! TEI or a cloud API. Inputs go out in batches; a failed batch is retried a bounded
//! number of times with exponential backoff; every returned vector is checked against
//! the configured dimension, so a model swap behind the same URL is caught at once
//! instead of silently corrupting the vector store.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::{CreateEmbeddingRequest, EmbeddingInput};

use super::{Embedder, l2_normalize};
use crate::error::{Error, Result};

/// Where and how to call the endpoint.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OpenAiEmbedderConfig {
    /// Base URL including `/v1`, e.g. `http://127.0.0.1:9997/v1`.
    pub base_url: String,
    /// API key (may be empty for local servers).
    pub api_key: String,
    /// Model name, e.g. `bge-m3`.
    pub model: String,
    /// Expected output dimension (1024 for bge-m3).
    pub dim: usize,
    /// Inputs per request.
    pub batch_size: usize,
    /// Attempts per batch (≥ 1).
    pub max_attempts: u32,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl OpenAiEmbedderConfig {
    /// A config with the given endpoint and model and sensible defaults
    /// (batches of 32, 3 attempts, 30 s timeout).
    pub fn new(base_url: impl Into<String>, model: impl Into<String>, dim: usize) -> Self {
        OpenAiEmbedderConfig {
            base_url: base_url.into(),
            api_key: String::new(),
            model: model.into(),
            dim,
            batch_size: 32,
            max_attempts: 3,
            timeout: Duration::from_secs(30),
        }
    }
}

/// An [`Embedder`] backed by an OpenAI-compatible endpoint.
pub struct OpenAiEmbedder {
    config: OpenAiEmbedderConfig,
    client: Client<OpenAIConfig>,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("base_url", &self.config.base_url)
            .field("model", &self.config.model)
            .field("dim", &self.config.dim)
            .finish()
    }
}

impl OpenAiEmbedder {
    /// Creates the client. No request is made until the first embedding.
    ///
    /// # Errors
    /// When the HTTP client or the private runtime cannot be created.
    pub fn new(config: OpenAiEmbedderConfig) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| Error::Embedding(format!("HTTP client: {e}")))?;
        let oa = OpenAIConfig::new()
            .with_api_base(config.base_url.trim_end_matches('/'))
            .with_api_key(config.api_key.clone());
        // async-openai's own backoff retries only rate limits, for minutes; ours is
        // bounded, so switch its backoff off.
        let backoff = backoff::ExponentialBackoffBuilder::new()
            .with_max_elapsed_time(Some(Duration::from_millis(1)))
            .build();
        let client = Client::with_config(oa)
            .with_http_client(http)
            .with_backoff(backoff);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Embedding(format!("runtime: {e}")))?;
        Ok(OpenAiEmbedder {
            config,
            client,
            runtime,
        })
    }

    async fn embed_batch(&self, batch: &[&str]) -> Result<Vec<Vec<f32>>> {
        let req = CreateEmbeddingRequest {
            model: self.config.model.clone(),
            input: EmbeddingInput::StringArray(batch.iter().map(|s| s.to_string()).collect()),
            encoding_format: None,
            user: None,
            dimensions: None,
        };
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        for attempt in 1..=self.config.max_attempts.max(1) {
            match self.client.embeddings().create(req.clone()).await {
                Ok(resp) => {
                    if resp.data.len() != batch.len() {
                        return Err(Error::Embedding(format!(
                            "endpoint returned {} vectors for {} inputs",
                            resp.data.len(),
                            batch.len()
                        )));
                    }
                    let mut out = vec![Vec::new(); batch.len()];
                    for e in resp.data {
                        let i = e.index as usize;
                        if i >= out.len() {
                            return Err(Error::Embedding(format!(
                                "endpoint returned index {i} out of range"
                            )));
                        }
                        if e.embedding.len() != self.config.dim {
                            return Err(Error::DimensionMismatch {
                                expected: self.config.dim,
                                got: e.embedding.len(),
                            });
                        }
                        let mut v = e.embedding;
                        l2_normalize(&mut v);
                        out[i] = v;
                    }
                    return Ok(out);
                }
                Err(e) => {
                    last = e.to_string();
                    tracing::warn!(attempt, error = %last, "embedding request failed");
                    if attempt < self.config.max_attempts {
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
            }
        }
        Err(Error::Embedding(format!(
            "{} failed after {} attempts: {last}",
            self.config.base_url, self.config.max_attempts
        )))
    }
}

impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> String {
        format!(
            "openai-compatible:{}@{}:dim={}",
            self.config.model, self.config.base_url, self.config.dim
        )
    }

    fn dim(&self) -> usize {
        self.config.dim
    }

    fn embed_documents(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch_size.max(1)) {
            out.extend(self.runtime.block_on(self.embed_batch(batch))?);
        }
        Ok(out)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        let mut v = self.runtime.block_on(self.embed_batch(&[text]))?;
        v.pop()
            .ok_or_else(|| Error::Embedding("endpoint returned no vector".into()))
    }
}
