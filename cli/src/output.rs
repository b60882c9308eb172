//! Printing responses: `--format json` (indented; NDJSON, one compact line
//! per page, with `--page-all`), `yaml`, or `table` (the items of a list
//! response as rows, else the members of an object).

use std::io::Write;

use serde_json::Value;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// JSON (indented; one compact line per page with --page-all).
    Json,
    /// YAML.
    Yaml,
    /// A table: the items of a list, else the members of an object.
    Table,
}

/// Prints one response.
pub fn print(out: &mut impl Write, v: &Value, format: Format) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, v)?;
            writeln!(out)
        }
        Format::Yaml => {
            let mut s = String::new();
            yaml(&mut s, v, 0, false);
            if !s.ends_with('\n') {
                s.push('\n');
            }
            out.write_all(s.as_bytes())
        }
        Format::Table => out.write_all(table(v).as_bytes()),
    }
}

/// Prints one page of a `--page-all` listing.
pub fn print_page(
    out: &mut impl Write,
    v: &Value,
    format: Format,
    first: bool,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer(&mut *out, v)?;
            writeln!(out)
        }
        Format::Yaml => {
            let mut s = String::from("---\n");
            yaml(&mut s, v, 0, false);
            if !s.ends_with('\n') {
                s.push('\n');
            }
            out.write_all(s.as_bytes())
        }
        Format::Table => {
            let t = table(v);
            // The header once: later pages only add rows.
            let body = if first {
                t.as_str()
            } else {
                t.split_once('\n').map_or("", |(_, rest)| rest)
            };
            out.write_all(body.as_bytes())
        }
    }
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || " _-./@+".contains(c))
                && !s.starts_with([' ', '-', '.', '@'])
                && !s.ends_with(' ')
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
                )
                && s.parse::<f64>().is_err();
            if plain {
                s.clone()
            } else {
                // A JSON string is a valid YAML double-quoted scalar.
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => String::new(),
    }
}

fn is_scalar(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => true,
    }
}

fn key(k: &str) -> String {
    yaml_scalar(&Value::String(k.to_owned()))
}

/// Block-style YAML of `v` at `indent`; `inline` when the first line
/// continues a `- ` already written.
fn yaml(out: &mut String, v: &Value, indent: usize, inline: bool) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (i, (k, item)) in o.iter().enumerate() {
                if !(inline && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str(&key(k));
                out.push(':');
                if is_scalar(item) {
                    out.push(' ');
                    out.push_str(&yaml_scalar(item));
                    out.push('\n');
                } else {
                    out.push('\n');
                    yaml(out, item, indent + 2, false);
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                out.push_str(&pad);
                out.push_str("- ");
                if is_scalar(item) {
                    out.push_str(&yaml_scalar(item));
                    out.push('\n');
                } else {
                    yaml(out, item, indent + 2, true);
                }
            }
        }
        scalar => {
            if !inline {
                out.push_str(&pad);
            }
            out.push_str(&yaml_scalar(scalar));
            out.push('\n');
        }
    }
}

/// The rows of a response: its one array of objects (`items`, `files`, …).
fn rows(v: &Value) -> Option<&Vec<Value>> {
    let o = v.as_object()?;
    let arrays: Vec<&Vec<Value>> = o
        .values()
        .filter_map(Value::as_array)
        .filter(|a| a.iter().all(Value::is_object))
        .collect();
    match arrays.as_slice() {
        [one] => Some(one),
        _ => o.get("items").and_then(Value::as_array),
    }
}

fn cell(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let s = s.replace(['\n', '\t', '\r'], " ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

/// Where a column goes: identifying members first, bookkeeping last.
fn rank(column: &str) -> u8 {
    match column {
        "id" => 0,
        "name" => 1,
        "title" | "displayName" => 2,
        "status" | "state" => 3,
        "kind" | "etag" | "selfLink" | "position" => 9,
        _ => 5,
    }
}

/// A plain-text table: columns are the scalar members the rows have, at
/// most 8, identifying ones first.
fn table(v: &Value) -> String {
    let (header, body): (Vec<String>, Vec<Vec<String>>) = match rows(v) {
        Some(items) => {
            let mut cols: Vec<String> = Vec::new();
            for item in items {
                for (k, x) in item.as_object().into_iter().flatten() {
                    if is_scalar(x) && !cols.contains(k) {
                        cols.push(k.clone());
                    }
                }
            }
            // Names first, bookkeeping last, at most 8 columns.
            cols.sort_by_key(|c| rank(c));
            cols.truncate(8);
            let body = items
                .iter()
                .map(|i| cols.iter().map(|c| cell(&i[c.as_str()])).collect())
                .collect();
            (cols, body)
        }
        None => match v.as_object() {
            Some(o) => (
                vec!["member".into(), "value".into()],
                o.iter().map(|(k, x)| vec![k.clone(), cell(x)]).collect(),
            ),
            None => (vec!["value".into()], vec![vec![cell(v)]]),
        },
    };
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &body {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ");
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let upper: Vec<String> = header.iter().map(|h| h.to_uppercase()).collect();
    let mut out = line(&upper);
    for row in &body {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_blocks() {
        let v = json!({"a": 1, "b": ["x", {"c": true, "d": "two words"}], "e": {}, "f": "true"});
        let mut s = String::new();
        yaml(&mut s, &v, 0, false);
        assert_eq!(
            s,
            "a: 1\nb:\n  - x\n  - c: true\n    d: two words\ne: {}\nf: \"true\"\n"
        );
    }

    #[test]
    fn tables_of_items() {
        let v =
            json!({"kind": "x", "items": [{"id": "1", "title": "A"}, {"id": "22", "done": true}]});
        assert_eq!(table(&v), "ID  TITLE  DONE\n1   A\n22         true\n");
    }
}
