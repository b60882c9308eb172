//! A request body checked against the method's request schema and written
//! as the typed client would write the same values: int64 members as
//! decimal strings, numbers through their Rust type (`1` in a `double`
//! member is `1.0`), base64 in the standard alphabet. Errors name the JSON
//! path of the offending value.

use gapi_gen::parse::{Schema, push_key};
use serde_json::Value;

use crate::Discovery;
use crate::error::{Error, Result};
use crate::kind::Kind;
use crate::method::json_type;
use crate::suggest::suggest;

struct Walk<'a> {
    d: &'a Discovery,
    id: &'a str,
    lenient: bool,
}

/// Checks and normalizes `body` against `schema`. Explicit `null`s are kept
/// (they clear a member, as `null_field` does for a typed call).
pub(crate) fn normalize(
    d: &Discovery,
    id: &str,
    schema: &Schema,
    body: Value,
    lenient: bool,
) -> Result<Value> {
    let w = Walk { d, id, lenient };
    let kind = d.kind(schema);
    // `dataWrapper` APIs: `{"data": {…}}` is the wrapped body itself.
    if d.document().data_wrapper()
        && let Kind::Struct(s) = kind
        && !s
            .properties
            .as_ref()
            .is_some_and(|p| p.contains_key("data"))
        && let Value::Object(o) = &body
        && o.len() == 1
        && let Some(inner) = o.get("data")
    {
        let inner = w.value(kind, inner.clone(), &mut String::from("$.data"))?;
        return Ok(serde_json::json!({ "data": inner }));
    }
    w.value(kind, body, &mut String::from("$"))
}

impl Walk<'_> {
    fn err(&self, path: &str, message: String) -> Error {
        Error::Body {
            method: self.id.to_owned(),
            json_path: path.to_owned(),
            message,
        }
    }

    fn expected(&self, path: &str, what: &str, v: &Value) -> Error {
        self.err(path, format!("expected {what}, got {}", shown(v)))
    }

    fn value(&self, kind: Kind<'_>, v: Value, path: &mut String) -> Result<Value> {
        if v.is_null() {
            return Ok(v);
        }
        match kind {
            Kind::Any => Ok(v),
            Kind::Str | Kind::Formatted => match v {
                Value::String(_) => Ok(v),
                other => Err(self.expected(path, "a string", &other)),
            },
            Kind::Enum(values) => match &v {
                Value::String(s) if self.lenient || values.contains(s) => Ok(v),
                Value::String(s) => {
                    let hint = suggest(s, values.iter().map(String::as_str))
                        .map(|x| format!(" (did you mean `{x}`?)"))
                        .unwrap_or_default();
                    Err(self.err(
                        path,
                        format!(
                            "{s:?} is not one of {}{hint}",
                            crate::suggest::list(values.iter().map(String::as_str), 12)
                                .unwrap_or_default()
                        ),
                    ))
                }
                other => Err(self.expected(path, "a string", other)),
            },
            Kind::Bytes => {
                let b: gapi::Bytes = serde_json::from_value(v.clone())
                    .map_err(|_| self.expected(path, "base64 text", &v))?;
                Ok(serde_json::to_value(&b).unwrap_or(v))
            }
            Kind::I32 => self.integer::<i32>(v, path, "an int32").map(Value::from),
            Kind::U32 => self.integer::<u32>(v, path, "a uint32").map(Value::from),
            Kind::I64Number => self.integer::<i64>(v, path, "an integer").map(Value::from),
            Kind::I64 => self
                .integer::<i64>(v, path, "an int64")
                .map(|n| Value::String(n.to_string())),
            Kind::U64 => self
                .integer::<u64>(v, path, "a uint64")
                .map(|n| Value::String(n.to_string())),
            Kind::F32 => {
                let x = self.number(&v, path, "a number (float)")? as f32;
                Ok(serde_json::to_value(x).unwrap_or(v))
            }
            Kind::F64 => {
                let x = self.number(&v, path, "a number (double)")?;
                Ok(serde_json::to_value(x).unwrap_or(v))
            }
            Kind::Bool => match v {
                Value::Bool(_) => Ok(v),
                other => Err(self.expected(path, "a boolean", &other)),
            },
            Kind::Array(items) => match v {
                Value::Array(a) => {
                    let mut out = Vec::with_capacity(a.len());
                    for (i, item) in a.into_iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        let k = items.map_or(Kind::Any, |s| self.d.kind(s));
                        out.push(self.value(k, item, path)?);
                        path.truncate(len);
                    }
                    Ok(Value::Array(out))
                }
                other => Err(self.expected(path, "an array", &other)),
            },
            Kind::Map(values) => match v {
                Value::Object(o) => {
                    let mut out = serde_json::Map::new();
                    for (k, item) in o {
                        let len = path.len();
                        push_key(path, &k);
                        out.insert(k, self.value(self.d.kind(values), item, path)?);
                        path.truncate(len);
                    }
                    Ok(Value::Object(out))
                }
                other => Err(self.expected(path, "an object", &other)),
            },
            Kind::Struct(s) => match v {
                Value::Object(o) => {
                    let props = s.properties.as_ref();
                    let mut out = serde_json::Map::new();
                    for (k, item) in o {
                        let len = path.len();
                        push_key(path, &k);
                        match props.and_then(|p| p.get(&k)) {
                            Some(ps) => {
                                let item = self.value(self.d.kind(ps), item, path)?;
                                out.insert(k, item);
                            }
                            None if self.lenient => {
                                out.insert(k, item);
                            }
                            None => {
                                let names =
                                    props.into_iter().flat_map(|p| p.keys()).map(String::as_str);
                                let hint = match suggest(&k, names) {
                                    Some(x) => format!(" (did you mean `{x}`?)"),
                                    None => String::new(),
                                };
                                let ty = s.id.as_deref().unwrap_or("the schema");
                                return Err(
                                    self.err(path, format!("{ty} has no member `{k}`{hint}"))
                                );
                            }
                        }
                        path.truncate(len);
                    }
                    Ok(Value::Object(out))
                }
                other => Err(self.expected(path, "an object", &other)),
            },
        }
    }

    /// An integer of type `T` from a JSON integer or a string of one.
    fn integer<T>(&self, v: Value, path: &str, what: &str) -> Result<T>
    where
        T: std::str::FromStr,
    {
        let parsed = match &v {
            Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string().parse::<T>().ok(),
            Value::String(s) => s.trim().parse::<T>().ok(),
            _ => None,
        };
        parsed.ok_or_else(|| self.expected(path, what, &v))
    }

    fn number(&self, v: &Value, path: &str, what: &str) -> Result<f64> {
        let x = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
            _ => None,
        };
        x.ok_or_else(|| self.expected(path, what, v))
    }
}

/// A value as shown in a message: its type, and short scalars themselves.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) if s.len() <= 40 => format!("the string {s:?}"),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("`{b}`"),
        other => json_type(other).to_owned(),
    }
}
