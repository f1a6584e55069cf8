//! The axum server: routes, the recording, and playing a script's reply.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, OriginalUri, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::openai::{self, Answer, Call, Head};
use crate::script::{ChatView, Compiled, content_text};
use crate::{Config, EmptyKind, Error, RecordedRequest, Reply, Script};

struct Shared {
    model: String,
    embedding_dim: usize,
    piece_chars: usize,
    state: Mutex<St>,
    /// Flips to `true` once on shutdown; hung and sleeping handlers watch it so a
    /// graceful shutdown does not wait on them forever.
    stop: watch::Sender<bool>,
}

struct St {
    log: Vec<RecordedRequest>,
    seq: u64,
    script: Compiled,
    /// Chat requests since the script was loaded, for `nth`.
    chat_calls: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, St> {
        // A panic while holding the lock leaves only a log and counters behind,
        // which stay usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps, or returns `false` early when the server stops.
    async fn sleep(&self, ms: u64) -> bool {
        let mut rx = self.stop.subscribe();
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms)) => true,
            _ = rx.wait_for(|s| *s) => false,
        }
    }

    async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// The parts of a request the recording keeps.
struct Incoming {
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
}

impl St {
    fn record(&mut self, req: &Incoming, json: Value, rule: Option<usize>) -> u64 {
        self.seq += 1;
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &req.headers {
            let mut v = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if matches!(name.as_str(), "authorization" | "api-key" | "x-api-key") {
                v = match v.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} [redacted]"),
                    None => "[redacted]".into(),
                };
            }
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|old| {
                    old.push_str(", ");
                    old.push_str(&v);
                })
                .or_insert(v);
        }
        self.log.push(RecordedRequest {
            seq: self.seq,
            method: req.method.to_string(),
            path: req
                .uri
                .path_and_query()
                .map_or_else(|| req.uri.path().to_owned(), |p| p.to_string()),
            headers,
            body: json,
            body_text: String::from_utf8_lossy(&req.body).into_owned(),
            received_at_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            rule,
        });
        self.seq
    }
}

/// A running simulator. Dropping it stops the server too; [`Server::shutdown`]
/// also waits for it.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

/// Binds and starts serving in the background.
///
/// # Errors
/// When the script is invalid or the address cannot be bound.
pub async fn start(cfg: Config) -> Result<Server, Error> {
    let script = Compiled::new(cfg.script)?;
    let bind_err = |source| Error::Bind {
        addr: cfg.addr,
        source,
    };
    let listener = tokio::net::TcpListener::bind(cfg.addr)
        .await
        .map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let (stop, mut stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        model: cfg.model,
        embedding_dim: cfg.embedding_dim,
        piece_chars: cfg.stream_piece_chars.max(1),
        state: Mutex::new(St {
            log: Vec::new(),
            seq: 0,
            script,
            chat_calls: 0,
        }),
        stop,
    });
    let app = router(shared.clone());
    let task = tokio::spawn(async move {
        let graceful = async move {
            let _ = stop_rx.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(graceful)
            .await
        {
            tracing::warn!(error = %e, "llmsim server stopped with an error");
        }
    });
    tracing::debug!(%addr, "llmsim listening");
    Ok(Server {
        addr,
        shared,
        task: Some(task),
    })
}

impl Server {
    /// `http://127.0.0.1:PORT/v1`, ready for `OpenAIConfig::with_api_base`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every `/v1` request so far (since the last [`clear`](Self::clear)), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().log.clone()
    }

    /// Empties the recording.
    pub fn clear(&self) {
        self.shared.lock().log.clear();
    }

    /// Replaces the script, restarting its `times` and `nth` counts.
    ///
    /// # Errors
    /// When the script is invalid; the old one stays.
    pub fn set_script(&self, script: Script) -> Result<(), Error> {
        let compiled = Compiled::new(script)?;
        let mut st = self.shared.lock();
        st.script = compiled;
        st.chat_calls = 0;
        Ok(())
    }

    /// Stops accepting, ends hung requests, and waits (a few seconds at most) for
    /// in-flight ones.
    pub async fn shutdown(mut self) {
        self.shared.stop.send_replace(true);
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/models", get(models))
        .route("/v1/models/{id}", get(model))
        .route("/_requests", get(list_requests).delete(clear_requests))
        .route("/_script", put(load_script))
        .fallback(unknown)
        // Prompts with retrieved context can be large; the recording must see them whole.
        .layer(DefaultBodyLimit::max(64 << 20))
        .with_state(shared)
}

