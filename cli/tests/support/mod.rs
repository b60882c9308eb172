//! What the CLI's integration tests share: running the `gapi` binary with a
//! private configuration directory and a clean environment.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gapi")
}

/// A `gapi` command with `config` as its configuration directory and none
/// of the caller's gapi or Google settings.
pub fn gapi(config: &Path) -> Command {
    let mut c = Command::new(bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("GAPI_") || k.starts_with("GOOGLE_") || k == "GCE_METADATA_HOST" {
            c.env_remove(k);
        }
    }
    c.env("GAPI_CONFIG_DIR", config)
        .env("HOME", config.join("home"))
        .env_remove("XDG_CONFIG_HOME")
        .stdin(Stdio::null());
    c
}

/// The result of a run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stderr: {}\nstdout: {}",
            self.stderr, self.stdout
        );
        self
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `gapi args…` to the end (off the async runtime's threads).
pub async fn run(config: &Path, args: &[&str]) -> Run {
    let mut c = gapi(config);
    c.args(args);
    tokio::task::spawn_blocking(move || c.output().expect("run gapi").into())
        .await
        .unwrap()
}

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether peers are mandatory (CI).
pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}
