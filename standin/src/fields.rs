//! Partial responses: the `fields` parameter's syntax (`items(id,title),nextPageToken`,
//! `a/b/c`, nested parentheses, `*`), parsed into a mask and applied to a JSON value.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A parsed `fields` selection. Each selected name maps to `None` (the whole value) or
/// to a narrower selection inside it; `*` selects every name at its level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldMask {
    fields: BTreeMap<String, Option<FieldMask>>,
}

/// A `fields` value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldsError {
    /// Where in the input parsing stopped (a byte offset).
    pub offset: usize,
}

impl FieldMask {
    /// Parses a `fields` value. An empty or all-blank value selects nothing in particular
    /// and is reported as `Ok(None)`.
    pub fn parse(input: &str) -> Result<Option<FieldMask>, FieldsError> {
        if input.trim().is_empty() {
            return Ok(None);
        }
        let mut parser = Parser {
            input: input.as_bytes(),
            pos: 0,
        };
        let mask = parser.selection()?;
        parser.skip_ws();
        if parser.pos != parser.input.len() {
            return Err(FieldsError { offset: parser.pos });
        }
        Ok(Some(mask))
    }

    /// Keeps only the selected parts of `value`. Arrays apply the selection to each
    /// element; a selection inside a scalar keeps the scalar.
    pub fn apply(&self, value: &Value) -> Value {
        match value {
            Value::Object(object) => {
                let mut out = Map::new();
                for (key, inner) in object {
                    let selected = self.fields.get(key).or_else(|| self.fields.get("*"));
                    match selected {
                        Some(None) => {
                            out.insert(key.clone(), inner.clone());
                        }
                        Some(Some(sub)) => {
                            out.insert(key.clone(), sub.apply(inner));
                        }
                        None => {}
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|v| self.apply(v)).collect()),
            other => other.clone(),
        }
    }

    /// Adds `path` (with an optional narrower selection at its end) to this mask.
    fn insert(&mut self, path: &[String], sub: Option<FieldMask>) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        match self.fields.get_mut(first) {
            None => {
                let value = if rest.is_empty() {
                    sub
                } else {
                    let mut inner = FieldMask::default();
                    inner.insert(rest, sub);
                    Some(inner)
                };
                self.fields.insert(first.clone(), value);
            }
            // The whole field is already selected, which covers anything narrower.
            Some(None) => {}
            Some(existing @ Some(_)) if rest.is_empty() => {
                *existing = match (existing.take(), sub) {
                    (Some(mut a), Some(b)) => {
                        for (k, v) in b.fields {
                            a.insert(&[k], v);
                        }
                        Some(a)
                    }
                    _ => None,
                };
            }
            Some(Some(inner)) => inner.insert(rest, sub),
        }
    }
}

/// A recursive-descent parser over the `fields` grammar:
/// `selection := item (',' item)*`, `item := path ('(' selection ')')?`,
/// `path := name ('/' name)*`.
struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.pos < self.input.len() && self.input[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.input.get(self.pos).copied()
    }

    fn error(&self) -> FieldsError {
        FieldsError { offset: self.pos }
    }

    fn selection(&mut self) -> Result<FieldMask, FieldsError> {
        let mut mask = FieldMask::default();
        loop {
            let (path, sub) = self.item()?;
            mask.insert(&path, sub);
            if self.peek() == Some(b',') {
                self.pos += 1;
            } else {
                return Ok(mask);
            }
        }
    }

    fn item(&mut self) -> Result<(Vec<String>, Option<FieldMask>), FieldsError> {
        let mut path = vec![self.name()?];
        while self.peek() == Some(b'/') {
            self.pos += 1;
            path.push(self.name()?);
        }
        if self.peek() == Some(b'(') {
            self.pos += 1;
            let sub = self.selection()?;
            if self.peek() != Some(b')') {
                return Err(self.error());
            }
            self.pos += 1;
            return Ok((path, Some(sub)));
        }
        Ok((path, None))
    }

    fn name(&mut self) -> Result<String, FieldsError> {
        self.skip_ws();
        let start = self.pos;
        while let Some(&c) = self.input.get(self.pos) {
            if matches!(c, b',' | b'/' | b'(' | b')') || c.is_ascii_whitespace() {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error());
        }
        let name = std::str::from_utf8(&self.input[start..self.pos]).map_err(|_| self.error())?;
        if name.contains('*') && name != "*" {
            return Err(FieldsError { offset: start });
        }
        Ok(name.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apply(fields: &str, v: Value) -> Value {
        FieldMask::parse(fields).unwrap().unwrap().apply(&v)
    }

    fn sample() -> Value {
        json!({
            "kind": "tasks#tasks",
            "etag": "\"x\"",
            "nextPageToken": "t",
            "items": [
                {"id": "1", "title": "a", "notes": "n", "links": [{"type": "t", "link": "l"}]},
                {"id": "2", "title": "b"}
            ]
        })
    }

    #[test]
    fn top_level_names() {
        assert_eq!(
            apply("kind,nextPageToken", sample()),
            json!({"kind": "tasks#tasks", "nextPageToken": "t"})
        );
    }

    #[test]
    fn sub_selection_in_arrays() {
        assert_eq!(
            apply("items(id,title),nextPageToken", sample()),
            json!({"nextPageToken": "t", "items": [{"id": "1", "title": "a"}, {"id": "2", "title": "b"}]})
        );
    }

    #[test]
    fn slash_paths_and_nesting() {
        assert_eq!(
            apply("items/id", sample()),
            json!({"items": [{"id": "1"}, {"id": "2"}]})
        );
        assert_eq!(
            apply("items(id,links(type))", sample()),
            json!({"items": [{"id": "1", "links": [{"type": "t"}]}, {"id": "2"}]})
        );
        assert_eq!(
            apply("items/links/link", sample()),
            json!({"items": [{"links": [{"link": "l"}]}, {}]})
        );
    }

    #[test]
    fn merging_selections() {
        assert_eq!(
            apply("items(id),items(title)", sample()),
            json!({"items": [{"id": "1", "title": "a"}, {"id": "2", "title": "b"}]})
        );
        assert_eq!(
            apply("items/id,items", sample())["items"],
            sample()["items"]
        );
        assert_eq!(
            apply("items,items/id", sample())["items"],
            sample()["items"]
        );
    }

    #[test]
    fn wildcard() {
        assert_eq!(apply("*", sample()), sample());
        assert_eq!(apply("items/*", sample())["items"], sample()["items"]);
        assert_eq!(apply("items(*)", sample())["items"], sample()["items"]);
    }

    #[test]
    fn whitespace_is_allowed() {
        assert_eq!(
            apply(" items( id , title ) , kind ", sample()),
            apply("items(id,title),kind", sample())
        );
    }

    #[test]
    fn missing_fields_are_simply_absent() {
        assert_eq!(apply("nope", sample()), json!({}));
        assert_eq!(apply("kind/x", sample()), json!({"kind": "tasks#tasks"}));
    }

    #[test]
    fn empty_is_no_mask() {
        assert_eq!(FieldMask::parse(""), Ok(None));
        assert_eq!(FieldMask::parse("   "), Ok(None));
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "items(", "items)", "a,,b", ",a", "a,", "a/", "/a", "a()", "a(b))", "a b", "ab*", "()",
            "a(b,c",
        ] {
            assert!(FieldMask::parse(bad).is_err(), "{bad:?} should fail");
        }
        assert_eq!(FieldMask::parse("a(b").unwrap_err().offset, 3);
    }
}
