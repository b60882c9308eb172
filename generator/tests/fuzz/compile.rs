//! The compile check of accepted mutants: one crate under
//! `$CARGO_TARGET_TMPDIR/gapi-fuzz/check` whose `src/lib.rs` holds
//! `pub mod m0 { include!("m0.rs"); }` per mutant (the way `build.rs` users
//! include generated code), plus a few mutants written by crate mode as
//! members of its workspace, all checked by one `cargo check` with its own
//! target dir (cached between runs). Files are only rewritten when they
//! change, so an unchanged sample costs next to nothing.
//!
//! Lints keep their levels (deny-by-default ones such as
//! `text_direction_codepoint_in_literal` are errors, as for users); the
//! environment's `RUSTFLAGS` are dropped, so `-D warnings` in CI does not
//! turn warnings into failures: the property is that the code compiles.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use gapi_gen::{CrateOptions, Generator, Runtime};
use serde_json::Value;

use crate::{Mutant, Settings, runtime_dir, work_dir};

/// The cargo to run (`$CARGO` under `cargo test`), if it works.
pub fn cargo() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let works = Command::new(&cargo)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    works.then_some(cargo)
}

/// The result of the check.
pub struct Report {
    /// One entry per failing module or crate (or a cargo failure).
    pub failures: Vec<String>,
    /// Indices into the sample of the mutants whose code failed.
    pub failed_modules: BTreeSet<usize>,
    /// How many mutants were also checked as crates.
    pub crates: usize,
}

fn write_if_changed(path: &Path, content: &str) {
    if std::fs::read(path).is_ok_and(|old| old == content.as_bytes()) {
        return;
    }
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Removes entries of `dir` whose names `keep` rejects.
fn prune(dir: &Path, keep: impl Fn(&str) -> bool) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if !keep(&name) {
            let p = e.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

/// Writes the check crate: modules, member crates, manifest, lock file.
/// Returns, per member crate, the sample index it comes from.
fn write_crate(root: &Path, sample: &[(Mutant, String)], settings: &Settings) -> Vec<usize> {
    let src = root.join("src");
    let members_dir = root.join("crates");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&members_dir).unwrap();
    let mut lib = String::from(
        "//! Accepted mutants of the generator's fuzz test, one module each\n\
         //! (see generator/tests/fuzz/). Written by the test; do not edit.\n",
    );
    for (i, (m, code)) in sample.iter().enumerate() {
        write_if_changed(&src.join(format!("m{i}.rs")), code);
        lib.push_str(&format!(
            "/// Mutant {}.\npub mod m{i} {{\n    include!(\"m{i}.rs\");\n}}\n",
            m.id
        ));
    }
    write_if_changed(&src.join("lib.rs"), &lib);
    let n = sample.len();
    prune(&src, |name| {
        name == "lib.rs"
            || name
                .strip_prefix('m')
                .and_then(|r| r.strip_suffix(".rs"))
                .and_then(|i| i.parse::<usize>().ok())
                .is_some_and(|i| i < n)
    });

    // Crate mode for the first few, with distinct package names.
    let generator = Generator::new();
    let mut members = Vec::new();
    let mut packages = BTreeSet::from(["gapi-fuzz-check".to_string()]);
    for (i, (m, _)) in sample.iter().enumerate() {
        if members.len() >= settings.crates {
            break;
        }
        let name = format!("{}.json", m.id.replace(':', "-"));
        let Ok(api) = generator.load_bytes(&name, m.json.as_bytes()) else {
            continue;
        };
        if !packages.insert(gapi_gen::crate_name(&api)) {
            continue;
        }
        let dir = members_dir.join(format!("c{}", members.len()));
        let options = CrateOptions {
            runtime: Runtime::Path(runtime_dir()),
            standalone_workspace: false,
            ..Default::default()
        };
        generator
            .write_crate(&name, &api, &dir, &options)
            .unwrap_or_else(|e| panic!("{}: crate mode: {e}", m.id));
        members.push(i);
    }
    let count = members.len();
    prune(&members_dir, |name| {
        name.strip_prefix('c')
            .and_then(|i| i.parse::<usize>().ok())
            .is_some_and(|i| i < count)
    });

    let runtime = runtime_dir()
        .canonicalize()
        .unwrap_or_else(|_| std::path::absolute(runtime_dir()).unwrap());
    let member_list: Vec<String> = (0..count).map(|k| format!("\"crates/c{k}\"")).collect();
    let manifest = format!(
        "[package]\nname = \"gapi-fuzz-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\ngapi = {{ path = {:?} }}\n\n[workspace]\nmembers = [{}]\nresolver = \"3\"\n",
        runtime.display().to_string(),
        member_list.join(", ")
    );
    write_if_changed(&root.join("Cargo.toml"), &manifest);
    // The workspace's lock file, so the check resolves the same versions
    // (and needs no index); refreshed when the workspace's is newer.
    let lock = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
    let ours = root.join("Cargo.lock");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&ours).is_none() || modified(&lock) > modified(&ours) {
        let _ = std::fs::copy(&lock, &ours);
    }
    members
}

