//! Crate mode: a standalone `gapi-<name>-<version>` crate per document.

mod features;
mod manifest;

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use heck::{ToKebabCase, ToSnakeCase};

use crate::emit::docs::{doc_lines, one_line};
use crate::resolve::features::Features;
use crate::resolve::ir::{Api, Resource, Ty};
use crate::{Error, Result};
use features::FeatureDocs;
pub use features::ResourceFeatures;
pub(crate) use features::features_for;
use manifest::{
    LICENSE_APACHE, LICENSE_MIT, Manifest, base_version, cargo_toml, crate_version, toml_str,
};

/// The `gapi` runtime version this generator writes code for (its own
/// version: gapi and gapi-gen are released together).
pub const RUNTIME_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `rust-version` written into generated crates: the runtime's.
pub const RUST_VERSION: &str = env!("CARGO_PKG_RUST_VERSION");

/// Which `gapi` runtime a generated crate depends on.
#[derive(Debug, Clone)]
pub enum Runtime {
    /// A published version requirement, e.g. `0.1.0` (written as `gapi =
    /// { version = "0.1.0", default-features = false }`, a caret
    /// requirement, with `features = ["media"]` for an API with media).
    Version(String),
    /// A local path to the runtime crate (written relative to the crate
    /// dir), with [`RUNTIME_VERSION`] beside it, so that the crate still
    /// packages and publishes: cargo drops the path from a published
    /// manifest and keeps the version.
    Path(PathBuf),
    /// Both: a path for development and the version requirement published.
    PathAndVersion(PathBuf, String),
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::Version(RUNTIME_VERSION.to_string())
    }
}

/// Options of crate mode.
#[derive(Debug, Clone, Default)]
pub struct CrateOptions {
    /// The runtime dependency.
    pub runtime: Runtime,
    /// Add an empty `[workspace]` table so the crate is not taken for a
    /// member of an enclosing workspace.
    pub standalone_workspace: bool,
    /// The crate's version, `MAJOR.MINOR.PATCH` (default `0.1.0`). The
    /// written version carries the document's revision as SemVer build
    /// metadata: `0.1.0+20251216` (README, "Versions": cargo and crates.io
    /// ignore build metadata when comparing, so a new revision needs a new
    /// `MAJOR.MINOR.PATCH`).
    pub version: Option<String>,
    /// `package.repository` and `package.homepage` of the crate, if any.
    pub repository: Option<String>,
    /// When the crate gets one cargo feature per top-level resource.
    pub resource_features: ResourceFeatures,
}

/// What [`crate::Generator::generate_crate`] wrote.
#[derive(Debug, Clone)]
pub struct GeneratedCrate {
    /// Package name, e.g. `gapi-tasks-v1`.
    pub package: String,
    /// Library name, e.g. `gapi_tasks_v1`.
    pub lib_name: String,
    /// The crate directory.
    pub dir: PathBuf,
}

/// The package name of an API's crate: `gapi-<name>-<version>` in kebab case
/// (`gapi-tasks-v1`, `gapi-admin-datatransfer-v1`).
pub fn crate_name(api: &Api) -> String {
    format!("gapi-{}", crate_dir_name(api))
}

/// The directory name of an API's crate: `<name>-<version>` in kebab case.
pub fn crate_dir_name(api: &Api) -> String {
    dir_name_for(&api.name, &api.version)
}

/// The directory name for an API `name` and `version`: `<name>-<version>` in
/// kebab case (`api` when neither has an ASCII letter or digit; at most 59
/// characters, a longer one cut and given a hash of the whole).
pub fn dir_name_for(name: &str, version: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .to_kebab_case()
    };
    let name = format!("{}-{}", clean(name), clean(version));
    match name.trim_matches('-') {
        // Nothing of the name and version is left (empty, or no ASCII
        // letter or digit): a crate and a directory still need a name.
        "" => "api".to_string(),
        // Package names on crates.io have at most 64 characters (with the
        // `gapi-` prefix); a long one keeps its start and a hash of the rest.
        long if long.len() > MAX_DIR_NAME => {
            let head = long[..MAX_DIR_NAME - 9].trim_end_matches('-');
            format!("{head}-{:08x}", fnv1a(long.as_bytes()))
        }
        name => name.to_string(),
    }
}

/// The longest crate directory name (`gapi-` + it is at most 64 characters).
const MAX_DIR_NAME: usize = 59;

