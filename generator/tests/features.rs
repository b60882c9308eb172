//! Per-resource cargo features (crate mode) and `build::Module::resources`
//! on `tests/docs/features.json`: types shared by some resources and by
//! all, a type reached only through a `dedupe.rs` alias, parameter enums
//! (one an alias), a root method and an orphan type. The generated crate is
//! `cargo check`ed with every feature set, and so is compute v1 with
//! `instances` alone and with no feature (that one skipped when
//! `../shared/discovery-docs` is absent, unless `GAPI_REQUIRE_SHARED=1`).
//!
//! The checks share one target dir, `$CARGO_TARGET_TMPDIR/gapi-features`
//! (cached between runs: the runtime's dependencies are built once).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use gapi_gen::resolve::features::{Features, Gate};
use gapi_gen::{CrateOptions, Generator, ResourceFeatures, Runtime};
use quote::ToTokens;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> PathBuf {
    root().join("tests/docs/features.json")
}

fn work_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gapi-features")
}

/// The features every type and top-level item is expected to need
/// (`None`: none, always compiled).
fn expected() -> BTreeMap<&'static str, Option<Vec<&'static str>>> {
    let albums = Some(vec!["albums"]);
    let albums_sets = Some(vec!["albums", "photo-sets"]);
    let sets = Some(vec!["photo-sets"]);
    BTreeMap::from([
        // schemas
        ("Owner", None),
        ("Album", albums.clone()),
        ("AlbumList", albums.clone()),
        ("Photo", albums_sets.clone()),
        ("Label", albums_sets.clone()),
        ("LabelKind", albums_sets.clone()),
        ("PhotoList", albums.clone()),
        ("PhotoSet", sets.clone()),
        ("PhotoSetCopy", sets.clone()),
        ("PhotoSetKind", sets.clone()),
        // an alias nothing names (it was a field's type in PhotoSetCopy
        // before the merge) goes with what it names
        ("PhotoSetCopyKind", sets.clone()),
        ("FullThing", Some(vec!["full-resource"])),
        ("Pong", None),
        ("PongStatus", None),
        ("Unused", Some(vec!["full"])),
        ("UnusedCopy", Some(vec!["full"])),
        ("Ids", Some(vec!["full"])),
        // params
        ("View", Some(vec!["albums", "full-resource"])),
        ("Order", sets.clone()),
        ("Format", albums_sets),
        ("Layout", sets),
        // the root's resource modules and accessors
        ("albums", albums),
        ("full", Some(vec!["full-resource"])),
        ("photo_sets", Some(vec!["photo-sets"])),
    ])
}

#[test]
fn gates_follow_what_each_resource_reaches() {
    let api = Generator::new().load(doc().as_path()).unwrap();
    let f = Features::compute(&api);
    assert_eq!(f.names, ["albums", "full-resource", "photo-sets"]);
    let names = |g: &Gate| match g {
        Gate::Always => None,
        Gate::Full => Some(vec!["full"]),
        Gate::Resources(ix) => Some(ix.iter().map(|&i| f.names[i].as_str()).collect()),
    };
    let expected = expected();
    for t in &api.types {
        assert_eq!(
            names(f.schema(t.name())),
            expected[t.name()],
            "schemas::{}",
            t.name()
        );
    }
    for t in &api.params {
        assert_eq!(
            names(f.param(t.name())),
            expected[t.name()],
            "params::{}",
            t.name()
        );
    }
    assert_eq!(api.types.len() + api.params.len(), 21);
}

fn write_crate(dir: &Path, resource_features: ResourceFeatures) -> gapi_gen::GeneratedCrate {
    Generator::new()
        .generate_crate(
            doc().as_path(),
            dir,
            &CrateOptions {
                runtime: Runtime::Path(root().join("../runtime")),
                standalone_workspace: true,
                resource_features,
                ..Default::default()
            },
        )
        .unwrap()
}

/// The features named by an item's `#[cfg]` (`None` without one).
fn cfg_of(attrs: &[syn::Attribute]) -> Option<Vec<String>> {
    let attr = attrs.iter().find(|a| a.path().is_ident("cfg"))?;
    let text = attr.meta.to_token_stream().to_string();
    Some(
        text.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect(),
    )
}

