//! Simple and multipart uploads streamed from readers and files, retries
//! (files yes, one-shot readers no), `maxSize` for sources of unknown size,
//! and the protocol [`UploadProtocol::Auto`] picks.

mod http_support;

use http_support::{RecordingClock, SVC, scripted_server};
use std::sync::Arc;

use gapi::{
    Call, Client, Credentials, ErrorKind, HttpMethod, Media, MediaUploadInfo, MethodInfo, Service,
    UploadProtocol,
};
use serde::Deserialize;

static SIMPLE_ONLY: MediaUploadInfo = MediaUploadInfo {
    accept: &["text/*", "application/octet-stream"],
    max_size: Some(200 * 1024),
    simple_path: Some("/upload/things/v1/items"),
    resumable_path: None,
};
/// PUT: idempotent, so retried after the server saw it.
static REPLACE: MethodInfo = MethodInfo {
    id: "things.replace",
    http_method: HttpMethod::Put,
    path: "items",
    media_upload: Some(&SIMPLE_ONLY),
    ..MethodInfo::DEFAULT
};
static BOTH: MediaUploadInfo = MediaUploadInfo {
    accept: &[],
    max_size: None,
    simple_path: Some("/upload/things/v1/items"),
    resumable_path: Some("/resumable/upload/things/v1/items"),
};
static INSERT: MethodInfo = MethodInfo {
    id: "things.insert",
    http_method: HttpMethod::Post,
    path: "items",
    media_upload: Some(&BOTH),
    ..MethodInfo::DEFAULT
};

#[derive(Deserialize, Debug)]
struct Thing {
    id: String,
}

