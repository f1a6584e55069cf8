//! zhiban-ingest turns a source folder of real-world documents into
//! [`zhiban_knowledge::Document`]s: readers (text in UTF-8/GB18030, crawled HTML,
//! DOCX, PDF text layers, OCR through tesseract), cleaning, policy metadata and
//! article splitting, guides/cases/catalog records with PII masking, supersession
//! links, a validation report, and the metadata scorer.
//!
//! It owns reading and parsing only. It does not build, store or publish snapshots
//! or indexes (that is `zhiban-knowledge`), and it never panics on bad input: every
//! problem becomes a report entry with a Chinese message (a panic inside a reader
//! is caught per file and becomes one error for that file). [`ingest_folder`] uses a
//! few scoped worker threads; everything else is plain functions.
//!
//! ```
//! use zhiban_ingest::{articles, clean::clean_text};
//! let text = clean_text("第一条 为了规范申领，制定本办法。\n第二条 本办法自2024年5月1日起施行。");
//! let (_, chunks) = articles::split(&text);
//! assert_eq!(chunks[1].0.as_deref(), Some("第二条"));
//! ```
#![warn(missing_docs)]

pub mod articles;
pub mod bodies;
pub mod clean;
pub mod cover;
pub mod dates;
pub mod docnum;
pub mod docx;
pub mod error;
pub mod eval;
pub mod external;
pub mod html;
pub mod keywords;
pub mod labels;
pub mod lay_terms;
pub mod link;
pub mod meta;
pub mod numerals;
pub mod pii;
pub mod pipeline;
pub mod records;
pub mod seal;
pub mod text;

pub use error::{Error, Result};
pub use eval::{MetadataScore, score_metadata};
pub use pipeline::{
    DictEntry, FileError, FileSkip, FileWarning, IngestOptions, IngestOutput, IngestReport,
    PreviousState, ProgressFn, ingest_folder,
};

/// Compiles a literal pattern. Patterns are constants exercised by the unit tests;
/// should one ever fail to compile, it degrades to a regex that matches nothing
/// instead of panicking on an ingest path.
pub(crate) fn re(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).unwrap_or_else(|e| {
        tracing::error!(pattern, error = %e, "invalid built-in pattern");
        never()
    })
}

fn never() -> regex::Regex {
    // `[^\s\S]` is valid and matches nothing.
    regex::Regex::new(r"[^\s\S]").unwrap_or_else(|_| never())
}

#[cfg(test)]
mod tests {
    #[test]
    fn never_matches() {
        assert!(!super::never().is_match("任何文本 any"));
    }
}
