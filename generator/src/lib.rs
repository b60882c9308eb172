//! # gapi-gen — Google API discovery documents → typed Rust clients
//!
//! The pipeline has one module per stage: [`parse`] (serde types of the
//! discovery format, errors with file + JSON path) → [`resolve`] (typed IR,
//! every Rust name decided once) → [`emit`] (`quote!` tokens, formatted with
//! `prettyplease`). The generated code runs on the `gapi` runtime crate; its
//! shape is described in ARCHITECTURE.md.
//!
//! ## From a build script
//!
//! ```no_run
//! // In build.rs's `main`:
//! gapi_gen::build::generate_into_out_dir("discovery/tasks.v1.json", "tasks_v1.rs").unwrap();
//! ```
//!
//! and in the crate: `pub mod tasks { include!(concat!(env!("OUT_DIR"), "/tasks_v1.rs")); }`
//! (the crate depends on `gapi`). [`build::Module`] takes options, e.g.
//! `.resources(["instances"])` to generate only some top-level resources
//! and the types they use.
//!
//! ## Large APIs in crate mode
//!
//! The crate of an API with more than [`ResourceFeatures::DEFAULT_THRESHOLD`]
//! methods has one cargo feature per top-level resource (`full`, the
//! default, enables them all): see [`resolve::features`] and
//! [`CrateOptions::resource_features`].
//!
//! ## As a library
//!
//! ```no_run
//! let generator = gapi_gen::Generator::new();
//! let source = generator.generate_module("discovery/tasks.v1.json")?;
//! generator.generate_crate(
//!     "discovery/tasks.v1.json",
//!     std::path::Path::new("out/tasks-v1"),
//!     &gapi_gen::CrateOptions::default(),
//! )?;
//! # Ok::<(), gapi_gen::Error>(())
//! ```

pub mod build;
pub mod emit;
pub mod parse;
pub mod resolve;

mod krate;

use std::fmt;
use std::path::{Path, PathBuf};

pub use krate::{
    CrateOptions, GeneratedCrate, RUNTIME_VERSION, RUST_VERSION, ResourceFeatures, Runtime,
    crate_dir_name, crate_name, dir_name_for,
};
pub use resolve::ir::Api;

