//! `/metrics` in the Prometheus text format (version 0.0.4), written by hand: a handful of
//! counters and histograms do not justify a metrics framework and its global registry.
//!
//! Series: request latency per route (the route template, never the raw path, so that ids do
//! not become labels), tool and LLM latency and errors (recorded where the calls are made),
//! flow outcomes per matter, interactions per finished flow, 学习问答 answers and refusals.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use zhiban_agent_core::session::{SessionView, State as FlowState};
use zhiban_tools::timing::{BUCKETS, Series};

use super::AppState;

/// The service's own series.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (route, method, status) → count.
    requests: BTreeMap<(String, String, u16), u64>,
    /// route → latency.
    latency: BTreeMap<String, Series>,
    /// agent → sessions started.
    started: BTreeMap<String, u64>,
    /// (agent, state) → finished flows.
    outcomes: BTreeMap<(String, &'static str), u64>,
    /// agent → interactions of finished flows (as a histogram of counts).
    interactions: BTreeMap<String, Vec<u64>>,
    /// refused → count; latency.
    qa: BTreeMap<bool, u64>,
    qa_latency: Series,
}

/// Interaction-count buckets.
const INTERACTION_BUCKETS: &[u32] = &[2, 4, 6, 8, 10, 12, 15, 20, 30];

fn state_label(s: FlowState) -> &'static str {
    match s {
        FlowState::Active => "active",
        FlowState::Submitted => "submitted",
        FlowState::Ineligible => "ineligible",
        FlowState::Cancelled => "cancelled",
        FlowState::Handoff => "handoff",
    }
}

