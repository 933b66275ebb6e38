//! Learning's text helpers: the platform's Chinese search ([`platform::search`]: segmentation, queries,
//! snippets) and rich text ([`platform::richtext`]), re-exported, and [`keywords`] — a material's top words by
//! TF-IDF for content-based recommendations.

use std::sync::LazyLock;

use jieba_rs::{KeywordExtract, TfIdf};
pub use platform::richtext::{html_to_text, sanitize_html};
pub use platform::search::*;

static TFIDF: LazyLock<TfIdf> = LazyLock::new(TfIdf::default);

// ---------------------------------------------------------------- scope words (migration 0030)

/// The scope word of materials published exactly at `org_path`: "zsat" and the path with '/' as 'x'
/// (/1/5/23/ → zsatx1x5x23x). One token for jieba's output, FTS5's unicode61 and PostgreSQL's 'simple'.
pub fn scope_at(org_path: &str) -> String {
    format!("zsat{}", org_path.replace('/', "x"))
}

/// The scope word of materials published anywhere inside the subtree at `root` ("zsin" and the root's own
/// organization id); `None` for the whole tree ("/").
pub fn scope_in(root: &str) -> Option<String> {
    root.trim_end_matches('/').rsplit('/').next().filter(|id| !id.is_empty()).map(|id| format!("zsin{id}"))
}

/// What a material's `search_tokens` end with: its [`scope_at`] word and a [`scope_in`] word for every
/// organization on its path — the same text migration 0030 appended to the rows it found.
pub fn scope_tokens(org_path: &str) -> String {
    format!(" zsat{}{}", org_path.replace('/', "x"), org_path.trim_end_matches('/').replace('/', " zsin"))
}

/// The query narrowed to materials holding one of the scope `words`, as (FTS5 MATCH, to_tsquery) text.
pub fn narrowed(query: &SearchQuery, words: Option<&[String]>) -> (String, String) {
    match words {
        None => (query.fts5(), query.tsquery()),
        Some(words) => {
            let fts: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
            let ts: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
            (
                format!("({}) AND ({})", query.fts5(), fts.join(" OR ")),
                format!("({}) & ({})", query.tsquery(), ts.join(" | ")),
            )
        }
    }
}

// ---------------------------------------------------------------- ranking

/// BM25's term-frequency saturation and length normalisation (the usual k1 = 1.2, b = 0.75).
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// What a term found in the title adds (a title is what the reader chose the material by).
const TITLE_BONUS: f64 = 1.0;

/// Ranks search hits, best first: for each term of the query, the occurrences in the material's tokens of
/// the word itself or else of its rarest part, saturated and normalised by length as in BM25 (without the
/// inverse document frequency: every term must match, so it would not reorder much), plus
/// [`TITLE_BONUS`] when the title holds the term; newer first on a tie. `tokens(i)` and `title(i)` are the
/// i-th hit's search tokens and title.
pub fn rank<T>(
    hits: &mut Vec<T>,
    query: &SearchQuery,
    tokens: impl Fn(&T) -> &str,
    title: impl Fn(&T) -> &str,
    id: impl Fn(&T) -> i64,
) {
    if hits.is_empty() {
        return;
    }
    // Every word a term counts (the word, then its parts), counted in one pass over each material's tokens.
    let words: Vec<&str> = query
        .terms
        .iter()
        .flat_map(|t| std::iter::once(t.word.as_str()).chain(t.parts.iter().map(String::as_str)))
        .collect();
    let counted: Vec<(f64, Vec<f64>)> = hits
        .iter()
        .map(|h| {
            let mut counts = vec![0.0; words.len()];
            let mut len = 0.0;
            for t in tokens(h).split(' ') {
                len += 1.0;
                for (c, w) in counts.iter_mut().zip(&words) {
                    if t == *w {
                        *c += 1.0;
                    }
                }
            }
            (len, counts)
        })
        .collect();
    let avg = counted.iter().map(|c| c.0).sum::<f64>() / counted.len() as f64;
    let mut scored: Vec<(f64, i64, T)> = hits
        .drain(..)
        .zip(counted)
        .map(|(h, (len, counts))| {
            let norm = K1 * (1.0 - B + B * len / avg.max(1.0));
            let title = title(&h).to_lowercase();
            let mut score = 0.0;
            let mut at = 0;
            for term in &query.terms {
                let whole = counts.get(at).copied().unwrap_or(0.0);
                let parts = counts.get(at + 1..at + 1 + term.parts.len()).unwrap_or(&[]);
                at += 1 + term.parts.len();
                let rarest = parts.iter().copied().fold(f64::INFINITY, f64::min);
                let tf = if whole > 0.0 || !rarest.is_finite() { whole } else { rarest };
                score += tf * (K1 + 1.0) / (tf + norm);
                if title.contains(&term.word) {
                    score += TITLE_BONUS;
                }
            }
            (score, id(&h), h)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)));
    hits.extend(scored.into_iter().map(|(_, _, h)| h));
}

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
    fn scope_words_name_where_a_material_was_published() {
        assert_eq!(scope_tokens("/1/5/23/"), " zsatx1x5x23x zsin1 zsin5 zsin23");
        assert_eq!(scope_at("/1/5/"), "zsatx1x5x");
        assert_eq!(scope_in("/1/5/").as_deref(), Some("zsin5"));
        assert_eq!(scope_in("/"), None);
        let q = SearchQuery::parse("党费");
        let (f, t) = narrowed(&q, Some(&["zsatx1x".to_string(), "zsin5".to_string()]));
        assert_eq!(f, "(\"党费\") AND (\"zsatx1x\" OR \"zsin5\")");
        assert_eq!(t, "('党费') & ('zsatx1x' | 'zsin5')");
        assert_eq!(narrowed(&q, None).0, q.fts5());
    }

    #[test]
    fn ranking_prefers_more_hits_then_titles_then_newer() {
        let q = SearchQuery::parse("党费");
        let mut hits = vec![
            (1, "学习", "党费 学习 工作 工作"),
            (2, "学习", "党费 党费 党费 学习"),
            (3, "党费标准", "党费 学习 工作 工作"),
            (4, "学习", "党费 学习 工作 工作"),
        ];
        rank(&mut hits, &q, |h| h.2, |h| h.1, |h| h.0);
        let ids: Vec<i64> = hits.iter().map(|h| h.0).collect();
        assert_eq!(ids, vec![3, 2, 4, 1]);
    }

    #[test]
    fn keywords_are_words_of_the_text() {
        let k = keywords("党费交纳", "党员应当按月交纳党费。党费是党员的义务，党费标准按收入确定。", 5);
        assert!(k.contains(&"党费".to_string()), "{k:?}");
        assert!(k.len() <= 5);
    }
}
