//! Stage 1: serde types of the discovery "REST description" format.
//!
//! Only the keys the generator uses are declared; unknown keys are ignored.
//! Every collection whose order matters for output is a `BTreeMap`, so later
//! stages iterate in a stable, sorted order. Errors name the file and the JSON
//! path of the offending value (via `serde_path_to_error`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Error;

/// The `kind` of a REST description.
pub const REST_DESCRIPTION_KIND: &str = "discovery#restDescription";

/// A parsed discovery document (a "REST description").
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Document {
    /// `discovery#restDescription` for REST descriptions.
    pub kind: Option<String>,
    /// API name, e.g. `tasks`.
    pub name: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Human title.
    pub title: Option<String>,
    /// Description of the API.
    pub description: Option<String>,
    /// Revision, e.g. `20251216`.
    pub revision: Option<String>,
    /// Link to the API's documentation.
    pub documentation_link: Option<String>,
    /// Root URL, e.g. `https://tasks.googleapis.com/`.
    pub root_url: String,
    /// Path under the root URL, e.g. `storage/v1/`.
    pub service_path: String,
    /// Batch path, e.g. `batch`.
    pub batch_path: Option<String>,
    /// Document-level (standard) parameters.
    pub parameters: BTreeMap<String, Parameter>,
    /// OAuth 2.0 scopes.
    pub auth: Option<Auth>,
    /// Named schemas.
    pub schemas: BTreeMap<String, Schema>,
    /// Top-level resources.
    pub resources: BTreeMap<String, Resource>,
    /// Methods on the root (rare: `oauth2.v2`).
    pub methods: BTreeMap<String, Method>,
    /// `features`, e.g. `["dataWrapper"]`.
    pub features: Vec<String>,
}

impl Document {
    /// Whether request and response bodies are wrapped in `{"data": …}`
    /// (the `dataWrapper` feature).
    pub fn data_wrapper(&self) -> bool {
        self.features.iter().any(|f| f == "dataWrapper")
    }
}

/// `auth` of a document.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Auth {
    /// OAuth 2.0 part.
    pub oauth2: Option<OAuth2>,
}

/// `auth.oauth2` of a document.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OAuth2 {
    /// Scope URL → its description.
    pub scopes: BTreeMap<String, ScopeInfo>,
}

/// One scope's entry.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ScopeInfo {
    /// What the scope grants.
    pub description: Option<String>,
}

/// A JSON schema node (top-level schema, property, `items`,
/// `additionalProperties`, inline request/response).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Schema {
    /// `id` of a top-level schema.
    pub id: Option<String>,
    /// `type`: object, array, string, integer, number, boolean, any, null.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// `$ref` to a named schema.
    #[serde(rename = "$ref")]
    pub ref_: Option<String>,
    /// `format`, e.g. `int64`, `byte`, `google-datetime`.
    pub format: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Object properties.
    pub properties: Option<BTreeMap<String, Schema>>,
    /// Map values.
    pub additional_properties: Option<Box<Schema>>,
    /// Array items.
    pub items: Option<Box<Schema>>,
    /// Enum values (strings).
    #[serde(rename = "enum")]
    pub enum_: Option<Vec<String>>,
    /// One description per enum value.
    pub enum_descriptions: Option<Vec<String>>,
    /// One flag per enum value.
    pub enum_deprecated: Option<Vec<bool>>,
    /// Deprecated node.
    pub deprecated: Option<bool>,
    /// Read-only (output only) node.
    pub read_only: Option<bool>,
}

/// A resource: methods and sub-resources.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Resource {
    /// Methods of this resource.
    pub methods: BTreeMap<String, Method>,
    /// Nested resources.
    pub resources: BTreeMap<String, Resource>,
    /// Deprecated resource.
    pub deprecated: Option<bool>,
}

