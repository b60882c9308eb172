//! Bundles discovery documents into the binary: every document of
//! `../shared/discovery-docs` when that folder is there (all 610 public
//! ones: ~111 MB of JSON, ~14 MB here), else the package's own
//! `discovery-docs/` (the repository's, linked); `GAPI_BUNDLE_DIR` names another folder. Each document
//! is its own zstd frame (level 12: 5 s for all of them on one core, within
//! 6% of level 19's size at a twentieth of its time), so a run decompresses
//! only the one it needs; `index.rs` lists them by name and version, with
//! their revision, title, offset and sizes, and the Discovery Service's
//! preferred versions from its directory list (`index.json`) when present.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(serde::Deserialize)]
struct Identity {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

#[derive(serde::Deserialize)]
struct Directory {
    #[serde(default)]
    items: Vec<DirectoryItem>,
}

#[derive(serde::Deserialize)]
struct DirectoryItem {
    name: String,
    version: String,
    #[serde(default)]
    preferred: bool,
}

struct Doc {
    name: String,
    version: String,
    revision: String,
    title: String,
    bytes: Vec<u8>,
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    // Only for naming where the documents came from (`SOURCE`).
    let workspace = manifest.join("..");
    println!("cargo::rerun-if-env-changed=GAPI_BUNDLE_DIR");
    println!("cargo::rerun-if-env-changed=GAPI_BUNDLE_LEVEL");
    // `../shared` beside the repository (CI and development machines only);
    // `discovery-docs/` is the package's own (a link to the repository's
    // `discovery-docs/`, a copy in the published crate).
    let shared = manifest.join("../../shared/discovery-docs");
    let own = manifest.join("discovery-docs");
    let mut dirs = vec![own.clone()];
    let primary = match std::env::var_os("GAPI_BUNDLE_DIR") {
        Some(d) => PathBuf::from(d),
        None if shared.is_dir() => shared,
        None => own.clone(),
    };
    if primary != own {
        dirs.push(primary.clone());
    }
    for d in &dirs {
        println!("cargo::rerun-if-changed={}", d.display());
    }
    let level: i32 = std::env::var("GAPI_BUNDLE_LEVEL")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(12);

    // name.version → the document with the latest revision.
    let mut docs: BTreeMap<(String, String), Doc> = BTreeMap::new();
    let mut preferred: Vec<(String, String)> = Vec::new();
    for dir in &dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            if path.file_name().is_some_and(|n| n == "index.json") {
                if let Ok(d) = serde_json::from_slice::<Directory>(&bytes) {
                    preferred.extend(
                        d.items
                            .into_iter()
                            .filter(|i| i.preferred)
                            .map(|i| (i.name, i.version)),
                    );
                }
                continue;
            }
            let Ok(id) = serde_json::from_slice::<Identity>(&bytes) else {
                println!("cargo::warning=skipped {}: not JSON", path.display());
                continue;
            };
            let rest = matches!(id.kind.as_deref(), None | Some("discovery#restDescription"));
            if !rest || id.name.is_empty() || id.version.is_empty() {
                continue;
            }
            let doc = Doc {
                revision: id.revision.unwrap_or_default(),
                title: id.title.unwrap_or_default(),
                name: id.name,
                version: id.version,
                bytes,
            };
            let key = (doc.name.clone(), doc.version.clone());
            match docs.get(&key) {
                Some(old) if old.revision >= doc.revision => {}
                _ => {
                    docs.insert(key, doc);
                }
            }
        }
    }
    let docs: Vec<Doc> = docs.into_values().collect();
    let frames = compress_all(&docs, level);

    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut blob = Vec::new();
    let mut index = String::from(
        "/// Every bundled document, sorted by name and version.\npub static DOCS: &[BundledDoc] = &[\n",
    );
    for (doc, frame) in docs.iter().zip(&frames) {
        index.push_str(&format!(
            "    BundledDoc {{ name: {:?}, version: {:?}, revision: {:?}, title: {:?}, offset: {}, len: {}, raw_len: {} }},\n",
            doc.name,
            doc.version,
            doc.revision,
            doc.title,
            blob.len(),
            frame.len(),
            doc.bytes.len()
        ));
        blob.extend_from_slice(frame);
    }
    index.push_str("];\n\n/// The Discovery Service's preferred version of each API it lists.\npub static PREFERRED: &[(&str, &str)] = &[\n");
    preferred.sort();
    preferred.dedup();
    for (n, v) in &preferred {
        index.push_str(&format!("    ({n:?}, {v:?}),\n"));
    }
    index.push_str("];\n\n/// Where the documents were bundled from.\n");
    index.push_str(&format!(
        "pub const SOURCE: &str = {:?};\n",
        display_dir(&primary, &workspace)
    ));
    std::fs::write(out.join("bundle.zst"), &blob).unwrap();
    std::fs::write(out.join("index.rs"), index).unwrap();
}

/// The frames of all documents, on as many threads as there are cores.
fn compress_all(docs: &[Doc], level: i32) -> Vec<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut frames: Vec<Vec<u8>> = vec![Vec::new(); docs.len()];
    let chunk = docs.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (docs, out) in docs.chunks(chunk).zip(frames.chunks_mut(chunk)) {
            s.spawn(move || {
                for (d, o) in docs.iter().zip(out) {
                    *o = zstd::bulk::compress(&d.bytes, level).expect("zstd compression");
                }
            });
        }
    });
    frames
}

fn display_dir(dir: &Path, workspace: &Path) -> String {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    let ws = workspace
        .canonicalize()
        .unwrap_or_else(|_| workspace.to_owned());
    match dir.strip_prefix(&ws) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => match dir.strip_prefix(ws.parent().unwrap_or(&ws)) {
            Ok(rel) => format!("../{}", rel.display()),
            Err(_) => dir.display().to_string(),
        },
    }
}