impl Metrics {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        f(&mut g)
    }

    /// A request finished.
    pub fn request(&self, route: &str, method: &str, status: u16, d: Duration) {
        self.with(|m| {
            *m.requests
                .entry((route.to_string(), method.to_string(), status))
                .or_default() += 1;
            m.latency
                .entry(route.to_string())
                .or_default()
                .observe(d, status < 500);
        });
    }

    /// A session was created.
    pub fn session_started(&self, agent: &str) {
        self.with(|m| *m.started.entry(agent.to_string()).or_default() += 1);
    }

    /// A turn ran; counts the outcome when it ended the flow.
    pub fn turn(&self, v: &SessionView) {
        if v.state != FlowState::Active {
            self.session_ended(v);
        }
    }

    /// A flow ended (a turn or a `DELETE`).
    pub fn session_ended(&self, v: &SessionView) {
        self.with(|m| {
            *m.outcomes
                .entry((v.agent.clone(), state_label(v.state)))
                .or_default() += 1;
            let h = m
                .interactions
                .entry(v.agent.clone())
                .or_insert_with(|| vec![0; INTERACTION_BUCKETS.len() + 1]);
            let i = INTERACTION_BUCKETS
                .iter()
                .position(|b| v.interactions <= *b)
                .unwrap_or(INTERACTION_BUCKETS.len());
            h[i] += 1;
        });
    }

    /// A 学习问答 answer was given.
    pub fn qa_answered(&self, refused: bool, d: Duration) {
        self.with(|m| {
            *m.qa.entry(refused).or_default() += 1;
            m.qa_latency.observe(d, true);
        });
    }

    /// The whole text exposition.
    pub fn render(&self, st: &AppState) -> String {
        let mut out = String::new();
        self.with(|m| {
            family(
                &mut out,
                "zhiban_http_requests_total",
                "counter",
                "HTTP requests by route template, method and status.",
            );
            for ((route, method, status), n) in &m.requests {
                let _ = writeln!(
                    out,
                    "zhiban_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {n}",
                    esc(route),
                    esc(method)
                );
            }
            family(
                &mut out,
                "zhiban_http_request_duration_seconds",
                "histogram",
                "Time from request to response, by route template.",
            );
            for (route, s) in &m.latency {
                histogram(
                    &mut out,
                    "zhiban_http_request_duration_seconds",
                    &format!("route=\"{}\"", esc(route)),
                    s,
                );
            }
            family(
                &mut out,
                "zhiban_sessions_started_total",
                "counter",
                "Sessions created, by agent.",
            );
            for (agent, n) in &m.started {
                let _ = writeln!(
                    out,
                    "zhiban_sessions_started_total{{agent=\"{}\"}} {n}",
                    esc(agent)
                );
            }
            family(
                &mut out,
                "zhiban_flow_outcomes_total",
                "counter",
                "Flows that ended, by agent (matter) and final state.",
            );
            for ((agent, state), n) in &m.outcomes {
                let _ = writeln!(
                    out,
                    "zhiban_flow_outcomes_total{{agent=\"{}\",state=\"{state}\"}} {n}",
                    esc(agent)
                );
            }
            family(
                &mut out,
                "zhiban_flow_interactions",
                "histogram",
                "Resident interactions a flow took until it ended, by agent.",
            );
            for (agent, h) in &m.interactions {
                let mut acc = 0;
                for (i, b) in INTERACTION_BUCKETS.iter().enumerate() {
                    acc += h[i];
                    let _ = writeln!(
                        out,
                        "zhiban_flow_interactions_bucket{{agent=\"{}\",le=\"{b}\"}} {acc}",
                        esc(agent)
                    );
                }
                acc += h[INTERACTION_BUCKETS.len()];
                let _ = writeln!(
                    out,
                    "zhiban_flow_interactions_bucket{{agent=\"{}\",le=\"+Inf\"}} {acc}\nzhiban_flow_interactions_count{{agent=\"{}\"}} {acc}",
                    esc(agent),
                    esc(agent)
                );
            }
            family(
                &mut out,
                "zhiban_qa_answers_total",
                "counter",
                "学习问答 answers, by whether the service refused for want of a basis.",
            );
            for (refused, n) in &m.qa {
                let _ = writeln!(out, "zhiban_qa_answers_total{{refused=\"{refused}\"}} {n}");
            }
            family(
                &mut out,
                "zhiban_qa_duration_seconds",
                "histogram",
                "Time to answer a 学习问答 question.",
            );
            histogram(&mut out, "zhiban_qa_duration_seconds", "", &m.qa_latency);
        });
        let tools = st.engine.tools().timings().snapshot();
        family(
            &mut out,
            "zhiban_tool_call_duration_seconds",
            "histogram",
            "Case-system tool invocations (tokens opened, line call, results sealed), by tool id.",
        );
        for (tool, s) in &tools {
            histogram(
                &mut out,
                "zhiban_tool_call_duration_seconds",
                &format!("tool=\"{}\"", esc(tool)),
                s,
            );
        }
        family(
            &mut out,
            "zhiban_tool_call_errors_total",
            "counter",
            "Tool invocations that failed, by tool id.",
        );
        for (tool, s) in &tools {
            let _ = writeln!(
                out,
                "zhiban_tool_call_errors_total{{tool=\"{}\"}} {}",
                esc(tool),
                s.errors
            );
        }
        if let Some(llm) = st.engine.llm() {
            let series = llm.timings().snapshot();
            family(
                &mut out,
                "zhiban_llm_call_duration_seconds",
                "histogram",
                "Calls to the model endpoint, by model.",
            );
            for (model, s) in &series {
                histogram(
                    &mut out,
                    "zhiban_llm_call_duration_seconds",
                    &format!("model=\"{}\"", esc(model)),
                    s,
                );
            }
            let stats = llm.stats();
            family(
                &mut out,
                "zhiban_llm_errors_total",
                "counter",
                "Model calls that failed, by cause.",
            );
            for (cause, n) in [
                ("timeout", stats.timeouts),
                ("endpoint", stats.endpoint_errors),
                ("guard_refused", stats.guard_refused),
                ("no_valid_command", stats.no_valid_command),
                ("rephrase_rejected", stats.rephrase_rejected),
            ] {
                let _ = writeln!(out, "zhiban_llm_errors_total{{cause=\"{cause}\"}} {n}");
            }
        }
        out
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, labels: &str, s: &Series) {
    let sep = if labels.is_empty() { "" } else { "," };
    for (le, n) in s.cumulative() {
        let le = if le.is_infinite() {
            "+Inf".to_string()
        } else {
            le.to_string()
        };
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {n}");
    }
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", s.sum);
    let _ = writeln!(out, "{name}_count{braces} {}", s.count);
    debug_assert_eq!(BUCKETS.len() + 1, s.cumulative().len());
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "运维", security(("bearer" = [])),
    responses((status = 200, description = "Prometheus 文本格式", content_type = "text/plain", body = String),
              (status = 401, body = super::openapi::ErrorBody), (status = 403, body = super::openapi::ErrorBody),
              (status = 429, body = super::openapi::ErrorBody)))]
pub async fn scrape(State(st): State<AppState>) -> Response {
    let text = st.metrics.render(&st);
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Middleware: times every request under its route template and gives it a request id
/// (`X-Request-Id`, taken from the client when it sent a sane one), which the tracing span
/// carries. The span holds the route template, method and status, never bodies or paths with
/// ids in them.
pub async fn track(
    State(m): State<Arc<Metrics>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!("request", id = %request_id, route = %route, method = %method);
    let mut resp = tracing::Instrument::instrument(next.run(req), span.clone()).await;
    let status = resp.status().as_u16();
    let elapsed = started.elapsed();
    m.request(&route, &method, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            "request done"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
