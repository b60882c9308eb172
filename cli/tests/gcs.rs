//! `gapi` against the two Cloud Storage emulators `.ci/peers.sh` installs:
//! a 100 MiB upload whose process is killed (SIGKILL) in the middle and
//! resumed with `--resume` from the session it saved, and a download
//! killed in the middle and resumed with `Range`.
//!
//! gcp-storage-emulator implements the resumable protocol's status query:
//! the resumed upload must give a byte-identical object. fake-gcs-server
//! takes a status query for the end of the upload and commits what it has
//! (see tests/tests/storage_resume_kill.rs): there the resumed run must fail
//! with the runtime's integrity error and a non-zero exit, never report a
//! short object as stored.
#![cfg(unix)]

mod support;

#[path = "../../tests/tests/emulators/mod.rs"]
mod emulators;

use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use emulators::{Emulator, fake_gcs, gcp_storage_emulator, payload, storage, wait_ready};
use gapi_storage_v1::schemas::Bucket;
use sha2::{Digest as _, Sha256};
use support::{gapi, run};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const SIZE: usize = 100 * 1024 * 1024;
const CHUNK: &str = "4194304";

async fn bucket(emu: &Emulator, name: &str) {
    storage(emu.port)
        .buckets()
        .insert(
            "test-project",
            Bucket {
                name: Some(name.into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: create bucket: {e}", emu.name));
}

/// The confirmed offset in the one saved upload session, if any.
fn saved_confirmed(config: &Path) -> Option<u64> {
    let dir = config.join("state/uploads");
    let entry = std::fs::read_dir(dir).ok()?.filter_map(|e| e.ok()).next()?;
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(entry.path()).ok()?).ok()?;
    v["session"]["confirmed"].as_u64()
}

fn kill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

async fn upload_killed_and_resumed(emu: &Emulator, must_be_identical: bool) {
    bucket(emu, "gapi-cli-kill").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let media = dir.path().join("big.bin");
    let data = payload(SIZE, 7);
    std::fs::write(&media, &data).unwrap();
    let root = format!("http://127.0.0.1:{}/", emu.port);
    let m = media.display().to_string();
    let args = [
        "storage",
        "objects",
        "insert",
        "-p",
        "bucket=gapi-cli-kill",
        "-p",
        "name=big.bin",
        "--upload",
        &m,
        "--chunk-size",
        CHUNK,
        "--root-url",
        &root,
        "--anonymous",
        "-q",
    ];
    let child = gapi(&config)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let confirmed = loop {
        if let Some(c) = saved_confirmed(&config)
            && c * 10 >= 4 * SIZE as u64
        {
            break c;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{}: the upload did not progress",
            emu.name
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    kill(child);
    assert!(confirmed < SIZE as u64, "{}: killed too late", emu.name);

    let mut resumed: Vec<&str> = args.to_vec();
    resumed.push("--resume");
    let out = run(&config, &resumed).await;
    let stored = storage(emu.port)
        .objects()
        .get("gapi-cli-kill", "big.bin")
        .download()
        .await;
    let stored = match stored {
        Ok(d) => Some(d.bytes().await.unwrap()),
        Err(_) => None,
    };
    let same = stored.as_ref().map(Sha256::digest) == Some(Sha256::digest(&data));
    if out.code == 0 {
        assert_eq!(out.json()["size"], SIZE.to_string(), "{}", emu.name);
        assert!(same, "{}: reported stored, and byte-identical", emu.name);
        assert!(
            saved_confirmed(&config).is_none(),
            "the finished session is removed"
        );
        println!(
            "{}: killed after {confirmed} of {SIZE} bytes confirmed; resumed: byte-identical",
            emu.name
        );
    } else {
        assert!(!must_be_identical, "{}: {}", emu.name, out.stderr);
        assert_eq!(out.code, 1);
        assert!(
            out.stderr.contains("integrity") || out.stderr.contains("size"),
            "{}",
            out.stderr
        );
        assert!(
            !same,
            "{}: an error only when the object is not the source",
            emu.name
        );
        println!(
            "{}: killed after {confirmed} bytes; resumed: refused ({})",
            emu.name,
            out.stderr.trim()
        );
    }
}

#[tokio::test]
async fn gcp_storage_emulator_upload_killed_and_resumed_is_byte_identical() {
    let Some(emu) = gcp_storage_emulator() else {
        return;
    };
    wait_ready(emu.port).await;
    upload_killed_and_resumed(&emu, true).await;
}

#[tokio::test]
async fn fake_gcs_server_upload_killed_and_resumed_never_reports_a_short_object() {
    let Some(emu) = fake_gcs(None) else { return };
    wait_ready(emu.port).await;
    upload_killed_and_resumed(&emu, false).await;
}

/// A TCP proxy that forwards answers at about `rate` bytes a second and
/// notes whether a request carried a `Range` header.
async fn slow_proxy(upstream: u16, rate: usize) -> (u16, Arc<AtomicBool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let saw_range = Arc::new(AtomicBool::new(false));
    let flag = saw_range.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let flag = flag.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = cr.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        let text = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                        if text.contains("\r\nrange: bytes=") {
                            flag.store(true, Ordering::SeqCst);
                        }
                        if sw.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
                let mut buf = vec![0u8; 64 * 1024];
                let pause = Duration::from_secs_f64(buf.len() as f64 / rate as f64);
                while let Ok(n) = sr.read(&mut buf).await {
                    if n == 0 || cw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(pause).await;
                }
                up.abort();
            });
        }
    });
    (port, saw_range)
}

