//! Chinese search for the whole platform (architecture.md §2.6), pure: jieba segments in Rust, the database
//! only indexes the words. Learning materials and notices are indexed with it; learning's search answers
//! `/api/v1/search` over both (and people).
//!
//! * **Write time** ([`index_tokens`]): title, tags and body are cut in jieba's search mode — a compound and its
//!   parts (发展党员 → 发展, 党员, 发展党员) — without the HMM (so the same characters are cut the same way in
//!   a document and in a query), each word lower-cased and split at anything that is not a letter or digit,
//!   then space-joined. SQLite's FTS5 `unicode61` tokenizer and PostgreSQL's `to_tsvector('simple', …)` both
//!   take each space-separated word as one token, so two-character words (党费, 党员) are whole tokens.
//! * **Query time** ([`SearchQuery::parse`]): the query is cut the same way; each word must be present, as
//!   itself or as all of its parts (`"发展党员" OR ("发展" AND "党员")`), rendered for FTS5
//!   ([`SearchQuery::fts5`]) and for `to_tsquery` ([`SearchQuery::tsquery`]). Words hold only letters and
//!   digits, so neither syntax needs quoting beyond the quotes we add.
//! * **Snippets** ([`snippet`]): a window of the plain text around the first hit, HTML-escaped first, the hits
//!   then wrapped in `<mark>`.

use std::sync::LazyLock;

use jieba_rs::Jieba;

/// Words of Party life that jieba's general dictionary cuts apart or does not know.
const PARTY_WORDS: &[&str] = &[
    "三会一课",
    "主题党日",
    "组织生活会",
    "谈心谈话",
    "民主评议",
    "预备党员",
    "正式党员",
    "入党积极分子",
    "入党申请人",
    "发展对象",
    "发展党员",
    "党费",
    "党课",
    "微党课",
    "党小组",
    "党支部",
    "支委会",
    "党员大会",
    "党章",
    "党规",
    "党纪",
    "党性",
    "党史",
    "组织关系",
    "学习强国",
];

static JIEBA: LazyLock<Jieba> = LazyLock::new(|| {
    let mut j = Jieba::new();
    for w in PARTY_WORDS {
        j.add_word(w, None, None);
    }
    j
});

/// The longest word kept in the index (longer runs of letters are not words anyone searches for).
const MAX_WORD_CHARS: usize = 40;

/// Lower-cased pieces of a jieba word, split at anything that is not a letter or digit.
pub fn push_parts(word: &str, out: &mut Vec<String>) {
    for part in word.split(|c: char| !c.is_alphanumeric()) {
        if !part.is_empty() && part.chars().count() <= MAX_WORD_CHARS {
            out.push(part.to_lowercase());
        }
    }
}

/// The words of `text` as the index stores them (search mode: compounds and their parts).
pub fn index_tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for t in JIEBA.cut_for_search(text, false) {
        push_parts(t.word, &mut out);
    }
    out
}

/// The `search_tokens` column of a material or a notice: title, tags and body, segmented and space-joined.
pub fn index_text(title: &str, tags: &[String], body_text: &str) -> String {
    let mut words = index_tokens(title);
    for t in tags {
        words.extend(index_tokens(t));
    }
    words.extend(index_tokens(body_text));
    words.join(" ")
}

/// One word of a query: the word itself, or all of its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub word: String,
    /// The word's parts in search mode (empty when it has none).
    pub parts: Vec<String>,
}

/// A segmented query: every term must match.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SearchQuery {
    pub terms: Vec<Term>,
}

/// The most terms a query keeps (a pasted paragraph is not a query).
pub const MAX_TERMS: usize = 8;

impl SearchQuery {
    pub fn parse(q: &str) -> SearchQuery {
        let mut terms: Vec<Term> = Vec::new();
        for t in JIEBA.cut(q, false) {
            let mut words = Vec::new();
            push_parts(t.word, &mut words);
            for w in words {
                if terms.iter().any(|x| x.word == w) {
                    continue;
                }
                let mut parts: Vec<String> = Vec::new();
                for p in JIEBA.cut_for_search(&w, false) {
                    let mut ps = Vec::new();
                    push_parts(p.word, &mut ps);
                    for p in ps {
                        if p != w && !parts.contains(&p) {
                            parts.push(p);
                        }
                    }
                }
                // Parts are useful only if together they cover the word (search mode also offers sub-words
                // that overlap, 发展党员 → 发展, 党员; a lone sub-word would widen the query).
                let covered: usize = parts.iter().map(|p| p.chars().count()).sum();
                if covered < w.chars().count() {
                    parts.clear();
                }
                terms.push(Term { word: w, parts });
            }
        }
        terms.truncate(MAX_TERMS);
        SearchQuery { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Every word that counts as a hit in a snippet, longest first.
    pub fn highlight_words(&self) -> Vec<String> {
        let mut all: Vec<String> = Vec::new();
        for t in &self.terms {
            for w in std::iter::once(&t.word).chain(&t.parts) {
                if !all.contains(w) {
                    all.push(w.clone());
                }
            }
        }
        all.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        all
    }

    /// The FTS5 MATCH expression: `"党费" AND ("发展党员" OR ("发展" AND "党员"))`.
    pub fn fts5(&self) -> String {
        let quote = |w: &str| format!("\"{}\"", w.replace('"', "\"\""));
        let groups: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                if t.parts.is_empty() {
                    quote(&t.word)
                } else {
                    let parts: Vec<String> = t.parts.iter().map(|p| quote(p)).collect();
                    format!("({} OR ({}))", quote(&t.word), parts.join(" AND "))
                }
            })
            .collect();
        groups.join(" AND ")
    }

