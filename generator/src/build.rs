//! Helpers for `build.rs`.

use std::path::{Path, PathBuf};

use crate::{Error, Generator, Result};

/// Generates the module for the discovery document at `doc` (relative to the
/// package being built) into `$OUT_DIR/<out_name>`, and prints
/// `cargo:rerun-if-changed=<doc>`. Returns the written path.
///
/// Use it as `pub mod tasks { include!(concat!(env!("OUT_DIR"), "/tasks_v1.rs")); }`.
pub fn generate_into_out_dir(doc: impl AsRef<Path>, out_name: &str) -> Result<PathBuf> {
    let doc = doc.as_ref();
    println!("cargo:rerun-if-changed={}", doc.display());
    let out_dir = std::env::var_os("OUT_DIR").ok_or_else(|| Error::Io {
        file: "$OUT_DIR".to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "OUT_DIR is not set (call this from a build script)",
        ),
    })?;
    let source = Generator::new().generate_module(doc)?;
    let path = Path::new(&out_dir).join(out_name);
    crate::krate::write_if_changed(&path, &source).map_err(|source| Error::Io {
        file: path.display().to_string(),
        source,
    })?;
    Ok(path)
}
