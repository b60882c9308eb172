//! `kill -9` in the middle of credentials writes: a child process rewrites
//! one `FileStorage` as fast as it can and is killed with SIGKILL at a
//! random moment, 100 times. After every kill the file parses (it holds the
//! credentials of some complete write), and after the next open no
//! temporary file holding credentials is left beside it.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use gapi::auth::{AccessToken, ClientSecret, FileStorage, RefreshToken, Storage, UserCredentials};

const CHILD_FILE_VAR: &str = "GAPI_CRASH_TEST_CHILD_FILE";
const ROUNDS: usize = 100;

fn credentials(n: u64) -> UserCredentials {
    UserCredentials::new(
        "client-123.apps.googleusercontent.com",
        Some(ClientSecret::new("GOCSPX-crash-test-secret")),
        Some(RefreshToken::new("1//crash-test-refresh")),
    )
    .with_access_token(
        AccessToken::new(format!("ya29.write-{n}-{}", "x".repeat(512))),
        Some(SystemTime::now() + Duration::from_secs(3600)),
    )
}

/// Not a test on its own: the body of the child process, which writes
/// until it is killed.
#[test]
fn child_writer_entry() {
    let Ok(path) = std::env::var(CHILD_FILE_VAR) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let storage = FileStorage::new(&path);
        std::fs::write(format!("{path}.started"), "").unwrap();
        for n in 0.. {
            storage.put(&credentials(n)).await.unwrap();
        }
    });
}

fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect()
}

#[tokio::test]
async fn sigkill_during_writes_never_corrupts_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.json");
    let storage = FileStorage::new(&path);
    storage.put(&credentials(0)).await.unwrap();
    let exe = std::env::current_exe().unwrap();
    // Kill times from a seeded xorshift (GAPI_CRASH_SEED to vary it), so a
    // failing round can be replayed.
    let mut state: u64 = std::env::var("GAPI_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15)
        | 1;
    let mut next_micros = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % 20_000
    };
    let mut leftovers = 0;
    for round in 0..ROUNDS {
        let started = format!("{}.started", path.display());
        let _ = std::fs::remove_file(&started);
        let mut child = std::process::Command::new(&exe)
            .args(["--exact", "child_writer_entry", "--test-threads=1"])
            .env(CHILD_FILE_VAR, &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !Path::new(&started).exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the writer did not start"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // Let it write for a while, then SIGKILL (Child::kill sends SIGKILL).
        std::thread::sleep(Duration::from_micros(next_micros()));
        child.kill().unwrap();
        child.wait().unwrap();

        // The file is whole: some complete write's credentials.
        let text = std::fs::read_to_string(&path).unwrap();
        let c = UserCredentials::from_json(&text)
            .unwrap_or_else(|e| panic!("round {round}: the file does not parse: {e}\n{text}"));
        assert!(
            c.access_token()
                .unwrap()
                .secret()
                .starts_with("ya29.write-")
        );
        if !temp_files(dir.path()).is_empty() {
            leftovers += 1;
        }
        // The next open sweeps what the killed writer left.
        assert!(storage.get().await.unwrap().is_some());
        assert_eq!(
            temp_files(dir.path()),
            Vec::<String>::new(),
            "round {round}"
        );
    }
    // The kills did land in the middle of writes (otherwise this test shows
    // nothing about the sweep).
    println!("{leftovers} of {ROUNDS} kills left a temporary file, all swept");
    assert!(leftovers > 0, "no kill landed inside a write");
}
