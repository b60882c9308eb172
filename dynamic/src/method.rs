//! [`MethodRef`]: one method of a loaded document, and turning parameters
//! and a body given as text or JSON into the runtime's [`gapi::Call`] — the
//! same call the generated typed client builds for the same values.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use gapi_gen::parse::{Method, Parameter};
use serde_json::Value;

use crate::Discovery;
use crate::body;
use crate::error::{Error, Result};
use crate::info::{self, in_path};
use crate::kind::{ParamKind, param_kind};
use crate::suggest::suggest;

/// A method of a [`Discovery`] document.
#[derive(Debug, Clone)]
pub struct MethodRef<'a> {
    discovery: &'a Discovery,
    path: Vec<String>,
    method: &'a Method,
}

/// A parameter value as given: text from a command line (`maxResults=10`)
/// or JSON (`{"maxResults": 10}`; an array gives a repeated parameter its
/// values).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// Text, converted by the parameter's type.
    Text(String),
    /// A JSON value.
    Json(Value),
}

/// What a call is made of: parameters in the order given, the body, and how
/// strictly they are checked.
#[derive(Debug, Clone, Default)]
pub struct Args {
    /// Parameters by wire name, in the order given; a name given several
    /// times gives a repeated parameter several values.
    pub params: Vec<(String, ParamValue)>,
    /// The request body (the method's request schema), `None` for `{}`.
    pub body: Option<Value>,
    /// Lets enum values the document does not list, and body members its
    /// schemas do not declare, through (a document older than the API);
    /// types are checked all the same.
    pub lenient: bool,
}

impl Args {
    /// Adds a parameter.
    pub fn param(mut self, name: impl Into<String>, value: ParamValue) -> Self {
        self.params.push((name.into(), value));
        self
    }
}

/// A call checked against the document, ready to be built on a service.
#[derive(Debug, Clone)]
pub struct Validated {
    info: &'static gapi::MethodInfo,
    sets: Vec<Set>,
    body: Option<Value>,
    api_version: Option<String>,
}

#[derive(Debug, Clone)]
enum Set {
    Path(&'static str, String),
    Query(String, String),
    Append(String, String),
}

impl Validated {
    /// The call on `service`, filled as the generated builder fills it.
    pub fn call(&self, service: &gapi::Service) -> gapi::Call {
        let mut call = gapi::Call::new(service, self.info);
        for s in &self.sets {
            match s {
                Set::Path(n, v) => call.path_param(n, v.clone()),
                Set::Query(n, v) => call.query(n.clone(), v.clone()),
                Set::Append(n, v) => call.query_append(n.clone(), v.clone()),
            }
        }
        if let Some(b) = &self.body {
            call.body(b);
        }
        if let Some(v) = &self.api_version {
            call.header("X-Goog-Api-Version", v.clone());
        }
        call
    }

    /// The body as it will be sent (before `dataWrapper`).
    pub fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }
}

