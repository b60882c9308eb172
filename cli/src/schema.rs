//! `gapi schema <api> <Type|resource.method>`: a schema as JSON, its `$ref`s
//! expanded to a depth (deeper ones stay `{"$ref": …}`); for a method, its
//! HTTP shape, parameters, and request and response schemas.

use serde_json::{Value, json};

use crate::fail::{Failure, Result};
use crate::load::Loaded;

/// Expands `$ref`s in `v` down to `depth` levels.
fn expand(schemas: &Value, v: &Value, depth: usize, seen: &mut Vec<String>) -> Value {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref")
                && depth > 0
                && !seen.contains(r)
                && let Some(target) = schemas.get(r)
            {
                seen.push(r.clone());
                let out = expand(schemas, target, depth - 1, seen);
                seen.pop();
                return out;
            }
            Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), expand(schemas, x, depth, seen)))
                    .collect(),
            )
        }
        Value::Array(a) => {
            Value::Array(a.iter().map(|x| expand(schemas, x, depth, seen)).collect())
        }
        other => other.clone(),
    }
}

/// The schema or method `name` of the loaded document.
pub fn describe(loaded: &Loaded, name: &str, depth: usize) -> Result<Value> {
    let raw: Value = serde_json::from_slice(&loaded.bytes)
        .map_err(|e| Failure::input(format!("{}: {e}", loaded.discovery.source())))?;
    let schemas = raw.get("schemas").cloned().unwrap_or(Value::Null);
    let d = &loaded.discovery;
    if let Some(s) = schemas.get(name) {
        return Ok(expand(&schemas, s, depth, &mut vec![name.to_owned()]));
    }
    // A method: find its raw JSON by its path of names.
    let method = match d.method(name) {
        Ok(m) => m,
        // Neither: report the schema miss (with its suggestion), the more
        // common intent.
        Err(method_miss) => {
            return Err(match d.schema(name) {
                Err(schema_miss) => schema_miss.into(),
                Ok(_) => method_miss.into(),
            });
        }
    };
    let mut node = &raw;
    let path = method.path();
    for (i, word) in path.iter().enumerate() {
        let key = if i + 1 == path.len() {
            "methods"
        } else {
            "resources"
        };
        node = &node[key][word.as_str()];
    }
    let mut out = json!({
        "id": method.id(),
        "httpMethod": method.info().http_method.as_str(),
        "path": node["path"],
        "parameters": node["parameters"],
        "parameterOrder": node["parameterOrder"],
        "scopes": node["scopes"],
    });
    for k in [
        "request",
        "response",
        "mediaUpload",
        "supportsMediaDownload",
    ] {
        if !node[k].is_null() {
            out[k] = expand(&schemas, &node[k], depth, &mut Vec::new());
        }
    }
    Ok(out)
}
