//! Building addresses: one percent-encoding for path segments and query values, used by the
//! domain (share URLs), the server (sign-in redirects) and the pages (links).
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but the unreserved characters of RFC 3986 is escaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes text for one URL path segment or query value.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// The text of one percent-encoded URL path segment; `None` when it is not UTF-8.
pub fn decode(segment: &str) -> Option<String> {
    percent_encoding::percent_decode_str(segment).decode_utf8().ok().map(String::from)
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
        assert_eq!(encode("é~x"), "%C3%A9~x");
        for text in ["a b/c?d", "é~x", "data_processor"] {
            assert_eq!(decode(&encode(text)).as_deref(), Some(text));
        }
        assert_eq!(decode("%FF"), None);
        assert_eq!(query_string([("q", "x y".to_string()), ("category", String::new()), ("offset", "50".into())]), "?q=x%20y&offset=50");
        assert_eq!(query_string([("q", String::new())]), "");
    }
}
