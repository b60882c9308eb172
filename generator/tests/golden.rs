//! Golden tests: the generator's output for the documents in `tests/docs/`
//! (and `discovery-docs/tasks.v1.json`) is compared with the checked-in files
//! in `tests/golden/src/`. Regenerate them with `GAPI_BLESS=1 cargo test -p gapi-gen --test golden`.
//! The golden files are compiled (and round-trip tested) by the `gapi-golden`
//! crate in `tests/golden/`.

use std::path::{Path, PathBuf};

/// (golden module name, document path relative to this package)
const CASES: &[(&str, &str)] = &[
    ("tasks_v1", "../discovery-docs/tasks.v1.json"),
    ("zoo", "tests/docs/zoo.json"),
    ("names", "tests/docs/names.json"),
    ("enums", "tests/docs/enums.json"),
    ("types", "tests/docs/types.json"),
    ("methods", "tests/docs/methods.json"),
    ("hostile", "tests/docs/hostile.json"),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn goldens_match() {
    let bless = std::env::var_os("GAPI_BLESS").is_some_and(|v| v != "0");
    let generator = gapi_gen::Generator::new();
    let mut mismatches = Vec::new();
    for (name, doc) in CASES {
        let doc = root().join(doc);
        let out = generator
            .generate_module(doc.as_path())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let golden = root().join("tests/golden/src").join(format!("{name}.rs"));
        if bless {
            std::fs::write(&golden, &out).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != out {
            let line = expected
                .lines()
                .zip(out.lines())
                .position(|(a, b)| a != b)
                .map_or(expected.lines().count().min(out.lines().count()) + 1, |i| {
                    i + 1
                });
            mismatches.push(format!(
                "{} (first difference at line {line})",
                golden.display()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "generated code differs from the goldens (rerun with GAPI_BLESS=1 to update):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn output_is_deterministic() {
    let generator = gapi_gen::Generator::new();
    for (name, doc) in CASES {
        let doc = root().join(doc);
        let a = generator.generate_module(doc.as_path()).unwrap();
        let b = gapi_gen::Generator::new()
            .generate_module(doc.as_path())
            .unwrap();
        assert_eq!(a, b, "{name}: two runs differ");
    }
}

#[test]
fn golden_crate_includes_every_case() {
    let lib = std::fs::read_to_string(root().join("tests/golden/src/lib.rs")).unwrap();
    for (name, _) in CASES {
        assert!(
            lib.contains(&format!("include!(\"{name}.rs\")")),
            "tests/golden/src/lib.rs does not include {name}.rs"
        );
    }
}

#[test]
fn crate_mode_records_revision() {
    let dir = std::env::temp_dir().join(format!("gapi-gen-crate-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let doc = root().join("../discovery-docs/tasks.v1.json");
    let runtime = root().join("../runtime");
    let krate = gapi_gen::Generator::new()
        .generate_crate(
            doc.as_path(),
            &dir.join("tasks-v1"),
            &gapi_gen::CrateOptions {
                runtime: gapi_gen::Runtime::Path(runtime),
                standalone_workspace: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(krate.package, "gapi-tasks-v1");
    assert_eq!(krate.lib_name, "gapi_tasks_v1");
    let cargo = std::fs::read_to_string(dir.join("tasks-v1/Cargo.toml")).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&doc).unwrap()).unwrap();
    let revision = json["revision"].as_str().unwrap();
    assert!(
        cargo.contains(&format!("revision = \"{revision}\"")),
        "{cargo}"
    );
    assert!(cargo.contains("name = \"gapi-tasks-v1\""), "{cargo}");
    assert!(cargo.contains("[workspace]"), "{cargo}");
    // A publishable dependency: the version (what a published manifest
    // keeps) beside the development path; the crate's own version carries
    // the revision as build metadata.
    let dep = format!(
        "gapi = {{ version = \"{}\", path = \"",
        gapi_gen::RUNTIME_VERSION
    );
    assert!(cargo.contains(&dep), "{cargo}");
    assert!(
        cargo.contains(&format!("version = \"0.1.0+{revision}\"")),
        "{cargo}"
    );
    assert!(dir.join("tasks-v1/LICENSE-MIT").is_file());
    assert!(dir.join("tasks-v1/LICENSE-APACHE").is_file());
    let lib = std::fs::read_to_string(dir.join("tasks-v1/src/lib.rs")).unwrap();
    assert!(lib.contains("```no_run"));
    assert!(lib.contains("include!(\"api.rs\");"));
    let api = std::fs::read_to_string(dir.join("tasks-v1/src/api.rs")).unwrap();
    assert!(api.contains(&format!("pub const REVISION: &str = \"{revision}\";")));
    let readme = std::fs::read_to_string(dir.join("tasks-v1/README.md")).unwrap();
    assert!(readme.contains(revision));
    // The runtime path is written relative to the crate directory.
    let rel = cargo
        .split(", path = \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    assert!(!Path::new(rel).is_absolute(), "{rel}");
    assert!(
        dir.join("tasks-v1").join(rel).join("Cargo.toml").exists(),
        "{rel}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
