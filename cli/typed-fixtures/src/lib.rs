//! Typed clients generated at build time from `../shared/discovery-docs`
//! (see `build.rs`), for the CLI's test that compares `gapi --dry-run` with
//! what a generated client sends. Each module exists when its document was
//! found; [`PRESENT`] lists them.
#![allow(missing_docs, clippy::all)]

/// The modules generated in this build.
pub const PRESENT: &[&str] = &[
    #[cfg(has_pubsub_v1)]
    "pubsub_v1",
    #[cfg(has_secretmanager_v1)]
    "secretmanager_v1",
    #[cfg(has_iam_v1)]
    "iam_v1",
    #[cfg(has_bigquery_v2)]
    "bigquery_v2",
];

#[cfg(has_pubsub_v1)]
pub mod pubsub_v1 {
    include!(concat!(env!("OUT_DIR"), "/pubsub_v1.rs"));
}
#[cfg(has_secretmanager_v1)]
pub mod secretmanager_v1 {
    include!(concat!(env!("OUT_DIR"), "/secretmanager_v1.rs"));
}
#[cfg(has_iam_v1)]
pub mod iam_v1 {
    include!(concat!(env!("OUT_DIR"), "/iam_v1.rs"));
}
#[cfg(has_bigquery_v2)]
pub mod bigquery_v2 {
    include!(concat!(env!("OUT_DIR"), "/bigquery_v2.rs"));
}