/// A method.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Method {
    /// Method id, e.g. `tasks.tasklists.get`.
    pub id: Option<String>,
    /// Path template relative to the service path.
    pub path: String,
    /// Flat path (with `{projectsId}`-style variables), informational.
    pub flat_path: Option<String>,
    /// HTTP verb.
    pub http_method: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Parameters by name.
    pub parameters: BTreeMap<String, Parameter>,
    /// Required parameters in positional order.
    pub parameter_order: Vec<String>,
    /// Request body schema.
    pub request: Option<Schema>,
    /// Response body schema.
    pub response: Option<Schema>,
    /// OAuth scopes any of which authorizes the call.
    pub scopes: Vec<String>,
    /// Media upload details.
    pub media_upload: Option<MediaUpload>,
    /// Whether `supportsMediaUpload` is set.
    pub supports_media_upload: Option<bool>,
    /// Whether `alt=media` downloads are supported.
    pub supports_media_download: Option<bool>,
    /// Whether downloads go through the media download service.
    pub use_media_download_service: Option<bool>,
    /// Deprecated method.
    pub deprecated: Option<bool>,
    /// Method-level API version (sent as `X-Goog-Api-Version`).
    pub api_version: Option<String>,
}

/// A method or document parameter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Parameter {
    /// `type`: string, integer, number, boolean, any, object.
    #[serde(rename = "type")]
    pub type_: Option<String>,
    /// `format`.
    pub format: Option<String>,
    /// `path` or `query`.
    pub location: Option<String>,
    /// Required parameter.
    pub required: Option<bool>,
    /// Repeated parameter.
    pub repeated: Option<bool>,
    /// Description.
    pub description: Option<String>,
    /// Enum values.
    #[serde(rename = "enum")]
    pub enum_: Option<Vec<String>>,
    /// One description per enum value.
    #[serde(rename = "enumDescriptions")]
    pub enum_descriptions: Option<Vec<String>>,
    /// Deprecated parameter.
    pub deprecated: Option<bool>,
    /// Default value as a string.
    pub default: Option<serde_json::Value>,
}

/// `mediaUpload` of a method.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MediaUpload {
    /// Accepted MIME patterns.
    pub accept: Vec<String>,
    /// Maximum size, e.g. `10485760` or `1GB`.
    pub max_size: Option<String>,
    /// Protocols.
    pub protocols: MediaProtocols,
}

/// `mediaUpload.protocols`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MediaProtocols {
    /// Simple (one request) upload.
    pub simple: Option<MediaProtocol>,
    /// Resumable upload.
    pub resumable: Option<MediaProtocol>,
}

/// One media protocol.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MediaProtocol {
    /// Upload path (absolute from the root URL).
    pub path: String,
    /// Whether multipart is supported.
    pub multipart: Option<bool>,
}

/// Just enough to tell what kind of JSON file this is.
#[derive(Deserialize)]
struct KindOnly {
    #[serde(default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Identity {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
}

/// Reads only `kind`, `name` and `version`: `None` for files that are not
/// REST descriptions.
pub fn identity(file: &str, bytes: &[u8]) -> Result<Option<(String, String)>, Error> {
    let id: Identity = serde_json::from_slice(bytes).map_err(|e| Error::Json {
        file: file.to_string(),
        json_path: "$".to_string(),
        message: e.to_string(),
    })?;
    Ok(match id.kind.as_deref() {
        None | Some(REST_DESCRIPTION_KIND) | Some("discovery#describeItem") => {
            Some((id.name, id.version))
        }
        Some(_) => None,
    })
}

/// What a JSON file turned out to be.
#[derive(Debug)]
pub enum Parsed {
    /// A REST description.
    Rest(Box<Document>),
    /// Some other JSON file (e.g. the directory list `index.json`), with its `kind`.
    Other(Option<String>),
}

