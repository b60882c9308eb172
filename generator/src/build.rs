//! Helpers for `build.rs`.

use std::path::{Path, PathBuf};

use crate::{Error, Generator, Result};

/// Generates the module for the discovery document at `doc` (relative to the
/// package being built) into `$OUT_DIR/<out_name>`, and prints
/// `cargo:rerun-if-changed=<doc>`. Returns the written path.
///
/// Use it as `pub mod tasks { include!(concat!(env!("OUT_DIR"), "/tasks_v1.rs")); }`.
/// [`Module`] does the same with options.
pub fn generate_into_out_dir(doc: impl AsRef<Path>, out_name: &str) -> Result<PathBuf> {
    Module::new(doc, out_name).generate()
}

/// A module generated into `$OUT_DIR` by a build script, with options:
///
/// ```no_run
/// // In build.rs's `main`: compute's `instances` resource alone.
/// gapi_gen::build::Module::new("discovery/compute.v1.json", "compute_v1.rs")
///     .resources(["instances"])
///     .generate()
///     .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Module {
    doc: PathBuf,
    out_name: String,
    resources: Option<Vec<String>>,
}

impl Module {
    /// The module for the document at `doc` (relative to the package being
    /// built), to be written as `$OUT_DIR/<out_name>`.
    pub fn new(doc: impl AsRef<Path>, out_name: &str) -> Module {
        Module {
            doc: doc.as_ref().to_path_buf(),
            out_name: out_name.to_string(),
            resources: None,
        }
    }

    /// Generates only these top-level resources (with their sub-resources),
    /// the methods on the service itself, and the data types and parameter
    /// enums those use; nothing else is compiled. A name is the resource's
    /// discovery name (`globalAddresses`), its module name
    /// (`global_addresses`) or its crate feature (`global-addresses`).
    /// Generating fails on a name the document does not have.
    pub fn resources<I, S>(mut self, names: I) -> Module
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resources = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Writes the module (only when its text changed) and prints
    /// `cargo:rerun-if-changed=<doc>`. Returns the written path.
    pub fn generate(self) -> Result<PathBuf> {
        let doc = self.doc.as_path();
        println!("cargo:rerun-if-changed={}", doc.display());
        let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| Error::Io {
            file: "$OUT_DIR".to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "OUT_DIR is not set (call this from a build script)",
            ),
        })?;
        let source = self.source()?;
        let path = Path::new(&out_dir).join(&self.out_name);
        crate::krate::write_if_changed(&path, &source).map_err(|source| Error::Io {
            file: path.display().to_string(),
            source,
        })?;
        Ok(path)
    }

    /// The module's source text, as [`generate`](Self::generate) writes it.
    pub fn source(&self) -> Result<String> {
        let generator = Generator::new();
        let name = self.doc.display().to_string();
        let mut api = generator.load(self.doc.as_path())?;
        if let Some(resources) = &self.resources {
            crate::resolve::features::retain_resources(&mut api, resources).map_err(|message| {
                Error::Invalid {
                    file: name.clone(),
                    json_path: "$.resources".to_string(),
                    message,
                }
            })?;
        }
        generator.module_source(&name, &api)
    }
}