/// A generator error. Every variant names the input file; document errors
/// also give the JSON path of the offending value.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing a file failed.
    Io {
        /// The file.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The document is not valid JSON or a value has the wrong type.
    Json {
        /// The document.
        file: String,
        /// JSONPath of the offending value (`$` for syntax errors).
        json_path: String,
        /// What is wrong.
        message: String,
    },
    /// The document is well-formed JSON but inconsistent (e.g. a `$ref` to
    /// an undefined schema).
    Invalid {
        /// The document.
        file: String,
        /// JSONPath of the offending value.
        json_path: String,
        /// What is wrong.
        message: String,
    },
    /// The JSON file is not a REST description (e.g. the directory list).
    NotRestDescription {
        /// The file.
        file: String,
        /// Its `kind`.
        kind: Option<String>,
    },
    /// An option of crate mode is not valid (e.g. a crate version that is
    /// not `MAJOR.MINOR.PATCH`).
    Options {
        /// What is wrong.
        message: String,
    },
    /// The generated code failed to parse: a generator bug.
    Syntax {
        /// The document.
        file: String,
        /// The parser's message.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { file, source } => write!(f, "{file}: {source}"),
            Error::Json {
                file,
                json_path,
                message,
            }
            | Error::Invalid {
                file,
                json_path,
                message,
            } => write!(f, "{file}: {json_path}: {message}"),
            Error::NotRestDescription { file, kind } => {
                write!(f, "{file}: not a REST description (kind {kind:?})")
            }
            Error::Options { message } => write!(f, "invalid crate option: {message}"),
            Error::Syntax { file, message } => write!(
                f,
                "{file}: generated code does not parse ({message}); this is a gapi-gen bug"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where a discovery document comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file on disk.
    Path(PathBuf),
    /// The document's JSON text, with a name used in errors.
    Json {
        /// Name used in error messages.
        name: String,
        /// The JSON text.
        json: String,
    },
}

impl From<&str> for Source {
    /// JSON text when it starts with `{`, a file path otherwise.
    fn from(s: &str) -> Self {
        if s.trim_start().starts_with('{') {
            Source::Json {
                name: "<json>".to_string(),
                json: s.to_string(),
            }
        } else {
            Source::Path(PathBuf::from(s))
        }
    }
}

impl From<&String> for Source {
    fn from(s: &String) -> Self {
        Source::from(s.as_str())
    }
}

impl From<&Path> for Source {
    fn from(p: &Path) -> Self {
        Source::Path(p.to_path_buf())
    }
}

impl From<PathBuf> for Source {
    fn from(p: PathBuf) -> Self {
        Source::Path(p)
    }
}

impl From<&PathBuf> for Source {
    fn from(p: &PathBuf) -> Self {
        Source::Path(p.clone())
    }
}

impl Source {
    /// The name used in error messages.
    pub fn name(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Json { name, .. } => name.clone(),
        }
    }

    fn read(&self) -> Result<Vec<u8>> {
        match self {
            Source::Path(p) => std::fs::read(p).map_err(|source| Error::Io {
                file: p.display().to_string(),
                source,
            }),
            Source::Json { json, .. } => Ok(json.clone().into_bytes()),
        }
    }
}

/// The generator. Stateless apart from its options; cheap to create.
#[derive(Debug, Clone, Default)]
pub struct Generator {
    _private: (),
}

impl Generator {
    /// A generator with default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The crate directory name of a document (`tasks-v1`), reading only its
    /// `kind`, `name` and `version`; `None` when it is not a REST description.
    pub fn identity(&self, source: impl Into<Source>) -> Result<Option<String>> {
        let source = source.into();
        let bytes = source.read()?;
        Ok(parse::identity(&source.name(), &bytes)?.map(|(n, v)| dir_name_for(&n, &v)))
    }

    /// Parses and resolves a document into the IR.
    pub fn load(&self, source: impl Into<Source>) -> Result<Api> {
        let source = source.into();
        let bytes = source.read()?;
        self.load_bytes(&source.name(), &bytes)
    }

    /// Parses and resolves a document given as bytes; `name` is used in errors.
    pub fn load_bytes(&self, name: &str, bytes: &[u8]) -> Result<Api> {
        match parse::parse(name, bytes)? {
            parse::Parsed::Rest(doc) => resolve::resolve(name, &doc),
            parse::Parsed::Other(kind) => Err(Error::NotRestDescription {
                file: name.to_string(),
                kind,
            }),
        }
    }

    /// Generates the module body for a document: the text to `include!`
    /// inside `pub mod x { ... }`. `source` is a path or JSON text.
    pub fn generate_module(&self, source: impl Into<Source>) -> Result<String> {
        let source = source.into();
        let api = self.load(source.clone())?;
        self.module_source(&source.name(), &api)
    }

    /// Formats the module body of an already loaded API.
    pub fn module_source(&self, name: &str, api: &Api) -> Result<String> {
        let body = emit::format(emit::module(api)).map_err(|e| Error::Syntax {
            file: name.to_string(),
            message: e.to_string(),
        })?;
        Ok(format!("{}{body}", header(api)))
    }

    /// Writes a standalone crate for a document into `out_dir` (created if
    /// needed): `Cargo.toml`, `src/lib.rs`, `README.md`.
    pub fn generate_crate(
        &self,
        source: impl Into<Source>,
        out_dir: &Path,
        options: &CrateOptions,
    ) -> Result<GeneratedCrate> {
        let source = source.into();
        let api = self.load(source.clone())?;
        self.write_crate(&source.name(), &api, out_dir, options)
    }

    /// Writes the crate of an already loaded API (with one cargo feature
    /// per top-level resource when `options.resource_features` says so).
    pub fn write_crate(
        &self,
        name: &str,
        api: &Api,
        out_dir: &Path,
        options: &CrateOptions,
    ) -> Result<GeneratedCrate> {
        let features = krate::features_for(api, options);
        let body = emit::format(emit::module_gated(api, features.as_ref())).map_err(|e| {
            Error::Syntax {
                file: name.to_string(),
                message: e.to_string(),
            }
        })?;
        krate::write(api, &body, features.as_ref(), out_dir, options)
    }
}

/// The comment at the top of every generated module (document text made
/// safe for a one-line comment).
pub(crate) fn header(api: &Api) -> String {
    use emit::docs::one_line;
    format!(
        "// @generated by gapi-gen from the `{}` {} discovery document (revision {}). Do not edit.\n\n",
        one_line(&api.name),
        one_line(&api.version),
        one_line(&api.revision)
    )
}
