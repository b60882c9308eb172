//! Fetching discovery documents from the Discovery Service through the
//! runtime (its retries, time bounds, proxy and TLS), and keeping them in an
//! on-disk cache.

use std::path::{Path, PathBuf};

use gapi::{HttpMethod, MethodInfo, ServiceInfo};

use crate::Discovery;
use crate::error::{Error, Result};

/// The Discovery Service's URL of a document: `{api}` and `{version}` are
/// replaced.
pub const DISCOVERY_URL_TEMPLATE: &str =
    "https://www.googleapis.com/discovery/v1/apis/{api}/{version}/rest";

/// The URL of a document from a template with `{api}` and `{version}`.
pub fn discovery_url(template: &str, api: &str, version: &str) -> String {
    template.replace("{api}", api).replace("{version}", version)
}

/// Fetches the document at `url` (anonymously: discovery documents are
/// public) and parses it; returns it with its bytes, to cache.
pub async fn fetch(client: &gapi::Client, url: &str) -> Result<(Discovery, Vec<u8>)> {
    let err = |message: String| Error::Fetch {
        url: url.to_owned(),
        message,
    };
    let parsed = url::Url::parse(url).map_err(|e| err(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(err("not an http(s) URL".into()));
    }
    let origin = format!("{}/", parsed.origin().ascii_serialization());
    // One service and method per fetch: the runtime takes descriptions as
    // `&'static` (see `info.rs`); a process fetches a handful of documents.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let service: &'static ServiceInfo = Box::leak(Box::new(ServiceInfo {
        name: "discovery",
        version: "v1",
        revision: "",
        title: "API Discovery Service",
        root_url: leak(origin),
        service_path: "",
        batch_path: None,
    }));
    let method: &'static MethodInfo = Box::leak(Box::new(MethodInfo {
        id: "discovery.apis.getRest",
        http_method: HttpMethod::Get,
        path: leak(format!("/{}", parsed.path().trim_start_matches('/'))),
        ..MethodInfo::DEFAULT
    }));
    let svc = gapi::Service::new(client.clone(), service);
    let mut call = gapi::Call::new(&svc, method);
    for (k, v) in parsed.query_pairs() {
        call.query_append(k.into_owned(), v.into_owned());
    }
    let raw: Box<serde_json::value::RawValue> = call.send().await?;
    let bytes = raw.get().as_bytes().to_vec();
    let discovery = Discovery::from_bytes(url, &bytes)?;
    Ok((discovery, bytes))
}

/// Documents fetched before, one file per `name.version` in a directory
/// (made 0700; the files are public data).
#[derive(Debug, Clone)]
pub struct DocumentCache {
    dir: PathBuf,
}

impl DocumentCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DocumentCache { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `api.version`.
    pub fn path(&self, api: &str, version: &str) -> PathBuf {
        let safe = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        self.dir
            .join(format!("{}.{}.json", safe(api), safe(version)))
    }

    /// The cached document of `api.version`, if any.
    pub fn get(&self, api: &str, version: &str) -> Result<Option<Discovery>> {
        let path = self.path(api, version);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(Discovery::from_bytes(
                &path.display().to_string(),
                &bytes,
            )?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(gapi_gen::Error::Io {
                file: path.display().to_string(),
                source,
            }
            .into()),
        }
    }

    /// Stores a document's bytes (atomically: a temporary file renamed).
    pub fn put(&self, api: &str, version: &str, bytes: &[u8]) -> Result<PathBuf> {
        let io = |file: &Path, source| -> Error {
            gapi_gen::Error::Io {
                file: file.display().to_string(),
                source,
            }
            .into()
        };
        create_private_dir(&self.dir).map_err(|e| io(&self.dir, e))?;
        let path = self.path(api, version);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(|e| io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        Ok(path)
    }
}

/// Creates `dir` and its parents, the last one 0700 on Unix.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}
