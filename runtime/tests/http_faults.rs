//! A hostile network, from raw TCP servers on 127.0.0.1 that the tests
//! start: headers that never come, a body that stalls after the headers, a
//! body that drips forever, a server that stops reading an upload, redirect
//! loops, and a POST answered 500. Every call ends in a typed error within
//! its bounds — the defaults (on tokio's paused clock, so nothing really
//! waits) and per-call bounds (small real times).

mod http_support;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use gapi::{
    Call, Client, Credentials, HttpMethod, Media, MediaUploadInfo, MethodInfo, RetryPolicy,
    Service, Timeouts,
};
use http_support::raw::{Conn, fault_server};
use http_support::{CREATE, RecordingClock, SVC};
use tokio::io::AsyncReadExt as _;
use tokio::time::Instant;

static GET: MethodInfo = MethodInfo {
    id: "things.get",
    http_method: HttpMethod::Get,
    path: "items/{name}",
    supports_media_download: true,
    ..MethodInfo::DEFAULT
};
static UPLOAD_INFO: MediaUploadInfo = MediaUploadInfo {
    accept: &["*/*"],
    max_size: None,
    simple_path: Some("/upload/things/v1/items"),
    resumable_path: None,
};
static UPLOAD: MethodInfo = MethodInfo {
    id: "things.upload",
    http_method: HttpMethod::Post,
    path: "items",
    media_upload: Some(&UPLOAD_INFO),
    ..MethodInfo::DEFAULT
};

fn service(base: &str, client: Client) -> Service {
    Service::new(client, &SVC).with_root_url(base.to_owned())
}

fn default_client() -> Client {
    Client::builder()
        .clock(Arc::new(RecordingClock::default()))
        .build()
        .unwrap()
}

fn get(svc: &Service) -> Call {
    let mut c = Call::new(svc, &GET);
    c.path_param("name", "a");
    c
}

async fn silent(mut conn: Conn, _: usize) {
    // Keep the connection open without ever answering.
    let mut sink = [0u8; 1024];
    while conn.stream.read(&mut sink).await.is_ok_and(|n| n > 0) {}
}

#[tokio::test(start_paused = true)]
async fn headers_that_never_come_end_within_the_default_bounds() {
    let (base, count) = fault_server(silent).await;
    let svc = service(&base, default_client());
    let started = Instant::now();
    let e = get(&svc).send::<serde_json::Value>().await.unwrap_err();
    let took = started.elapsed();
    assert!(e.is_timeout(), "{e}");
    // Two attempts of 150 s each fit in the 5 minute deadline; the second
    // is cut by the deadline, in the middle of the attempt.
    let t = Timeouts::DEFAULT;
    assert!(took >= t.response, "{took:?}");
    assert!(took <= RetryPolicy::default().total_timeout, "{took:?}");
    assert!(e.to_string().contains("deadline"), "{e}");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    assert!(e.may_have_been_applied() && e.is_retryable());
}

