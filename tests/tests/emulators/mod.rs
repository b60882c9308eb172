//! Starting the two Cloud Storage emulators the tests run against, and what
//! the tests that use them share.
#![allow(dead_code)]

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gapi_storage_v1::StorageService;

pub struct Emulator {
    pub child: Child,
    pub port: u16,
    pub name: &'static str,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

pub fn skip(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) => Some(v),
        Err(_) if required() => {
            panic!("{var} is not set in CI: .ci/peers.sh must install the emulators")
        }
        Err(_) => {
            eprintln!("skipped: {var} is not set (see .ci/peers.sh)");
            None
        }
    }
}

/// Starts fake-gcs-server; `external` is the address its upload session URIs
/// point at (the emulator itself, or a proxy in front of it).
pub fn fake_gcs(external_port: Option<u16>) -> Option<Emulator> {
    let bin = skip("GAPI_FAKE_GCS_SERVER")?;
    let port = free_port();
    let ext = external_port.unwrap_or(port);
    let child = Command::new(bin)
        .args([
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-backend",
            "memory",
            "-log-level",
            "error",
        ])
        .args(["-port", &port.to_string()])
        .args(["-public-host", &format!("127.0.0.1:{ext}")])
        .args(["-external-url", &format!("http://127.0.0.1:{ext}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fake-gcs-server");
    Some(Emulator {
        child,
        port,
        name: "fake-gcs-server",
    })
}

pub fn gcp_storage_emulator() -> Option<Emulator> {
    let bin = skip("GAPI_GCP_STORAGE_EMULATOR")?;
    let port = free_port();
    let child = Command::new(bin)
        .args([
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--in-memory",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gcp-storage-emulator");
    Some(Emulator {
        child,
        port,
        name: "gcp-storage-emulator",
    })
}

pub async fn wait_ready(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("emulator on port {port} did not start");
}

pub fn storage(port: u16) -> StorageService {
    let client = gapi::Client::builder()
        .credentials(gapi::Credentials::anonymous())
        .retry_policy(gapi::RetryPolicy {
            initial_backoff: Duration::from_millis(20),
            ..Default::default()
        })
        .build()
        .unwrap();
    StorageService::new(client).with_root_url(format!("http://127.0.0.1:{port}/"))
}

pub fn payload(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
