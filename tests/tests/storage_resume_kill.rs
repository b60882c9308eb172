//! A 64 MiB resumable upload to each Cloud Storage emulator, killed with
//! SIGKILL in the middle of a chunk and resumed by another process from the
//! session it saved: it ends byte-identical (the downloaded object's sha256
//! is the source's) or in a typed error — never `Ok` with a short object.
//!
//! fake-gcs-server takes the resumed process's status query for the end of
//! the upload and commits what it has; gcp-storage-emulator implements the
//! status query. The child process is this test binary again, selected by
//! an environment variable.
#![cfg(unix)]

mod emulators;

use std::path::{Path, PathBuf};
use std::time::Duration;

use emulators::{Emulator, fake_gcs, gcp_storage_emulator, payload, storage, wait_ready};
use gapi::{Media, ResumableSession, ResumableUpload};
use gapi_storage_v1::schemas::{Bucket, Object};
use sha2::{Digest as _, Sha256};

const CHILD_VAR: &str = "GAPI_KILL_TEST_CHILD";
const SIZE: usize = 64 * 1024 * 1024;
const CHUNK: usize = 4 * 1024 * 1024;
const BUCKET: &str = "gapi-kill";

/// Writes `text` to `path` atomically (a reader never sees half of it).
fn save(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Not a test on its own: the uploader that gets killed. It saves its
/// session after every confirmed chunk.
#[test]
fn child_uploader_entry() {
    let Ok(args) = std::env::var(CHILD_VAR) else {
        return;
    };
    let mut parts = args.split('|');
    let port: u16 = parts.next().unwrap().parse().unwrap();
    let media = PathBuf::from(parts.next().unwrap());
    let session_file = PathBuf::from(parts.next().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let s = storage(port);
        let object = Object {
            name: Some("big.bin".into()),
            ..Default::default()
        };
        let mut upload = s
            .objects()
            .insert(BUCKET, object)
            .upload_resumable(Media::from_file(&media).await.unwrap())
            .chunk_size(CHUNK);
        save(
            &session_file,
            &serde_json::to_string(upload.start().await.unwrap()).unwrap(),
        );
        loop {
            let done = upload.next_chunk().await.unwrap();
            save(
                &session_file,
                &serde_json::to_string(upload.session().unwrap()).unwrap(),
            );
            if done.is_some() {
                return;
            }
        }
    });
}

async fn killed_and_resumed(emu: &Emulator) {
    let s = storage(emu.port);
    s.buckets()
        .insert(
            "test-project",
            Bucket {
                name: Some(BUCKET.into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: create bucket: {e}", emu.name));
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media.bin");
    let data = payload(SIZE, 11);
    std::fs::write(&media, &data).unwrap();
    let source_sha = Sha256::digest(&data);
    let session_file = dir.path().join("session.json");

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_uploader_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_VAR,
            format!(
                "{}|{}|{}",
                emu.port,
                media.display(),
                session_file.display()
            ),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it mid-chunk once the server has confirmed over 40%.
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let confirmed = loop {
        let session = std::fs::read_to_string(&session_file)
            .ok()
            .and_then(|t| serde_json::from_str::<ResumableSession>(&t).ok());
        if let Some(s) = session
            && s.confirmed * 10 >= 4 * SIZE as u64
        {
            break s.confirmed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: the upload did not progress",
            emu.name
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    tokio::time::sleep(Duration::from_millis(15)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(confirmed < SIZE as u64, "{}: killed too late", emu.name);

    // Another process (this one) resumes from the saved session.
    let session: ResumableSession =
        serde_json::from_str(&std::fs::read_to_string(&session_file).unwrap()).unwrap();
    let client = gapi::Client::new(gapi::Credentials::anonymous()).unwrap();
    let result = ResumableUpload::resume_from(
        &client,
        session,
        Media::from_file(&media).await.unwrap().with_md5(true),
    )
    .unwrap()
    .chunk_size(CHUNK)
    .send::<Object>()
    .await;
    let stored = s.objects().get(BUCKET, "big.bin").download().await.ok();
    let stored = match stored {
        Some(d) => Some(d.bytes().await.unwrap()),
        None => None,
    };
    match result {
        Ok(o) => {
            let stored = stored.expect("an object that was reported stored exists");
            assert_eq!(o.size, Some(SIZE as u64), "{}", emu.name);
            assert_eq!(
                Sha256::digest(&stored),
                source_sha,
                "{}: Ok, and the object is byte-identical",
                emu.name
            );
            println!(
                "{}: resumed after {confirmed} bytes, byte-identical",
                emu.name
            );
        }
        Err(e) => {
            assert!(e.is_integrity(), "{}: a typed error: {e}", emu.name);
            let len = stored.as_ref().map_or(0, |b| b.len());
            assert_ne!(
                stored.map(|b| Sha256::digest(&b)),
                Some(source_sha),
                "{}: an error only when the object is not the source",
                emu.name
            );
            println!(
                "{}: resumed after {confirmed} bytes: {e} (the server kept {len} bytes)",
                emu.name
            );
        }
    }
}

#[tokio::test]
async fn fake_gcs_server_resumed_after_sigkill() {
    let Some(emu) = fake_gcs(None) else { return };
    wait_ready(emu.port).await;
    killed_and_resumed(&emu).await;
}

#[tokio::test]
async fn gcp_storage_emulator_resumed_after_sigkill() {
    let Some(emu) = gcp_storage_emulator() else {
        return;
    };
    wait_ready(emu.port).await;
    killed_and_resumed(&emu).await;
}
