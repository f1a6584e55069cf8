//! End-to-end dialogues (one readable YAML per dialogue under `data/dialogues/`, like Rasa's e2e
//! tests), run over real HTTP against `zhiban serve`'s router with the reference case system
//! in-process, its test residents from `data/fixtures/residents.jsonl`, and the clock at
//! 2026-11-15. Each turn's expectations are checked; after each dialogue: the seed's bound was
//! kept, at most one 提交 reached the case system for that applicant, and no reply showed the
//! applicant's name or ID number in plaintext.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use zhiban_agent_core::materials::TextOnlyReader;
use zhiban_api::config::Config;
use zhiban_api::serve::launch::{Running, ServeOptions, start};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Dialogue {
    name: String,
    agent: String,
    #[serde(default)]
    applicant: Option<Value>,
    #[serde(default)]
    as_of: Option<String>,
    turns: Vec<TurnSpec>,
    #[serde(rename = "final")]
    end: Expect,
    /// Wording the parsers are not meant to understand: the dialogue runs only with the
    /// scripted model answering its turns' `llm` commands.
    #[serde(default)]
    llm_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TurnSpec {
    #[serde(default)]
    user: String,
    #[serde(default)]
    attachments: Vec<AttachmentSpec>,
    #[serde(default)]
    expect: Option<Expect>,
    /// The command a model would answer this turn with (`{name: set_slot, arguments: {…}}`):
    /// the scripted model replies with it when it sees the turn's text.
    #[serde(default)]
    llm: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachmentSpec {
    #[serde(rename = "ref")]
    reference: String,
    filename: String,
    mime: String,
    /// The document's text (the test reader reads it as the OCR result).
    text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    state: Option<String>,
    /// Field awaited next; `null` in YAML (`~`) for none.
    #[serde(default, deserialize_with = "some_option")]
    awaiting: Option<Option<String>>,
    #[serde(default)]
    form: BTreeMap<String, Value>,
    #[serde(default)]
    form_absent: Vec<String>,
    #[serde(default)]
    reply_contains: Vec<String>,
    #[serde(default)]
    reply_not_contains: Vec<String>,
    case_no: Option<bool>,
    #[serde(default)]
    tool_calls: Vec<String>,
    /// How many completed calls of a seed-named tool the session has made so far (a correction
    /// re-runs only the checks it affects).
    #[serde(default)]
    tool_counts: BTreeMap<String, usize>,
    #[serde(default)]
    citations: Option<bool>,
    #[serde(default)]
    materials: BTreeMap<String, String>,
}

fn some_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A service over `run` (sessions, keyring, the case system's state) and a shared `index` (built
/// once): each dialogue gets its own case system, so one dialogue's 提交 (an open 失业登记, say)
/// cannot change what the next one's 准入判断 sees.
async fn launch(
    run: &Path,
    index: &Path,
    llm: Option<zhiban_agent_core::llm::LlmConfig>,
) -> Running {
    let cfg = Config::default();
    let opts = ServeOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        today: Some("2026-11-15".parse().unwrap()),
        casesim_fixtures: Some(repo().join("data/fixtures/residents.jsonl")),
        casesim_bind: None,
        casesim_url: None,
        sessions: format!("sqlite://{}", run.join("sessions.db").display()),
        ttl: Duration::from_secs(3600),
        var_dir: run.join("var"),
        index_dir: index.to_path_buf(),
        data_dir: repo().join("data/policies"),
        reader: Arc::new(TextOnlyReader),
        llm,
        auth: None,
        cors_origins: Vec::new(),
        tls: None,
    };
    start(&cfg, opts, std::future::pending()).await.unwrap()
}

fn load_dialogues() -> Vec<(PathBuf, Dialogue)> {
    let mut files: Vec<PathBuf> = walk(&repo().join("data/dialogues"));
    files.sort();
    // `DIALOGUES=substring` runs only the files whose path contains it (while writing one).
    if let Ok(only) = std::env::var("DIALOGUES") {
        files.retain(|f| f.to_string_lossy().contains(only.as_str()));
    }
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let d: Dialogue =
                serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            (f, d)
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                out.push(p);
            }
        }
    }
    out
}

fn residents() -> BTreeMap<String, (String, String)> {
    let text = std::fs::read_to_string(repo().join("data/fixtures/residents.jsonl")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let id = v["id_number"].as_str().unwrap().to_string();
            (id.clone(), (v["name"].as_str().unwrap().to_string(), id))
        })
        .collect()
}