fn error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        Json(openai::error_body(status, Some(message), None, None)),
    )
        .into_response()
}

async fn chat(
    State(sh): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inc = Incoming {
        method,
        uri,
        headers,
        body,
    };
    let parsed: Value = serde_json::from_slice(&inc.body).unwrap_or(Value::Null);
    if !parsed.get("messages").is_some_and(Value::is_array) {
        sh.lock().record(&inc, parsed, None);
        return error(
            400,
            "We could not parse the JSON body of your request, or 'messages' is missing.",
        );
    }
    let view = ChatView::of(&parsed);
    let (seq, reply) = {
        let mut st = sh.lock();
        st.chat_calls += 1;
        let nth = st.chat_calls;
        let (rule, reply) = st.script.pick(&view, nth);
        (st.record(&inc, parsed.clone(), rule), reply)
    };
    play(&sh, seq, &reply, &parsed, &view).await
}

async fn play(sh: &Arc<Shared>, seq: u64, reply: &Reply, req: &Value, view: &ChatView) -> Response {
    if let Some(ms) = reply.latency_ms
        && !sh.sleep(ms).await
    {
        return error(503, "The simulator is shutting down.");
    }
    if reply.hang {
        sh.stopped().await;
        return error(503, "The simulator is shutting down.");
    }
    if let Some(status) = reply.status {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = openai::error_body(
            status,
            reply.error_message.as_deref(),
            reply.error_type.as_deref(),
            reply.error_code.as_deref(),
        );
        return (code, Json(body)).into_response();
    }
    let stream = req.get("stream").and_then(Value::as_bool) == Some(true);
    let include_usage = req
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    let prompt_tokens = req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| openai::token_estimate(&content_text(m.get("content"))))
        .sum();
    let head = Head {
        id: format!("chatcmpl-sim-{seq}"),
        created: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        model: req
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(&sh.model)
            .to_owned(),
        prompt_tokens,
    };
    let delay = reply.chunk_delay_ms.unwrap_or(0);

    if reply.malformed {
        let broken = format!(
            r#"{{"id": "{}", "object": "chat.completion", "choices": [{{"index": 0, "message": "#,
            head.id
        );
        return if stream {
            sse(sh, vec![broken], true, delay)
        } else {
            json_text(broken)
        };
    }
    if let Some(kind) = reply.empty {
        let no_choices = kind == EmptyKind::NoChoices;
        return if stream {
            let events = openai::empty_chunks(&head, no_choices);
            sse(
                sh,
                events.iter().map(Value::to_string).collect(),
                true,
                delay,
            )
        } else {
            Json(openai::empty_completion(&head, no_choices)).into_response()
        };
    }

    let answer = answer_of(reply, view, seq);
    if reply.truncated_stream {
        return if stream {
            let mut events = openai::chunks(&head, &answer, sh.piece_chars);
            // Keep the role chunk and at least one piece, never the finish chunk.
            let keep = (events.len() / 2).max(2).min(events.len() - 1);
            events.truncate(keep);
            sse(
                sh,
                events.iter().map(Value::to_string).collect(),
                false,
                delay,
            )
        } else {
            let full = openai::completion(&head, &answer).to_string();
            let mut cut = full.len() / 2;
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            json_text(full[..cut].to_owned())
        };
    }
    if stream {
        let mut events: Vec<String> = openai::chunks(&head, &answer, sh.piece_chars)
            .iter()
            .map(Value::to_string)
            .collect();
        if include_usage {
            events.push(openai::usage_chunk(&head, &answer).to_string());
        }
        sse(sh, events, true, delay)
    } else {
        Json(openai::completion(&head, &answer)).into_response()
    }
}

/// The reply's content with `{{last_user}}` filled in; the echo when it has none.
fn answer_of(reply: &Reply, view: &ChatView, seq: u64) -> Answer {
    let fill = |s: &str| s.replace("{{last_user}}", &view.last_user);
    let calls: Vec<Call> = reply
        .tool_call
        .iter()
        .chain(&reply.tool_calls)
        .enumerate()
        .map(|(i, c)| Call {
            id: format!("call_sim_{seq}_{i}"),
            name: c.name.clone(),
            arguments: match &c.arguments {
                Value::String(raw) => fill(raw),
                other => fill_strings(other, &fill).to_string(),
            },
        })
        .collect();
    let text = match &reply.text {
        Some(t) => Some(fill(t)),
        None if calls.is_empty() => Some(view.last_user.clone()),
        None => None,
    };
    Answer { text, calls }
}

