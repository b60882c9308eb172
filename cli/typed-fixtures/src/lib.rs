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

/// `with_pubsub_v1!({ uses pubsub_v1 } else { without it })`: the first block when
/// the module was generated, else the second (whose tokens alone are
/// compiled).
#[cfg(has_pubsub_v1)]
#[macro_export]
macro_rules! with_pubsub_v1 {
    ($yes:block else $no:block) => {
        $yes
    };
}
/// See the other definition.
#[cfg(not(has_pubsub_v1))]
#[macro_export]
macro_rules! with_pubsub_v1 {
    ($yes:block else $no:block) => {
        $no
    };
}

/// `with_secretmanager_v1!({ uses secretmanager_v1 } else { without it })`: the first block when
/// the module was generated, else the second (whose tokens alone are
/// compiled).
#[cfg(has_secretmanager_v1)]
#[macro_export]
macro_rules! with_secretmanager_v1 {
    ($yes:block else $no:block) => {
        $yes
    };
}
/// See the other definition.
#[cfg(not(has_secretmanager_v1))]
#[macro_export]
macro_rules! with_secretmanager_v1 {
    ($yes:block else $no:block) => {
        $no
    };
}

/// `with_iam_v1!({ uses iam_v1 } else { without it })`: the first block when
/// the module was generated, else the second (whose tokens alone are
/// compiled).
#[cfg(has_iam_v1)]
#[macro_export]
macro_rules! with_iam_v1 {
    ($yes:block else $no:block) => {
        $yes
    };
}
/// See the other definition.
#[cfg(not(has_iam_v1))]
#[macro_export]
macro_rules! with_iam_v1 {
    ($yes:block else $no:block) => {
        $no
    };
}

/// `with_bigquery_v2!({ uses bigquery_v2 } else { without it })`: the first block when
/// the module was generated, else the second (whose tokens alone are
/// compiled).
#[cfg(has_bigquery_v2)]
#[macro_export]
macro_rules! with_bigquery_v2 {
    ($yes:block else $no:block) => {
        $yes
    };
}
/// See the other definition.
#[cfg(not(has_bigquery_v2))]
#[macro_export]
macro_rules! with_bigquery_v2 {
    ($yes:block else $no:block) => {
        $no
    };
}