/// The sample index a diagnostic's span belongs to: `src/mN.rs` of the
/// check crate, or a member crate's directory, following macro expansions
/// back to the generated code.
fn owner(span: &Value, members: &[usize]) -> Option<usize> {
    let file = span["file_name"]
        .as_str()
        .unwrap_or_default()
        .replace('\\', "/");
    if let Some(i) = file
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_prefix('m'))
        .and_then(|r| r.strip_suffix(".rs"))
        .and_then(|i| i.parse::<usize>().ok())
        .filter(|_| !file.contains("crates/"))
    {
        return Some(i);
    }
    if let Some(rest) = file.split("crates/c").nth(1) {
        if let Some(k) = rest.split('/').next().and_then(|k| k.parse::<usize>().ok()) {
            return members.get(k).copied();
        }
    }
    owner(&span["expansion"]["span"], members).filter(|_| span["expansion"].is_object())
}

/// Checks the sample; see the module docs.
pub fn check(cargo: &Path, sample: &[(Mutant, String)], settings: &Settings) -> Report {
    let root = work_dir().join("check");
    let members = write_crate(&root, sample, settings);
    let output = Command::new(cargo)
        .current_dir(&root)
        .args([
            "check",
            "--workspace",
            "--keep-going",
            "--message-format=json",
            "--quiet",
        ])
        .arg("--target-dir")
        .arg(work_dir().join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .expect("cargo runs");
    let mut failures = Vec::new();
    let mut failed_modules = BTreeSet::new();
    let mut unowned = Vec::new();
    let mut per_module: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-message" || msg["message"]["level"] != "error" {
            continue;
        }
        // Deep types make rustc's notes very long: 30 lines say enough.
        let rendered: String = msg["message"]["rendered"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n");
        let spans = msg["message"]["spans"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let who = spans.iter().find_map(|s| owner(s, &members));
        match who {
            Some(i) => per_module.entry(i).or_default().push(rendered),
            // "aborting due to N previous errors" and the like have no span.
            None if spans.is_empty() => {}
            None => unowned.push(rendered),
        }
    }
    for (i, errors) in &per_module {
        let (m, _) = &sample[*i];
        failed_modules.insert(*i);
        let first: String = errors
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        failures.push(format!(
            "module m{i} / {}\n    document: {}\n    {} error(s), first:\n{first}",
            m.describe(settings),
            m.save().display(),
            errors.len()
        ));
    }
    for e in unowned {
        failures.push(format!("error outside the generated code:\n{e}"));
    }
    if !output.status.success() && failures.is_empty() {
        failures.push(format!(
            "cargo check failed in {} without a compiler error:\n{}",
            root.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Report {
        failures,
        failed_modules,
        crates: members.len(),
    }
}
