//! Pieces shared by several pages.
pub mod audit;
pub mod chart;

use leptos::prelude::*;

/// Links to the page before and the page after this one, where there are such pages.
#[component]
pub fn Pager(prev: Option<String>, next: Option<String>, prev_label: &'static str, next_label: &'static str) -> impl IntoView {
    view! {
        <nav class="pager" aria-label="Pages">
            {prev.map(|href| view! { <a href=href rel="prev">{prev_label}</a> })}
            {next.map(|href| view! { <a href=href rel="next">{next_label}</a> })}
        </nav>
    }
}

/// Where a page stands among all matches, e.g. "26–50 of 60 pipes"; `None` for an empty page.
pub fn range_text(offset: u64, shown: u64, total: u64, noun: &str) -> Option<String> {
    (shown > 0).then(|| format!("{}–{} of {total} {noun}", offset + 1, offset + shown))
}

/// Percent-encodes text for one URL path segment or query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A query string from pairs, leaving out empty values.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> String {
    let parts: Vec<String> = pairs.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(&v))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_urls_cannot_carry() {
        assert_eq!(encode("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(range_text(25, 25, 60, "pipes").as_deref(), Some("26–50 of 60 pipes"));
        assert_eq!(range_text(0, 0, 0, "pipes"), None);
        assert_eq!(query_string([("q", "x y".to_string()), ("category", String::new()), ("offset", "50".into())]), "?q=x%20y&offset=50");
        assert_eq!(query_string([("q", String::new())]), "");
    }
}
