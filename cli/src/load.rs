//! Finding an API's discovery document: a file given with
//! `--discovery-file`; a fresh copy from the Discovery Service with
//! `--fresh` (kept in the cache); a copy fetched before (from the cache,
//! when its revision is newer than the bundled one); else the bundled one.

use gapi_dynamic::Discovery;
use gapi_dynamic::fetch::{DISCOVERY_URL_TEMPLATE, DocumentCache, discovery_url};
use gapi_dynamic::suggest::suggest;

use crate::bundle;
use crate::config::Dirs;
use crate::fail::{Failure, Result};

/// How to find a document.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// `--discovery-file`.
    pub file: Option<std::path::PathBuf>,
    /// `--fresh`: fetch from the Discovery Service.
    pub fresh: bool,
    /// `--discovery-url` / `GAPI_DISCOVERY_URL`: a URL template with
    /// `{api}` and `{version}`.
    pub url_template: Option<String>,
}

/// A loaded document and its JSON text.
pub struct Loaded {
    /// The parsed document.
    pub discovery: Discovery,
    /// Its JSON, for `schema`.
    pub bytes: Vec<u8>,
}

/// Splits `tasks`, `tasks.v1` or `tasks:v1` into name and version.
pub fn split_api(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once([':', '.']) {
        Some((n, v)) if !v.is_empty() => (n, Some(v)),
        Some((n, _)) => (n, None),
        None => (spec, None),
    }
}

/// The document of `spec` (`tasks`, `tasks.v1`).
pub async fn load(spec: &str, source: &Source, dirs: &Dirs) -> Result<Loaded> {
    if let Some(path) = &source.file {
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::input(format!("discovery document {}: {e}", path.display())))?;
        let discovery = Discovery::from_bytes(&path.display().to_string(), &bytes)?;
        return Ok(Loaded { discovery, bytes });
    }
    let (name, version) = split_api(spec);
    let version = match version {
        Some(v) => v.to_owned(),
        None => match bundle::default_version(name) {
            Some(d) => d.version.to_owned(),
            None if source.fresh => {
                return Err(Failure::input(format!(
                    "API `{name}`: give a version to fetch (e.g. `{name}.v1`)"
                )));
            }
            None => return Err(unknown_api(name)),
        },
    };
    let cache = DocumentCache::new(dirs.cache.join("discovery"));
    if source.fresh {
        let template = source
            .url_template
            .clone()
            .unwrap_or_else(|| DISCOVERY_URL_TEMPLATE.to_owned());
        let url = discovery_url(&template, name, &version);
        let client = gapi::Client::builder()
            .user_agent(concat!("gapi-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let (discovery, bytes) = gapi_dynamic::fetch::fetch(&client, &url).await?;
        cache
            .put(name, &version, &bytes)
            .map_err(|e| Failure::run(e.to_string()))?;
        return Ok(Loaded { discovery, bytes });
    }
    let bundled = bundle::find(name, &version);
    let cached_path = cache.path(name, &version);
    if let Ok(bytes) = std::fs::read(&cached_path) {
        let newer = match bundled {
            None => true,
            Some(b) => revision_of(&bytes).is_some_and(|r| r.as_str() > b.revision),
        };
        if newer {
            let discovery = Discovery::from_bytes(&cached_path.display().to_string(), &bytes)?;
            return Ok(Loaded { discovery, bytes });
        }
    }
    let Some(doc) = bundled else {
        if !bundle::versions(name).is_empty() {
            let vs: Vec<&str> = bundle::versions(name).iter().map(|d| d.version).collect();
            let hint = suggest(&version, vs.iter().copied())
                .map(|s| format!(" (did you mean `{name}.{s}`?)"))
                .unwrap_or_default();
            return Err(Failure::input(format!(
                "API `{name}` has no bundled version `{version}`{hint}; bundled: {} (or fetch it with --fresh)",
                vs.join(", ")
            )));
        }
        return Err(unknown_api(name));
    };
    let bytes = doc
        .bytes()
        .map_err(|e| Failure::run(format!("bundled document {}: {e}", doc.id())))?;
    let discovery = Discovery::from_bytes(&format!("bundled:{}", doc.id()), &bytes)?;
    Ok(Loaded { discovery, bytes })
}

fn unknown_api(name: &str) -> Failure {
    let names = bundle::names();
    let hint = match suggest(name, names.iter().copied()) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    };
    Failure::input(format!(
        "no API `{name}` among the {} bundled{hint}; `gapi apis list` lists them, --discovery-file and --fresh load others",
        names.len()
    ))
}

/// The `revision` of a document, read without parsing the rest.
fn revision_of(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Rev {
        revision: Option<String>,
    }
    serde_json::from_slice::<Rev>(bytes).ok()?.revision
}
