//! What the transport does on the wire, seen from raw TCP servers on
//! 127.0.0.1: gzip bodies decoded as they stream in (and refused when
//! corrupt or cut short), no `Accept-Encoding` on a ranged request, and
//! which redirects keep the method and body.

mod http_support;

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gapi::{Call, Client, HttpMethod, MethodInfo, RetryPolicy, Service};
use http_support::raw::{Conn, fault_server};
use http_support::{CREATE, SVC};
use tokio::io::AsyncReadExt as _;

static GET: MethodInfo = MethodInfo {
    id: "things.get",
    http_method: HttpMethod::Get,
    path: "items/a",
    ..MethodInfo::DEFAULT
};

fn service(base: &str) -> Service {
    let client = Client::builder()
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    Service::new(client, &SVC).with_root_url(base.to_owned())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A body of `n` items, big enough to arrive in many pieces.
fn items(n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| format!(r#"{{"id":"item-{i}"}}"#)).collect();
    format!(r#"{{"items":[{}]}}"#, items.join(","))
}

#[tokio::test]
async fn a_gzip_body_is_decoded_as_it_streams_in() {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let (base, _) = fault_server(move |mut conn: Conn, _| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(conn.head.to_ascii_lowercase());
            let body = gzip(items(2000).as_bytes());
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            conn.write(head.as_bytes()).await;
            for piece in body.chunks(1000) {
                conn.write(piece).await;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    })
    .await;
    let v: serde_json::Value = Call::new(&service(&base), &GET).send().await.unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 2000);
    assert_eq!(v["items"][1999]["id"], "item-1999");
    assert!(heads.lock().unwrap()[0].contains("accept-encoding: gzip"));
}

#[tokio::test]
async fn corrupt_or_truncated_gzip_is_an_error_never_a_short_body() {
    let whole = gzip(items(500).as_bytes());
    let cut = whole[..whole.len() / 2].to_vec();
    for (body, what) in [
        (b"this is not gzip at all".to_vec(), "corrupt"),
        (cut, "truncated"),
    ] {
        let (base, _) = fault_server(move |mut conn: Conn, _| {
            let body = body.clone();
            async move {
                // No length: the body ends where the connection does.
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\nconnection: close\r\n\r\n";
                conn.write(head.as_bytes()).await;
                conn.write(&body).await;
            }
        })
        .await;
        let e = Call::new(&service(&base), &GET)
            .send::<serde_json::Value>()
            .await
            .unwrap_err();
        // The gzip layer says so (a JSON error on a short body would be
        // a decode error too).
        assert!(
            e.is_decode() && e.to_string().contains("gzip"),
            "{what}: {e}"
        );
    }
}

#[tokio::test]
async fn a_ranged_request_asks_for_no_encoding() {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let (base, _) = fault_server(move |mut conn: Conn, _| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(conn.head.to_ascii_lowercase());
            conn.write(b"HTTP/1.1 206 Partial Content\r\ncontent-range: bytes 0-1/4\r\ncontent-length: 2\r\n\r\n\"x\"")
                .await;
        }
    })
    .await;
    let mut call = Call::new(&service(&base), &GET);
    call.header("range", "bytes=0-1");
    let _ = call.send::<serde_json::Value>().await;
    let head = heads.lock().unwrap()[0].clone();
    assert!(head.contains("range: bytes=0-1"), "{head}");
    assert!(!head.contains("accept-encoding"), "{head}");
}

/// Reads a request's body of `content-length` bytes.
async fn read_body(conn: &mut Conn) -> String {
    let len = conn
        .head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    conn.stream.read_exact(&mut body).await.unwrap();
    String::from_utf8(body).unwrap()
}

#[tokio::test]
async fn a_307_keeps_method_and_body_a_303_turns_into_a_bodiless_get() {
    for (status, expect) in [
        ("307 Temporary Redirect", "POST /next {\"title\":\"x\"}"),
        ("303 See Other", "GET /next "),
    ] {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let (base, _) = fault_server(move |mut conn: Conn, _| {
            let log = log.clone();
            async move {
                let body = read_body(&mut conn).await;
                let line = conn.head.lines().next().unwrap_or("").to_owned();
                let mut parts = line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                log.lock().unwrap().push(format!("{method} {path} {body}"));
                let reply = if path == "/next" {
                    "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}".to_owned()
                } else {
                    format!("HTTP/1.1 {status}\r\nlocation: /next\r\ncontent-length: 0\r\n\r\n")
                };
                conn.write(reply.as_bytes()).await;
            }
        })
        .await;
        let mut call = Call::new(&service(&base), &CREATE);
        call.body(&serde_json::json!({"title": "x"}));
        let _: serde_json::Value = call.send().await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[0].starts_with("POST /things/v1/items"), "{seen:?}");
        assert_eq!(seen[1], expect, "{status}");
    }
}
