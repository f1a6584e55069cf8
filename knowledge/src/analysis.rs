//! Chinese text analysis: normalisation, jieba segmentation, stopwords, bigrams.
//!
//! One [`Analyzer`] serves every channel so that the index and the query see the
//! same tokens:
//!
//! * **words** — jieba in search mode (long words are also emitted as their dictionary
//!   sub-words: `失业保险金` → `失业`, `保险`, `保险金`, `失业保险金`), HMM on for
//!   unknown names, stopwords and punctuation dropped;
//! * **bigrams** — overlapping pairs of CJK characters, which recover matches where
//!   jieba cut a layperson's phrase differently from a statute's.
//!
//! Before either, text is normalised: full-width ASCII letters and digits become
//! half-width and ASCII is lower-cased, so `ＡＢＣ１２３` and `abc123` meet.
//!
//! A user dictionary ([`Analyzer::with_user_words`]) makes catalog names and
//! aliases (`支内回沪帮困补助`, `长护险`) single tokens, so they are neither split
//! into unrelated halves nor lost.

use std::collections::HashSet;
use std::sync::Arc;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// A small list of Chinese function words and punctuation-like tokens that carry no
/// retrieval signal. Written for this project; extend it through
/// [`Analyzer::with_stopwords`].
pub const DEFAULT_STOPWORDS: &str = include_str!("stopwords_zh.txt");

/// A word for the jieba user dictionary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWord {
    /// The word, e.g. `支内回沪帮困补助`.
    pub word: String,
    /// Frequency; `None` lets jieba pick one high enough to keep the word whole.
    pub freq: Option<usize>,
    /// Part-of-speech tag, e.g. `nz`.
    pub tag: Option<String>,
}

/// Shared, immutable text analyzer. Cheap to clone (an `Arc` inside).
#[derive(Clone)]
pub struct Analyzer {
    inner: Arc<Inner>,
}

struct Inner {
    jieba: Jieba,
    stopwords: HashSet<String>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("stopwords", &self.inner.stopwords.len())
            .finish()
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl Analyzer {
    /// The default analyzer: jieba's bundled dictionary and [`DEFAULT_STOPWORDS`].
    pub fn new() -> Self {
        Self::build(&[], DEFAULT_STOPWORDS.lines())
    }

    /// An analyzer with a custom stopword list (one word per line).
    pub fn with_stopwords<'a>(stopwords: impl IntoIterator<Item = &'a str>) -> Self {
        Self::build(&[], stopwords)
    }

    /// An analyzer whose dictionary also holds `words` and whose stopwords are
    /// `stopwords`.
    pub fn with_user_words<'a>(
        words: &[UserWord],
        stopwords: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self::build(words, stopwords)
    }

    fn build<'a>(words: &[UserWord], stopwords: impl IntoIterator<Item = &'a str>) -> Self {
        let mut jieba = Jieba::new();
        for w in words {
            let word = normalize(w.word.trim());
            if !word.is_empty() {
                jieba.add_word(&word, w.freq, w.tag.as_deref());
            }
        }
        let stopwords = stopwords
            .into_iter()
            .map(|s| normalize(s.trim()))
            .filter(|s| !s.is_empty())
            .collect();
        Analyzer {
            inner: Arc::new(Inner { jieba, stopwords }),
        }
    }

    /// Whether `word` is a stopword.
    pub fn is_stopword(&self, word: &str) -> bool {
        self.inner.stopwords.contains(word)
    }

    /// Word tokens of `text` in order (duplicates kept), normalised, stopwords dropped.
    pub fn words(&self, text: &str) -> Vec<String> {
        let norm = normalize(text);
        let mut out = Vec::with_capacity(norm.len() / 3);
        self.for_each_word(&norm, |w, _, _| out.push(w.to_string()));
        out
    }

    /// Calls `f(word, byte_start, byte_end)` for each word of already-normalised text.
    fn for_each_word(&self, norm: &str, mut f: impl FnMut(&str, usize, usize)) {
        for tok in self.inner.jieba.cut_for_search(norm, true) {
            let w = tok.word;
            if !is_meaningful(w) || self.inner.stopwords.contains(w) {
                continue;
            }
            f(w, tok.byte_start, tok.byte_end);
        }
    }

    /// Overlapping CJK character bigrams of `text`; runs of ASCII letters/digits are
    /// kept whole, and a lone CJK character between non-CJK text is kept as a unigram.
    pub fn bigrams(&self, text: &str) -> Vec<String> {
        let norm = normalize(text);
        let mut out = Vec::with_capacity(norm.len() / 3);
        for_each_bigram(&norm, |g, _, _| out.push(g.to_string()));
        out
    }
}

/// Normalises text for analysis: full-width ASCII → half-width, ideographic space →
/// space, ASCII lower-cased. Chinese punctuation is kept (it separates words).
pub fn normalize(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        };
        s.push(c.to_ascii_lowercase());
    }
    s
}

/// True for CJK unified ideographs (the BMP blocks that matter for Chinese text).
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

fn is_meaningful(w: &str) -> bool {
    w.chars().any(|c| c.is_alphanumeric())
}

