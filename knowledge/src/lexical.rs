//! The lexical channel: BM25 over jieba words (and CJK bigrams) in tantivy.
//!
//! Each chunk is one tantivy document. Text goes to four fields — `title`,
//! `article` and `body` analysed into jieba words, and `grams` (title + body) into
//! CJK bigrams — and a query is the sum of per-field BM25 scores with field boosts
//! ([`Bm25Params`]). Queries are built from the analyzer's tokens directly, never
//! through a query parser, so no user input can be a syntax error.
//!
//! Structured fields (`kind`, `matter`, `department`, validity days) are indexed so
//! that filters run inside tantivy and the top-k is taken after filtering.
//!
//! The document's position in the snapshot's chunk table (`idx`) is a fast field;
//! at open time it is read once into a flat table so a hit maps to its chunk in O(1).

use std::ops::Bound;
use std::path::Path;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{DocAddress, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::analysis::{Analyzer, BigramTokenizer, WordTokenizer};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::records::ChunkRecord;

const WORDS: &str = "zh_words";
const GRAMS: &str = "zh_bigrams";

/// Field boosts of the BM25 query. Tuned on STARD's dev split only.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bm25Params {
    /// Weight of the title field.
    pub title: f32,
    /// Weight of the article-label field.
    pub article: f32,
    /// Weight of the body field (jieba words).
    pub body: f32,
    /// Weight of the bigram field; 0 switches the bigram channel off.
    pub grams: f32,
}

impl Default for Bm25Params {
    fn default() -> Self {
        Bm25Params {
            title: 0.5,
            article: 0.5,
            body: 1.0,
            grams: 0.35,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    idx: Field,
    kind: Field,
    matter: Field,
    department: Field,
    valid_from: Field,
    valid_until: Field,
    title: Field,
    article: Field,
    body: Field,
    grams: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tok: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tok)
                .set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let fields = Fields {
        idx: b.add_u64_field("idx", FAST),
        kind: b.add_text_field("kind", STRING),
        matter: b.add_text_field("matter", STRING),
        department: b.add_text_field("department", STRING),
        valid_from: b.add_i64_field("valid_from", INDEXED | FAST),
        valid_until: b.add_i64_field("valid_until", INDEXED | FAST),
        title: b.add_text_field("title", text(WORDS)),
        article: b.add_text_field("article", text(WORDS)),
        body: b.add_text_field("body", text(WORDS)),
        grams: b.add_text_field("grams", text(GRAMS)),
    };
    (b.build(), fields)
}

fn register(index: &Index, analyzer: &Analyzer) {
    let mgr = index.tokenizers();
    mgr.register(WORDS, WordTokenizer(analyzer.clone()));
    mgr.register(GRAMS, BigramTokenizer);
}

/// Days since 0001-01-01 for validity bounds; open ends use the i64 extremes.
pub(crate) fn day_number(d: chrono::NaiveDate) -> i64 {
    use chrono::Datelike;
    d.num_days_from_ce() as i64
}

/// A query already analysed into tokens, so that both channels share one analysis.
#[derive(Debug, Clone, Default)]
pub struct AnalyzedQuery {
    /// Distinct jieba words with their weights (occurrence counts, or fractions for
    /// words that only an alias expansion brought in).
    pub words: Vec<(String, f32)>,
    /// Distinct bigrams with their weights.
    pub grams: Vec<(String, f32)>,
}

impl AnalyzedQuery {
    /// Analyses `text` with `analyzer`.
    pub fn new(analyzer: &Analyzer, text: &str, with_grams: bool) -> Self {
        let grams = if with_grams {
            count(analyzer.bigrams(text))
        } else {
            Vec::new()
        };
        AnalyzedQuery {
            words: count(analyzer.words(text)),
            grams,
        }
    }

    /// Adds the tokens of `other` that this query lacks, at `weight` per occurrence.
    /// Used for alias expansion: the official name helps recall, but must not
    /// outweigh the words the person actually typed.
    pub fn merge_weighted(mut self, other: AnalyzedQuery, weight: f32) -> Self {
        fn add(into: &mut Vec<(String, f32)>, from: Vec<(String, f32)>, weight: f32) {
            for (t, n) in from {
                if !into.iter().any(|(w, _)| *w == t) {
                    into.push((t, n * weight));
                }
            }
        }
        add(&mut self.words, other.words, weight);
        add(&mut self.grams, other.grams, weight);
        self
    }

    /// True when the query has no searchable token.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.grams.is_empty()
    }
}

