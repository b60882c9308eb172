//! [`Discovery`]: one parsed discovery document, and looking things up in
//! it — resources, methods, schemas — with "did you mean" on a miss.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use gapi_gen::parse::{self, Document, Method, Parameter, Resource, Schema};

use crate::error::{Error, Result};
use crate::info;
use crate::method::MethodRef;
use crate::suggest::{list, suggest};

/// A discovery document loaded at run time: the generator's own serde model
/// of it ([`gapi_gen::parse::Document`]) and the runtime descriptions made
/// from it. Cheap to clone.
#[derive(Clone)]
pub struct Discovery {
    inner: Arc<Inner>,
}

struct Inner {
    doc: Document,
    source: String,
    service: OnceLock<&'static gapi::ServiceInfo>,
    methods: Mutex<HashMap<String, &'static gapi::MethodInfo>>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("api", &self.id())
            .field("source", &self.inner.source)
            .finish()
    }
}

/// What a path of words (`tasks`, `tasks list`) names in a document.
#[derive(Debug, Clone)]
pub enum Target<'a> {
    /// The API itself (no words).
    Api,
    /// A resource: its path of names and its description.
    Resource(Vec<String>, &'a Resource),
    /// A method.
    Method(MethodRef<'a>),
}

impl Discovery {
    /// Parses a document; `source` names it in errors (a file name, a URL,
    /// `bundled:tasks.v1`).
    pub fn from_bytes(source: &str, bytes: &[u8]) -> Result<Self> {
        let doc = match parse::parse(source, bytes)? {
            parse::Parsed::Rest(doc) => *doc,
            parse::Parsed::Other(kind) => {
                return Err(gapi_gen::Error::NotRestDescription {
                    file: source.to_owned(),
                    kind,
                }
                .into());
            }
        };
        if doc.name.is_empty() || doc.version.is_empty() {
            return Err(gapi_gen::Error::Invalid {
                file: source.to_owned(),
                json_path: "$".into(),
                message: "the document has no `name` or `version`".into(),
            }
            .into());
        }
        Ok(Discovery {
            inner: Arc::new(Inner {
                doc,
                source: source.to_owned(),
                service: OnceLock::new(),
                methods: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Reads and parses a document file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| gapi_gen::Error::Io {
            file: path.display().to_string(),
            source,
        })?;
        Discovery::from_bytes(&path.display().to_string(), &bytes)
    }

    /// The parsed document.
    pub fn document(&self) -> &Document {
        &self.inner.doc
    }

    /// Where the document came from, as given when loading it.
    pub fn source(&self) -> &str {
        &self.inner.source
    }

    /// The API name, e.g. `tasks`.
    pub fn name(&self) -> &str {
        &self.inner.doc.name
    }

    /// The API version, e.g. `v1`.
    pub fn version(&self) -> &str {
        &self.inner.doc.version
    }

    /// `name.version`, e.g. `tasks.v1`.
    pub fn id(&self) -> String {
        format!("{}.{}", self.name(), self.version())
    }

    /// The runtime's description of the API, made once per document (it
    /// lives as long as the process: see the crate docs).
    pub fn service_info(&self) -> &'static gapi::ServiceInfo {
        self.inner
            .service
            .get_or_init(|| info::service_info(&self.inner.doc))
    }

    /// A runtime service for this API on `client`, at the document's root URL.
    pub fn service(&self, client: gapi::Client) -> gapi::Service {
        gapi::Service::new(client, self.service_info())
    }

    /// The runtime's description of a method, made (and leaked) once per
    /// method per document.
    pub(crate) fn method_info(&self, method: &Method, id: &str) -> &'static gapi::MethodInfo {
        let mut cache = self.inner.methods.lock().unwrap_or_else(|e| e.into_inner());
        let info: &mut &'static gapi::MethodInfo = cache
            .entry(id.to_owned())
            .or_insert_with(|| info::method_info(&self.inner.doc, method, id));
        info
    }

    /// Resolves words — resource names, then a method name — against the
    /// document: `["tasklists", "list"]` is a method, `["tasklists"]` a
    /// resource, `[]` the API.
    pub fn resolve<S: AsRef<str>>(&self, words: &[S]) -> Result<Target<'_>> {
        let doc = &self.inner.doc;
        let mut resources: &BTreeMap<String, Resource> = &doc.resources;
        let mut methods: &BTreeMap<String, Method> = &doc.methods;
        let mut path: Vec<String> = Vec::new();
        let mut current: Option<&Resource> = None;
        for (i, word) in words.iter().enumerate() {
            let word = word.as_ref();
            let last = i + 1 == words.len();
            if let Some(r) = resources.get(word) {
                // A method and a resource may share a name: a last word is a
                // method when there is one.
                if !(last && methods.contains_key(word)) {
                    path.push(word.to_owned());
                    current = Some(r);
                    resources = &r.resources;
                    methods = &r.methods;
                    continue;
                }
            }
            if let Some(m) = methods.get(word) {
                if !last {
                    return Err(Error::NotFound {
                        kind: "resource",
                        name: words[i + 1].as_ref().to_owned(),
                        within: format!("{} method {word}", self.within(&path)),
                        suggestion: None,
                        choices: Some("none: a method has no sub-commands".into()),
                    });
                }
                path.push(word.to_owned());
                return Ok(Target::Method(MethodRef::new(self, path, m)));
            }
            let names = resources.keys().chain(methods.keys()).map(String::as_str);
            return Err(Error::NotFound {
                kind: "resource or method",
                name: word.to_owned(),
                within: self.within(&path),
                suggestion: suggest(word, names.clone()).map(str::to_owned),
                choices: list(names, 12),
            });
        }
        Ok(match current {
            Some(r) => Target::Resource(path, r),
            None => Target::Api,
        })
    }

    /// A method by its path of names (`tasklists.list`) or its id
    /// (`tasks.tasklists.list`).
    pub fn method(&self, dotted: &str) -> Result<MethodRef<'_>> {
        let words: Vec<&str> = dotted.split('.').collect();
        let words = match words.first() {
            Some(first) if *first == self.name() && words.len() > 1 => {
                // An id starts with the API name, unless a resource of that
                // name exists.
                if self.inner.doc.resources.contains_key(*first) {
                    match self.resolve(&words) {
                        Ok(Target::Method(m)) => return Ok(m),
                        _ => words[1..].to_vec(),
                    }
                } else {
                    words[1..].to_vec()
                }
            }
            _ => words,
        };
        match self.resolve(&words)? {
            Target::Method(m) => Ok(m),
            _ => Err(Error::NotFound {
                kind: "method",
                name: dotted.to_owned(),
                within: self.id(),
                suggestion: None,
                choices: Some("give a resource path and a method, e.g. `tasks.list`".into()),
            }),
        }
    }

    /// Every method of the document with its path of names, sorted.
    pub fn methods(&self) -> Vec<MethodRef<'_>> {
        fn walk<'a>(
            d: &'a Discovery,
            prefix: &[String],
            methods: &'a BTreeMap<String, Method>,
            resources: &'a BTreeMap<String, Resource>,
            out: &mut Vec<MethodRef<'a>>,
        ) {
            for (name, m) in methods {
                let mut p = prefix.to_vec();
                p.push(name.clone());
                out.push(MethodRef::new(d, p, m));
            }
            for (name, r) in resources {
                let mut p = prefix.to_vec();
                p.push(name.clone());
                walk(d, &p, &r.methods, &r.resources, out);
            }
        }
        let mut out = Vec::new();
        let doc = &self.inner.doc;
        walk(self, &[], &doc.methods, &doc.resources, &mut out);
        out
    }

    /// A named schema, with a suggestion when there is none of that name.
    pub fn schema(&self, name: &str) -> Result<&Schema> {
        let schemas = &self.inner.doc.schemas;
        schemas.get(name).ok_or_else(|| Error::NotFound {
            kind: "schema",
            name: name.to_owned(),
            within: self.id(),
            suggestion: suggest(name, schemas.keys().map(String::as_str)).map(str::to_owned),
            choices: list(schemas.keys().map(String::as_str), 12),
        })
    }

    /// A schema node with `$ref`s followed (at most 64 deep: a `$ref` cycle
    /// of pure references, which no generator accepts, ends there).
    pub fn deref<'a>(&'a self, mut schema: &'a Schema) -> &'a Schema {
        for _ in 0..64 {
            match schema
                .ref_
                .as_deref()
                .and_then(|r| self.inner.doc.schemas.get(r))
            {
                Some(next) => schema = next,
                None => break,
            }
        }
        schema
    }

    /// A document-level (standard) parameter.
    pub fn standard_parameter(&self, name: &str) -> Option<&Parameter> {
        self.inner.doc.parameters.get(name)
    }

    fn within(&self, path: &[String]) -> String {
        if path.is_empty() {
            self.id()
        } else {
            format!("{} resource {}", self.id(), path.join("."))
        }
    }
}
