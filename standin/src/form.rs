//! Parameters from a query string, a form body or a flat JSON object.

use std::collections::HashSet;

/// Name–value pairs in the order received; repeated names are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parses `application/x-www-form-urlencoded` text (a query string or a form body).
    /// Never fails: malformed escapes are kept as written.
    pub fn parse(text: &str) -> Params {
        Params {
            pairs: url::form_urlencoded::parse(text.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// Parses a form body given as bytes.
    pub fn parse_bytes(body: &[u8]) -> Params {
        Params {
            pairs: url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// Reads a flat JSON object whose values are strings, numbers or booleans (other
    /// values are skipped); `None` when the body is not a JSON object.
    pub fn from_json(body: &[u8]) -> Option<Params> {
        let value: serde_json::Value = serde_json::from_slice(body).ok()?;
        let object = value.as_object()?;
        let pairs = object
            .iter()
            .filter_map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some((k.clone(), v))
            })
            .collect();
        Some(Params { pairs })
    }

    /// Reads a request body: a JSON object when the content type says JSON (Google's
    /// token endpoint takes both), a form otherwise. A JSON body that is not a flat
    /// object gives no parameters.
    pub fn from_body(content_type: Option<&str>, body: &[u8]) -> Params {
        let is_json = content_type.is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
        if is_json {
            Params::from_json(body).unwrap_or_default()
        } else {
            Params::parse_bytes(body)
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, treating an empty value as absent.
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// The first name that appears more than once.
    pub fn first_repeated(&self) -> Option<&str> {
        let mut seen = HashSet::new();
        self.pairs
            .iter()
            .map(|(k, _)| k.as_str())
            .find(|k| !seen.insert(*k))
    }

    /// All pairs in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Adds a pair.
    pub fn push(&mut self, name: &str, value: &str) {
        self.pairs.push((name.to_string(), value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let p = Params::parse("a=1&b=x+y&c=%2F&a=2&empty=");
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), Some("x y"));
        assert_eq!(p.get("c"), Some("/"));
        assert_eq!(p.get("empty"), Some(""));
        assert_eq!(p.get_nonempty("empty"), None);
        assert_eq!(p.first_repeated(), Some("a"));
        assert_eq!(Params::parse("%zz=%").get("%zz"), Some("%"));
    }

    #[test]
    fn parses_json() {
        let p = Params::from_json(br#"{"a":"x","n":3,"b":true,"o":{}}"#).unwrap();
        assert_eq!(p.get("a"), Some("x"));
        assert_eq!(p.get("n"), Some("3"));
        assert_eq!(p.get("b"), Some("true"));
        assert_eq!(p.get("o"), None);
        assert!(Params::from_json(b"[1]").is_none());
        assert!(Params::from_json(b"nope").is_none());
    }

    #[test]
    fn body_by_content_type() {
        let p = Params::from_body(Some("application/json; charset=utf-8"), br#"{"a":"1"}"#);
        assert_eq!(p.get("a"), Some("1"));
        let p = Params::from_body(Some("application/x-www-form-urlencoded"), b"a=2");
        assert_eq!(p.get("a"), Some("2"));
        assert_eq!(Params::from_body(None, b"a=3").get("a"), Some("3"));
        assert_eq!(
            Params::from_body(Some("application/json"), b"a=3"),
            Params::default()
        );
    }
}