fn count(tokens: Vec<String>) -> Vec<(String, f32)> {
    let mut out: Vec<(String, f32)> = Vec::with_capacity(tokens.len());
    for t in tokens {
        match out.iter_mut().find(|(w, _)| *w == t) {
            Some((_, n)) => *n += 1.0,
            None => out.push((t, 1.0)),
        }
    }
    out
}

/// Writes a lexical index for `records` into `dir`.
pub fn build(dir: &Path, analyzer: &Analyzer, records: &[ChunkRecord]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (schema, f) = schema();
    let index = Index::create_in_dir(dir, schema)?;
    register(&index, analyzer);
    // One indexing thread yields one segment for our corpus sizes, which keeps the
    // per-query work to a single posting list per term.
    let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 200_000_000)?;
    for (i, r) in records.iter().enumerate() {
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.idx, i as u64);
        doc.add_text(f.kind, r.kind.as_str());
        for m in &r.matter_codes {
            doc.add_text(f.matter, m);
        }
        if let Some(d) = &r.department {
            doc.add_text(f.department, d);
        }
        doc.add_i64(f.valid_from, r.valid_from.map_or(i64::MIN, day_number));
        doc.add_i64(f.valid_until, r.valid_until.map_or(i64::MAX, day_number));
        doc.add_text(f.title, &r.title);
        // The label and the headings above it: a （一） under "三、办理程序" or a 第九条 in
        // "第三章 审核与发放" is about what its headings say, though its text may not repeat it.
        for h in &r.path {
            doc.add_text(f.article, h);
        }
        if let Some(a) = &r.article
            && !r.path.iter().any(|h| h == a)
        {
            doc.add_text(f.article, a);
        }
        doc.add_text(f.body, &r.text);
        doc.add_text(f.grams, &r.title);
        doc.add_text(f.grams, &r.text);
        writer.add_document(doc)?;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(())
}

/// An open lexical index.
pub struct LexicalIndex {
    reader: IndexReader,
    fields: Fields,
    /// `seg_idx[segment_ord][doc_id]` = position in the chunk table.
    seg_idx: Vec<Vec<u32>>,
}

impl std::fmt::Debug for LexicalIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexicalIndex")
            .field("segments", &self.seg_idx.len())
            .finish()
    }
}

impl LexicalIndex {
    /// Opens the index in `dir`, registering `analyzer` as its tokenizer, for a
    /// chunk table of `chunks` rows.
    ///
    /// # Errors
    /// tantivy failures; [`Error::CorruptSnapshot`] when a document maps to no row
    /// of the chunk table (a position that is missing, does not fit `u32`, or is
    /// `chunks` or more), so that no hit can ever index past the table.
    pub fn open(dir: &Path, analyzer: &Analyzer, chunks: usize) -> Result<Self> {
        let index = Index::open_in_dir(dir)?;
        register(&index, analyzer);
        let (_, fields) = schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let mut seg_idx = Vec::with_capacity(searcher.segment_readers().len());
        let corrupt = |reason: String| Error::CorruptSnapshot {
            id: String::new(),
            reason,
        };
        for seg in searcher.segment_readers() {
            let col = seg.fast_fields().u64("idx")?;
            let mut table = Vec::with_capacity(seg.max_doc() as usize);
            for d in 0..seg.max_doc() {
                let Some(raw) = col.first(d) else {
                    return Err(corrupt(format!(
                        "lexical document {d} has no chunk position"
                    )));
                };
                match u32::try_from(raw) {
                    Ok(i) if (i as usize) < chunks => table.push(i),
                    _ => {
                        return Err(corrupt(format!(
                            "lexical document {d} points at chunk {raw}, the table has {chunks}"
                        )));
                    }
                }
            }
            seg_idx.push(table);
        }
        Ok(LexicalIndex {
            reader,
            fields,
            seg_idx,
        })
    }