/// Parses a JSON object of parameters keeping its members' order (the order
/// the query string gets), e.g. `{"maxResults": 10, "showDeleted": true}`.
pub fn params_from_json(text: &str) -> std::result::Result<Vec<(String, ParamValue)>, String> {
    struct Ordered(Vec<(String, ParamValue)>);
    impl<'de> serde::Deserialize<'de> for Ordered {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Ordered;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object of parameters")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> std::result::Result<Ordered, A::Error> {
                    let mut out = Vec::new();
                    while let Some((k, v)) = map.next_entry::<String, Value>()? {
                        out.push((k, ParamValue::Json(v)));
                    }
                    Ok(Ordered(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Ordered>(text)
        .map(|o| o.0)
        .map_err(|e| e.to_string())
}

/// Parameter names live as long as the process, like the method
/// descriptions (the runtime takes `&'static str` path parameter names):
/// each distinct name once.
fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = names.get_or_insert_with(HashSet::new);
    if let Some(n) = set.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    set.insert(leaked);
    leaked
}

impl<'a> MethodRef<'a> {
    pub(crate) fn new(discovery: &'a Discovery, path: Vec<String>, method: &'a Method) -> Self {
        MethodRef {
            discovery,
            path,
            method,
        }
    }

    /// The document the method belongs to.
    pub fn discovery(&self) -> &'a Discovery {
        self.discovery
    }

    /// The method as the document describes it.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// Resource names then the method name, e.g. `["tasklists", "list"]`.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// The method id, e.g. `tasks.tasklists.list` (made from the API name
    /// and the path when the document has none).
    pub fn id(&self) -> String {
        self.method
            .id
            .clone()
            .unwrap_or_else(|| format!("{}.{}", self.discovery.name(), self.path.join(".")))
    }

    /// The runtime's description of the method.
    pub fn info(&self) -> &'static gapi::MethodInfo {
        self.discovery.method_info(self.method, &self.id())
    }

    /// The response member holding the next page's token, for list methods.
    pub fn page_token_field(&self) -> Option<&'static str> {
        info::pagination(self.discovery.document(), self.method).map(|(_, field)| field)
    }

    /// A parameter of the method, or a standard one of the document (`true`
    /// when standard).
    pub fn parameter(&self, name: &str) -> Option<(&'a Parameter, bool)> {
        if let Some(p) = self.method.parameters.get(name) {
            return Some((p, false));
        }
        self.discovery
            .document()
            .parameters
            .get(name)
            .map(|p| (p, true))
    }

    /// Whether a parameter must be given: required, or positional
    /// (`parameterOrder`: the typed client takes it as an argument).
    pub fn is_required(&self, name: &str) -> bool {
        self.method
            .parameters
            .get(name)
            .is_some_and(|p| p.required == Some(true))
            || (self.method.parameter_order.iter().any(|n| n == name)
                && self.method.parameters.contains_key(name))
    }

    /// Refuses a method the runtime cannot send (an unknown HTTP method).
    pub fn check(&self) -> Result<()> {
        if info::http_method(self.method).is_none() {
            return Err(Error::Parameter {
                method: self.id(),
                name: "httpMethod".into(),
                message: format!(
                    "the document's HTTP method `{}` is not one the runtime sends",
                    gapi_gen::parse::shown(self.method.http_method.as_deref().unwrap_or(""))
                ),
            });
        }
        Ok(())
    }

    /// Validates `args` against the document and builds the call on
    /// `service`: [`validate`](Self::validate) then
    /// [`Validated::call`]. Nothing is sent.
    pub fn call(&self, service: &gapi::Service, args: &Args) -> Result<gapi::Call> {
        Ok(self.validate(args)?.call(service))
    }

    /// Validates `args` against the document: parameters converted by their
    /// types (as the typed client's Rust types would write them), required
    /// and positional ones present, positional parameters first in
    /// `parameterOrder` and the others in the order given, the body checked
    /// against the request schema (int64 members as strings, numbers as
    /// their Rust type writes them).
    pub fn validate(&self, args: &Args) -> Result<Validated> {
        self.check()?;
        let id = self.id();
        // Values by name, names in the order first given.
        let mut order: Vec<&str> = Vec::new();
        let mut values: HashMap<&str, Vec<String>> = HashMap::new();
        for (name, value) in &args.params {
            let Some((p, _)) = self.parameter(name) else {
                return Err(self.unknown_parameter(name));
            };
            let converted = convert(&id, name, p, value, args.lenient)?;
            let entry = values.entry(name.as_str()).or_insert_with(|| {
                order.push(name.as_str());
                Vec::new()
            });
            entry.extend(converted);
            let repeated = p.repeated == Some(true) && !in_path(p);
            if entry.len() > 1 && !repeated {
                return Err(Error::param(
                    &id,
                    name,
                    format!("is not repeated, but {} values were given", entry.len()),
                ));
            }
        }
        // Required and positional parameters.
        let mut positional: Vec<&str> = Vec::new();
        for name in &self.method.parameter_order {
            if self.method.parameters.contains_key(name) && !positional.contains(&name.as_str()) {
                positional.push(name);
            }
        }
        let mut required: Vec<&str> = positional.clone();
        required.extend(
            self.method
                .parameters
                .iter()
                .filter(|(n, p)| p.required == Some(true) && !positional.contains(&n.as_str()))
                .map(|(n, _)| n.as_str()),
        );
        for name in required {
            if !values.contains_key(name) {
                let p = &self.method.parameters[name];
                let place = if in_path(p) { "path" } else { "query" };
                return Err(Error::param(
                    &id,
                    name,
                    format!(
                        "is required ({place}, {}) and was not given",
                        param_kind(p).describe()
                    ),
                ));
            }
        }
        let mut sets = Vec::new();
        let mut emit = |name: &str| -> Result<()> {
            let Some((p, _)) = self.parameter(name) else {
                return Ok(());
            };
            let vals = values.get(name).map(Vec::as_slice).unwrap_or_default();
            if in_path(p) {
                if let Some(v) = vals.first() {
                    if v.is_empty() && !args.lenient {
                        return Err(Error::param(&id, name, "is a path parameter and is empty"));
                    }
                    sets.push(Set::Path(intern(name), v.clone()));
                }
            } else if p.repeated == Some(true) {
                for v in vals {
                    sets.push(Set::Append(name.to_owned(), v.clone()));
                }
            } else if let Some(v) = vals.first() {
                sets.push(Set::Query(name.to_owned(), v.clone()));
            }
            Ok(())
        };
        for name in &positional {
            emit(name)?;
        }
        for name in &order {
            if !positional.contains(name) {
                emit(name)?;
            }
        }
        let body = match (&self.method.request, &args.body) {
            (Some(schema), body) => {
                let body = body
                    .clone()
                    .unwrap_or_else(|| Value::Object(Default::default()));
                Some(body::normalize(
                    self.discovery,
                    &id,
                    schema,
                    body,
                    args.lenient,
                )?)
            }
            (None, Some(_)) => {
                return Err(Error::Body {
                    method: id,
                    json_path: "$".into(),
                    message: "the method takes no request body".into(),
                });
            }
            (None, None) => None,
        };
        Ok(Validated {
            info: self.info(),
            sets,
            body,
            api_version: self.method.api_version.clone(),
        })
    }

    fn unknown_parameter(&self, name: &str) -> Error {
        let doc = self.discovery.document();
        let names = self
            .method
            .parameters
            .keys()
            .chain(doc.parameters.keys())
            .map(String::as_str);
        let message = match suggest(name, names) {
            Some(s) => format!("is not a parameter of the method (did you mean `{s}`?)"),
            None => {
                let own: Vec<&str> = self.method.parameters.keys().map(String::as_str).collect();
                match crate::suggest::list(own, 12) {
                    Some(l) => format!("is not a parameter of the method (it has {l})"),
                    None => "is not a parameter of the method (it has none)".into(),
                }
            }
        };
        Error::param(&self.id(), name, message)
    }
}

