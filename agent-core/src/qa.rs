//! The 学习问答 agent: hybrid retrieval as of a date, then a grounded, extractive answer.
//!
//! Without a model the answer quotes the articles that answer the question, each cited as [n]
//! with its document, 文号 and article. Evidence is judged by how much of the question's content
//! the best article covers (jieba words and character bigrams, stopwords and question words
//! removed): below [`QaConfig::min_evidence`] the agent refuses, even when related documents
//! exist. Coverage alone lets through questions about matters the knowledge base does not
//! cover, which share generic words (补贴, 申请, 材料, 登记) with documents it has, so an answer
//! also needs the titles of the quoted documents to name the question's subject (rare title
//! words in common, [`QaConfig::min_topic`]); a question asking how much needs a quoted article
//! that states an amount; and a question whose only close texts are no longer in force, while
//! nothing in force answers it, is refused with a note on those texts. Retrieval also looks at texts that are no longer (or not yet) in force, so that a
//! question about a replaced rule gets the current text and a warning, and an answer whose only
//! basis is superseded is labelled as such. Every answer names the snapshot that served it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zhiban_knowledge::{DocKind, Hit, LiveSnapshot, SearchRequest, Status};

use crate::session::Citation;

/// Tuning of the QA agent.
#[derive(Debug, Clone)]
pub struct QaConfig {
    /// Share of the question's content covered by the best article below which the agent
    /// refuses.
    pub min_evidence: f32,
    /// How much of the question's subject the titles of the quoted documents must name (sum of
    /// the title rarity of the question words they share; see [`topic_agreement`]). Below it
    /// the agent refuses: the quoted articles match the question only on generic policy words
    /// (补贴, 申请, 材料 …) and are about another matter.
    pub min_topic: f32,
    /// Articles quoted at most.
    pub max_quotes: usize,
    /// Deadline of one retrieval.
    pub deadline: Duration,
}

impl Default for QaConfig {
    fn default() -> Self {
        QaConfig {
            min_evidence: 0.16,
            min_topic: 1.0,
            max_quotes: 3,
            deadline: Duration::from_secs(3),
        }
    }
}

/// A question.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QaRequest {
    /// The question.
    pub question: String,
    /// The date whose rules apply (default: the agent's today).
    pub as_of: Option<NaiveDate>,
    /// Citations wanted at most.
    pub k: Option<usize>,
}

/// The contract's answer object (`POST /v1/qa`, `zhiban ask --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// Title statistics of the snapshot last served (rebuilt when the snapshot changes).
    titles: Arc<Mutex<Option<Arc<TitleStats>>>>,
}

/// In how many policy titles of a snapshot each word occurs: a word in many titles (上海市,
/// 办法, 补贴) says little about which matter a document is about, a word in one or two
/// (失业登记, 好差评, 配售型) names it.
#[derive(Debug)]
struct TitleStats {
    snapshot: String,
    df: HashMap<String, u32>,
    n: u32,
}

impl TitleStats {
    fn of(snap: &zhiban_knowledge::Snapshot) -> Self {
        let an = snap.analyzer();
        let mut df: HashMap<String, u32> = HashMap::new();
        let mut n = 0;
        for d in snap.documents() {
            if d.kind != Some(DocKind::Policy) {
                continue;
            }
            n += 1;
            let words: BTreeSet<String> = an.words(&d.title).into_iter().collect();
            for w in words {
                *df.entry(w).or_default() += 1;
            }
        }
        TitleStats {
            snapshot: snap.id().to_string(),
            df,
            n,
        }
    }

