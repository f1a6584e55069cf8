//! The 学习问答 agent: hybrid retrieval as of a date, then a grounded, extractive answer.
//!
//! Without a model the answer quotes the articles that answer the question, each cited as [n]
//! with its document, 文号 and article. Evidence is judged by how much of the question's content
//! the best article covers (jieba words and character bigrams, stopwords and question words
//! removed): below [`QaConfig::min_evidence`] the agent refuses, even when related documents
//! exist. Retrieval also looks at texts that are no longer (or not yet) in force, so that a
//! question about a replaced rule gets the current text and a warning, and an answer whose only
//! basis is superseded is labelled as such. Every answer names the snapshot that served it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zhiban_knowledge::{DocKind, Hit, LiveSnapshot, SearchRequest, Status};

use crate::session::Citation;

/// Tuning of the QA agent.
#[derive(Debug, Clone)]
pub struct QaConfig {
    /// Share of the question's content covered by the best article below which the agent
    /// refuses.
    pub min_evidence: f32,
    /// Articles quoted at most.
    pub max_quotes: usize,
    /// Deadline of one retrieval.
    pub deadline: Duration,
}

impl Default for QaConfig {
    fn default() -> Self {
        QaConfig {
            min_evidence: 0.16,
            max_quotes: 3,
            deadline: Duration::from_secs(3),
        }
    }
}

/// A question.
#[derive(Debug, Clone, Deserialize)]
pub struct QaRequest {
    /// The question.
    pub question: String,
    /// The date whose rules apply (default: the agent's today).
    pub as_of: Option<NaiveDate>,
    /// Citations wanted at most.
    pub k: Option<usize>,
}

/// The contract's answer object (`POST /v1/qa`, `zhiban ask --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaAnswer {
    /// The answer (Chinese).
    pub answer: String,
    /// The evidence does not answer the question.
    pub refused: bool,
    /// Superseded / not in force notes.
    pub warnings: Vec<String>,
    /// Cited articles, with their text.
    pub citations: Vec<Citation>,
    /// Snapshot id.
    pub snapshot: String,
    /// Share of the question's content the best retrieved article covers (0–1); the agent
    /// refuses below [`QaConfig::min_evidence`].
    pub evidence: f32,
}

/// Why no answer could be given at all (a refusal is an answer, not an error).
#[derive(Debug, thiserror::Error)]
pub enum QaError {
    /// The question is empty or too long.
    #[error("{0}")]
    BadQuestion(String),
    /// Retrieval failed or missed its deadline.
    #[error("知识库检索失败：{0}")]
    Retrieval(String),
}

/// The QA agent over a live snapshot.
#[derive(Debug, Clone)]
pub struct QaAgent {
    live: Arc<LiveSnapshot>,
    cfg: QaConfig,
    /// Writes the answer from the quoted articles when `[llm] answers` is on.
    llm: Option<crate::llm::LlmClient>,
}

/// Words that ask rather than say; they carry no evidence.
const QUESTION_WORDS: &[&str] = &[
    "怎么",
    "怎样",
    "如何",
    "什么",
    "哪些",
    "哪个",
    "哪里",
    "多少",
    "多久",
    "能否",
    "是否",
    "可以",
    "能不能",
    "可不可以",
    "需要",
    "要不要",
    "吗",
    "呢",
    "请问",
    "一下",
    "我",
    "我们",
    "他",
    "她",
    "这个",
    "那个",
    "有没有",
    "还",
    "想",
    "问",
    "咨询",
    "办",
    "情况",
    "时候",
    "的话",
    "现在",
    "人",
];

impl QaAgent {
    /// An agent over `live`.
    pub fn new(live: Arc<LiveSnapshot>, cfg: QaConfig) -> Self {
        QaAgent {
            live,
            cfg,
            llm: None,
        }
    }

    /// Lets a model write answers (when its config has `answers` on). Every sentence it writes
    /// is checked against the articles it cites ([`crate::grounding`]); unsupported ones are
    /// dropped, and with none left the extractive answer stands. Refusals, warnings and the
    /// choice of articles stay the agent's own.
    pub fn with_llm(mut self, llm: Option<crate::llm::LlmClient>) -> Self {
        self.llm = llm.filter(|l| l.config().answers);
        self
    }

    /// The snapshot holder.
    pub fn live(&self) -> &Arc<LiveSnapshot> {
        &self.live
    }