/// The values one given value stands for, as the query string holds them:
/// converted by the parameter's type to what its Rust type's
/// `QueryValue::to_query` writes (`010` → `10`, `1.50` → `1.5`).
fn convert(
    id: &str,
    name: &str,
    p: &Parameter,
    value: &ParamValue,
    lenient: bool,
) -> Result<Vec<String>> {
    let kind = param_kind(p);
    match value {
        ParamValue::Json(Value::Array(items)) => {
            if p.repeated != Some(true) || in_path(p) {
                return Err(Error::param(
                    id,
                    name,
                    "is not repeated, but a JSON array was given",
                ));
            }
            items
                .iter()
                .map(|v| one(id, name, kind, &scalar_text(id, name, v)?, lenient))
                .collect()
        }
        ParamValue::Json(v) => Ok(vec![one(
            id,
            name,
            kind,
            &scalar_text(id, name, v)?,
            lenient,
        )?]),
        ParamValue::Text(t) => Ok(vec![one(id, name, kind, t, lenient)?]),
    }
}

fn scalar_text(id: &str, name: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err(Error::param(id, name, "is null; leave it out instead")),
        other => Err(Error::param(
            id,
            name,
            format!("takes a single value, not {}", json_type(other)),
        )),
    }
}

fn one(id: &str, name: &str, kind: ParamKind<'_>, text: &str, lenient: bool) -> Result<String> {
    let bad = |expected: &str| {
        Err(Error::param(
            id,
            name,
            format!("expected {expected}, got {text:?}"),
        ))
    };
    match kind {
        ParamKind::Str => Ok(text.to_owned()),
        ParamKind::Enum(values) => {
            if lenient || values.iter().any(|v| v == text) {
                return Ok(text.to_owned());
            }
            let hint = match suggest(text, values.iter().map(String::as_str)) {
                Some(s) => format!(" (did you mean `{s}`?)"),
                None => String::new(),
            };
            Err(Error::param(
                id,
                name,
                format!(
                    "{text:?} is not one of {}{hint}",
                    crate::suggest::list(values.iter().map(String::as_str), 12).unwrap_or_default()
                ),
            ))
        }
        ParamKind::Int { min, max, name: ty } => match text.trim().parse::<i128>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
            Ok(_) => bad(&format!("an integer in {min}..={max} ({ty})")),
            Err(_) => bad(&format!("an integer ({ty})")),
        },
        ParamKind::F32 => match text.trim().parse::<f32>() {
            Ok(x) if x.is_finite() => Ok(x.to_string()),
            _ => bad("a number (float)"),
        },
        ParamKind::F64 => match text.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x.to_string()),
            _ => bad("a number (double)"),
        },
        ParamKind::Bool => match text {
            "true" | "false" => Ok(text.to_owned()),
            _ => bad("`true` or `false`"),
        },
    }
}

/// The JSON type of a value, for messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
