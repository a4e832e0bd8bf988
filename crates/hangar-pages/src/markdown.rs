//! Overviews and other user Markdown as HTML that is safe to put in a page: rendered with
//! pulldown-cmark, then sanitized with ammonia (an allow-list of tags and attributes, only
//! `http`, `https` and `mailto` links, and `rel="noopener noreferrer nofollow"` on each), so
//! nobody's text runs script in another user's browser, whatever raw HTML it holds.

use pulldown_cmark::{Options, Parser, html};

/// Markdown longer than this is shown cut, so one overview cannot make a page huge.
pub const MAX_MARKDOWN: usize = 256 * 1024;

/// `text` rendered and sanitized.
pub fn markdown(text: &str) -> String {
    let mut end = text.len().min(MAX_MARKDOWN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut rendered = String::with_capacity(end + end / 2);
    html::push_html(&mut rendered, Parser::new_ext(&text[..end], options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&rendered)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::markdown;

    #[test]
    fn renders_markdown() {
        let html = markdown("# Title\n\nSome *text* and `code`.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(
            html.contains("<em>text</em>") && html.contains("<code>code</code>"),
            "{html}"
        );
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn never_lets_script_through() {
        for hostile in [
            "<script>alert(1)</script>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<img src=x onerror=\"alert(1)\">",
            "<div onclick=\"alert(1)\">x</div>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<svg onload=alert(1)>",
            "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
            "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
            "<style>body{display:none}</style>",
        ] {
            let html = markdown(hostile).to_ascii_lowercase();
            for bad in [
                "<script",
                "javascript:",
                "onerror",
                "onclick",
                "onload",
                "<iframe",
                "data:",
                "<style",
            ] {
                assert!(!html.contains(bad), "{hostile} -> {html}");
            }
        }
        let link = markdown("[site](https://example.com)");
        assert!(link.contains("href=\"https://example.com\""), "{link}");
        assert!(link.contains("rel=\"noopener noreferrer nofollow\""), "{link}");
    }

    #[test]
    fn cuts_huge_text_on_a_character() {
        let text = "é".repeat(super::MAX_MARKDOWN);
        assert!(markdown(&text).len() <= super::MAX_MARKDOWN + 64);
    }
}
