//! Generates typed clients for APIs the committed generated crates do not
//! cover, from `../shared/discovery-docs` (present in CI and on developers'
//! machines, not on users'): each present document becomes a module and a
//! `has_<name>` cfg. Without `../shared` the crate is empty and the
//! comparison test says which APIs it skipped (`GAPI_REQUIRE_SHARED=1`
//! makes that an error there).

use std::path::PathBuf;

/// (module, document file).
const APIS: &[(&str, &str)] = &[
    ("pubsub_v1", "pubsub.v1.json"),
    ("secretmanager_v1", "secretmanager.v1.json"),
    ("iam_v1", "iam.v1.json"),
    ("bigquery_v2", "bigquery.v2.json"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let shared = manifest.join("../../../shared/discovery-docs");
    for (module, _) in APIS {
        println!("cargo::rustc-check-cfg=cfg(has_{module})");
    }
    println!("cargo::rerun-if-changed={}", shared.display());
    for (module, file) in APIS {
        let doc = shared.join(file);
        if !doc.is_file() {
            continue;
        }
        if let Err(e) = gapi_gen::build::generate_into_out_dir(&doc, &format!("{module}.rs")) {
            panic!("generating {module} from {}: {e}", doc.display());
        }
        println!("cargo::rustc-cfg=has_{module}");
    }
}