    /// Answer `req` as of `req.as_of` (or `today`).
    ///
    /// # Errors
    /// [`QaError`] for an empty question or a failed retrieval.
    pub async fn answer(&self, req: &QaRequest, today: NaiveDate) -> Result<QaAnswer, QaError> {
        let question = req.question.trim();
        if question.is_empty() {
            return Err(QaError::BadQuestion("问题不能为空".into()));
        }
        if question.chars().count() > 4000 {
            return Err(QaError::BadQuestion("问题过长（不超过 4000 字）".into()));
        }
        let as_of = req.as_of.unwrap_or(today);
        let k = req.k.unwrap_or(self.cfg.max_quotes).clamp(1, 10);
        let snap = self.live.snapshot();
        let mut sr = SearchRequest::new(question);
        sr.k = 12;
        sr.as_of = Some(as_of);
        sr.include_not_current = true;
        sr.level_boost = true;
        sr.filter.kinds = vec![DocKind::Policy];
        let deadline = Instant::now() + self.cfg.deadline;
        let found = snap
            .search_async(&sr, deadline)
            .await
            .map_err(|e| QaError::Retrieval(e.to_string()))?;
        let analyzer = snap.analyzer().clone();
        let terms = content_terms(&snap, question);
        let scored: Vec<(f32, Hit)> = found
            .hits
            .into_iter()
            .map(|h| (evidence(&analyzer, &terms, &h), h))
            .collect();
        let mut answer = compose(scored, as_of, k, &self.cfg, found.snapshot);
        if let Some(llm) = &self.llm
            && !answer.refused
        {
            self.generate(llm, question, as_of, &mut answer).await;
        }
        Ok(answer)
    }

    async fn generate(
        &self,
        llm: &crate::llm::LlmClient,
        question: &str,
        as_of: NaiveDate,
        answer: &mut QaAnswer,
    ) {
        let passages: Vec<String> = answer
            .citations
            .iter()
            .map(|c| {
                format!(
                    "《{}》{}：{}",
                    c.title,
                    c.article.as_deref().unwrap_or(""),
                    c.text.as_deref().unwrap_or("").trim()
                )
            })
            .collect();
        let Ok(text) = llm.answer(question, &passages).await else {
            return;
        };
        let refs: Vec<&str> = passages.iter().map(String::as_str).collect();
        let g = crate::grounding::check(&text, &refs);
        if !g.dropped.is_empty() {
            tracing::info!(
                dropped = g.dropped.len(),
                kept = g.kept,
                "生成答案中无依据的句子已删除"
            );
        }
        if !g.is_usable() {
            return;
        }
        answer.citations = g
            .cited
            .iter()
            .filter_map(|&i| answer.citations.get(i).cloned())
            .collect();
        answer.answer = format!("根据截至 {as_of} 的政策规定：\n{}", g.text);
    }
}

/// The content of a question: its words (stopwords and question words removed), each weighed
/// by how rare it is in the snapshot, and its character bigrams.
fn content_terms(snap: &zhiban_knowledge::Snapshot, text: &str) -> Terms {
    let an = snap.analyzer();
    let mut words: Vec<(String, f32)> = Vec::new();
    for w in an.words(text) {
        if QUESTION_WORDS.contains(&w.as_str()) || words.iter().any(|(x, _)| *x == w) {
            continue;
        }
        let (df, n) = snap.lexical().doc_freq(&w);
        let idf = ((n as f32 + 1.0) / (df as f32 + 1.0)).ln().max(0.1);
        words.push((w, idf));
    }
    let grams: BTreeSet<String> = an
        .bigrams(&strip_question_words(text))
        .into_iter()
        .filter(|g| g.chars().count() == 2)
        .collect();
    Terms { words, grams }
}

fn strip_question_words(text: &str) -> String {
    let mut t = text.to_string();
    for w in QUESTION_WORDS.iter().filter(|w| w.chars().count() > 1) {
        t = t.replace(w, "，");
    }
    t
}

#[derive(Debug)]
struct Terms {
    words: Vec<(String, f32)>,
    grams: BTreeSet<String>,
}

/// Share of the question's content that the hit's title, path and text cover: rarity-weighted
/// word coverage (a rare word of the question missing from the article weighs most), blended
/// with bigram coverage so that a paraphrase still counts.
fn evidence(an: &zhiban_knowledge::Analyzer, q: &Terms, h: &Hit) -> f32 {
    let body = format!("{} {} {}", h.title, h.path.join(" "), h.text);
    let words: BTreeSet<String> = an.words(&body).into_iter().collect();
    let grams: BTreeSet<String> = an.bigrams(&body).into_iter().collect();
    let total: f32 = q.words.iter().map(|(_, w)| w).sum();
    let word_share = if total > 0.0 {
        q.words
            .iter()
            .filter(|(t, _)| words.contains(t))
            .map(|(_, w)| w)
            .sum::<f32>()
            / total
    } else {
        0.0
    };
    let gram_share = if q.grams.is_empty() {
        0.0
    } else {
        q.grams.iter().filter(|g| grams.contains(*g)).count() as f32 / q.grams.len() as f32
    };
    0.7 * word_share + 0.3 * gram_share
}