/// Parses a discovery document from bytes. `file` names the input in errors.
///
/// Files whose `kind` is present and is not `discovery#restDescription` give
/// [`Parsed::Other`]. A document without `kind` is parsed as a REST description.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Parsed, Error> {
    let kind: KindOnly = serde_json::from_slice(bytes).map_err(|e| Error::Json {
        file: file.to_string(),
        json_path: "$".to_string(),
        message: e.to_string(),
    })?;
    match kind.kind.as_deref() {
        None | Some(REST_DESCRIPTION_KIND) | Some("discovery#describeItem") => {}
        Some(_) => return Ok(Parsed::Other(kind.kind)),
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let doc: Document = serde_path_to_error::deserialize(de).map_err(|e| Error::Json {
        file: file.to_string(),
        json_path: json_path(e.path()),
        message: e.into_inner().to_string(),
    })?;
    Ok(Parsed::Rest(Box::new(doc)))
}

/// Renders a serde_path_to_error path as a JSONPath (`$.a.b["c.d"][0]`).
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => push_key(&mut out, key),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// Appends `.key` or `["key"]` to a JSONPath.
pub fn push_key(out: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        out.push('.');
        out.push_str(key);
    } else {
        out.push_str("[\"");
        for c in key.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                c if crate::emit::docs::is_unsafe_char(c) => {
                    out.push_str(&format!("\\u{:04x}", u32::from(c)));
                }
                c => out.push(c),
            }
        }
        out.push_str("\"]");
    }
}

/// A name from the document as it appears in an error message: control and
/// bidirectional-text characters escaped (`\u{202e}`), so a message cannot
/// break lines or reorder the text around it in a terminal.
pub fn shown(name: &str) -> String {
    name.chars()
        .map(|c| {
            if crate::emit::docs::is_unsafe_char(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> (String, String) {
        match parse("t.json", json.as_bytes()) {
            Err(Error::Json {
                file,
                json_path,
                message,
            }) => {
                assert_eq!(file, "t.json");
                (json_path, message)
            }
            other => panic!("expected a JSON error, got {other:?}"),
        }
    }

    #[test]
    fn error_names_json_path() {
        let (path, msg) =
            err(r#"{"name":"x","version":"v1","schemas":{"A":{"properties":{"b":{"type":5}}}}}"#);
        assert_eq!(path, "$.schemas.A.properties.b.type");
        assert!(msg.contains("invalid type"), "{msg}");
    }

    #[test]
    fn error_path_brackets_odd_keys() {
        let (path, _) = err(
            r#"{"name":"x","resources":{"r":{"methods":{"m":{"parameters":{"endDate.day":{"required":"yes"}}}}}}}"#,
        );
        assert_eq!(
            path,
            r#"$.resources.r.methods.m.parameters["endDate.day"].required"#
        );
    }

    #[test]
    fn paths_and_names_escape_control_and_bidi_characters() {
        let mut path = String::from("$.schemas");
        push_key(&mut path, "a\n\u{202e}\"b");
        assert_eq!(path, r#"$.schemas["a\u000a\u202e\"b"]"#);
        assert_eq!(shown("x\u{2066}y\n"), "x\\u{2066}y\\u{a}");
        assert_eq!(shown("Task"), "Task");
    }

    #[test]
    fn syntax_error_is_reported() {
        let (path, msg) = err("{ not json");
        assert_eq!(path, "$");
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn directory_list_is_other() {
        let p = parse(
            "index.json",
            br#"{"kind":"discovery#directoryList","items":[]}"#,
        )
        .unwrap();
        assert!(matches!(p, Parsed::Other(Some(k)) if k == "discovery#directoryList"));
    }

    #[test]
    fn unknown_fields_ignored() {
        let p = parse(
            "t.json",
            br#"{"kind":"discovery#restDescription","name":"x","version":"v1","whatever":{"a":1},
                "schemas":{"A":{"type":"object","bogus":[1,2],"properties":{}}}}"#,
        )
        .unwrap();
        let Parsed::Rest(doc) = p else { panic!() };
        assert_eq!(doc.name, "x");
        assert!(doc.schemas["A"].properties.as_ref().unwrap().is_empty());
    }
}
