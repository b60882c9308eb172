//! `--dry-run`: the exact request, printed instead of sent.
//!
//! The call goes through the runtime as it would for real — URL template,
//! query, body, headers, the upload protocol's first request — but to a
//! one-shot HTTP server on 127.0.0.1 that records what arrives and answers
//! without acting (`{}`; a refusal for the first request of a resumable
//! upload, so no media follows). What was recorded is printed with the real
//! root URL put back. Nothing is duplicated from the runtime to describe
//! the request, so what is printed is what would be sent; and the
//! credentials are a stand-in of the same kind (`Bearer <redacted>`,
//! `key=<redacted>`): no token is fetched, nothing leaves the machine.

use std::sync::{Arc, Mutex};

use gapi::auth::{AccessToken, ApiKey, Authorization, CredentialSource};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::auth::Plan;
use crate::fail::{Failure, Result};
use crate::output::Format;

/// The most of a body recorded (media beyond it is counted, not kept).
const BODY_LIMIT: usize = 64 * 1024;
/// What stands for a secret.
pub const REDACTED: &str = "<redacted>";

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// Headers in the order sent (names lower-case).
    pub headers: Vec<(String, String)>,
    /// The body (at most [`BODY_LIMIT`] bytes).
    pub body: Vec<u8>,
    /// The body's length as announced (or read).
    pub body_len: u64,
}

/// Credentials of the same kind as the plan's, with no secret in them.
pub struct Placeholder {
    auth: Authorization,
}

impl Placeholder {
    /// The placeholder for `plan` (with the quota project stored
    /// credentials name, read without any request).
    pub async fn new(plan: &Plan) -> Self {
        let bearer = || Authorization::bearer(AccessToken::new(REDACTED));
        let auth = match plan {
            Plan::Anonymous => Authorization::none(),
            Plan::ApiKey(_) => Authorization::api_key(ApiKey::new(REDACTED)),
            Plan::Token(_) | Plan::Adc => bearer(),
            Plan::User(path) => {
                use gapi::auth::Storage as _;
                let stored = gapi::auth::FileStorage::new(path)
                    .get()
                    .await
                    .ok()
                    .flatten();
                match stored.as_ref().and_then(|c| c.quota_project()) {
                    Some(q) => bearer().with_quota_project(q),
                    None => bearer(),
                }
            }
        };
        Placeholder { auth }
    }
}

impl CredentialSource for Placeholder {
    fn authorization(&self) -> gapi::clock::BoxFuture<'_, gapi::Result<Authorization>> {
        let a = self.auth.clone();
        Box::pin(async move { Ok(a) })
    }
    fn refresh_after_unauthorized<'a>(
        &'a self,
        _used: &'a Authorization,
    ) -> gapi::clock::BoxFuture<'a, gapi::Result<bool>> {
        Box::pin(async { Ok(false) })
    }
    fn describe(&self) -> String {
        "dry-run placeholder".into()
    }
}