/// 32-bit FNV-1a: a hash that stays the same across Rust versions.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// Writes the crate files (`features`: the resource features `body` was
/// emitted with, if any).
pub(crate) fn write(
    api: &Api,
    body: &str,
    features: Option<&Features>,
    out_dir: &Path,
    options: &CrateOptions,
) -> Result<GeneratedCrate> {
    let package = crate_name(api);
    let lib_name = package.to_snake_case();
    let io = |file: &Path| {
        let file = file.display().to_string();
        move |source| Error::Io { file, source }
    };
    let version = crate_version(api, options)?;
    std::fs::create_dir_all(out_dir.join("src")).map_err(io(out_dir))?;
    // None of the runtime's default features (the credential types are the
    // program's choice, not the client's), and its `media` feature where the
    // API uploads or downloads media: a crate without media methods builds
    // none of the media code.
    let media = if takes_media(&api.root) {
        ", default-features = false, features = [\"media\"]"
    } else {
        ", default-features = false"
    };
    let path_dep = |p: &Path, v: &str| -> Result<String> {
        let rel = relative_path(out_dir, p).map_err(io(p))?;
        Ok(format!(
            "gapi = {{ version = {}, path = {}{media} }}",
            toml_str(v),
            toml_str(&rel.display().to_string().replace('\\', "/"))
        ))
    };
    let runtime_dep = match &options.runtime {
        Runtime::Version(v) => format!("gapi = {{ version = {}{media} }}", toml_str(v)),
        Runtime::Path(p) => path_dep(p, RUNTIME_VERSION)?,
        Runtime::PathAndVersion(p, v) => path_dep(p, v)?,
    };
    let mut cargo = cargo_toml(
        api,
        &Manifest {
            package: &package,
            lib_name: &lib_name,
            version: &version,
            runtime_dep: &runtime_dep,
            repository: options.repository.as_deref(),
            standalone: options.standalone_workspace,
        },
    );
    let features = features.map(|f| FeatureDocs::new(api, f, base_version(options)));
    if let Some(f) = &features {
        cargo.push_str(&f.toml());
    }
    let lib = lib_rs(api, &lib_name, features.as_ref());
    let api_body = api_rs(api, body);
    let readme = readme(api, &package, &lib_name, features.as_ref());
    for (name, content) in [
        ("Cargo.toml", cargo),
        ("src/lib.rs", lib),
        ("src/api.rs", api_body),
        ("README.md", readme),
        // The manifest says "MIT OR Apache-2.0": both texts travel with the
        // crate (crates.io and `cargo package` expect the files).
        ("LICENSE-MIT", LICENSE_MIT.to_string()),
        ("LICENSE-APACHE", LICENSE_APACHE.to_string()),
    ] {
        let path = out_dir.join(name);
        write_if_changed(&path, &content).map_err(io(&path))?;
    }
    Ok(GeneratedCrate {
        package,
        lib_name,
        dir: out_dir.to_path_buf(),
    })
}

/// Whether a method of `r` or of its sub-resources uploads media
/// (`supportsMediaUpload`) or can answer with media (`supportsMediaDownload`).
fn takes_media(r: &Resource) -> bool {
    r.methods
        .iter()
        .any(|m| m.media_upload.is_some() || m.download)
        || r.resources.iter().any(takes_media)
}

/// Writes `content` unless the file already holds exactly it (keeps mtimes
/// stable for cargo).
pub(crate) fn write_if_changed(path: &Path, content: &str) -> std::io::Result<()> {
    if let Ok(old) = std::fs::read(path)
        && old == content.as_bytes()
    {
        return Ok(());
    }
    std::fs::write(path, content)
}

/// Lints that generated APIs cannot always satisfy (names and docs come
/// from the document).
pub const CRATE_ALLOWS: &str = "#![allow(\n    clippy::too_many_arguments,\n    clippy::large_enum_variant,\n    clippy::module_inception,\n    clippy::should_implement_trait,\n    clippy::wrong_self_convention,\n    clippy::enum_variant_names,\n    clippy::doc_lazy_continuation,\n    clippy::doc_overindented_list_items,\n    clippy::too_long_first_doc_paragraph,\n    clippy::empty_docs,\n    clippy::tabs_in_doc_comments,\n    rustdoc::bare_urls,\n    rustdoc::broken_intra_doc_links,\n    rustdoc::invalid_html_tags,\n    rustdoc::invalid_rust_codeblocks\n)]\n";