    /// Top `limit` chunks for `query` under `filter`: `(chunk position, BM25 score)`.
    pub fn search(
        &self,
        query: &AnalyzedQuery,
        filter: &Filter,
        limit: usize,
        p: &Bm25Params,
    ) -> Result<Vec<(u32, f32)>> {
        if query.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut add = |field: Field, tokens: &[(String, f32)], weight: f32| {
            if weight <= 0.0 {
                return;
            }
            for (t, n) in tokens {
                let q = TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::WithFreqs,
                );
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), weight * *n)),
                ));
            }
        };
        add(f.title, &query.words, p.title);
        add(f.article, &query.words, p.article);
        add(f.body, &query.words, p.body);
        add(f.grams, &query.grams, p.grams);
        let text: Box<dyn Query> = Box::new(BooleanQuery::new(should));
        let musts = self.filter_clauses(filter);
        let query: Box<dyn Query> = if musts.is_empty() {
            text
        } else {
            let mut clauses = vec![(Occur::Must, text)];
            clauses.extend(musts.into_iter().map(|q| (Occur::Must, q)));
            Box::new(BooleanQuery::new(clauses))
        };
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit))?;
        Ok(top
            .into_iter()
            .filter_map(|(score, addr)| self.position(addr).map(|i| (i, score)))
            .collect())
    }

    /// How many chunks hold `word` in their body, and how many chunks there are: the document
    /// frequency a caller weighs question words by (a word no chunk holds is the strongest sign
    /// that the index has nothing on the subject).
    pub fn doc_freq(&self, word: &str) -> (u64, u64) {
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.body, word);
        let df = searcher.doc_freq(&term).unwrap_or(0);
        (df, searcher.num_docs())
    }

    fn position(&self, addr: DocAddress) -> Option<u32> {
        self.seg_idx
            .get(addr.segment_ord as usize)
            .and_then(|t| t.get(addr.doc_id as usize))
            .copied()
    }

    fn filter_clauses(&self, filter: &Filter) -> Vec<Box<dyn Query>> {
        let f = self.fields;
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        let any_of = |field: Field, values: &[String]| -> Box<dyn Query> {
            let clauses = values
                .iter()
                .map(|v| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(field, v),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            Box::new(BooleanQuery::new(clauses))
        };
        if !filter.kinds.is_empty() {
            let kinds: Vec<String> = filter
                .kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect();
            out.push(any_of(f.kind, &kinds));
        }
        if !filter.matter_codes.is_empty() {
            out.push(any_of(f.matter, &filter.matter_codes));
        }
        if !filter.departments.is_empty() {
            out.push(any_of(f.department, &filter.departments));
        }
        if let Some(date) = filter.valid_on {
            let day = day_number(date);
            out.push(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.valid_from, day)),
            )));
            out.push(Box::new(RangeQuery::new(
                Bound::Excluded(Term::from_field_i64(f.valid_until, day)),
                Bound::Unbounded,
            )));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index whose `idx` fast field holds `positions` (as a buggy or foreign
    /// build could write them).
    fn index_with_positions(dir: &Path, positions: &[u64]) {
        let (schema, f) = schema();
        let index = Index::create_in_dir(dir, schema).unwrap();
        register(&index, &Analyzer::new());
        let mut w = index
            .writer_with_num_threads::<TantivyDocument>(1, 50_000_000)
            .unwrap();
        for &p in positions {
            let mut doc = TantivyDocument::default();
            doc.add_u64(f.idx, p);
            doc.add_text(f.body, "失业保险金");
            w.add_document(doc).unwrap();
        }
        w.commit().unwrap();
    }

    #[test]
    fn a_position_beyond_the_chunk_table_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        index_with_positions(dir.path(), &[0, 1, 7]);
        assert!(matches!(
            LexicalIndex::open(dir.path(), &Analyzer::new(), 3),
            Err(Error::CorruptSnapshot { .. })
        ));
        // The same index is fine for a table that has a row 7.
        assert!(LexicalIndex::open(dir.path(), &Analyzer::new(), 8).is_ok());
    }

    #[test]
    fn a_position_that_does_not_fit_u32_is_refused_not_truncated() {
        let dir = tempfile::tempdir().unwrap();
        // (1 << 32) + 1 truncates to 1, a valid-looking position.
        index_with_positions(dir.path(), &[0, (1u64 << 32) + 1, 2]);
        assert!(matches!(
            LexicalIndex::open(dir.path(), &Analyzer::new(), 3),
            Err(Error::CorruptSnapshot { .. })
        ));
    }

    #[test]
    fn expansion_tokens_are_added_at_a_fraction_and_never_override_typed_ones() {
        let a = Analyzer::new();
        let typed = AnalyzedQuery::new(&a, "支内补贴申请", false);
        let extra = AnalyzedQuery::new(&a, "帮困补助 申请", false);
        let merged = typed.clone().merge_weighted(extra, 0.3);
        let w = |t: &str| merged.words.iter().find(|(x, _)| x == t).map(|(_, n)| *n);
        assert_eq!(w("申请"), Some(1.0), "a typed word keeps its own weight");
        assert_eq!(w("帮困"), Some(0.3));
        assert!(merged.words.len() > typed.words.len());
    }
}