/// Calls `f(gram, byte_start, byte_end)` for each bigram of normalised text.
fn for_each_bigram(norm: &str, mut f: impl FnMut(&str, usize, usize)) {
    let chars: Vec<(usize, char)> = norm.char_indices().collect();
    let end_of = |i: usize| chars.get(i + 1).map_or(norm.len(), |(b, _)| *b);
    let mut i = 0;
    while i < chars.len() {
        let (b, c) = chars[i];
        if is_cjk(c) {
            let mut j = i;
            while j + 1 < chars.len() && is_cjk(chars[j + 1].1) {
                j += 1;
            }
            if j == i {
                f(&norm[b..end_of(i)], b, end_of(i));
            } else {
                for (k, &(s, _)) in chars.iter().enumerate().take(j).skip(i) {
                    let e = end_of(k + 1);
                    f(&norm[s..e], s, e);
                }
            }
            i = j + 1;
        } else if c.is_ascii_alphanumeric() {
            let mut j = i;
            while j + 1 < chars.len() && chars[j + 1].1.is_ascii_alphanumeric() {
                j += 1;
            }
            f(&norm[b..end_of(j)], b, end_of(j));
            i = j + 1;
        } else {
            i += 1;
        }
    }
}

/// The tantivy tokenizer for the word channel (registered as `zh_words`).
#[derive(Clone)]
pub struct WordTokenizer(pub Analyzer);

/// The tantivy tokenizer for the bigram channel (registered as `zh_bigrams`).
#[derive(Clone)]
pub struct BigramTokenizer;

/// A token stream over pre-computed tokens.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl VecTokenStream {
    fn new(tokens: Vec<Token>) -> Self {
        VecTokenStream {
            tokens,
            index: usize::MAX,
        }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.index = self.index.wrapping_add(1);
        self.index < self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.index]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index]
    }
}

fn push_token(tokens: &mut Vec<Token>, text: &str, from: usize, to: usize) {
    let position = tokens.len();
    tokens.push(Token {
        offset_from: from,
        offset_to: to,
        position,
        text: text.to_string(),
        position_length: 1,
    });
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        // Normalisation keeps byte lengths for everything but full-width forms, so
        // offsets are only approximate there; they are used for highlighting only.
        let norm = normalize(text);
        let mut tokens = Vec::with_capacity(norm.len() / 3);
        self.0
            .for_each_word(&norm, |w, s, e| push_token(&mut tokens, w, s, e));
        VecTokenStream::new(tokens)
    }
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = VecTokenStream;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let norm = normalize(text);
        let mut tokens = Vec::with_capacity(norm.len() / 3);
        for_each_bigram(&norm, |g, s, e| push_token(&mut tokens, g, s, e));
        VecTokenStream::new(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_chinese_ascii_digits_and_full_width() {
        let a = Analyzer::new();
        let w = a.words("２０２４年ＡＢＣ公司的Excel表格，申领失业保险金");
        assert!(w.contains(&"2024".to_string()), "{w:?}");
        assert!(w.contains(&"abc".to_string()), "{w:?}");
        assert!(w.contains(&"excel".to_string()), "{w:?}");
        assert!(w.contains(&"失业".to_string()), "{w:?}");
        assert!(w.contains(&"保险金".to_string()), "{w:?}");
        // Stopwords and punctuation are dropped.
        assert!(!w.contains(&"的".to_string()), "{w:?}");
        assert!(!w.iter().any(|t| t == "，" || t == ","), "{w:?}");
    }

    #[test]
    fn search_mode_emits_sub_words() {
        let a = Analyzer::new();
        let w = a.words("中华人民共和国");
        assert!(w.contains(&"中华".to_string()), "{w:?}");
        assert!(w.contains(&"中华人民共和国".to_string()), "{w:?}");
    }

    #[test]
    fn user_words_stay_whole() {
        let plain = Analyzer::new();
        assert!(
            !plain
                .words("支内回沪帮困补助怎么申请")
                .contains(&"支内回沪帮困补助".to_string())
        );
        let a = Analyzer::with_user_words(
            &[UserWord {
                word: "支内回沪帮困补助".into(),
                freq: None,
                tag: Some("nz".into()),
            }],
            DEFAULT_STOPWORDS.lines(),
        );
        let w = a.words("支内回沪帮困补助怎么申请");
        assert!(w.contains(&"支内回沪帮困补助".to_string()), "{w:?}");
    }

    #[test]
    fn bigrams_cover_cjk_runs_and_keep_ascii_whole() {
        let a = Analyzer::new();
        assert_eq!(a.bigrams("失业登记"), vec!["失业", "业登", "登记"]);
        assert_eq!(a.bigrams("第8条 A1"), vec!["第", "8", "条", "a1"]);
        assert_eq!(a.bigrams("（长）护险ＩＤ"), vec!["长", "护险", "id"]);
        assert!(a.bigrams("，。！").is_empty());
    }

    #[test]
    fn tantivy_tokenizers_agree_with_analyzer() {
        let a = Analyzer::new();
        let mut t = WordTokenizer(a.clone());
        let mut stream = t.token_stream("申请失业登记的条件");
        let mut got = Vec::new();
        while stream.advance() {
            got.push(stream.token().text.clone());
        }
        assert_eq!(got, a.words("申请失业登记的条件"));
        let mut b = BigramTokenizer;
        let mut stream = b.token_stream("失业登记");
        let mut n = 0;
        while stream.advance() {
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn normalize_maps_full_width() {
        assert_eq!(normalize("ＡＢ１２　Ｃ"), "ab12 c");
        assert_eq!(normalize("第三条"), "第三条");
    }
}