fn service(base: &str, clock: &RecordingClock) -> Service {
    let client = Client::builder()
        .credentials(Credentials::anonymous())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    Service::new(client, &SVC).with_root_url(base)
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

#[tokio::test]
async fn a_reader_of_known_size_streams_with_content_length() {
    let (base, seen) = scripted_server(r#"{"id":"done"}"#).await;
    let svc = service(&base, &RecordingClock::default());
    let data = payload(150 * 1024);
    let t: Thing = Call::new(&svc, &REPLACE)
        .upload(Media::from_reader(
            std::io::Cursor::new(data.clone()),
            Some(data.len() as u64),
            "text/plain",
        ))
        .await
        .unwrap();
    assert_eq!(t.id, "done");
    let reqs = seen.requests.lock().unwrap();
    let (m, uri, h, body) = &reqs[0];
    assert_eq!(m, "PUT");
    assert_eq!(uri, "/upload/things/v1/items?uploadType=media");
    assert_eq!(h["content-length"], data.len().to_string().as_str());
    assert!(h.get("transfer-encoding").is_none());
    assert_eq!(h["content-type"], "text/plain");
    assert!(body[..] == data[..]);
}

#[tokio::test]
async fn a_reader_of_unknown_size_is_sent_chunked() {
    let (base, seen) = scripted_server(r#"{"id":"done"}"#).await;
    let svc = service(&base, &RecordingClock::default());
    let data = payload(100 * 1024);
    let _: Thing = Call::new(&svc, &REPLACE)
        .upload(Media::from_reader(
            std::io::Cursor::new(data.clone()),
            None,
            "text/plain",
        ))
        .await
        .unwrap();
    let reqs = seen.requests.lock().unwrap();
    assert_eq!(reqs[0].2["transfer-encoding"], "chunked");
    assert!(reqs[0].3[..] == data[..]);
}

#[tokio::test]
async fn multipart_from_a_file_streams_and_is_retried() {
    let (base, seen) = scripted_server(r#"{"id":"done"}"#).await;
    seen.script.lock().unwrap().push((
        503,
        vec![],
        r#"{"error":{"code":503,"message":"later"}}"#.into(),
    ));
    let clock = RecordingClock::default();
    let svc = service(&base, &clock);
    let data = payload(120 * 1024);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, &data).unwrap();
    let mut call = Call::new(&svc, &REPLACE);
    call.body(&serde_json::json!({"name": "notes"}));
    let _: Thing = call
        .upload(Media::from_file(&path).await.unwrap())
        .await
        .unwrap();
    let reqs = seen.requests.lock().unwrap();
    assert_eq!(reqs.len(), 2, "the file is read again for the retry");
    assert_eq!(clock.0.lock().unwrap().len(), 1);
    for (_, uri, h, body) in reqs.iter() {
        assert_eq!(uri, "/upload/things/v1/items?uploadType=multipart");
        let ct = h["content-type"].to_str().unwrap();
        let boundary = ct
            .strip_prefix("multipart/related; boundary=")
            .unwrap_or_else(|| panic!("{ct}"));
        assert_eq!(h["content-length"], body.len().to_string().as_str());
        let mut want = format!(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{\"name\":\"notes\"}}\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        )
        .into_bytes();
        want.extend_from_slice(&data);
        want.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        assert!(body[..] == want[..], "multipart body as laid out");
    }
}

#[tokio::test]
async fn a_reader_is_not_retried_once_sent() {
    let (base, seen) = scripted_server(r#"{"id":"done"}"#).await;
    seen.script.lock().unwrap().push((
        503,
        vec![],
        r#"{"error":{"code":503,"message":"later"}}"#.into(),
    ));
    let clock = RecordingClock::default();
    let svc = service(&base, &clock);
    let err = Call::new(&svc, &REPLACE)
        .upload::<Thing>(Media::from_reader(&b"hello"[..], Some(5), "text/plain"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(seen.requests.lock().unwrap().len(), 1);
    assert!(clock.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn max_size_stops_a_source_of_unknown_size() {
    let (base, _seen) = scripted_server(r#"{"id":"done"}"#).await;
    let svc = service(&base, &RecordingClock::default());
    let err = Call::new(&svc, &REPLACE)
        .upload::<Thing>(Media::from_reader(
            std::io::Cursor::new(payload(300 * 1024)),
            None,
            "text/plain",
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Request, "{err:?}");
    assert!(
        err.to_string()
            .contains("exceeds the maximum of 204800 bytes"),
        "{err}"
    );
}

#[tokio::test]
async fn a_source_shorter_than_declared_is_an_io_error() {
    let (base, _seen) = scripted_server(r#"{"id":"done"}"#).await;
    let svc = service(&base, &RecordingClock::default());
    let err = Call::new(&svc, &REPLACE)
        .upload::<Thing>(Media::from_reader(&b"abc"[..], Some(10), "text/plain"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io, "{err:?}");
    assert!(err.to_string().contains("declared size is 10"), "{err}");
}

#[tokio::test]
async fn protocol_choice_and_its_rules() {
    let (base, seen) = scripted_server(r#"{"id":"done"}"#).await;
    let svc = service(&base, &RecordingClock::default());

    // Small, no metadata → simple; small with metadata → multipart.
    let _: Thing = Call::new(&svc, &INSERT)
        .upload(Media::from_bytes(&b"x"[..], "a/b"))
        .await
        .unwrap();
    // An empty-object body (what generated builders send when the caller
    // gave no metadata) is no metadata: still simple.
    let mut call = Call::new(&svc, &INSERT);
    call.body(&serde_json::json!({}));
    let _: Thing = call
        .upload(Media::from_bytes(&b"x"[..], "a/b"))
        .await
        .unwrap();
    let mut call = Call::new(&svc, &INSERT);
    call.body(&serde_json::json!({"name": "n"}));
    let _: Thing = call
        .upload(Media::from_bytes(&b"x"[..], "a/b"))
        .await
        .unwrap();
    // Explicit multipart without a body sends `{}` as metadata.
    let _: Thing = Call::new(&svc, &INSERT)
        .upload_with(
            Media::from_bytes(&b"y"[..], "a/b"),
            UploadProtocol::Multipart,
        )
        .await
        .unwrap();
    // Above 5 MiB → resumable (initiation, then one 8 MiB-or-less chunk).
    {
        let mut s = seen.script.lock().unwrap();
        s.push((
            200,
            vec![("location", format!("{base}session/1"))],
            String::new(),
        ));
    }
    let big = payload(6 * 1024 * 1024);
    let _: Thing = Call::new(&svc, &INSERT)
        .upload(Media::from_bytes(big.clone(), "a/b"))
        .await
        .unwrap();
    {
        let reqs = seen.requests.lock().unwrap();
        let uris: Vec<&str> = reqs.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(
            uris,
            [
                "/upload/things/v1/items?uploadType=media",
                "/upload/things/v1/items?uploadType=media",
                "/upload/things/v1/items?uploadType=multipart",
                "/upload/things/v1/items?uploadType=multipart",
                "/upload/things/v1/items?uploadType=resumable",
                "/session/1",
            ]
        );
        assert!(String::from_utf8_lossy(&reqs[2].3).contains("{\"name\":\"n\"}"));
        assert!(String::from_utf8_lossy(&reqs[3].3).contains("\r\n\r\n{}\r\n"));
        assert_eq!(reqs[5].0, "PUT");
        assert_eq!(reqs[5].2["content-range"], "bytes 0-6291455/6291456");
        assert!(reqs[5].3[..] == big[..]);
    }

    // Simple cannot carry metadata; a method without media refuses media.
    let mut call = Call::new(&svc, &INSERT);
    call.body(&serde_json::json!({"name": "n"}));
    let err = call
        .upload_with::<Thing>(Media::from_bytes(&b"x"[..], "a/b"), UploadProtocol::Simple)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot carry metadata"), "{err}");
    let err = Call::new(&svc, &REPLACE)
        .upload_with::<Thing>(
            Media::from_bytes(&b"x"[..], "text/plain"),
            UploadProtocol::Resumable,
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not support resumable uploads"),
        "{err}"
    );
    assert_eq!(
        seen.requests.lock().unwrap().len(),
        6,
        "refusals send nothing"
    );
}

#[tokio::test]
async fn simple_and_multipart_uploads_check_what_the_server_stored() {
    use base64::Engine as _;
    let data = payload(100 * 1024);
    let crc = base64::engine::general_purpose::STANDARD.encode(crc32c::crc32c(&data).to_be_bytes());
    let sources = || {
        vec![
            Media::from_bytes(data.clone(), "text/plain"),
            Media::from_reader(std::io::Cursor::new(data.clone()), None, "text/plain"),
        ]
    };
    // An honest server: size and CRC32C match, for bytes and for a stream,
    // simple and multipart.
    let good: &'static str = Box::leak(
        format!(r#"{{"id":"ok","size":"{}","crc32c":"{crc}"}}"#, data.len()).into_boxed_str(),
    );
    let (base, _) = scripted_server(good).await;
    let svc = service(&base, &RecordingClock::default());
    for protocol in [UploadProtocol::Simple, UploadProtocol::Multipart] {
        for media in sources() {
            let t: Thing = Call::new(&svc, &REPLACE)
                .upload_with(media, protocol)
                .await
                .unwrap();
            assert_eq!(t.id, "ok");
        }
    }
    // A server that kept a truncated object, or other bytes.
    for body in [
        r#"{"id":"short","size":"1000"}"#.to_owned(),
        format!(
            r#"{{"id":"other","size":"{}","crc32c":"AAAAAA=="}}"#,
            data.len()
        ),
    ] {
        let body: &'static str = Box::leak(body.into_boxed_str());
        let (base, _) = scripted_server(body).await;
        let svc = service(&base, &RecordingClock::default());
        for protocol in [UploadProtocol::Simple, UploadProtocol::Multipart] {
            for media in sources() {
                let e = Call::new(&svc, &REPLACE)
                    .upload_with::<Thing>(media, protocol)
                    .await
                    .unwrap_err();
                assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
            }
        }
    }
}