/// The type an item of `schemas` or `params` is emitted for.
fn subject(item: &syn::Item) -> String {
    match item {
        syn::Item::Struct(s) => s.ident.to_string(),
        syn::Item::Type(t) => t.ident.to_string(),
        syn::Item::Impl(i) => i.self_ty.to_token_stream().to_string(),
        syn::Item::Macro(m) => match syn::parse2::<syn::ItemEnum>(m.mac.tokens.clone()) {
            Ok(e) => e.ident.to_string(),
            Err(_) => m.mac.tokens.to_string(),
        },
        other => panic!("unexpected item {}", other.to_token_stream()),
    }
}

#[test]
fn crate_mode_gates_every_item_and_lists_the_features() {
    let dir = work_dir().join("gates");
    let _ = std::fs::remove_dir_all(&dir);
    write_crate(&dir, ResourceFeatures::Above(0));
    let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains(
            "[features]\n\
             # One feature per top-level resource (see the crate docs); `full` is all of them.\n\
             default = [\"full\"]\n\
             full = [\n    \"albums\",\n    \"full-resource\",\n    \"photo-sets\",\n]\n\
             albums = []\nfull-resource = []\nphoto-sets = []\n"
        ),
        "{cargo}"
    );
    let example = "gapi-features-v1 = { version = \"0.1.0\", default-features = false, \
                   features = [\"albums\"] }";
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(lib.contains(&format!("//! {example}\n")), "{lib}");
    assert!(
        lib.contains("//! | `photo-sets` | `photoSets` | 1 |\n"),
        "{lib}"
    );
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains(&format!("\n{example}\n")), "{readme}");
    assert!(readme.contains("| `albums` | `albums` | 3 |\n"), "{readme}");

    // Every item emitted for a type carries that type's cfg.
    let code = std::fs::read_to_string(dir.join("src/api.rs")).unwrap();
    let file = syn::parse_file(&code).unwrap();
    let expected = expected();
    let mut seen = BTreeMap::<String, usize>::new();
    let mut check = |name: String, attrs: &[syn::Attribute]| {
        let want = expected
            .get(name.as_str())
            .unwrap_or_else(|| panic!("no expectation for {name}"));
        let got = cfg_of(attrs);
        let want: Option<Vec<String>> = want
            .as_ref()
            .map(|v| v.iter().map(|s| s.to_string()).collect());
        assert_eq!(got, want, "{name}");
        *seen.entry(name).or_default() += 1;
    };
    for item in &file.items {
        match item {
            syn::Item::Mod(m) if m.ident == "schemas" || m.ident == "params" => {
                for item in &m.content.as_ref().unwrap().1 {
                    let attrs = match item {
                        syn::Item::Struct(s) => &s.attrs,
                        syn::Item::Type(t) => &t.attrs,
                        syn::Item::Impl(i) => &i.attrs,
                        syn::Item::Macro(m) => &m.attrs,
                        _ => continue,
                    };
                    check(subject(item), attrs);
                }
            }
            syn::Item::Mod(m) if m.ident != "scopes" => check(m.ident.to_string(), &m.attrs),
            syn::Item::Impl(i) if i.self_ty.to_token_stream().to_string() == "FeaturesService" => {
                for item in &i.items {
                    if let syn::ImplItem::Fn(f) = item {
                        let name = f.sig.ident.to_string();
                        if expected.contains_key(name.as_str()) {
                            check(name, &f.attrs);
                        } else {
                            assert_eq!(cfg_of(&f.attrs), None, "{name}");
                        }
                    }
                }
            }
            other => {
                let attrs = match other {
                    syn::Item::Struct(s) => &s.attrs,
                    syn::Item::Impl(i) => &i.attrs,
                    syn::Item::Static(s) => &s.attrs,
                    syn::Item::Type(t) => &t.attrs,
                    _ => continue,
                };
                assert_eq!(cfg_of(attrs), None, "{}", other.to_token_stream());
            }
        }
    }
    // struct + Record + record! (+ Page + PageItems), enum, alias, module + accessor
    assert_eq!(seen["Album"], 3);
    assert_eq!(seen["AlbumList"], 5);
    assert_eq!(seen["LabelKind"], 1);
    assert_eq!(seen["PhotoSetCopy"], 1);
    assert_eq!(seen["Unused"], 3);
    assert_eq!(seen["UnusedCopy"], 1);
    assert_eq!(seen["PhotoSetCopyKind"], 1);
    assert_eq!(seen["albums"], 2);
    assert_eq!(seen.len(), expected.len());

    // Below the threshold, nothing changes.
    let plain = work_dir().join("plain");
    let _ = std::fs::remove_dir_all(&plain);
    write_crate(&plain, ResourceFeatures::default());
    let cargo = std::fs::read_to_string(plain.join("Cargo.toml")).unwrap();
    assert!(!cargo.contains("[features]"), "{cargo}");
    let code = std::fs::read_to_string(plain.join("src/api.rs")).unwrap();
    assert!(!code.contains("#[cfg("));
    assert_eq!(
        code,
        Generator::new().generate_module(doc().as_path()).unwrap()
    );
    let lib = std::fs::read_to_string(plain.join("src/lib.rs")).unwrap();
    assert!(!lib.contains("Cargo features"));

    // With one top-level resource there is nothing to leave out.
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(doc()).unwrap()).unwrap();
    let resources = json["resources"].as_object_mut().unwrap();
    resources.retain(|name, _| name == "albums");
    let one = work_dir().join("one");
    let _ = std::fs::remove_dir_all(&one);
    Generator::new()
        .generate_crate(
            json.to_string().as_str(),
            &one,
            &CrateOptions {
                resource_features: ResourceFeatures::Above(0),
                ..Default::default()
            },
        )
        .unwrap();
    let cargo = std::fs::read_to_string(one.join("Cargo.toml")).unwrap();
    assert!(!cargo.contains("[features]"), "{cargo}");
}

