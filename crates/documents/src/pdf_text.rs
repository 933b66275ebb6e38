//! The text of an uploaded PDF, for the search index and the keywords of a learning document (lopdf: the
//! page contents decoded through each font's encoding or `/ToUnicode` map, as Word, WPS and our own
//! [`crate::pdf`] write them). Bounded, because the file comes from a user: at most [`MAX_PAGES`] pages,
//! each page's content inflated to at most [`MAX_PAGE_CONTENT`] bytes, and [`MAX_CHARS`] characters kept.
//! A scanned PDF (images only), an encrypted one or one lopdf cannot read yields no text, not an error:
//! the document is then found by its title, description and tags, as before.

/// Pages read (a longer document is indexed by its beginning).
pub const MAX_PAGES: u32 = 300;
/// The inflated content of one page, at most (a compression bomb stops here).
pub const MAX_PAGE_CONTENT: usize = 8 * 1024 * 1024;
/// Characters kept.
pub const MAX_CHARS: usize = 200_000;

/// The text of the PDF's first pages, whitespace collapsed; empty when none can be read.
pub fn extract(bytes: &[u8]) -> String {
    // A parser bug on a hostile file must not take the request down with it.
    std::panic::catch_unwind(|| read(bytes)).unwrap_or_default()
}

fn read(bytes: &[u8]) -> String {
    let Ok(doc) = lopdf::Document::load_mem(bytes) else { return String::new() };
    if doc.is_encrypted() {
        return String::new();
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().take(MAX_PAGES as usize).collect();
    let mut out = String::new();
    let mut count = 0;
    for page in pages {
        for chunk in doc.extract_text_chunks_with_limit(&[page], MAX_PAGE_CONTENT).into_iter().flatten() {
            for word in chunk.split_whitespace() {
                if count >= MAX_CHARS {
                    return out;
                }
                if !out.is_empty() {
                    out.push(' ');
                }
                let taken: String = word.chars().take(MAX_CHARS - count).collect();
                count += taken.chars().count() + 1;
                out.push_str(&taken);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::{Block, Document, Fonts, render};

    #[test]
    fn the_chinese_text_of_our_own_pdf_comes_back() {
        // Needs the system's Noto CJK fonts (fonts-noto-cjk), as rendering does; CI installs them.
        let Ok(fonts) = Fonts::load(None) else {
            assert!(std::env::var("CI").is_err(), "fonts-noto-cjk must be installed under CI");
            return;
        };
        let doc = Document {
            title: "学习辅导".into(),
            author: None,
            footer: None,
            blocks: vec![
                Block::Title("党员教育管理工作条例学习辅导".into()),
                Block::Paragraph("党员应当按月交纳党费。".into()),
                Block::PageBreak,
                Block::Paragraph("井冈山精神是中国共产党的宝贵精神财富。".into()),
            ],
        };
        let text = extract(&render(&doc, &fonts).unwrap());
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        for words in ["党员教育管理工作条例学习辅导", "按月交纳党费", "井冈山精神"] {
            assert!(compact.contains(words), "{words} in {text:?}");
        }
    }

    #[test]
    fn what_is_not_a_readable_pdf_yields_no_text() {
        assert_eq!(extract(b"not a pdf at all"), "");
        assert_eq!(extract(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"), "");
        assert_eq!(extract(b""), "");
    }
}