/// Substitutes inside string leaves only, so the arguments stay valid JSON.
fn fill_strings(v: &Value, fill: &impl Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(fill(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_strings(x, fill)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), fill_strings(x, fill)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn json_text(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// An SSE body fed chunk by chunk from a task, so `chunk_delay_ms` is real time on
/// the wire and a client that goes away stops the producer.
fn sse(sh: &Arc<Shared>, events: Vec<String>, done: bool, delay_ms: u64) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let sh = sh.clone();
    tokio::spawn(async move {
        let tail = done.then(|| "[DONE]".to_owned());
        for (i, e) in events.into_iter().chain(tail).enumerate() {
            if i > 0 && delay_ms > 0 && !sh.sleep(delay_ms).await {
                break;
            }
            if tx
                .send(Bytes::from(format!("data: {e}\n\n")))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(ChunkStream(rx)),
    )
        .into_response()
}

struct ChunkStream(mpsc::Receiver<Bytes>);

impl futures_core::Stream for ChunkStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}

async fn embeddings(
    State(sh): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inc = Incoming {
        method,
        uri,
        headers,
        body,
    };
    let parsed: Value = serde_json::from_slice(&inc.body).unwrap_or(Value::Null);
    sh.lock().record(&inc, parsed.clone(), None);
    let inputs = match parsed.get("input").map(openai::embedding_inputs) {
        Some(Ok(i)) => i,
        Some(Err(m)) => return error(400, &m),
        None => return error(400, "'input' is a required property."),
    };
    if parsed.get("encoding_format").and_then(Value::as_str) == Some("base64") {
        return error(400, "The simulator only returns float embeddings.");
    }
    let dim = match parsed.get("dimensions") {
        None | Some(Value::Null) => sh.embedding_dim,
        Some(d) => match d.as_u64() {
            Some(n) if n > 0 => n as usize,
            _ => return error(400, "'dimensions' must be a positive integer."),
        },
    };
    let tokens: usize = inputs.iter().map(|s| openai::token_estimate(s)).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"object": "embedding", "index": i, "embedding": openai::embedding(s, dim)}))
        .collect();
    Json(json!({
        "object": "list",
        "data": data,
        "model": parsed.get("model").and_then(Value::as_str).unwrap_or(&sh.model),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .into_response()
}

fn model_object(id: &str) -> Value {
    json!({"id": id, "object": "model", "created": 0, "owned_by": "zhiban-llmsim"})
}

async fn models(
    State(sh): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    let inc = Incoming {
        method,
        uri,
        headers,
        body: Bytes::new(),
    };
    sh.lock().record(&inc, Value::Null, None);
    Json(json!({"object": "list", "data": [model_object(&sh.model)]})).into_response()
}

async fn model(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    let inc = Incoming {
        method,
        uri,
        headers,
        body: Bytes::new(),
    };
    sh.lock().record(&inc, Value::Null, None);
    if id == sh.model {
        Json(model_object(&id)).into_response()
    } else {
        error(404, &format!("The model '{id}' does not exist."))
    }
}

async fn unknown(
    State(sh): State<Arc<Shared>>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !uri.path().starts_with("/v1/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let inc = Incoming {
        method,
        uri,
        headers,
        body,
    };
    let parsed = serde_json::from_slice(&inc.body).unwrap_or(Value::Null);
    let path = inc.uri.path().to_owned();
    sh.lock().record(&inc, parsed, None);
    error(404, &format!("Unknown request URL: {path}."))
}

async fn list_requests(State(sh): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(sh.lock().log.clone())
}

async fn clear_requests(State(sh): State<Arc<Shared>>) -> StatusCode {
    sh.lock().log.clear();
    StatusCode::NO_CONTENT
}

async fn load_script(State(sh): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_toml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("toml"));
    let text = String::from_utf8_lossy(&body);
    let parsed = if is_toml {
        Script::from_toml(&text)
    } else {
        Script::from_json(&text)
    };
    match parsed.and_then(Compiled::new) {
        Ok(compiled) => {
            let mut st = sh.lock();
            st.script = compiled;
            st.chat_calls = 0;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}