fn status_label(s: Status) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn citation(h: &Hit) -> Citation {
    Citation {
        doc_id: h.doc_id.clone(),
        title: h.title.clone(),
        doc_number: h.doc_number.clone(),
        article: h.article.clone(),
        status: status_label(h.status),
        source_file: h.source_file.clone(),
        text: Some(h.text.clone()),
    }
}

fn cite_label(h: &Hit) -> String {
    let num = h
        .doc_number
        .as_deref()
        .map(|n| format!("（{n}）"))
        .unwrap_or_default();
    let art = h.article.as_deref().unwrap_or("");
    format!("《{}》{num}{art}", h.title)
}

fn compose(
    mut scored: Vec<(f32, Hit)>,
    as_of: NaiveDate,
    k: usize,
    cfg: &QaConfig,
    snapshot: String,
) -> QaAnswer {
    // Retrieval order ranks (it is what the STARD figures measure); evidence decides whether
    // there is an answer at all, and which of the top hits are close enough to quote.
    scored.truncate(8);
    let best = scored.iter().map(|(e, _)| *e).fold(0.0f32, f32::max);
    if best < cfg.min_evidence {
        return QaAnswer {
            answer: "知识库中没有找到能回答这个问题的政策依据，无法作答。建议咨询相关条线部门或查阅最新政策原文。".into(),
            refused: true,
            warnings: Vec::new(),
            citations: Vec::new(),
            snapshot,
            evidence: best,
        };
    }
    // Quote the in-force articles that carry enough of the question; a not-in-force text is
    // quoted only when nothing in force is close (and is then labelled).
    let in_force_best = scored
        .iter()
        .filter(|(_, h)| h.status == Status::InForce)
        .map(|(e, _)| *e)
        .fold(0.0f32, f32::max);
    let bar = (best * 0.7).max(cfg.min_evidence);
    let mut picked: Vec<&Hit> = Vec::new();
    for (e, h) in &scored {
        if picked.len() >= k {
            break;
        }
        if *e < bar {
            continue;
        }
        if h.status != Status::InForce && in_force_best >= cfg.min_evidence {
            continue;
        }
        if picked.iter().any(|p| p.chunk_id == h.chunk_id) {
            continue;
        }
        picked.push(h);
    }
    let mut warnings = Vec::new();
    for h in &picked {
        if h.status != Status::InForce {
            warnings.push(format!(
                "{} 截至 {as_of} 的状态为“{}”，不是现行有效的规定，仅供参考。",
                cite_label(h),
                status_label(h.status)
            ));
        }
    }
    // The question touches a rule that has since been replaced: a close, not-in-force text
    // of a document other than the ones quoted.
    let quoted: BTreeSet<&str> = picked.iter().map(|h| h.doc_id.as_str()).collect();
    let mut noted = BTreeSet::new();
    for (e, h) in &scored {
        if h.status != Status::InForce
            && *e >= bar
            && !quoted.contains(h.doc_id.as_str())
            && noted.insert(h.doc_id.clone())
        {
            warnings.push(format!(
                "注意：《{}》{} 截至 {as_of} 已{}，以上回答依据现行有效的规定。",
                h.title,
                h.doc_number
                    .as_deref()
                    .map(|n| format!("（{n}）"))
                    .unwrap_or_default(),
                match h.status {
                    Status::NotYetEffective => "发布但尚未生效".to_string(),
                    s => status_label(s).trim_start_matches('已').to_string(),
                }
            ));
        }
    }
    let mut answer = format!("根据截至 {as_of} 的政策规定：\n");
    for (i, h) in picked.iter().enumerate() {
        answer.push_str(&format!(
            "[{}] {}：{}\n",
            i + 1,
            cite_label(h),
            h.text.trim()
        ));
    }
    QaAnswer {
        answer: answer.trim_end().to_string(),
        refused: false,
        warnings,
        citations: picked.iter().map(|h| citation(h)).collect(),
        snapshot,
        evidence: best,
    }
}