/// A recording server on 127.0.0.1.
pub struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    /// Starts listening.
    pub async fn start() -> Result<Recorder> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| Failure::run(format!("--dry-run: cannot listen on 127.0.0.1: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| Failure::run(format!("--dry-run: {e}")))?
            .port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    if let Some(r) = read_request(&mut conn).await {
                        let refuse = r.target.contains("uploadType=resumable")
                            || r.body_len > BODY_LIMIT as u64;
                        let download = r.target.contains("alt=media");
                        log.lock().unwrap_or_else(|e| e.into_inner()).push(r);
                        let (status, body) = if refuse {
                            (
                                "400 Bad Request",
                                r#"{"error":{"code":400,"message":"gapi --dry-run: not sent"}}"#,
                            )
                        } else if download {
                            ("200 OK", "")
                        } else {
                            ("200 OK", "{}")
                        };
                        let head = format!(
                            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = conn.write_all(head.as_bytes()).await;
                        let _ = conn.write_all(body.as_bytes()).await;
                        let _ = conn.shutdown().await;
                    }
                });
            }
        });
        Ok(Recorder { port, seen, task })
    }

    /// The root URL to send to in place of `real_root` (same path).
    pub fn root_for(&self, real_root: &str) -> String {
        let path = url::Url::parse(real_root)
            .map(|u| u.path().to_owned())
            .unwrap_or_else(|_| "/".into());
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The requests recorded so far.
    pub fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(conn: &mut tokio::net::TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > BODY_LIMIT {
            return None;
        }
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    let mut body = buf[head_end + 4..].to_vec();
    let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let declared: Option<u64> = header("content-length").and_then(|v| v.parse().ok());
    if chunked {
        // Read what there is up to the limit, then decode the chunks seen.
        while body.len() < BODY_LIMIT
            && find(&body, b"\r\n0\r\n\r\n").is_none()
            && !body.starts_with(b"0\r\n")
        {
            let n = conn.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        body = dechunk(&body);
    } else {
        let want = declared.unwrap_or(0).min(BODY_LIMIT as u64) as usize;
        while body.len() < want {
            let n = conn.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let body_len = declared.unwrap_or(body.len() as u64);
    body.truncate(BODY_LIMIT);
    Some(Recorded {
        method,
        target,
        headers,
        body,
        body_len,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = find(data, b"\r\n") {
        let size = std::str::from_utf8(&data[..i])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size else { break };
        if size == 0 {
            break;
        }
        let start = i + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = data.get(end + 2..).unwrap_or_default();
    }
    out
}

/// Redacts the secrets of a query string (`key`, `access_token`, `oauth_token`).
fn redact_target(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_owned();
    };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if matches!(k, "key" | "access_token" | "oauth_token") => {
                format!("{k}={REDACTED}")
            }
            _ => kv.to_owned(),
        })
        .collect();
    format!("{path}?{}", parts.join("&"))
}

fn redact_header(name: &str, value: &str) -> String {
    match name {
        "authorization" | "proxy-authorization" => match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_owned(),
        },
        "x-goog-api-key" | "cookie" => REDACTED.to_owned(),
        _ => value.to_owned(),
    }
}

/// A recorded request as printed (members in this order).
#[derive(Debug, serde::Serialize)]
pub struct Described {
    method: String,
    url: String,
    headers: std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body_length: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    body_truncated: bool,
}

/// A recorded request with `real_origin` (`https://host`) put back and its
/// secrets redacted.
pub fn describe(r: &Recorded, real_origin: &str) -> Described {
    let headers = r
        .headers
        .iter()
        .filter(|(k, _)| k != "host")
        .map(|(k, v)| (k.clone(), redact_header(k, v)))
        .collect();
    let has_body = r.body_len > 0 || !r.body.is_empty();
    let is_json = r
        .headers
        .iter()
        .any(|(k, v)| k == "content-type" && v.starts_with("application/json"));
    let body = has_body.then(|| match serde_json::from_slice::<Value>(&r.body) {
        Ok(v) if is_json => v,
        _ => Value::String(String::from_utf8_lossy(&r.body).into_owned()),
    });
    Described {
        method: r.method.clone(),
        url: format!(
            "{}{}",
            real_origin.trim_end_matches('/'),
            redact_target(&r.target)
        ),
        headers,
        body,
        body_length: has_body.then_some(r.body_len),
        body_truncated: r.body_len > r.body.len() as u64,
    }
}

/// Prints recorded requests: JSON (one per line with several), YAML, or
/// HTTP-like text with `--format table`.
pub fn print(requests: &[Described], format: Format) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Failure::run(format!("writing the output: {e}"));
    match format {
        Format::Table => {
            use std::io::Write as _;
            for r in requests {
                let mut s = format!("{} {}\n", r.method, r.url);
                for (k, v) in &r.headers {
                    s.push_str(&format!("{k}: {v}\n"));
                }
                match &r.body {
                    None => {}
                    Some(Value::String(b)) => s.push_str(&format!("\n{b}\n")),
                    Some(v) => s.push_str(&format!("\n{v}\n")),
                }
                out.write_all(s.as_bytes()).map_err(io)?;
            }
            Ok(())
        }
        Format::Json => {
            use std::io::Write as _;
            for r in requests {
                serde_json::to_writer_pretty(&mut out, r)
                    .map_err(|e| Failure::run(format!("writing the output: {e}")))?;
                writeln!(out).map_err(io)?;
            }
            Ok(())
        }
        Format::Yaml => {
            for r in requests {
                let v = serde_json::to_value(r).unwrap_or_default();
                crate::output::print(&mut out, &v, format).map_err(io)?;
            }
            Ok(())
        }
    }
}