#[test]
fn build_scripts_can_keep_some_resources() {
    let module = gapi_gen::build::Module::new(doc(), "features_v1.rs");
    for name in ["photoSets", "photo_sets", "photo-sets"] {
        let src = module.clone().resources([name]).source().unwrap();
        let file = syn::parse_file(&src).unwrap();
        let mut names: Vec<String> = Vec::new();
        for item in &file.items {
            if let syn::Item::Mod(m) = item {
                match m.ident.to_string().as_str() {
                    "schemas" | "params" => {
                        for item in &m.content.as_ref().unwrap().1 {
                            if matches!(item, syn::Item::Struct(_) | syn::Item::Type(_))
                                || matches!(item, syn::Item::Macro(m)
                                    if m.mac.path.segments.last().is_some_and(|s| s.ident == "open_enum"))
                            {
                                names.push(subject(item));
                            }
                        }
                    }
                    "scopes" => {}
                    other => names.push(format!("mod {other}")),
                }
            }
        }
        names.sort();
        assert_eq!(
            names,
            [
                "Format",
                "Label",
                "LabelKind",
                "Layout",
                "Order",
                "Owner",
                "Photo",
                "PhotoSet",
                "PhotoSetCopy",
                "PhotoSetCopyKind",
                "PhotoSetKind",
                "Pong",
                "PongStatus",
                "mod photo_sets"
            ],
            "{name}"
        );
        assert!(!src.contains("#[cfg("));
        assert!(src.contains("pub fn ping(&self)"));
    }
    let err = module
        .resources(["photos"])
        .source()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no top-level resource \"photos\"; the document has: albums, full, photoSets"),
        "{err}"
    );
}

/// The cargo to run (`$CARGO` under `cargo test`).
fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

