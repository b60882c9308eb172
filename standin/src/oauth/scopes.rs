//! Scope strings: parsing, joining and telling which ones the stand-in accepts.

use std::collections::BTreeSet;

/// A set of scopes, kept sorted so that responses are stable.
pub(crate) type Scopes = BTreeSet<String>;

/// Splits a space-separated scope string.
pub(crate) fn parse(scope: &str) -> Scopes {
    scope.split_whitespace().map(str::to_string).collect()
}

/// Joins scopes with single spaces.
pub(crate) fn join(scopes: &Scopes) -> String {
    scopes.iter().cloned().collect::<Vec<_>>().join(" ")
}

/// Whether the stand-in accepts this scope: the OpenID Connect short names, or any
/// `https://www.googleapis.com/auth/...` scope.
pub(crate) fn is_known(scope: &str) -> bool {
    matches!(scope, "openid" | "email" | "profile")
        || scope
            .strip_prefix("https://www.googleapis.com/auth/")
            .is_some_and(|rest| {
                !rest.is_empty()
                    && rest
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
            })
}

/// Parses a requested scope string: `Err` with a description when it is empty or holds
/// a scope the stand-in does not know.
pub(crate) fn parse_requested(scope: Option<&str>) -> Result<Scopes, String> {
    let scopes = parse(scope.unwrap_or(""));
    if scopes.is_empty() {
        return Err("Missing required parameter: scope".to_string());
    }
    let unknown: Vec<&str> = scopes
        .iter()
        .map(String::as_str)
        .filter(|s| !is_known(s))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "Some requested scopes were invalid. {{invalid=[{}]}}",
            unknown.join(", ")
        ));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_join() {
        let s = parse("b a  b\ta");
        assert_eq!(s.len(), 2);
        assert_eq!(join(&s), "a b");
    }

    #[test]
    fn known_scopes() {
        assert!(is_known("https://www.googleapis.com/auth/tasks"));
        assert!(is_known("https://www.googleapis.com/auth/tasks.readonly"));
        assert!(is_known("openid"));
        assert!(!is_known("https://www.googleapis.com/auth/"));
        assert!(!is_known("https://evil.example/auth/tasks"));
        assert!(!is_known("tasks"));
    }

    #[test]
    fn requested_scopes() {
        assert!(parse_requested(None).is_err());
        assert!(parse_requested(Some("  ")).is_err());
        assert!(
            parse_requested(Some("openid bogus"))
                .unwrap_err()
                .contains("bogus")
        );
        assert_eq!(parse_requested(Some("openid")).unwrap().len(), 1);
    }
}
