//! Rich text as the platform keeps it (security.md AT-17; ASVS 1.3.1): what an author writes in HTML —
//! a learning material, a notice — is cleaned by ammonia, a proven sanitizer, to a short list of formatting
//! tags before it is stored, so every page can show it as it is. [`html_to_text`] gives its plain text for
//! search indexes, summaries and exports.

use std::collections::HashSet;

/// Rich text as we keep it: a short list of formatting tags, links (http, https, mailto) marked
/// `rel="noopener noreferrer"`; scripts, styles, event handlers, images and frames removed.
pub fn sanitize_html(html: &str) -> String {
    let tags: HashSet<&str> = [
        "p",
        "br",
        "h2",
        "h3",
        "h4",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "hr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "span",
    ]
    .into_iter()
    .collect();
    let schemes: HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
    ammonia::Builder::new()
        .tags(tags)
        .url_schemes(schemes)
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string()
}

/// The text of sanitized HTML: tags dropped (block elements end a line), the entities the sanitizer writes
/// decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&decode_entities(rest.get(..lt).unwrap_or("")));
        let after = rest.get(lt..).unwrap_or("");
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = after.get(1..gt).unwrap_or("").trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if matches!(name.as_str(), "p" | "br" | "h2" | "h3" | "h4" | "li" | "blockquote" | "tr" | "hr") {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
        } else if matches!(name.as_str(), "td" | "th") {
            out.push(' ');
        }
        rest = after.get(gt + 1..).unwrap_or("");
    }
    out.push_str(&decode_entities(rest));
    out.trim().to_string()
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Plain text as an author typed it, as rich text: HTML-escaped, a blank line between paragraphs, single line
/// breaks kept.
pub fn text_to_html(text: &str) -> String {
    let mut out = String::new();
    for para in text.replace("\r\n", "\n").split("\n\n") {
        let para = para.trim();
        if para.is_empty() {
            continue;
        }
        out.push_str("<p>");
        let lines: Vec<String> = para.lines().map(crate::search::escape).collect();
        out.push_str(&lines.join("<br>"));
        out.push_str("</p>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sanitizer_keeps_formatting_and_drops_script() {
        let dirty = r#"<h2 style="color:red">标题</h2><p>正文<img src=x onerror=alert(1)></p><script>alert(1)</script><a href="javascript:alert(1)">坏链接</a><a href="https://www.12371.cn/">共产党员网</a><iframe src="https://x"></iframe>"#;
        let clean = sanitize_html(dirty);
        for bad in ["script", "onerror", "javascript", "iframe", "<img", "style"] {
            assert!(!clean.contains(bad), "{bad} in {clean}");
        }
        assert!(clean.contains("<h2>标题</h2>") && clean.contains("rel=\"noopener noreferrer\""), "{clean}");
        let text = html_to_text(&clean);
        assert!(text.starts_with("标题\n正文"), "{text}");
        assert_eq!(html_to_text("<p>a &amp; b &lt;c&gt;</p>"), "a & b <c>");
    }

    #[test]
    fn plain_text_becomes_escaped_paragraphs() {
        let html = text_to_html("第一段<script>\n第二行\n\n第二段 & 完");
        assert_eq!(html, "<p>第一段&lt;script&gt;<br>第二行</p><p>第二段 &amp; 完</p>");
        assert_eq!(html_to_text(&html), "第一段<script>\n第二行\n第二段 & 完");
    }
}