/// `cargo check` of the crate in `dir` with `args`; fails on any error or
/// warning of the crate itself (`lib_name`).
fn check(dir: &Path, lib_name: &str, args: &[&str]) {
    // The workspace's lock file: the same versions, no index needed.
    let lock = root().join("../Cargo.lock");
    if !dir.join("Cargo.lock").exists() {
        std::fs::copy(&lock, dir.join("Cargo.lock")).unwrap();
    }
    let output = Command::new(cargo())
        .current_dir(dir)
        .args(["check", "--quiet", "--message-format=json"])
        .args(args)
        .arg("--target-dir")
        .arg(work_dir().join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .output()
        .expect("cargo runs");
    let mut problems = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] == "compiler-message"
            && msg["target"]["name"] == lib_name
            && let Some(text) = msg["message"]["rendered"].as_str()
        {
            problems.push(text.lines().take(20).collect::<Vec<_>>().join("\n"));
        }
    }
    assert!(
        output.status.success() && problems.is_empty(),
        "cargo check {args:?} in {}: {}\n{}",
        dir.display(),
        problems.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn features_crate_checks_with_every_feature_set() {
    let dir = work_dir().join("features-v1");
    let krate = write_crate(&dir, ResourceFeatures::Above(0));
    let lib = krate.lib_name.as_str();
    check(&dir, lib, &[]);
    check(&dir, lib, &["--no-default-features"]);
    for feature in ["albums", "full-resource", "photo-sets"] {
        check(&dir, lib, &["--no-default-features", "--features", feature]);
    }
}

#[test]
fn compute_v1_checks_with_one_resource_and_with_none() {
    let corpus = match std::env::var_os("GAPI_DISCOVERY_DIR") {
        Some(d) => PathBuf::from(d),
        None => root().join("../../shared/discovery-docs"),
    };
    let doc = corpus.join("compute.v1.json");
    if !doc.is_file() {
        assert!(
            std::env::var_os("GAPI_REQUIRE_SHARED").is_none_or(|v| v != "1"),
            "GAPI_REQUIRE_SHARED=1 but {} is missing",
            doc.display()
        );
        println!("skipped: no {}", doc.display());
        return;
    }
    let dir = work_dir().join("compute-v1");
    let krate = against_runtime(doc.as_path(), &dir);
    let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(cargo.contains("\ninstances = []\n"), "{cargo}");
    assert!(cargo.contains("\nglobal-addresses = []\n"), "{cargo}");
    check(
        &dir,
        &krate.lib_name,
        &["--no-default-features", "--features", "instances"],
    );
    check(&dir, &krate.lib_name, &["--no-default-features"]);
}

/// Writes the crate of `source` into `dir`, depending on this workspace's
/// runtime by path, as a workspace of its own.
fn against_runtime(source: impl Into<gapi_gen::Source>, dir: &Path) -> gapi_gen::GeneratedCrate {
    Generator::new()
        .generate_crate(
            source,
            dir,
            &CrateOptions {
                runtime: Runtime::Path(root().join("../runtime")),
                standalone_workspace: true,
                ..Default::default()
            },
        )
        .unwrap()
}

/// The runtime dependency line of a generated manifest.
fn runtime_line(cargo: &str) -> &str {
    cargo
        .lines()
        .find(|l| l.starts_with("gapi = "))
        .expect("a gapi dependency")
}

#[test]
fn media_apis_name_the_runtime_media_feature_and_check_with_it_and_without() {
    // methods.json has simple, multipart and resumable uploads and a download.
    let media_doc = root().join("tests/docs/methods.json");
    let media = work_dir().join("media");
    let _ = std::fs::remove_dir_all(&media);
    let krate = against_runtime(media_doc.as_path(), &media);
    let cargo = std::fs::read_to_string(media.join("Cargo.toml")).unwrap();
    let line = runtime_line(&cargo);
    assert!(
        line.ends_with(", default-features = false, features = [\"media\"] }"),
        "{line}"
    );
    // the builders' upload and download methods resolve against the runtime
    // built with exactly that feature
    check(&media, &krate.lib_name, &[]);
    // A client generated in build.rs whose program names no `media` feature
    // still compiles: it only lacks the upload and download methods.
    let without = cargo.replace(", features = [\"media\"] }", " }");
    assert_ne!(without, cargo);
    std::fs::write(media.join("Cargo.toml"), without).unwrap();
    check(&media, &krate.lib_name, &[]);

    // by version, the same feature
    let by_version = work_dir().join("media-by-version");
    let _ = std::fs::remove_dir_all(&by_version);
    Generator::new()
        .generate_crate(
            media_doc.as_path(),
            &by_version,
            &CrateOptions {
                runtime: Runtime::Version("0.1.0".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let cargo = std::fs::read_to_string(by_version.join("Cargo.toml")).unwrap();
    assert_eq!(
        runtime_line(&cargo),
        "gapi = { version = \"0.1.0\", default-features = false, features = [\"media\"] }"
    );

    // Without media methods, no feature: the crate checks against the
    // runtime with none (its media types and methods absent).
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&media_doc).unwrap()).unwrap();
    fn strip(v: &mut serde_json::Value) {
        if let Some(o) = v.as_object_mut() {
            o.remove("supportsMediaUpload");
            o.remove("supportsMediaDownload");
            o.remove("mediaUpload");
            o.values_mut().for_each(strip);
        }
    }
    strip(&mut json);
    let plain = work_dir().join("no-media");
    let _ = std::fs::remove_dir_all(&plain);
    let krate = against_runtime(json.to_string().as_str(), &plain);
    let cargo = std::fs::read_to_string(plain.join("Cargo.toml")).unwrap();
    let line = runtime_line(&cargo);
    assert!(line.ends_with(", default-features = false }"), "{line}");
    let code = std::fs::read_to_string(plain.join("src/api.rs")).unwrap();
    assert!(!code.contains("UploadSpec") && !code.contains("DownloadSpec"));
    check(&plain, &krate.lib_name, &[]);
}