    /// How much a title word tells apart the documents whose titles hold it.
    fn weight(&self, word: &str) -> f32 {
        let df = self.df.get(word).copied().unwrap_or(0) as f32;
        ((self.n as f32 + 1.0) / (df + 1.0)).ln().max(0.0)
    }
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
            titles: Arc::new(Mutex::new(None)),
        }
    }

    /// The title statistics of `snap`, built once per snapshot on the blocking pool (a pass
    /// over every document must not hold an async worker, nor the lock while it runs).
    async fn title_stats(&self, snap: &zhiban_knowledge::Snapshot) -> Arc<TitleStats> {
        {
            let slot = self.titles.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(t) = slot.as_ref().filter(|t| t.snapshot == snap.id()) {
                return t.clone();
            }
        }
        let owned = snap.clone();
        let t = match tokio::task::spawn_blocking(move || TitleStats::of(&owned)).await {
            Ok(t) => Arc::new(t),
            Err(_) => Arc::new(TitleStats::of(snap)),
        };
        let mut slot = self.titles.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(t.clone());
        t
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
        let titles = self.title_stats(&snap).await;
        // The subject as the question puts it, and as the snapshot's alias dictionary names it
        // (失业金 → 失业保险金).
        let expansion = found
            .expanded_query
            .as_deref()
            .and_then(|e| e.strip_prefix(question))
            .unwrap_or("");
        let subject: BTreeSet<String> = analyzer
            .words(question)
            .into_iter()
            .chain(analyzer.words(expansion))
            .filter(|w| w.chars().count() >= 2 && !QUESTION_WORDS.contains(&w.as_str()))
            .collect();
        let ask = Asked {
            subject: &subject,
            analyzer: &analyzer,
            titles: &titles,
            wants_amount: wants_amount(question),
        };
        let mut answer = compose(scored, &ask, as_of, k, &self.cfg, found.snapshot);
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

/// What the decision needs to know about the question besides the scored hits.
struct Asked<'a> {
    /// The question's words of two characters or more, with those of its alias expansion.
    subject: &'a BTreeSet<String>,
    analyzer: &'a zhiban_knowledge::Analyzer,
    titles: &'a TitleStats,
    /// The question asks for a sum of money (多少钱, 补多少 …).
    wants_amount: Option<Amount>,
}

/// How far the titles of the quoted documents name what the question is about: the largest,
/// over the quoted hits, of the summed title rarity ([`TitleStats::weight`]) of the question's
/// words (two characters or more) that the hit's title holds. A question about a matter the
/// knowledge base covers names that matter (失业登记, 跨区补贴, 配售型保障房) and so shares rare
/// title words with the document that rules it; a question about a matter it does not cover
/// reaches documents only through generic words, which either are not in their titles or are
/// in so many titles that they weigh nothing.
fn topic_agreement(ask: &Asked<'_>, hits: &[&Hit]) -> f32 {
    hits.iter()
        .map(|h| {
            let title: BTreeSet<String> = ask.analyzer.words(&h.title).into_iter().collect();
            ask.subject
                .iter()
                .filter(|w| title.contains(*w))
                .map(|w| ask.titles.weight(w))
                .sum::<f32>()
        })
        .fold(0.0f32, f32::max)
}

/// Verbs after which 多少 asks for money (补多少, 领多少, 给多少 …).
const MONEY_VERBS: &[char] = &[
    '补', '领', '给', '发', '拿', '贷', '罚', '报', '付', '赔', '贴', '交', '退',
];
/// Words after 多少 that make it ask for something else than money (多少天, 多少分 …).
const NOT_MONEY_AFTER: &[char] = &[
    '天', '年', '月', '个', '次', '分', '岁', '时', '日', '周', '人', '平', '档', '项', '份',
];

/// What kind of amount a question asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Amount {
    /// A sum of money (多少钱, 金额): only a sum in 元 answers it.
    Money,
    /// How much is paid or subsidised (补多少, 给多少): a sum or a rate answers it.
    SumOrRate,
}

/// Whether, and how, the question asks for an amount.
fn wants_amount(question: &str) -> Option<Amount> {
    if ["多少钱", "几块钱", "多少元", "金额"]
        .iter()
        .any(|c| question.contains(c))
    {
        return Some(Amount::Money);
    }
    let chars: Vec<char> = question.chars().collect();
    chars
        .windows(2)
        .enumerate()
        .any(|(i, w)| {
            w == ['多', '少']
                && i > 0
                && MONEY_VERBS.contains(&chars[i - 1])
                && !chars
                    .get(i + 2)
                    .is_some_and(|c| NOT_MONEY_AFTER.contains(c))
        })
        .then_some(Amount::SumOrRate)
}

