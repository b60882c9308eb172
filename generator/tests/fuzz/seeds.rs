//! The seed documents the mutants start from.
//!
//! Always: the repository's `discovery-docs/` and the generator's hand-written
//! hard cases (`tests/docs/`). When `../shared/discovery-docs` is present
//! (mandatory with `GAPI_REQUIRE_SHARED=1`): the Python client's test
//! documents (`fixtures/`) and a spread of the corpus (`GAPI_FUZZ_SHARED`
//! documents, default 24, of at most 200 KB, every k-th by name).

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A seed document.
pub struct Seed {
    /// File name, e.g. `tasks.v1.json` (`fixtures/zoo.json` for fixtures).
    pub name: String,
    /// The parsed document.
    pub doc: Value,
    /// Its size in bytes.
    pub bytes: usize,
}

/// The seeds no bigger than this are "small" (the compile sample's pool).
pub const SMALL: usize = 40_000;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared_dir() -> PathBuf {
    match std::env::var_os("GAPI_DISCOVERY_DIR") {
        Some(d) => PathBuf::from(d),
        None => manifest_dir().join("../../shared/discovery-docs"),
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// A seed from `path` when it is a discovery document (an object with a
/// `name` or `resources`; the fixtures folder also holds error bodies and
/// a client secret).
fn seed(path: &Path, name: String) -> Option<Seed> {
    let text = std::fs::read_to_string(path).ok()?;
    let doc: Value = serde_json::from_str(&text).ok()?;
    let looks_like_api = doc.get("resources").is_some() || doc.get("schemas").is_some();
    let bytes = text.len();
    looks_like_api.then_some(Seed { name, doc, bytes })
}

/// Loads the seeds; the second value says whether the shared corpus was
/// there.
pub fn load() -> (Vec<Seed>, bool) {
    let mut seeds = Vec::new();
    let own = [
        manifest_dir().join("../discovery-docs"),
        manifest_dir().join("tests/docs"),
    ];
    for dir in own {
        for p in json_files(&dir) {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if seeds.iter().any(|s: &Seed| s.name == name) {
                continue;
            }
            seeds.extend(seed(&p, name));
        }
    }
    let shared = shared_dir();
    let present = shared.is_dir();
    if !present {
        assert!(
            std::env::var_os("GAPI_REQUIRE_SHARED").is_none_or(|v| v != "1"),
            "GAPI_REQUIRE_SHARED=1 but the corpus is missing at {}",
            shared.display()
        );
        return (seeds, false);
    }
    for p in json_files(&shared.join("fixtures")) {
        let name = format!(
            "fixtures/{}",
            p.file_name().unwrap_or_default().to_string_lossy()
        );
        seeds.extend(seed(&p, name));
    }
    let wanted: usize = std::env::var("GAPI_FUZZ_SHARED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24);
    let candidates: Vec<PathBuf> = json_files(&shared)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "index.json"))
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.len() <= 200_000))
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            !seeds.iter().any(|s| s.name == name)
        })
        .collect();
    if wanted > 0 && !candidates.is_empty() {
        let step = (candidates.len() / wanted).max(1);
        for p in candidates.iter().step_by(step).take(wanted) {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            seeds.extend(seed(p, name));
        }
    }
    (seeds, true)
}