/// A method call chain for the crate example: the first method (depth first,
/// sorted) whose arguments are all single strings and that has no body.
fn example_call(api: &Api) -> Option<String> {
    fn walk(r: &Resource, chain: &mut Vec<String>) -> Option<String> {
        let simple = |m: &&crate::resolve::ir::Method| {
            m.request.is_none() && m.args.iter().all(|a| a.ty == Ty::String && !a.repeated)
        };
        let pick = r
            .methods
            .iter()
            .filter(simple)
            .find(|m| m.wire == "list")
            .or_else(|| r.methods.iter().filter(simple).find(|m| m.wire == "get"))
            .or_else(|| {
                r.methods
                    .iter()
                    .filter(simple)
                    .find(|m| m.http_method == crate::resolve::ir::HttpMethod::Get)
            });
        if let Some(m) = pick {
            {
                let args: Vec<String> = m
                    .args
                    .iter()
                    .map(|a| format!("\"{}\"", example_value(&a.wire)))
                    .collect();
                let mut s = chain.join("");
                let _ = write!(s, ".{}({})", m.accessor, args.join(", "));
                return Some(s);
            }
        }
        for sub in &r.resources {
            chain.push(format!(".{}()", sub.accessor));
            if let Some(s) = walk(sub, chain) {
                return Some(s);
            }
            chain.pop();
        }
        None
    }
    walk(&api.root, &mut Vec::new())
}

fn example_value(wire: &str) -> String {
    match wire {
        "name" => "projects/my-project/locations/global".to_string(),
        "parent" => "projects/my-project".to_string(),
        "project" | "projectId" => "my-project".to_string(),
        "userId" => "me".to_string(),
        _ => format!(
            "my-{}",
            wire.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        ),
    }
}

fn lib_rs(api: &Api, lib_name: &str, features: Option<&FeatureDocs>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "//! # {} ({} {})",
        one_line(&api.title),
        one_line(&api.name),
        one_line(&api.version)
    );
    let _ = writeln!(s, "//!");
    if let Some(d) = &api.description {
        for l in doc_lines(d) {
            let _ = writeln!(s, "//!{}{l}", if l.is_empty() { "" } else { " " });
        }
        let _ = writeln!(s, "//!");
    }
    let _ = writeln!(
        s,
        "//! Generated by gapi-gen from revision `{}` of the discovery document (see [`REVISION`]).",
        one_line(&api.revision)
    );
    if let Some(link) = &api.documentation_link {
        let _ = writeln!(
            s,
            "//! API documentation: <{}>",
            one_line(link).replace('>', "%3E")
        );
    }
    let _ = writeln!(s, "//!");
    let _ = writeln!(s, "//! ```no_run");
    let _ = writeln!(s, "//! # async fn example() -> gapi::Result<()> {{");
    let _ = writeln!(
        s,
        "//! let client = gapi::Client::new(gapi::Credentials::access_token(\"ya29....\"))?;"
    );
    let _ = writeln!(
        s,
        "//! let api = {lib_name}::{}::new(client);",
        api.service_type
    );
    if let Some(call) = example_call(api) {
        let _ = writeln!(s, "//! let response = api{call}.send().await?;");
        let _ = writeln!(s, "//! println!(\"{{response:?}}\");");
    }
    let _ = writeln!(s, "//! # Ok(())");
    let _ = writeln!(s, "//! # }}");
    let _ = writeln!(s, "//! ```");
    let _ = writeln!(s, "//!");
    if let Some(f) = features {
        for line in f.lines() {
            let _ = writeln!(s, "//!{}{line}", if line.is_empty() { "" } else { " " });
        }
        let _ = writeln!(s, "//!");
    }
    for line in naming_docs(api) {
        let _ = writeln!(s, "//!{}{line}", if line.is_empty() { "" } else { " " });
    }
    s.push_str(CRATE_ALLOWS);
    s.push('\n');
    s.push_str(&crate::header(api));
    // The API itself is in `api.rs`, formatted by prettyplease. It is
    // `include!`d rather than a module: rustfmt does not follow `include!`
    // (so `cargo fmt` of a workspace holding this crate leaves it as
    // generated), and no `mod api` can clash with a resource named `api`
    // (cloudtasks v2beta2 has one).
    s.push_str("include!(\"api.rs\");\n");
    s
}