#[tokio::test]
async fn headers_that_never_come_end_within_a_per_call_bound() {
    let (base, _) = fault_server(silent).await;
    let svc = service(&base, default_client());
    let started = Instant::now();
    let e = get(&svc)
        .send_with_timeout(Duration::from_millis(400))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "{took:?}"
    );

    // The per-attempt response bound: each attempt gives up after 150 ms.
    let client = Client::builder()
        .clock(Arc::new(RecordingClock::default()))
        .response_timeout(Duration::from_millis(150))
        .retry_policy(RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let (base, count) = fault_server(silent).await;
    let started = Instant::now();
    let e = get(&service(&base, client))
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("no response headers within 150ms"),
        "{e}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// Headers and 10 of the 100 announced bytes, then silence.
async fn stall_after_headers(mut conn: Conn, _: usize) {
    conn.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"a\":\"1234")
        .await;
    silent(conn, 0).await;
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_ends_within_the_default_bounds() {
    let (base, count) = fault_server(stall_after_headers).await;
    let svc = service(&base, default_client());
    let started = Instant::now();
    let e = get(&svc).send::<serde_json::Value>().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let took = started.elapsed();
    // 60 s of silence per attempt, retried until the deadline or the attempts end.
    assert!(took >= Timeouts::DEFAULT.idle, "{took:?}");
    assert!(took <= RetryPolicy::default().total_timeout, "{took:?}");
    let n = count.load(Ordering::SeqCst);
    assert!((2..=5).contains(&n), "{n} attempts");
}

#[tokio::test]
async fn a_body_that_stalls_ends_within_a_per_call_idle_bound() {
    let (base, count) = fault_server(stall_after_headers).await;
    let svc = service(&base, default_client());
    let started = Instant::now();
    let mut call = get(&svc);
    call.set_idle_timeout(Duration::from_millis(200));
    call.set_retry_policy(RetryPolicy::none());
    let e = call.send::<serde_json::Value>().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("stalled"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

/// Headers for an endless body, then one byte a second, forever.
async fn slow_drip(mut conn: Conn, _: usize) {
    conn.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000\r\n\r\n[",
    )
    .await;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        conn.write(b" ").await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_body_that_drips_forever_ends_at_the_default_deadline() {
    let (base, count) = fault_server(slow_drip).await;
    let svc = service(&base, default_client());
    let started = Instant::now();
    let e = get(&svc).send::<serde_json::Value>().await.unwrap_err();
    assert!(e.is_timeout() && e.to_string().contains("deadline"), "{e}");
    let took = started.elapsed();
    let total = RetryPolicy::default().total_timeout;
    assert!(
        took >= total && took < total + Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_body_that_drips_forever_ends_at_a_per_call_deadline() {
    let (base, _) = fault_server(|mut conn: Conn, _| async move {
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n[")
            .await;
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            conn.write(b" ").await;
        }
    })
    .await;
    let svc = service(&base, default_client());
    let started = Instant::now();
    let e = get(&svc)
        .send_with_timeout(Duration::from_millis(700))
        .await
        .unwrap_err();
    assert!(e.is_timeout() && e.to_string().contains("deadline"), "{e}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(3),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_download_that_stalls_is_resumed_then_ends_in_a_timeout() {
    let (base, count) = fault_server(|mut conn: Conn, _| async move {
        conn.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789")
            .await;
        silent(conn, 0).await;
    })
    .await;
    let svc = service(&base, default_client());
    let mut call = get(&svc);
    call.set_idle_timeout(Duration::from_millis(150));
    call.set_retry_policy(RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    });
    let started = Instant::now();
    let mut download = call.download().await.unwrap();
    let mut got = Vec::new();
    let e = loop {
        match download.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => panic!("the download cannot complete"),
            Err(e) => break e,
        }
    };
    assert!(e.is_timeout(), "{e}");
    assert_eq!(&got, b"0123456789");
    // the first request, then resumed twice with Range
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_upload_the_server_stops_reading_ends_in_an_idle_timeout() {
    // The server reads the head and nothing more; the 64 MiB body fills the
    // socket buffers and stops moving.
    let (base, count) = fault_server(|conn: Conn, _| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(conn);
    })
    .await;
    let client = Client::builder()
        .clock(Arc::new(RecordingClock::default()))
        .idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let svc = service(&base, client);
    let started = Instant::now();
    let data = vec![7u8; 64 << 20];
    let e = Call::new(&svc, &UPLOAD)
        .upload::<serde_json::Value>(Media::from_bytes(data, "application/octet-stream"))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(
        e.to_string().contains("sending the request body stalled"),
        "{e}"
    );
    // A POST that may have reached the server is not sent again.
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert!(e.may_have_been_applied() && !e.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_redirect_loop_is_one_typed_error_after_at_most_11_requests() {
    let (base, count) = fault_server(|mut conn: Conn, _| async move {
        conn.write(
            b"HTTP/1.1 302 Found\r\nlocation: /things/v1/items/a\r\ncontent-length: 0\r\n\r\n",
        )
        .await;
    })
    .await;
    let svc = service(&base, default_client());
    let e = get(&svc).send::<serde_json::Value>().await.unwrap_err();
    assert!(
        e.is_redirect() && !e.is_transient() && !e.is_retryable(),
        "{e}"
    );
    assert!(e.to_string().contains("loop"), "{e}");
    assert!(count.load(Ordering::SeqCst) <= 11);

    // A chain that never ends: /n → /n+1 → …
    let (base, count) = fault_server(|mut conn: Conn, n| async move {
        let reply = format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: /hop/{n}\r\ncontent-length: 0\r\n\r\n"
        );
        conn.write(reply.as_bytes()).await;
    })
    .await;
    let svc = service(&base, default_client());
    let e = get(&svc).send::<serde_json::Value>().await.unwrap_err();
    assert!(e.is_redirect(), "{e}");
    assert!(e.to_string().contains("more than 10 redirects"), "{e}");
    assert_eq!(count.load(Ordering::SeqCst), 11);
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_host() {
    let (target, _) = fault_server(|mut conn: Conn, _| async move {
        // Neither the header nor the key (in the URL, or in a `Referer`
        // naming the first URL) reaches the other host.
        let leaked = conn.head.to_ascii_lowercase().contains("authorization")
            || conn.head.contains("secret-token-value");
        let body = if leaked { "\"leaked\"" } else { "\"clean\"" };
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        conn.write(reply.as_bytes()).await;
    })
    .await;
    // Another host for the same server: localhost instead of 127.0.0.1.
    let other = target.replace("127.0.0.1", "localhost");
    let (base, _) = fault_server(move |mut conn: Conn, _| {
        let other = other.clone();
        async move {
            let reply =
                format!("HTTP/1.1 302 Found\r\nlocation: {other}x\r\ncontent-length: 0\r\n\r\n");
            conn.write(reply.as_bytes()).await;
        }
    })
    .await;
    for credentials in [
        Credentials::access_token("secret-token-value"),
        Credentials::api_key("secret-token-value"),
    ] {
        let client = Client::builder().credentials(credentials).build().unwrap();
        let got: String = get(&service(&base, client)).send().await.unwrap();
        assert_eq!(got, "clean");
    }
}

#[tokio::test]
async fn a_post_answered_500_is_not_retried_and_may_have_been_applied() {
    let (base, count) = fault_server(|mut conn: Conn, _| async move {
        let body = r#"{"error":{"code":500,"message":"backend error"}}"#;
        let reply = format!("HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
        conn.write(reply.as_bytes()).await;
    })
    .await;
    let svc = service(&base, default_client());
    let mut call = Call::new(&svc, &CREATE);
    call.body(&serde_json::json!({"title": "x"}));
    let e = call.send::<serde_json::Value>().await.unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(e.status(), Some(500));
    assert!(e.is_transient(), "the cause may go away");
    assert!(e.may_have_been_applied(), "the server may have created it");
    assert!(!e.is_retryable(), "so repeating the POST is not safe");

    // The same answer to a GET is retried, and stays retryable.
    let count_before = count.load(Ordering::SeqCst);
    let e = get(&svc).send::<serde_json::Value>().await.unwrap_err();
    assert_eq!(count.load(Ordering::SeqCst) - count_before, 5);
    assert!(e.may_have_been_applied() && e.is_retryable());
}

#[tokio::test]
async fn a_post_that_never_connected_was_not_applied() {
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let svc = service(&base, default_client());
    let mut call = Call::new(&svc, &CREATE);
    call.body(&serde_json::json!({}));
    call.set_retry_policy(RetryPolicy::none());
    let e = call.send::<serde_json::Value>().await.unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert!(!e.may_have_been_applied() && e.is_retryable(), "{e}");
}

/// `Call::send` with a per-call deadline, as a caller writes it.
trait SendWithTimeout {
    fn send_with_timeout(
        self,
        total: Duration,
    ) -> impl Future<Output = gapi::Result<serde_json::Value>>;
}

impl SendWithTimeout for Call {
    fn send_with_timeout(
        mut self,
        total: Duration,
    ) -> impl Future<Output = gapi::Result<serde_json::Value>> {
        self.set_timeout(total);
        self.send()
    }
}