/// Whether a text states the kind of amount asked for (…元; for a rate also …%, 百分之…).
fn states_amount(text: &str, kind: Amount) -> bool {
    static MONEY: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    static RATE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let money = MONEY.get_or_init(|| {
        regex::Regex::new(
            r"[0-9０-９][0-9０-９.,，]*\s*(万|千)?元|[一二三四五六七八九十百千万两]+元",
        )
        .expect("money pattern")
    });
    let rate = RATE.get_or_init(|| {
        regex::Regex::new(r"[0-9０-９]\s*[%％]|百分之[一二三四五六七八九十零〇两百]")
            .expect("rate pattern")
    });
    money.is_match(text) || (kind == Amount::SumOrRate && rate.is_match(text))
}

const REFUSAL_TAIL: &str = "建议咨询相关条线部门或查阅最新政策原文。";

fn refusal(answer: String, warnings: Vec<String>, snapshot: String, evidence: f32) -> QaAnswer {
    QaAnswer {
        answer,
        refused: true,
        warnings,
        citations: Vec::new(),
        snapshot,
        evidence,
    }
}

fn compose(
    mut scored: Vec<(f32, Hit)>,
    ask: &Asked<'_>,
    as_of: NaiveDate,
    k: usize,
    cfg: &QaConfig,
    snapshot: String,
) -> QaAnswer {
    // Retrieval order ranks (it is what the STARD figures measure); evidence decides whether
    // there is an answer at all, and which of the top hits are close enough to quote. A
    // question asking how much may look further down for the article that states it.
    let further = scored.split_off(scored.len().min(8));
    let best = scored.iter().map(|(e, _)| *e).fold(0.0f32, f32::max);
    if best < cfg.min_evidence {
        return refusal(
            format!("知识库中没有找到能回答这个问题的政策依据，无法作答。{REFUSAL_TAIL}"),
            Vec::new(),
            snapshot,
            best,
        );
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
    if picked.is_empty() {
        // Only texts no longer (or not yet) in force carry the question, while something in
        // force is near enough to rule them out as the basis: there is no current rule.
        let mut noted = BTreeSet::new();
        let warnings = scored
            .iter()
            .filter(|(e, h)| {
                h.status != Status::InForce && *e >= bar && noted.insert(h.doc_id.clone())
            })
            .map(|(_, h)| {
                format!(
                    "《{}》{} 截至 {as_of} 的状态为“{}”，不能作为现行依据。",
                    h.title,
                    h.doc_number
                        .as_deref()
                        .map(|n| format!("（{n}）"))
                        .unwrap_or_default(),
                    status_label(h.status)
                )
            })
            .collect();
        return refusal(
            format!(
                "截至 {as_of}，知识库中没有现行有效的政策能回答这个问题（相关规定不在有效期内，见提示），无法作答。{REFUSAL_TAIL}"
            ),
            warnings,
            snapshot,
            best,
        );
    }
    if topic_agreement(ask, &picked) < cfg.min_topic {
        return refusal(
            format!(
                "知识库中没有找到关于这个事项的政策依据：最接近的条文出自《{}》，说的是其他事项，无法作答。{REFUSAL_TAIL}",
                picked[0].title
            ),
            Vec::new(),
            snapshot,
            best,
        );
    }
    if let Some(kind) = ask.wants_amount
        && !picked.iter().any(|h| states_amount(&h.text, kind))
    {
        // The question asks how much: quote instead the in-force articles (further down the
        // ranking too) that state an amount and are about the same matter — close enough to be
        // quoted, or of a document already quoted — and refuse when none does.
        let topic = |h: &Hit| topic_agreement(ask, &[h]) >= cfg.min_topic;
        let quoted_docs: BTreeSet<String> = picked.iter().map(|h| h.doc_id.clone()).collect();
        let mut with_amount: Vec<&Hit> = Vec::new();
        for (e, h) in scored.iter().chain(&further) {
            if with_amount.len() < k
                && (*e >= bar || (*e >= cfg.min_evidence && quoted_docs.contains(&h.doc_id)))
                && h.status == Status::InForce
                && states_amount(&h.text, kind)
                && topic(h)
                && !with_amount.iter().any(|p| p.chunk_id == h.chunk_id)
            {
                with_amount.push(h);
            }
        }
        if !with_amount.is_empty() {
            picked = with_amount;
        }
    }
    if let Some(kind) = ask.wants_amount
        && !picked.iter().any(|h| states_amount(&h.text, kind))
    {
        return refusal(
            format!(
                "知识库中的相关规定（{}）没有载明所问的具体金额，无法作答。{REFUSAL_TAIL}",
                cite_label(picked[0])
            ),
            Vec::new(),
            snapshot,
            best,
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use zhiban_knowledge::Analyzer;

    fn hit(doc: &str, title: &str, article: &str, text: &str, status: Status) -> Hit {
        Hit {
            doc_id: doc.into(),
            chunk_id: format!("{doc}#{article}"),
            kind: DocKind::Policy,
            title: title.into(),
            doc_number: None,
            level: None,
            status,
            article: Some(article.into()),
            path: vec![article.into()],
            text: text.into(),
            score: 1.0,
            source_file: format!("policies/{doc}.txt"),
            snapshot: "s1".into(),
        }
    }

    const TITLES: &[&str] = &[
        "江川市失业登记管理办法",
        "江川市失业补助金发放办法",
        "江川市就业创业证管理办法",
        "江川市育儿补贴实施方案",
        "江川市养老服务补贴管理办法",
        "江川市残疾人居家养护补贴办法",
    ];

    fn titles(an: &Analyzer) -> TitleStats {
        let mut df: HashMap<String, u32> = HashMap::new();
        for t in TITLES {
            for w in an.words(t).into_iter().collect::<BTreeSet<_>>() {
                *df.entry(w).or_default() += 1;
            }
        }
        TitleStats {
            snapshot: "s1".into(),
            df,
            n: TITLES.len() as u32,
        }
    }

    /// Runs the decision on `scored` for `question` as the agent would.
    fn decide(question: &str, scored: Vec<(f32, Hit)>) -> QaAnswer {
        let an = Analyzer::new();
        let stats = titles(&an);
        let subject: BTreeSet<String> = an
            .words(question)
            .into_iter()
            .filter(|w| w.chars().count() >= 2 && !QUESTION_WORDS.contains(&w.as_str()))
            .collect();
        let ask = Asked {
            subject: &subject,
            analyzer: &an,
            titles: &stats,
            wants_amount: wants_amount(question),
        };
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        compose(scored, &ask, as_of, 3, &QaConfig::default(), "s1".into())
    }

    #[test]
    fn a_question_about_the_matter_of_the_quoted_document_is_answered() {
        let a = decide(
            "外地户口能办失业登记吗？",
            vec![(
                0.5,
                hit(
                    "dj",
                    "江川市失业登记管理办法",
                    "第八条",
                    "非本市户籍人员在本市常住的，可以在常住地办理失业登记。",
                    Status::InForce,
                ),
            )],
        );
        assert!(!a.refused, "{}", a.answer);
        assert_eq!(a.citations[0].article.as_deref(), Some("第八条"));
    }

    #[test]
    fn a_close_article_of_another_matter_is_no_basis() {
        // Evidence passes (出租, 登记 are in the text), but the quoted document is about the
        // 就业创业证, which the question does not name: a matter the knowledge base lacks.
        let a = decide(
            "出租房子要到哪里去做租赁登记？",
            vec![(
                0.4,
                hit(
                    "cyz",
                    "江川市就业创业证管理办法",
                    "第九条",
                    "《就业创业证》实行一人一证，办理登记后持证人不得涂改、转借、出租、出售。",
                    Status::InForce,
                ),
            )],
        );
        assert!(a.refused, "{}", a.answer);
        assert!(a.answer.contains("其他事项"), "{}", a.answer);
        assert!(a.citations.is_empty());
        assert!(a.evidence >= QaConfig::default().min_evidence);
    }

    #[test]
    fn generic_title_words_do_not_make_a_topic() {
        // 补贴 is in half the titles: sharing it says nothing about the matter.
        let a = decide(
            "廉租房的租金补贴怎么申请？",
            vec![(
                0.4,
                hit(
                    "yl",
                    "江川市养老服务补贴管理办法",
                    "第六条",
                    "申请养老服务补贴的，由本人向社区事务受理服务中心提出申请。",
                    Status::InForce,
                ),
            )],
        );
        assert!(a.refused, "{}", a.answer);
    }

    #[test]
    fn how_much_needs_an_article_that_states_an_amount() {
        let q = "失业补助金每个月多少钱？";
        let no_amount = hit(
            "bz",
            "江川市失业补助金发放办法",
            "第二条",
            "失业补助金按月发放，标准另行公布。",
            Status::InForce,
        );
        let a = decide(q, vec![(0.6, no_amount.clone())]);
        assert!(a.refused, "{}", a.answer);
        assert!(a.answer.contains("具体金额"), "{}", a.answer);

        // The amount is further down, in the same document: it is quoted instead.
        let amount = hit(
            "bz",
            "江川市失业补助金发放办法",
            "第三条",
            "失业补助金标准为每人每月1800元。",
            Status::InForce,
        );
        let a = decide(q, vec![(0.6, no_amount), (0.3, amount)]);
        assert!(!a.refused, "{}", a.answer);
        assert_eq!(a.citations.len(), 1);
        assert_eq!(a.citations[0].article.as_deref(), Some("第三条"));
    }

    #[test]
    fn a_rate_answers_how_much_is_subsidised_but_not_how_much_money() {
        let rate = hit(
            "bz",
            "江川市失业补助金发放办法",
            "第三条",
            "失业补助金标准为失业保险金第一档标准的80%。",
            Status::InForce,
        );
        assert!(!decide("失业补助金能补多少？", vec![(0.6, rate.clone())]).refused);
        assert!(decide("失业补助金具体是多少钱？", vec![(0.6, rate)]).refused);
    }

    #[test]
    fn only_a_text_no_longer_in_force_is_no_current_basis() {
        let a = decide(
            "失业补助金每人发多少？",
            vec![
                (
                    0.8,
                    hit(
                        "old",
                        "江川市失业补助金发放办法",
                        "第三条",
                        "失业补助金标准为每人每月1500元。",
                        Status::Expired,
                    ),
                ),
                (
                    0.3,
                    hit(
                        "dj",
                        "江川市失业登记管理办法",
                        "第二条",
                        "失业人员可以办理失业登记。",
                        Status::InForce,
                    ),
                ),
            ],
        );
        assert!(a.refused, "{}", a.answer);
        assert!(a.citations.is_empty());
        assert!(
            a.warnings.iter().any(|w| w.contains("已失效")),
            "{:?}",
            a.warnings
        );
    }

    #[test]
    fn amount_questions_are_recognised() {
        assert_eq!(wants_amount("一个月能补多少？"), Some(Amount::SumOrRate));
        assert_eq!(wants_amount("岗位补贴每个月多少钱？"), Some(Amount::Money));
        assert_eq!(wants_amount("审核要多少天？"), None);
        assert_eq!(wants_amount("收入在多少以下可以申请？"), None);
        assert_eq!(wants_amount("最多能领几个月？"), None);
        assert!(states_amount("每人一次性补助1000元", Amount::Money));
        assert!(states_amount("按照70%的比例给予补助", Amount::SumOrRate));
        assert!(!states_amount("按照70%的比例给予补助", Amount::Money));
        assert!(!states_amount("自2024年11月1日起施行", Amount::SumOrRate));
    }
}
