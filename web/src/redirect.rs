//! Return paths: only relative paths on this site are ever redirected to.

use percent_encoding::percent_decode_str;

/// The longest return path accepted.
const MAX_LEN: usize = 2048;

/// Whether `s` could be read by a browser or a server as pointing to another
/// site, or is otherwise unfit for a `Location` header.
fn suspicious(s: &str) -> bool {
    s.starts_with("//")
        || s.starts_with("/\\")
        || s.contains('\\')
        || s.chars().any(|c| c.is_control())
}

/// Checks a return path and returns it normalized, or `None` when it is not
/// a plain relative path on this site.
///
/// Accepted: a path starting with a single `/`, with an optional query (the
/// fragment is dropped). Refused, also when percent-encoded (decoding is
/// repeated) or produced by normalizing `.` and `..` segments:
/// protocol-relative `//host`, `/\host`, any backslash, absolute URLs
/// (`http://…`, `javascript:…`), whitespace or control characters (browsers
/// drop tabs and newlines, turning `/\t/host` into `//host`), and anything
/// longer than 2048 bytes.
///
/// ```
/// use gapi_axum::safe_return_path;
/// assert_eq!(safe_return_path("/tasks?list=1").as_deref(), Some("/tasks?list=1"));
/// assert_eq!(safe_return_path("//evil.example/"), None);
/// assert_eq!(safe_return_path("/%2F%2Fevil.example"), None);
/// assert_eq!(safe_return_path("https://evil.example/"), None);
/// ```
pub fn safe_return_path(candidate: &str) -> Option<String> {
    if candidate.is_empty() || candidate.len() > MAX_LEN || !candidate.starts_with('/') {
        return None;
    }
    if suspicious(candidate) || candidate.chars().any(char::is_whitespace) {
        return None;
    }
    // The path part, decoded again and again, must stay innocent.
    let path = candidate
        .split(['?', '#'])
        .next()
        .unwrap_or(candidate)
        .to_owned();
    let mut cur = path;
    for _ in 0..4 {
        let decoded = percent_decode_str(&cur).decode_utf8_lossy().into_owned();
        if suspicious(&decoded) || !decoded.starts_with('/') {
            return None;
        }
        if decoded == cur {
            break;
        }
        cur = decoded;
    }
    // Resolve against a placeholder origin: the result must stay there.
    let base = url::Url::parse("http://return-path.invalid/").expect("a valid base");
    let resolved = base.join(candidate).ok()?;
    if resolved.origin() != base.origin() || resolved.username() != "" {
        return None;
    }
    let mut out = resolved.path().to_owned();
    if let Some(q) = resolved.query() {
        out.push('?');
        out.push_str(q);
    }
    if suspicious(&out) || !out.starts_with('/') {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_paths() {
        for (input, want) in [
            ("/", "/"),
            ("/tasks", "/tasks"),
            ("/tasks?list=a&b=%20c", "/tasks?list=a&b=%20c"),
            ("/a/b/../c", "/a/c"),
            ("/page#section", "/page"),
            ("/t%C3%A4sks", "/t%C3%A4sks"),
            ("/a//b", "/a//b"),
            ("/search?q=http://x.example/", "/search?q=http://x.example/"),
        ] {
            assert_eq!(safe_return_path(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn refuses_everything_that_leaves_the_site() {
        for bad in [
            "",
            "tasks",
            "//evil.example",
            "//evil.example/path",
            "///evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "\\\\evil.example",
            "http://evil.example/",
            "https:evil.example",
            "javascript:alert(1)",
            "data:text/html,x",
            " /tasks",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%5C%5Cevil.example",
            "/%252F%252Fevil.example",
            "/%25252F%25252Fevil.example",
            "/.//evil.example",
            "/..//evil.example",
            "/%2e%2e//evil.example",
            "/a/../..//evil.example",
            "/%09/evil.example",
            "/%0d%0aSet-Cookie:x=y",
            "/x\r\nLocation: http://evil.example",
        ] {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
        assert_eq!(safe_return_path(&format!("/{}", "a".repeat(3000))), None);
    }
}
