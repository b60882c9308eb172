//! Batch requests (`POST /batch`, `POST /batch/tasks/v1`): a `multipart/mixed` body of
//! `application/http` parts, each one API request, answered by a `multipart/mixed`
//! body of responses in the same order, as Google does.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::errors::ApiError;
use crate::exchange::{ApiRequest, ApiResponse};
use crate::random;
use crate::state::{AppState, Shared};
use crate::tasks;

/// The most parts one batch may hold.
pub(crate) const MAX_PARTS: usize = 1000;

/// `POST /batch`.
pub(crate) async fn batch(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.count(|s| s.batch_requests += 1);
    match run(&shared, &headers, &body) {
        Ok((boundary, body)) => {
            let content_type = format!("multipart/mixed; boundary={boundary}");
            let mut response = (StatusCode::OK, body).into_response();
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, value);
            }
            response
        }
        Err(error) => ApiResponse::error(&error).into_response(),
    }
}

/// Runs a whole batch, giving the response boundary and body.
fn run(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<(String, Vec<u8>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = boundary_of(content_type).ok_or_else(|| {
        ApiError::new(
            400,
            "badRequest",
            "Batch requests must be multipart/mixed with a boundary.",
        )
    })?;
    let parts = split_parts(body, &boundary)?;
    if parts.is_empty() {
        return Err(ApiError::new(
            400,
            "badRequest",
            "The batch request has no parts.",
        ));
    }
    if parts.len() > MAX_PARTS {
        return Err(ApiError::new(
            400,
            "badRequest",
            format!("A batch request may hold at most {MAX_PARTS} calls."),
        ));
    }
    let outer_auth = headers.get(header::AUTHORIZATION);
    let response_boundary = format!("batch_{}", random::alphanumeric(24));
    let mut out = Vec::new();
    for part in parts {
        let (content_id, request) = parse_part(part, outer_auth);
        let response = match request {
            Ok(request) if tasks::is_api_path(&request.path) => tasks::handle(shared, &request),
            Ok(request) => ApiResponse::error(&ApiError::new(
                404,
                "notFound",
                format!("Not found in a batch: {}", request.path),
            )),
            Err(error) => ApiResponse::error(&error),
        };
        write_part(
            &mut out,
            &response_boundary,
            content_id.as_deref(),
            &response,
        );
    }
    out.extend_from_slice(format!("--{response_boundary}--\r\n").as_bytes());
    Ok((response_boundary, out))
}

/// The `boundary` parameter of a `multipart/mixed` content type.
fn boundary_of(content_type: &str) -> Option<String> {
    let mut pieces = content_type.split(';');
    let mime = pieces.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    pieces.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (!value.is_empty()).then(|| value.to_string())
    })
}

/// Where `needle` first occurs in `hay` at or after `from`.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The parts between `--boundary` lines, without the line breaks that belong to the
/// delimiters. Text before the first delimiter (the preamble) is skipped.
fn split_parts<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>, ApiError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let malformed = || ApiError::new(400, "badRequest", "Malformed multipart body.");
    // Delimiters count only at the start of a line.
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some(at) = find(body, delimiter, from) {
        if at == 0 || body[at - 1] == b'\n' {
            starts.push(at);
        }
        from = at + delimiter.len();
    }
    let mut parts = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let after = start + delimiter.len();
        if body[after..].starts_with(b"--") {
            return Ok(parts);
        }
        // The rest of the delimiter line (transport padding) ends at the line break.
        let line_end = find(body, b"\n", after).ok_or_else(malformed)? + 1;
        let Some(&next) = starts.get(i + 1) else {
            return Err(malformed());
        };
        let mut end = next;
        if end > line_end && body[end - 1] == b'\n' {
            end -= 1;
            if end > line_end && body[end - 1] == b'\r' {
                end -= 1;
            }
        }
        parts.push(&body[line_end.min(end)..end]);
    }
    Err(malformed())
}

/// Splits at the first empty line: the header block and what follows. Without an
/// empty line everything is headers.
fn split_head(bytes: &[u8]) -> (&[u8], &[u8]) {
    if bytes.starts_with(b"\r\n") {
        return (&[], &bytes[2..]);
    }
    if bytes.starts_with(b"\n") {
        return (&[], &bytes[1..]);
    }
    let crlf = find(bytes, b"\r\n\r\n", 0).map(|i| (i, i + 4));
    let lf = find(bytes, b"\n\n", 0).map(|i| (i, i + 2));
    let split = match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    match split {
        Some((head_end, body_start)) => (&bytes[..head_end], &bytes[body_start..]),
        None => (bytes, &[]),
    }
}