/// The crate docs' section on how the API is spelled in Rust: the rules
/// every generated crate follows (names from the resolver, `resolve/`).
fn naming_docs(api: &Api) -> Vec<String> {
    let service = &api.service_type;
    let standard: Vec<String> = api
        .standard
        .iter()
        .map(|p| format!("`{}`", crate::resolve::names::unraw(&p.rust)))
        .collect();
    let standard = if standard.is_empty() {
        "The document declares no standard parameters; `with_param(name, value)` sets any \
         query parameter."
            .to_string()
    } else {
        format!(
            "The standard parameters ({}) are setters of every builder.",
            standard.join(", ")
        )
    };
    let text = format!(
        "## How the API is spelled\n\n\
         - [`{service}`] is the entry point: the service type is always the API's name followed \
         by `Service`. Its accessors are the document's resources, whose methods return \
         builders (`ListCall` is [`Call`]`<ListMethod>`). Nothing else needs importing.\n\
         - Required parameters are the method's arguments; the others are setters named after \
         them in snake case (`maxResults` → `max_results`). A repeated parameter takes any \
         number of values — a `Vec`, an array, an iterator — as an argument or a setter, and \
         `add_<setter>(value)` adds one.\n\
         - {standard} Call options are exactly the `with_*` methods: `with_timeout` (the \
         call's deadline), `with_response_timeout`, `with_idle_timeout`, `with_retry_policy`, \
         `with_idempotent`, `with_header`, `with_param`, `with_null_field`. No parameter \
         setter starts with `with_`: a parameter whose name would (`withExtendedNotifications`) \
         is `set_with_…` (`set_with_extended_notifications`), so an API's own `timeout` \
         parameter and the call's deadline never hide each other.\n\
         - Finish with `send()`; list methods also have `pages()` and `items()`, media methods \
         `upload(media)` (protocol chosen by size), `upload_with(media, \
         gapi::UploadProtocol::Resumable)` (or `Simple`, `Multipart`) and \
         `upload_resumable(media)`, all with the typed response, or `download()`. The metadata \
         argument of an upload is optional: `None` uploads the media alone.\n\
         - Data types are in [`schemas`], named after the document's schemas and never \
         re-exported at the root (where a type is the service or a builder); parameter enums are in \
         [`params`], named after the parameter (`predefinedAcl` → `PredefinedAcl`), or \
         `<Resource><Method><Param>` (`BucketsGetProjection`) when same-named parameters take \
         different values; identical ones are one type. Each setter's docs link its enum.\n\
         - Deprecated parameters, fields and methods are `#[deprecated]`, with the \
         document's text."
    );
    text.lines().map(str::to_string).collect()
}

/// `src/api.rs`: the module body, as for `build.rs` users.
fn api_rs(api: &Api, body: &str) -> String {
    format!("{}{body}", crate::header(api))
}

fn readme(api: &Api, package: &str, lib_name: &str, features: Option<&FeatureDocs>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {package}\n");
    let _ = writeln!(
        s,
        "A typed Rust client for the {} (`{}` {}), generated by gapi-gen from revision `{}` of its discovery document.\n",
        one_line(&api.title),
        one_line(&api.name),
        one_line(&api.version),
        one_line(&api.revision)
    );
    if let Some(d) = &api.description {
        let _ = writeln!(s, "{}\n", one_line(d));
    }
    if let Some(link) = &api.documentation_link {
        let _ = writeln!(
            s,
            "API documentation: <{}>\n",
            one_line(link).replace('>', "%3E")
        );
    }
    let _ = writeln!(s, "```rust,no_run");
    let _ = writeln!(
        s,
        "let client = gapi::Client::new(gapi::Credentials::access_token(\"ya29....\"))?;"
    );
    let _ = writeln!(
        s,
        "let api = {lib_name}::{}::new(client);",
        api.service_type
    );
    if let Some(call) = example_call(api) {
        let _ = writeln!(s, "let response = api{call}.send().await?;");
    }
    let _ = writeln!(s, "```\n");
    let _ = writeln!(
        s,
        "Required parameters are arguments, the others setters; call options are the `with_*` \
         methods; data types are in `schemas`, parameter enums in `params` (the crate docs have \
         the naming rules).\n"
    );
    if let Some(f) = features {
        for line in f.lines() {
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "Do not edit: regenerate with `gapi-gen generate`.");
    s
}

/// `target` expressed relative to `base` (both made absolute first).
fn relative_path(base: &Path, target: &Path) -> std::io::Result<PathBuf> {
    let base = std::path::absolute(base)?;
    let target = std::path::absolute(target)?;
    let base = normalize(&base);
    let target = normalize(&target);
    let b: Vec<Component> = base.components().collect();
    let t: Vec<Component> = target.components().collect();
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Ok(out)
}

/// Removes `.` and resolves `..` lexically.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(
                Path::new("/tmp/x/tasks-v1"),
                Path::new("/work/main/runtime")
            )
            .unwrap(),
            PathBuf::from("../../../work/main/runtime")
        );
        assert_eq!(
            relative_path(Path::new("/a/b/c"), Path::new("/a/b/r")).unwrap(),
            PathBuf::from("../r")
        );
        assert_eq!(
            relative_path(Path::new("/a/./b/../c"), Path::new("/a/c/d")).unwrap(),
            PathBuf::from("d")
        );
    }

    #[test]
    fn dir_names_are_never_empty_or_too_long() {
        assert_eq!(dir_name_for("tasks", "v1"), "tasks-v1");
        assert_eq!(dir_name_for("", "\u{202e}"), "api");
        let long = dir_name_for(&"x".repeat(300), "v1");
        assert_eq!(long.len(), MAX_DIR_NAME);
        assert!(long.starts_with("xxxx"), "{long}");
        assert_ne!(long, dir_name_for(&"x".repeat(301), "v1"));
    }
}
