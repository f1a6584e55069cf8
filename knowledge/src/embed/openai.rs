//! Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint.
//!
//! Production points this at bge-m3 (or a similar model) served by vLLM, Xinference,
//! TEI or a cloud API. Inputs go out in batches; a failed batch is retried a bounded
//! number of times with exponential backoff, every attempt and every pause inside
//! the caller's deadline; every returned vector is checked against the configured
//! dimension, so a model swap behind the same URL is caught at once instead of
//! silently corrupting the vector store.
//!
//! Async callers use [`OpenAiEmbedder::embed_async`]; the synchronous [`Embedder`]
//! methods go through the crate's one blocking boundary (a private runtime thread,
//! started on first use), so they are safe to call anywhere but block the calling
//! thread.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::{CreateEmbeddingRequest, EmbeddingInput};

use super::{Embedder, l2_normalize};
use crate::bridge::SyncBridge;
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
    config: Arc<OpenAiEmbedderConfig>,
    /// For async callers, on their runtime.
    client: Client<OpenAIConfig>,
    /// For synchronous callers: a client of its own on the bridge's runtime, so
    /// that no connection is shared between two runtimes.
    sync: OnceLock<(SyncBridge, Client<OpenAIConfig>)>,
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

fn client_for(config: &OpenAiEmbedderConfig) -> Result<Client<OpenAIConfig>> {
    let http = reqwest::Client::builder()
        .timeout(config.timeout)
        .build()
        .map_err(|e| Error::Embedding(format!("HTTP client: {e}")))?;
    let oa = OpenAIConfig::new()
        .with_api_base(config.base_url.trim_end_matches('/'))
        .with_api_key(config.api_key.clone());
    // async-openai's own backoff retries only rate limits, for minutes; ours is
    // bounded by the deadline, so switch its backoff off.
    let backoff = backoff::ExponentialBackoffBuilder::new()
        .with_max_elapsed_time(Some(Duration::from_millis(1)))
        .build();
    Ok(Client::with_config(oa)
        .with_http_client(http)
        .with_backoff(backoff))
}

const FIRST_PAUSE: Duration = Duration::from_millis(200);

impl OpenAiEmbedder {
    /// Creates the client. No request is made until the first embedding, and no
    /// thread or runtime is started until the first synchronous call.
    ///
    /// # Errors
    /// When the HTTP client cannot be created.
    pub fn new(config: OpenAiEmbedderConfig) -> Result<Self> {
        let client = client_for(&config)?;
        Ok(OpenAiEmbedder {
            config: Arc::new(config),
            client,
            sync: OnceLock::new(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiEmbedderConfig {
        &self.config
    }

    /// How long a synchronous call may take in the worst case: every attempt timing
    /// out, with the pauses between them. Used where the caller gives no deadline.
    pub fn worst_case(&self) -> Duration {
        let attempts = self.config.max_attempts.max(1);
        let pauses: Duration = (0..attempts.saturating_sub(1))
            .map(|i| FIRST_PAUSE * 2u32.saturating_pow(i))
            .sum();
        self.config.timeout * attempts + pauses
    }

    /// Embeds `texts` (in batches) on the caller's runtime, all of it before
    /// `deadline`.
    ///
    /// # Errors
    /// [`Error::DeadlineExceeded`] when the deadline passes first; the endpoint's
    /// failures after the configured attempts; a wrong dimension (not retried).
    pub async fn embed_async(&self, texts: &[&str], deadline: Instant) -> Result<Vec<Vec<f32>>> {
        let owned: Vec<String> = texts.iter().map(|s| s.to_string()).collect();
        embed_all(&self.client, &self.config, &owned, deadline).await
    }

    /// [`OpenAiEmbedder::embed_async`] for synchronous callers, through the crate's
    /// blocking boundary.
    ///
    /// # Errors
    /// As [`OpenAiEmbedder::embed_async`].
    pub fn embed_within(&self, texts: &[&str], deadline: Instant) -> Result<Vec<Vec<f32>>> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (bridge, client) = self.sync_side()?;
        let client = client.clone();
        let config = self.config.clone();
        let owned: Vec<String> = texts.iter().map(|s| s.to_string()).collect();
        bridge.run(deadline, async move {
            embed_all(&client, &config, &owned, deadline).await
        })
    }

    fn sync_side(&self) -> Result<&(SyncBridge, Client<OpenAIConfig>)> {
        if let Some(s) = self.sync.get() {
            return Ok(s);
        }
        let made = (
            SyncBridge::start("zhiban-embed-sync")?,
            client_for(&self.config)?,
        );
        // A racing thread may have set it first; either value is equivalent.
        let _ = self.sync.set(made);
        self.sync
            .get()
            .ok_or_else(|| Error::Runtime("embedding bridge not initialised".into()))
    }
}

async fn embed_all(
    client: &Client<OpenAIConfig>,
    config: &OpenAiEmbedderConfig,
    texts: &[String],
    deadline: Instant,
) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(texts.len());
    for batch in texts.chunks(config.batch_size.max(1)) {
        out.extend(embed_batch(client, config, batch, deadline).await?);
    }
    Ok(out)
}

async fn embed_batch(
    client: &Client<OpenAIConfig>,
    config: &OpenAiEmbedderConfig,
    batch: &[String],
    deadline: Instant,
) -> Result<Vec<Vec<f32>>> {
    let req = CreateEmbeddingRequest {
        model: config.model.clone(),
        input: EmbeddingInput::StringArray(batch.to_vec()),
        encoding_format: None,
        user: None,
        dimensions: None,
    };
    let attempts = config.max_attempts.max(1);
    let mut pause = FIRST_PAUSE;
    let mut last = String::new();
    for attempt in 1..=attempts {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::DeadlineExceeded);
        }
        let timed = tokio::time::timeout(
            config.timeout.min(left),
            client.embeddings().create(req.clone()),
        )
        .await;
        match timed {
            Ok(Ok(resp)) => {
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
                    if e.embedding.len() != config.dim {
                        return Err(Error::DimensionMismatch {
                            expected: config.dim,
                            got: e.embedding.len(),
                        });
                    }
                    let mut v = e.embedding;
                    l2_normalize(&mut v);
                    out[i] = v;
                }
                if out.iter().any(Vec::is_empty) {
                    return Err(Error::Embedding(
                        "endpoint returned the same index twice".into(),
                    ));
                }
                return Ok(out);
            }
            Ok(Err(e)) => last = e.to_string(),
            Err(_) if Instant::now() >= deadline => return Err(Error::DeadlineExceeded),
            Err(_) => last = format!("no answer within {:?}", config.timeout),
        }
        tracing::warn!(attempt, error = %last, "embedding request failed");
        if attempt < attempts {
            // A pause that would end past the deadline cannot lead to an answer.
            if Instant::now() + pause >= deadline {
                return Err(Error::DeadlineExceeded);
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }
    Err(Error::Embedding(format!(
        "{} failed after {} attempts: {last}",
        config.base_url, attempts
    )))
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
        // Each batch gets the worst-case budget of one request: a build of many
        // batches must not share one deadline.
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch_size.max(1)) {
            out.extend(self.embed_within(batch, Instant::now() + self.worst_case())?);
        }
        Ok(out)
    }

    fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        let mut v = self.embed_within(&[text], Instant::now() + self.worst_case())?;
        v.pop()
            .ok_or_else(|| Error::Embedding("endpoint returned no vector".into()))
    }
}
