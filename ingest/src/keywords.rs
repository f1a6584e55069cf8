//! Keywords by TF-IDF over jieba, with administrative boilerplate as stopwords.

use jieba_rs::{Jieba, KeywordExtract, KeywordExtractConfig, TfIdf};

/// Words that are frequent in every government text and say nothing about a
/// document's subject.
const STOPWORDS: &[&str] = &[
    "本办法",
    "本规定",
    "本通知",
    "本市",
    "有关",
    "规定",
    "办法",
    "通知",
    "相关",
    "按照",
    "根据",
    "应当",
    "可以",
    "以及",
    "或者",
    "进行",
    "工作",
    "部门",
    "单位",
    "情况",
    "要求",
    "实施",
    "执行",
    "负责",
    "上海市",
    "上海",
    "人民政府",
    "第一条",
    "第二条",
    "其他",
    "以上",
    "以下",
    "之日起",
    "施行",
    "有效期",
    "印发",
    "各区",
    "现将",
    "如下",
    "事项",
    "同时",
    "废止",
    "一律",
    "年月日",
    "依法",
    "予以",
    "具体",
];

/// A reusable keyword extractor (loading jieba takes a moment; build it once per run).
pub struct Keywords {
    jieba: Jieba,
    tfidf: TfIdf,
}

impl std::fmt::Debug for Keywords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keywords")
    }
}

impl Default for Keywords {
    fn default() -> Self {
        Self::new()
    }
}

impl Keywords {
    /// jieba with its default dictionary and the default IDF table.
    pub fn new() -> Self {
        let mut tfidf = TfIdf::default();
        let mut b = KeywordExtractConfig::builder();
        for w in STOPWORDS {
            b = b.add_stop_word(*w);
        }
        *tfidf.config_mut() = b.min_keyword_length(2).build();
        Keywords {
            jieba: Jieba::new(),
            tfidf,
        }
    }

    /// Adds domain words (catalog names and aliases) so they are not split.
    pub fn add_words(&mut self, words: &[(String, usize, String)]) {
        for (w, f, t) in words {
            self.jieba.add_word(w, Some(*f), Some(t));
        }
    }

    /// Top `k` keywords of `text`: nouns, verbs-as-nouns and proper names only.
    pub fn extract(&self, text: &str, k: usize) -> Vec<String> {
        let allowed = ["n", "nr", "ns", "nt", "nz", "vn", "an", "l", "nrt", "j"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        self.tfidf
            .extract_keywords(&self.jieba, text, k, allowed)
            .into_iter()
            .map(|k| k.keyword)
            .filter(|w| {
                !w.chars()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_punctuation())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_subject_words() {
        let k = Keywords::new();
        let kw = k.extract("为规范失业保险金申领，失业人员应当办理失业登记。失业保险金按月发放，失业登记在社区事务受理服务中心办理。", 8);
        assert!(kw.len() <= 8);
        assert!(kw.iter().any(|w| w.contains("失业")), "{kw:?}");
        assert!(!kw.iter().any(|w| w == "应当" || w == "本市"));
    }
}
