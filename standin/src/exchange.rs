//! The transport-neutral request and response the API handlers work on, so that a
//! plain HTTP request and one part of a batch request go through the same code.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// One API request, from the wire or from a batch part.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    pub method: Method,
    /// The path as received (still percent-encoded), starting with `/`.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Whether this request is one part of a batch.
    pub in_batch: bool,
}

/// One API response, ready to be written to the wire or into a batch part.
#[derive(Debug, Clone)]
pub(crate) struct ApiResponse {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Vec<u8>,
}

/// The `Content-Type` of every JSON response.
pub(crate) const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

impl ApiResponse {
    /// A JSON response, indented unless `pretty` is false.
    pub fn json(status: StatusCode, body: &Value, pretty: bool) -> Self {
        let mut bytes = if pretty {
            serde_json::to_vec_pretty(body).unwrap_or_default()
        } else {
            serde_json::to_vec(body).unwrap_or_default()
        };
        if pretty {
            bytes.push(b'\n');
        }
        ApiResponse {
            status,
            headers: vec![
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(JSON_CONTENT_TYPE),
                ),
                (
                    header::VARY,
                    HeaderValue::from_static("Origin, X-Origin, Referer"),
                ),
            ],
            body: bytes,
        }
    }

    /// A response without a body (`204 No Content` for deletes).
    pub fn empty(status: StatusCode) -> Self {
        ApiResponse {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The Google-format response for an error.
    pub fn error(error: &crate::errors::ApiError) -> Self {
        let mut r = ApiResponse::json(error.status(), &error.body(), true);
        r.headers.extend(error.header_values());
        r
    }
}

impl IntoResponse for ApiResponse {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        let headers = response.headers_mut();
        // Only the content type set here, not the default one for bytes.
        headers.remove(header::CONTENT_TYPE);
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

/// A JSON response with extra headers, for the OAuth endpoints and the hooks.
pub(crate) fn json_response(
    status: StatusCode,
    body: &Value,
    pretty: bool,
    extra: Vec<(HeaderName, HeaderValue)>,
) -> Response {
    let mut r = ApiResponse::json(status, body, pretty);
    r.headers.extend(extra);
    r.into_response()
}

/// The headers Google puts on token responses so that nothing caches them.
pub(crate) fn no_store_headers() -> Vec<(HeaderName, HeaderValue)> {
    vec![
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
        ),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// Decodes `%XX` escapes in a path segment or path, keeping invalid UTF-8 as U+FFFD.
pub(crate) fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_compact_and_pretty() {
        let v = serde_json::json!({"a": 1});
        let compact = ApiResponse::json(StatusCode::OK, &v, false);
        assert_eq!(compact.body, b"{\"a\":1}");
        let pretty = ApiResponse::json(StatusCode::OK, &v, true);
        assert_eq!(pretty.body, b"{\n  \"a\": 1\n}\n");
        assert_eq!(pretty.headers[0].1, JSON_CONTENT_TYPE);
    }

    #[test]
    fn one_content_type() {
        let v = serde_json::json!({});
        let r = ApiResponse::json(StatusCode::OK, &v, false).into_response();
        let types: Vec<_> = r.headers().get_all(header::CONTENT_TYPE).iter().collect();
        assert_eq!(types, [JSON_CONTENT_TYPE]);
        let r = ApiResponse::empty(StatusCode::NO_CONTENT).into_response();
        assert!(r.headers().get(header::CONTENT_TYPE).is_none());
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("%40me"), "@me");
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