    /// The `to_tsquery('simple', …)` text: `'党费' & ('发展党员' | ('发展' & '党员'))`.
    pub fn tsquery(&self) -> String {
        let quote = |w: &str| format!("'{}'", w.replace('\'', "''").replace('\\', "\\\\"));
        let groups: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                if t.parts.is_empty() {
                    quote(&t.word)
                } else {
                    let parts: Vec<String> = t.parts.iter().map(|p| quote(p)).collect();
                    format!("({} | ({}))", quote(&t.word), parts.join(" & "))
                }
            })
            .collect();
        groups.join(" & ")
    }
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_escaped(c, &mut out);
    }
    out
}

fn push_escaped(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        c => out.push(c),
    }
}

/// Characters of a snippet.
pub const SNIPPET_CHARS: usize = 80;

/// A window of `text` around the first of `words`, HTML-escaped, every occurrence of a word in it wrapped
/// in `<mark>` (words are matched case-insensitively; `words` longest first, see
/// [`SearchQuery::highlight_words`]). Whitespace runs become one space.
pub fn snippet(text: &str, words: &[String]) -> String {
    let mut chars: Vec<char> = Vec::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if chars.last().is_some_and(|l| *l != ' ') {
                chars.push(' ');
            }
        } else {
            chars.push(c);
        }
    }
    let lower: Vec<char> = chars.iter().map(|c| c.to_lowercase().next().unwrap_or(*c)).collect();
    let words: Vec<Vec<char>> =
        words.iter().map(|w| w.chars().collect()).filter(|w: &Vec<char>| !w.is_empty()).collect();
    let matches_at = |i: usize| -> Option<usize> {
        words.iter().find(|w| lower.get(i..i + w.len()).is_some_and(|s| s == w.as_slice())).map(Vec::len)
    };
    let first = (0..lower.len()).find(|i| matches_at(*i).is_some());
    let start = first.map_or(0, |f| f.saturating_sub(20));
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut i = start;
    while i < end {
        if let Some(n) = matches_at(i) {
            let stop = (i + n).min(chars.len());
            out.push_str("<mark>");
            for c in chars.get(i..stop).unwrap_or_default() {
                push_escaped(*c, &mut out);
            }
            out.push_str("</mark>");
            i = stop;
        } else {
            if let Some(c) = chars.get(i) {
                push_escaped(*c, &mut out);
            }
            i += 1;
        }
    }
    if i < chars.len() {
        out.push('…');
    }
    out
}

/// The segmenter with the Party words added (learning's keyword extraction uses the same one).
pub fn jieba() -> &'static Jieba {
    &JIEBA
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_character_words_are_whole_tokens() {
        let tokens = index_tokens("按时交纳党费是党员的义务。关于做好2026年发展党员工作的通知");
        for w in ["党费", "党员", "发展", "发展党员", "义务", "2026"] {
            assert!(tokens.iter().any(|t| t == w), "{w} missing from {tokens:?}");
        }
        assert!(tokens.iter().all(|t| t.chars().all(char::is_alphanumeric)));
    }

    #[test]
    fn queries_match_compounds_or_all_of_their_parts() {
        let q = SearchQuery::parse("党费");
        assert_eq!(q.fts5(), "\"党费\"");
        assert_eq!(q.tsquery(), "'党费'");
        let q = SearchQuery::parse("发展党员 工作！");
        let t = q.terms.iter().find(|t| t.word == "发展党员").unwrap();
        assert_eq!(t.parts, vec!["发展".to_string(), "党员".to_string()]);
        assert!(q.fts5().contains("(\"发展党员\" OR (\"发展\" AND \"党员\"))"), "{}", q.fts5());
        assert!(q.tsquery().contains("('发展党员' | ('发展' & '党员'))"), "{}", q.tsquery());
        assert!(SearchQuery::parse("！？。 \"' ").is_empty());
        assert_eq!(SearchQuery::parse("PARTY Party").terms.len(), 1);
    }

    #[test]
    fn query_syntax_cannot_be_injected() {
        let q = SearchQuery::parse("党费\" OR \"x' | '; DROP TABLE materials");
        for t in &q.terms {
            assert!(t.word.chars().all(char::is_alphanumeric));
        }
        assert!(!q.fts5().contains("\"\""));
    }

    #[test]
    fn snippets_escape_first_and_mark_after() {
        let words = SearchQuery::parse("党费").highlight_words();
        let s = snippet("<script>alert(1)</script>按时交纳<党费>是党员的义务。", &words);
        assert!(s.contains("&lt;/script&gt;按时交纳&lt;<mark>党费</mark>&gt;"), "{s}");
        assert!(!s.contains("<script>") && !s.contains("</script>"));
        let long = format!("{}按时交纳党费{}", "前".repeat(100), "后".repeat(100));
        let s = snippet(&long, &words);
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("<mark>党费</mark>"), "{s}");
        assert_eq!(snippet("没有命中", &words), "没有命中");
    }
}
