//! The committed crates under `generated/` are exactly what the generator
//! produces from `discovery-docs/` (regenerate with `scripts/regenerate.sh`).

use std::path::{Path, PathBuf};

use gapi_gen::{CrateOptions, Generator, Runtime, crate_dir_name};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "target") {
                    stack.push(p);
                }
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn generated_crates_match_the_generator() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    // Same layout as the repo, so the runtime's relative path comes out equal.
    let out = scratch.path().join("generated");
    let runtime = scratch.path().join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    // As scripts/regenerate.sh writes them: the workspace's repository URL.
    let manifest = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
    let repository = manifest
        .lines()
        .find_map(|l| l.strip_prefix("repository = \""))
        .and_then(|l| l.strip_suffix('"'))
        .map(str::to_string);
    assert!(repository.is_some(), "the workspace declares a repository");
    let options = CrateOptions {
        runtime: Runtime::Path(runtime),
        repository,
        ..Default::default()
    };
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repo.join("discovery-docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    docs.sort();
    assert!(
        docs.len() >= 7,
        "discovery-docs/ holds the committed crates' documents"
    );
    let generator = Generator::new();
    let mut drift = Vec::new();
    let mut expected_dirs = Vec::new();
    for doc in &docs {
        let api = generator
            .load(doc.as_path())
            .unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        let krate = generator
            .write_crate(
                &doc.display().to_string(),
                &api,
                &out.join(crate_dir_name(&api)),
                &options,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        let name = krate.dir.file_name().unwrap().to_owned();
        expected_dirs.push(name.clone());
        let committed = repo.join("generated").join(&name);
        let fresh = &krate.dir;
        let (a, b) = (files_under(fresh), files_under(&committed));
        if a != b {
            drift.push(format!(
                "{}: files differ: generated {a:?}, committed {b:?}",
                name.to_string_lossy()
            ));
            continue;
        }
        for f in a {
            if std::fs::read(fresh.join(&f)).unwrap() != std::fs::read(committed.join(&f)).unwrap()
            {
                drift.push(format!(
                    "generated/{}/{}",
                    name.to_string_lossy(),
                    f.display()
                ));
            }
        }
    }
    let mut committed_dirs: Vec<_> = std::fs::read_dir(repo.join("generated"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    committed_dirs.sort();
    expected_dirs.sort();
    assert_eq!(
        committed_dirs, expected_dirs,
        "a crate under generated/ has no document (or the reverse)"
    );
    assert!(
        drift.is_empty(),
        "generated/ drifted from the generator; run scripts/regenerate.sh:\n{}",
        drift.join("\n")
    );
}
