//! Child processes of the multi-process tests: the test binary run again
//! with its `child_entry` test and environment variables saying what to do.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{Kind, Target};

const VAR_ROLE: &str = "GAPI_STORAGE_CHILD_ROLE";
const VAR_KIND: &str = "GAPI_STORAGE_CHILD_KIND";
const VAR_LOCATION: &str = "GAPI_STORAGE_CHILD_LOCATION";
const VAR_NAMESPACE: &str = "GAPI_STORAGE_CHILD_NAMESPACE";
const VAR_DIR: &str = "GAPI_STORAGE_CHILD_DIR";
const VAR_ID: &str = "GAPI_STORAGE_CHILD_ID";

/// What a child was started to do.
pub struct Role {
    /// The role's name.
    pub role: String,
    /// The backend.
    pub target: Target,
    /// A scratch directory shared with the parent (marker files).
    pub dir: PathBuf,
    /// The child's id among its siblings.
    pub id: String,
}

impl Role {
    /// The role of this process, when it is a child.
    pub fn from_env() -> Option<Role> {
        let role = std::env::var(VAR_ROLE).ok()?;
        let var = |name: &str| std::env::var(name).unwrap();
        Some(Role {
            role,
            target: Target {
                kind: Kind::parse(&var(VAR_KIND)),
                location: var(VAR_LOCATION),
                namespace: var(VAR_NAMESPACE),
            },
            dir: PathBuf::from(var(VAR_DIR)),
            id: var(VAR_ID),
        })
    }
}

/// A runtime for a child (2 worker threads, like the tests).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Starts this test binary again as a child with `role`.
pub fn spawn(target: &Target, dir: &Path, role: &str, id: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env(VAR_ROLE, role)
        .env(VAR_KIND, target.kind.name())
        .env(VAR_LOCATION, &target.location)
        .env(VAR_NAMESPACE, &target.namespace)
        .env(VAR_DIR, dir)
        .env(VAR_ID, id)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (polling) until `done`, failing after `deadline`.
pub async fn wait_for(what: &str, deadline: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !done() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits for `child` to exit, which it must do successfully; returns its
/// output.
pub async fn finish(child: Child, what: &str) -> Output {
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The lines of `out` that start with `tag ` (libtest may print `test
/// child_entry ... ` before them on the same line), without the tag.
pub fn tagged(out: &Output, tag: &str) -> Vec<String> {
    let marker = format!("{tag} ");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.find(&marker).map(|i| l[i + marker.len()..].to_owned()))
        .collect()
}
