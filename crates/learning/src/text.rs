//! Learning's text helpers: the platform's Chinese search ([`platform::search`]: segmentation, queries,
//! snippets) and rich text ([`platform::richtext`]), re-exported, and [`keywords`] — a material's top words by
//! TF-IDF for content-based recommendations.

use std::sync::LazyLock;

use jieba_rs::{KeywordExtract, TfIdf};
pub use platform::richtext::{html_to_text, sanitize_html};
pub use platform::search::*;

static TFIDF: LazyLock<TfIdf> = LazyLock::new(TfIdf::default);

/// The material's top words by TF-IDF (title counted twice), for content-based recommendations.
pub fn keywords(title: &str, body_text: &str, top: usize) -> Vec<String> {
    let sample: String = body_text.chars().take(20_000).collect();
    let text = format!("{title}。{title}。{sample}");
    let mut out: Vec<String> = Vec::new();
    for k in TFIDF.extract_keywords(jieba(), &text, top * 2, Vec::new()) {
        let mut parts = Vec::new();
        push_parts(&k.keyword, &mut parts);
        for p in parts {
            if p.chars().count() >= 2 && !p.chars().all(|c| c.is_ascii_digit()) && !out.contains(&p) {
                out.push(p);
            }
        }
        if out.len() >= top {
            break;
        }
    }
    out.truncate(top);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_words_of_the_text() {
        let k = keywords("党费交纳", "党员应当按月交纳党费。党费是党员的义务，党费标准按收入确定。", 5);
        assert!(k.contains(&"党费".to_string()), "{k:?}");
        assert!(k.len() <= 5);
    }
}