fn check(ctx: &str, want: &Expect, got: &Value, errors: &mut Vec<String>) {
    let mut fail = |m: String| errors.push(format!("{ctx}: {m}"));
    if let Some(s) = &want.state
        && got["state"] != json!(s)
    {
        fail(format!("state {} ≠ {s}", got["state"]));
    }
    if let Some(a) = &want.awaiting {
        let field = got["awaiting"]["field"].as_str().map(str::to_string);
        if &field != a {
            fail(format!("awaiting {field:?} ≠ {a:?}"));
        }
    }
    for (k, v) in &want.form {
        if &got["form"][k] != v {
            fail(format!("form.{k} = {} ≠ {v}", got["form"][k]));
        }
    }
    for k in &want.form_absent {
        if !got["form"][k].is_null() {
            fail(format!("form.{k} should be absent, is {}", got["form"][k]));
        }
    }
    let reply = got["reply"].as_str().unwrap_or("");
    for w in &want.reply_contains {
        if !reply.contains(w.as_str()) {
            fail(format!("reply lacks “{w}”: {reply}"));
        }
    }
    for w in &want.reply_not_contains {
        if reply.contains(w.as_str()) {
            fail(format!("reply contains “{w}”: {reply}"));
        }
    }
    if let Some(c) = want.case_no
        && got["case_no"].is_string() != c
    {
        fail(format!("case_no {}", got["case_no"]));
    }
    if !want.tool_calls.is_empty() {
        let calls: Vec<&str> = got["tool_calls"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|c| c["ok"] == json!(true))
                    .filter_map(|c| c["tool"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        let mut it = calls.iter();
        if !want.tool_calls.iter().all(|w| it.any(|c| c == w)) {
            fail(format!(
                "tool calls {calls:?} do not contain {:?} in order",
                want.tool_calls
            ));
        }
    }
    for (tool, n) in &want.tool_counts {
        let got_n = got["tool_calls"].as_array().map_or(0, |a| {
            a.iter()
                .filter(|c| c["ok"] == json!(true) && c["tool"] == json!(tool))
                .count()
        });
        if got_n != *n {
            fail(format!("{tool} ran {got_n} time(s), expected {n}"));
        }
    }
    if let Some(c) = want.citations {
        let n = got["citations"].as_array().map_or(0, Vec::len);
        if (n > 0) != c {
            fail(format!("citations: {n}"));
        }
    }
    for (k, status) in &want.materials {
        let found = got["materials"]
            .as_array()
            .and_then(|a| a.iter().rev().find(|m| m["kind"] == json!(k)))
            .map(|m| m["status"].clone());
        if found != Some(json!(status)) {
            fail(format!("material {k}: {found:?} ≠ {status}"));
        }
    }
}

/// How the model side is set up for a run.
enum ModelSide<'a> {
    /// No model: the deterministic path.
    None,
    /// A model that never helps (faults, text, disallowed commands): every dialogue.
    Faulty(zhiban_agent_core::llm::LlmConfig),
    /// The scripted model answering each turn's `llm` command: only dialogues that have one.
    Commands(zhiban_agent_core::llm::LlmConfig, &'a zhiban_llmsim::Server),
}

/// The script of a dialogue's `llm` commands: one rule per turn, matched on the turn's text;
/// anything else gets a plain text answer (no command, so the deterministic path).
fn commands_script(d: &Dialogue) -> zhiban_llmsim::Script {
    let rules: Vec<Value> = d
        .turns
        .iter()
        .filter_map(|t| {
            let c = t.llm.as_ref()?;
            Some(
                json!({"when": {"contains": t.user.trim(), "tools": ["cancel"]},
                        "reply": {"tool_call": c}}),
            )
        })
        .collect();
    zhiban_llmsim::Script::from_json(
        &json!({"rules": rules, "default": {"text": "好的"}}).to_string(),
    )
    .unwrap()
}

/// Runs every dialogue; returns the failures.
async fn run_dialogues(side: ModelSide<'_>) -> Vec<String> {
    let mut dialogues = load_dialogues();
    match &side {
        ModelSide::Commands(..) => {
            dialogues.retain(|(_, d)| d.turns.iter().any(|t| t.llm.is_some()))
        }
        _ => dialogues.retain(|(_, d)| !d.llm_only),
    }
    assert!(!dialogues.is_empty(), "no dialogues under data/dialogues");
    let llm = match &side {
        ModelSide::None => None,
        ModelSide::Faulty(c) | ModelSide::Commands(c, _) => Some(c.clone()),
    };
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("index");
    let http = reqwest::Client::new();
    let people = residents();
    // `DIALOGUE_TRACE=1` prints every reply (to see why a turn failed).
    let trace = std::env::var("DIALOGUE_TRACE").is_ok();
    let mut errors = Vec::new();
    let mut per_agent: BTreeMap<String, usize> = BTreeMap::new();
    for (n, (file, d)) in dialogues.iter().enumerate() {
        if let ModelSide::Commands(_, sim) = &side {
            sim.set_script(commands_script(d)).unwrap();
        }
        let app = launch(&tmp.path().join(format!("run{n}")), &index, llm.clone()).await;
        let base = format!("http://{}", app.addr);
        let sim = app.casesim_url.clone().unwrap();
        let ctx = format!(
            "{} ({})",
            d.name,
            file.file_name().unwrap().to_string_lossy()
        );
        *per_agent.entry(d.agent.clone()).or_default() += 1;
        http.delete(format!("{sim}/_requests"))
            .send()
            .await
            .unwrap();
        let mut body = json!({"channel": "map"});
        if let Some(a) = &d.applicant {
            body["metadata"] = json!({"applicant": a});
        }
        if let Some(a) = &d.as_of {
            body["as_of"] = json!(a);
        }
        let r = http
            .post(format!("{base}/v1/agents/{}/sessions", d.agent))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{ctx}");
        let mut got: Value = r.json().await.unwrap();
        let id = got["session_id"].as_str().unwrap().to_string();
        let mut replies = vec![got["reply"].as_str().unwrap_or("").to_string()];
        if trace {
            println!(
                "[{ctx} 0] → {} awaiting={}\n{}\n",
                got["state"], got["awaiting"]["field"], replies[0]
            );
        }
        for (i, t) in d.turns.iter().enumerate() {
            use base64::Engine as _;
            let atts: Vec<Value> = t
                .attachments
                .iter()
                .map(|a| json!({"ref": a.reference, "filename": a.filename, "mime": a.mime,
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(a.text.as_bytes())}))
                .collect();
            let r = http
                .post(format!("{base}/v1/sessions/{id}/messages"))
                .json(&json!({"text": t.user, "attachments": atts}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            got = r.json().await.unwrap();
            if status != 200 {
                errors.push(format!("{ctx} turn {}: HTTP {status}: {got}", i + 1));
                break;
            }
            replies.push(got["reply"].as_str().unwrap_or("").to_string());
            if trace {
                println!(
                    "[{ctx} {}] «{}» → {} awaiting={} form={}\n{}\n",
                    i + 1,
                    t.user,
                    got["state"],
                    got["awaiting"]["field"],
                    got["form"],
                    got["reply"].as_str().unwrap_or("")
                );
            }
            if let Some(e) = &t.expect {
                check(
                    &format!("{ctx} turn {} «{}»", i + 1, t.user),
                    e,
                    &got,
                    &mut errors,
                );
            }
        }
        check(&format!("{ctx} final"), &d.end, &got, &mut errors);
        let (n, max) = (
            got["interactions"].as_u64().unwrap_or(0),
            got["max_interactions"].as_u64().unwrap_or(0),
        );
        if n > max {
            errors.push(format!("{ctx}: {n} interactions > bound {max}"));
        }
        let log: Value = http
            .get(format!("{sim}/_requests"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let submits = log["requests"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|r| {
                        r["operation"]
                            .as_str()
                            .is_some_and(|o| o.ends_with("_submit"))
                            && r["ok"] == json!(true)
                            && r["replayed"] != json!(true)
                    })
                    .count()
            })
            .unwrap_or(0);
        if submits > 1 {
            errors.push(format!("{ctx}: {submits} submits reached the case system"));
        }
        if let Some(id_number) = d.applicant.as_ref().and_then(|a| a["id_number"].as_str())
            && let Some((name, id)) = people.get(id_number)
        {
            for r in &replies {
                if r.contains(name.as_str()) || r.contains(id.as_str()) {
                    errors.push(format!("{ctx}: plaintext PII in a reply: {r}"));
                }
            }
            // The line side received plaintext.
            let plain = log["requests"]
                .as_array()
                .is_some_and(|a| a.iter().any(|r| r["args"]["id_number"] == json!(id)));
            if !plain {
                errors.push(format!(
                    "{ctx}: the case system never received the plaintext ID"
                ));
            }
        }
        app.stop().await;
    }
    println!(
        "dialogues per agent: {per_agent:?}; failures: {}",
        errors.len()
    );
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dialogue_passes_on_the_deterministic_path() {
    let errors = run_dialogues(ModelSide::None).await;
    assert!(
        errors.is_empty(),
        "{} failure(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// The same dialogues with a model configured — the scripted server, which answers with text
/// (no command), a handoff command, garbage arguments, a 503, a hang past the deadline and a
/// disallowed command — must end exactly as on the deterministic path; and its recording must
/// hold no plaintext ID number, phone number or resident name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dialogue_passes_through_the_scripted_llm_which_sees_no_plaintext_pii() {
    let script = zhiban_llmsim::Script::from_json(
        r#"{"rules": [
            {"when": {"regex": "转人工|人工"}, "reply": {"tool_call": {"name": "handoff", "arguments": {}}}},
            {"when": {"regex": "伐|啥"}, "reply": {"tool_call": {"name": "set_slot", "arguments": "{\"field\": "}}},
            {"when": {"regex": "不办了|算了"}, "reply": {"status": 503}},
            {"when": {"regex": "确认|提交"}, "reply": {"tool_call": {"name": "submit", "arguments": {}}}},
            {"when": {"regex": "身体"}, "reply": {"hang": true}}
        ], "default": {"text": "好的"}}"#,
    )
    .unwrap();
    let sim = zhiban_llmsim::start(zhiban_llmsim::Config {
        script,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut cfg = zhiban_agent_core::llm::LlmConfig::new(sim.base_url(), "test-key", "zhiban-sim");
    cfg.timeout = Duration::from_millis(400);
    let errors = run_dialogues(ModelSide::Faulty(cfg)).await;
    let recorded = sim.requests();
    assert!(!recorded.is_empty(), "the model was never called");
    let leaks = leaks(&recorded);
    sim.shutdown().await;
    assert!(
        leaks.is_empty(),
        "plaintext PII reached the model side: {leaks:?}"
    );
    assert!(
        errors.is_empty(),
        "{} failure(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// Plaintext ID, phone and card numbers and resident names in what the model side received.
fn leaks(recorded: &[zhiban_llmsim::RecordedRequest]) -> Vec<String> {
    let names: Vec<String> = residents().into_values().map(|(n, _)| n).collect();
    let mut out = Vec::new();
    for r in recorded {
        for d in zhiban_pii::detect::detect(&r.body_text) {
            out.push(format!("request {}: {:?}", r.seq, d.kind));
        }
        for n in &names {
            if r.body_text.contains(n.as_str()) {
                out.push(format!("request {}: a resident's name", r.seq));
            }
        }
    }
    out
}

/// The dialogues that script a model's commands: the model's `set_slot`, `correct`,
/// `ask_policy`, `cancel`, `handoff` and `attach` drive the flow (the `llm_only` ones word
/// their answers beyond the parsers, so only the model's command can carry them), through the
/// same validation and parsers as typed answers, with no plaintext PII sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripted_model_commands_drive_the_flows() {
    let sim = zhiban_llmsim::start(zhiban_llmsim::Config::default())
        .await
        .unwrap();
    let mut cfg = zhiban_agent_core::llm::LlmConfig::new(sim.base_url(), "test-key", "zhiban-sim");
    cfg.timeout = Duration::from_secs(5);
    let errors = run_dialogues(ModelSide::Commands(cfg, &sim)).await;
    let recorded = sim.requests();
    let leaks = leaks(&recorded);
    sim.shutdown().await;
    assert!(
        leaks.is_empty(),
        "plaintext PII reached the model side: {leaks:?}"
    );
    assert!(
        errors.is_empty(),
        "{} failure(s):\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// `[llm] rephrase`: the model rewords the flow's questions; a wording that changes a number
/// is refused (the flow's own text is sent instead), and the summary before 提交 is never
/// reworded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rephrased_prompts_keep_their_facts_and_summaries_stay_verbatim() {
    let script = zhiban_llmsim::Script::from_json(
        r#"{"rules": [
            {"when": {"tools": ["cancel"]}, "reply": {"text": "好的"}},
            {"when": {"contains": "健康状况"}, "reply": {"text": "{{last_user}}（一般3个工作日内办结）"}}
        ], "default": {"text": "您好～{{last_user}}"}}"#,
    )
    .unwrap();
    let (sim, app, _tmp) = with_model(script, |c| c.rephrase = true).await;
    let base = format!("http://{}", app.addr);
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!(
            "{base}/v1/agents/unemployment_registration/sessions"
        ))
        .json(&json!({"channel": "map", "metadata": {"applicant":
            {"name": "陈晓雯", "id_type": "居民身份证", "id_number": "310104199203142629"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["session_id"].as_str().unwrap().to_string();
    let say = async |text: &str| -> String {
        let v: Value = http
            .post(format!("{base}/v1/sessions/{id}/messages"))
            .json(&json!({"text": text}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["reply"].as_str().unwrap_or("").to_string()
    };
    let r = say("9月1号").await;
    assert!(r.starts_with("您好～") && r.contains("失业的原因"), "{r}");
    let r = say("合同到期").await;
    assert!(r.starts_with("您好～"), "{r}");
    let r = say("想做仓管").await;
    assert!(
        r.contains("健康状况") && !r.contains("3个工作日"),
        "a rewording that adds a number must be refused: {r}"
    );
    let _ = say("健康").await;
    let r = say("要领").await;
    assert!(r.contains("请核对") && !r.starts_with("您好～"), "{r}");
    assert!(!r.contains("陈晓雯"), "{r}");
    let leaks = leaks(&sim.requests());
    assert!(leaks.is_empty(), "{leaks:?}");
    app.stop().await;
    sim.shutdown().await;
}

/// `[llm] answers`: the model writes the 学习问答 answer from the quoted articles; a sentence
/// whose number the cited article does not hold is dropped, the citations shrink to the ones
/// the kept sentences cite, and the recording holds no PII.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_answers_keep_only_sentences_their_citations_support() {
    let script = zhiban_llmsim::Script::from_json(
        r#"{"rules": [
            {"when": {"contains": "【问题】"}, "reply": {"text": "照护四级的，每人每月500元[1,2]。照护四级的老人每人每月还可以另外领取800元[1,2]。"}}
        ], "default": {"text": "好的"}}"#,
    )
    .unwrap();
    let (sim, app, _tmp) = with_model(script, |c| c.answers = true).await;
    let v: Value = reqwest::Client::new()
        .post(format!("http://{}/v1/qa", app.addr))
        .json(&json!({"question": "照护四级的老人居家社区照护补贴每月基准标准是多少", "as_of": "2026-11-15"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let answer = v["answer"].as_str().unwrap();
    assert_eq!(v["refused"], json!(false), "{v}");
    assert!(
        answer.contains("每人每月500元["),
        "the generated sentence is kept: {answer}"
    );
    assert!(
        !answer.contains("800元"),
        "an unsupported sentence is dropped: {answer}"
    );
    let cites = v["citations"].as_array().unwrap();
    assert!(!cites.is_empty() && cites.len() <= 3, "{v}");
    assert!(
        cites
            .iter()
            .any(|c| c["text"].as_str().is_some_and(|t| t.contains("500元"))),
        "{v}"
    );
    assert!(leaks(&sim.requests()).is_empty());
    app.stop().await;
    sim.shutdown().await;
}

/// One service over its own temporary directory, with the scripted model `script` configured
/// as `tweak` sets it.
async fn with_model(
    script: zhiban_llmsim::Script,
    tweak: impl FnOnce(&mut zhiban_agent_core::llm::LlmConfig),
) -> (zhiban_llmsim::Server, Running, tempfile::TempDir) {
    let sim = zhiban_llmsim::start(zhiban_llmsim::Config {
        script,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut cfg = zhiban_agent_core::llm::LlmConfig::new(sim.base_url(), "test-key", "zhiban-sim");
    tweak(&mut cfg);
    let tmp = tempfile::tempdir().unwrap();
    let app = launch(
        &tmp.path().join("run"),
        &tmp.path().join("index"),
        Some(cfg),
    )
    .await;
    (sim, app, tmp)
}