async fn download_killed_and_resumed(emu: &Emulator) {
    const N: usize = 24 * 1024 * 1024;
    bucket(emu, "gapi-cli-dl").await;
    let data = payload(N, 3);
    storage(emu.port)
        .objects()
        .insert("gapi-cli-dl", None)
        .name("dl.bin")
        .upload_with(
            gapi::Media::from_bytes(data.clone(), "application/octet-stream"),
            gapi::UploadProtocol::Resumable,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: upload: {e}", emu.name));
    let (proxy, saw_range) = slow_proxy(emu.port, 16 * 1024 * 1024).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let out_file = dir.path().join("dl.bin");
    let part = dir.path().join("dl.bin.part");
    let root = format!("http://127.0.0.1:{proxy}/");
    let o = out_file.display().to_string();
    let args = [
        "storage",
        "objects",
        "get",
        "-p",
        "bucket=gapi-cli-dl",
        "-p",
        "object=dl.bin",
        "--download",
        &o,
        "--root-url",
        &root,
        "--anonymous",
        "-q",
    ];
    let child = gapi(&config)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let have = loop {
        let len = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if len * 10 >= 3 * N as u64 {
            break len;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{}: no progress",
            emu.name
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    kill(child);
    assert!(
        have < N as u64 && !out_file.exists(),
        "{}: killed too late",
        emu.name
    );
    assert!(
        !saw_range.load(Ordering::SeqCst),
        "the first request had no Range"
    );

    let mut resumed: Vec<&str> = args.to_vec();
    resumed.push("--resume");
    let r = run(&config, &resumed).await;
    r.ok();
    assert!(
        saw_range.load(Ordering::SeqCst),
        "{}: resumed with Range",
        emu.name
    );
    let got = std::fs::read(&out_file).unwrap();
    assert_eq!(got.len(), N, "{}", emu.name);
    assert!(got == data, "{}: byte-identical", emu.name);
    assert!(!part.exists());
    println!(
        "{}: download killed at {have} of {N} bytes, resumed with Range: byte-identical",
        emu.name
    );
}

#[tokio::test]
async fn fake_gcs_server_download_killed_and_resumed_with_range() {
    let Some(emu) = fake_gcs(None) else { return };
    wait_ready(emu.port).await;
    download_killed_and_resumed(&emu).await;
}

#[tokio::test]
async fn gcp_storage_emulator_download_killed_and_resumed_with_range() {
    let Some(emu) = gcp_storage_emulator() else {
        return;
    };
    wait_ready(emu.port).await;
    download_killed_and_resumed(&emu).await;
}