/// Header lines as name–value pairs (lines without a colon are skipped).
fn header_lines(head: &str) -> Vec<(String, String)> {
    head.lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

/// One part: its `Content-ID` and the API request it holds.
fn parse_part(
    part: &[u8],
    outer_auth: Option<&HeaderValue>,
) -> (Option<String>, Result<ApiRequest, ApiError>) {
    let (head, inner) = split_head(part);
    let part_headers = header_lines(&String::from_utf8_lossy(head));
    let content_id = part_headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-id"))
        .map(|(_, v)| v.clone());
    (content_id, parse_inner(inner, outer_auth))
}

/// The HTTP request inside a part.
fn parse_inner(inner: &[u8], outer_auth: Option<&HeaderValue>) -> Result<ApiRequest, ApiError> {
    let bad = |why: &str| ApiError::new(400, "badRequest", format!("Malformed batch part: {why}"));
    // Blank lines before the request line are tolerated.
    let start = inner
        .iter()
        .position(|b| !matches!(b, b'\r' | b'\n'))
        .unwrap_or(inner.len());
    let inner = &inner[start..];
    let line_end = find(inner, b"\n", 0).unwrap_or(inner.len());
    let request_line = String::from_utf8_lossy(&inner[..line_end])
        .trim()
        .to_string();
    let rest = inner.get(line_end + 1..).unwrap_or(&[]);
    let mut words = request_line.split_whitespace();
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return Err(bad("no request line"));
    };
    let method = Method::from_bytes(method.as_bytes()).map_err(|_| bad("bad method"))?;
    let (head, body) = split_head(rest);
    let mut headers = HeaderMap::new();
    for (name, value) in header_lines(&String::from_utf8_lossy(head)) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    if !headers.contains_key(header::AUTHORIZATION)
        && let Some(auth) = outer_auth
    {
        headers.insert(header::AUTHORIZATION, auth.clone());
    }
    let mut body = body;
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        && length <= body.len()
    {
        body = &body[..length];
    }
    let (path, query) = split_target(target).ok_or_else(|| bad("bad request target"))?;
    Ok(ApiRequest {
        method,
        path,
        query,
        headers,
        body: Bytes::copy_from_slice(body),
        in_batch: true,
    })
}

/// The path and query of a request target: absolute (`https://host/path?q`) or a path.
fn split_target(target: &str) -> Option<(String, Option<String>)> {
    if target.starts_with("http://") || target.starts_with("https://") {
        let url = url::Url::parse(target).ok()?;
        return Some((url.path().to_string(), url.query().map(str::to_string)));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (target, None),
    };
    let path = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    };
    Some((path, query))
}

/// The `Content-ID` of a response part: `<response-ID>` for a request part's `<ID>`.
fn response_content_id(request_id: &str) -> String {
    let id = request_id.trim();
    let id = id
        .strip_prefix('<')
        .and_then(|i| i.strip_suffix('>'))
        .unwrap_or(id);
    format!("<response-{id}>")
}

/// Writes one response part.
fn write_part(out: &mut Vec<u8>, boundary: &str, content_id: Option<&str>, response: &ApiResponse) {
    let mut head = format!("--{boundary}\r\nContent-Type: application/http\r\n");
    if let Some(id) = content_id {
        head.push_str(&format!("Content-ID: {}\r\n", response_content_id(id)));
    }
    head.push_str("\r\n");
    let status = response.status;
    head.push_str(&format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    ));
    for (name, value) in &response.headers {
        head.push_str(&format!(
            "{}: {}\r\n",
            name.as_str(),
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", response.body.len()));
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(&response.body);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary_of("multipart/mixed; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary_of("Multipart/Mixed; charset=x; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert!(boundary_of("multipart/mixed").is_none());
        assert!(boundary_of("application/json; boundary=x").is_none());
    }

    #[test]
    fn splitting() {
        let body = b"preamble\r\n--b\r\nA\r\n--b\r\n\r\nB\n--b--\r\nepilogue";
        let parts = split_parts(body, "b").unwrap();
        assert_eq!(parts, vec![&b"A"[..], &b"\r\nB"[..]]);
        assert!(split_parts(b"--b\r\nA\r\n", "b").is_err());
        assert!(split_parts(b"nothing", "b").is_err());
        // A boundary inside a line is content.
        let parts = split_parts(b"--b\r\nx--b\r\n--b--", "b").unwrap();
        assert_eq!(parts, vec![&b"x--b"[..]]);
    }

    #[test]
    fn parts() {
        let part = b"Content-Type: application/http\r\nContent-ID: <item1>\r\n\r\n\
                     POST https://tasks.googleapis.com/tasks/v1/users/@me/lists?fields=id HTTP/1.1\r\n\
                     Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}garbage";
        let (id, request) = parse_part(part, Some(&HeaderValue::from_static("Bearer t")));
        assert_eq!(id.as_deref(), Some("<item1>"));
        let request = request.unwrap();
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, "/tasks/v1/users/@me/lists");
        assert_eq!(request.query.as_deref(), Some("fields=id"));
        assert_eq!(&request.body[..], b"{}");
        assert_eq!(request.headers[header::AUTHORIZATION], "Bearer t");
        assert!(request.in_batch);

        let part = b"Content-ID: 2\n\nGET tasks/v1/lists/x/tasks\nAuthorization: Bearer own\n";
        let (_, request) = parse_part(part, Some(&HeaderValue::from_static("Bearer t")));
        let request = request.unwrap();
        assert_eq!(request.path, "/tasks/v1/lists/x/tasks");
        assert_eq!(request.headers[header::AUTHORIZATION], "Bearer own");
        assert!(request.body.is_empty());

        let (_, request) = parse_part(b"Content-Type: application/http\r\n\r\n", None);
        assert_eq!(request.unwrap_err().code, 400);
    }

    #[test]
    fn content_ids() {
        assert_eq!(response_content_id("<item1>"), "<response-item1>");
        assert_eq!(response_content_id("7"), "<response-7>");
    }

    #[test]
    fn response_parts() {
        let mut out = Vec::new();
        let response = ApiResponse::empty(StatusCode::NO_CONTENT);
        write_part(&mut out, "B", Some("<x>"), &response);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("--B\r\nContent-Type: application/http\r\nContent-ID: <response-x>\r\n\r\nHTTP/1.1 204 No Content\r\n"));
        assert!(text.ends_with("Content-Length: 0\r\n\r\n\r\n"));
    }
}
