//! Batch requests over HTTP: multipart/mixed in, multipart/mixed out.

mod common;

use common::{client, reply};
use gapi_standin::{InjectedError, StandIn, TASKS_SCOPE};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;

/// One response part: its Content-ID, status and JSON body.
#[derive(Debug)]
struct Part {
    content_id: Option<String>,
    status: u16,
    body: Value,
}

/// Splits a multipart/mixed batch response.
fn parse_response(content_type: &str, body: &str) -> Vec<Part> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    for chunk in body.split(&delimiter).skip(1) {
        if chunk.starts_with("--") {
            break;
        }
        let (head, http) = chunk
            .trim_start_matches("\r\n")
            .split_once("\r\n\r\n")
            .expect("part head");
        assert!(head.contains("Content-Type: application/http"));
        let content_id = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-ID: "))
            .map(str::to_string);
        let status_line = http.lines().next().expect("status line");
        let status = status_line
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let json = http
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.trim())
            .unwrap_or("");
        let body = serde_json::from_str(json).unwrap_or(Value::Null);
        parts.push(Part {
            content_id,
            status,
            body,
        });
    }
    parts
}

#[tokio::test]
async fn batch_round_trip() {
    let standin = StandIn::builder().start().await.unwrap();
    let token = standin.issue_token(&[TASKS_SCOPE]).access_token;
    let body = "--BOUNDARY\r\n\
        Content-Type: application/http\r\n\
        Content-ID: <item1>\r\n\
        \r\n\
        POST /tasks/v1/users/@me/lists?fields=title HTTP/1.1\r\n\
        Content-Type: application/json\r\n\
        \r\n\
        {\"title\": \"From batch\"}\r\n\
        --BOUNDARY\r\n\
        Content-Type: application/http\r\n\
        Content-ID: <item2>\r\n\
        \r\n\
        GET https://tasks.googleapis.com/tasks/v1/lists/@default/tasks/missing\r\n\
        \r\n\
        --BOUNDARY\r\n\
        Content-Type: application/http\r\n\
        Content-ID: <item3>\r\n\
        \r\n\
        GET /tasks/v1/users/@me/lists\r\n\
        Authorization: Bearer not-a-token\r\n\
        \r\n\
        --BOUNDARY\r\n\
        Content-Type: application/http\r\n\
        Content-ID: <item4>\r\n\
        \r\n\
        DELETE /tasks/v1/lists/@default/tasks/missing HTTP/1.1\r\n\
        \r\n\
        --BOUNDARY--\r\n";
    let r = client()
        .post(standin.batch_uri())
        .header(CONTENT_TYPE, "multipart/mixed; boundary=BOUNDARY")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let content_type = r.headers[CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("multipart/mixed; boundary="));
    let parts = parse_response(content_type, &r.text);
    assert_eq!(parts.len(), 4, "{}", r.text);
    assert_eq!(parts[0].content_id.as_deref(), Some("<response-item1>"));
    assert_eq!(parts[0].status, 200);
    assert_eq!(parts[0].body, serde_json::json!({"title": "From batch"}));
    assert_eq!(parts[1].status, 404);
    assert_eq!(parts[1].body["error"]["status"], "NOT_FOUND");
    assert_eq!(parts[2].status, 401);
    assert_eq!(parts[3].content_id.as_deref(), Some("<response-item4>"));
    assert_eq!(parts[3].status, 404);

    let stats = standin.stats();
    assert_eq!(stats.batch_requests, 1);
    assert_eq!(stats.api_calls, 4);
    assert!(standin.requests().iter().all(|r| r.in_batch));

    // The list made inside the batch is there.
    let lists = common::api(
        &client(),
        reqwest::Method::GET,
        &format!("{}tasks/v1/users/@me/lists", standin.base_url()),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(lists.json["items"][1]["title"], "From batch");
}

#[tokio::test]
async fn batch_parts_can_get_injected_errors() {
    let standin = StandIn::builder().start().await.unwrap();
    let token = standin.issue_token(&[TASKS_SCOPE]).access_token;
    standin.inject_error(InjectedError::new(503).path("/tasks/v1/lists"));
    let body = "--b\nContent-Type: application/http\nContent-ID: 1\n\n\
                GET /tasks/v1/users/@me/lists\n\n\
                --b\nContent-Type: application/http\nContent-ID: 2\n\n\
                GET /tasks/v1/lists/@default/tasks\n\n\
                --b--\n";
    let r = client()
        .post(standin.url("batch"))
        .header(CONTENT_TYPE, "multipart/mixed; boundary=\"b\"")
        .bearer_auth(&token)
        .body(body)
        .send()
        .await
        .unwrap();
    let r = reply(r).await;
    let parts = parse_response(r.headers[CONTENT_TYPE].to_str().unwrap(), &r.text);
    assert_eq!(
        parts.iter().map(|p| p.status).collect::<Vec<_>>(),
        [200, 503]
    );
    assert_eq!(parts[1].content_id.as_deref(), Some("<response-2>"));
}

#[tokio::test]
async fn malformed_batches() {
    let standin = StandIn::builder().start().await.unwrap();
    let send = |content_type: &'static str, body: &'static str| {
        let url = standin.batch_uri();
        async move {
            let r = client()
                .post(url)
                .header(CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            reply(r).await
        }
    };
    let r = send("application/json", "{}").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["error"]["code"], 400);
    assert_eq!(
        send("multipart/mixed; boundary=x", "no parts").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send("multipart/mixed; boundary=x", "--x--\r\n")
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = send(
        "multipart/mixed; boundary=x",
        "--x\r\n\r\nnot a request\r\n--x--",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let parts = parse_response(r.headers[CONTENT_TYPE].to_str().unwrap(), &r.text);
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].status, 404);
    let r = send("multipart/mixed; boundary=x", "--x\r\n\r\n\r\n--x--").await;
    let parts = parse_response(r.headers[CONTENT_TYPE].to_str().unwrap(), &r.text);
    assert_eq!(parts[0].status, 400);
}
