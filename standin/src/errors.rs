//! Errors in the two shapes Google uses: the API error envelope
//! (`{"error": {"code", "message", "errors": [...], "status"}}`) and the OAuth 2.0
//! error object (`{"error", "error_description"}`).

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

/// The canonical status name Google puts beside an HTTP status code.
pub(crate) fn status_name(code: u16) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        412 => "FAILED_PRECONDITION",
        413 => "OUT_OF_RANGE",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    }
}

/// The `reason` Google most often gives with an HTTP status code.
pub(crate) fn default_reason(code: u16) -> &'static str {
    match code {
        400 => "badRequest",
        401 => "authError",
        403 => "forbidden",
        404 => "notFound",
        409 => "conflict",
        412 => "conditionNotMet",
        429 => "rateLimitExceeded",
        500 => "backendError",
        503 => "backendError",
        _ => "unknown",
    }
}

/// The short message Google most often gives with an HTTP status code.
pub(crate) fn default_message(code: u16) -> String {
    StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
        .to_string()
}

/// An API error, rendered in Google's JSON error format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub code: u16,
    pub message: String,
    pub reason: String,
    pub domain: String,
    /// The rarer parts, boxed to keep `Result<_, ApiError>` small.
    details: Box<Details>,
}

/// The parts of an [`ApiError`] most errors leave at their defaults.
#[derive(Debug, Clone, PartialEq)]
struct Details {
    /// The message of the error item (the top-level message unless set).
    item_message: String,
    /// `location` and `locationType` of the error item, when known.
    location: Option<(String, String)>,
    /// Extra response headers.
    headers: Vec<(HeaderName, String)>,
}

impl ApiError {
    /// An error with this status, reason and message (used for both the top-level and
    /// the item message).
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError {
            code,
            details: Box::new(Details {
                item_message: message.clone(),
                location: None,
                headers: Vec::new(),
            }),
            message,
            reason: reason.to_string(),
            domain: "global".to_string(),
        }
    }

    /// 404: the entity does not exist.
    pub fn not_found() -> Self {
        ApiError::new(404, "notFound", "Requested entity was not found.")
    }

    /// 400 with reason `invalid`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(400, "invalid", message)
    }

    /// 400 for a query parameter with a bad value.
    pub fn invalid_parameter(name: &str, message: impl Into<String>) -> Self {
        ApiError::new(400, "invalidParameter", message).at(name, "parameter")
    }

    /// 400 for a request body that is not what the method takes.
    pub fn parse_error(message: impl Into<String>) -> Self {
        ApiError::new(400, "parseError", message)
    }

    /// 401 for a request without usable credentials.
    pub fn unauthenticated(realm: &str, missing: bool) -> Self {
        let (message, item, www) = if missing {
            (
                "Request is missing required authentication credential. Expected OAuth 2 access \
                 token, login cookie or other valid authentication credential.",
                "Login Required.",
                format!("Bearer realm=\"{realm}\""),
            )
        } else {
            (
                "Request had invalid authentication credentials. Expected OAuth 2 access token, \
                 login cookie or other valid authentication credential.",
                "Invalid Credentials",
                format!("Bearer realm=\"{realm}\", error=\"invalid_token\""),
            )
        };
        let mut e = ApiError::new(401, "authError", message)
            .item_message(item)
            .at("Authorization", "header");
        e.details.headers.push((header::WWW_AUTHENTICATE, www));
        e
    }

    /// 403 for a token whose scopes do not cover the method.
    pub fn insufficient_scope(realm: &str, needed: &[&str]) -> Self {
        let mut e = ApiError::new(
            403,
            "insufficientPermissions",
            "Request had insufficient authentication scopes.",
        )
        .item_message("Insufficient Permission");
        e.details.headers.push((
            header::WWW_AUTHENTICATE,
            format!(
                "Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{}\"",
                needed.join(" ")
            ),
        ));
        e
    }

    /// Sets the message of the error item, leaving the top-level message.
    pub fn item_message(mut self, message: impl Into<String>) -> Self {
        self.details.item_message = message.into();
        self
    }

    /// Sets the `location` and `locationType` of the error item.
    pub fn at(mut self, location: &str, location_type: &str) -> Self {
        self.details.location = Some((location.to_string(), location_type.to_string()));
        self
    }

    /// Sets the domain of the error item.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = domain.into();
        self
    }

    /// Adds a response header (for example `Retry-After`).
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.details.headers.push((name, value.into()));
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut item = json!({
            "message": self.details.item_message,
            "domain": self.domain,
            "reason": self.reason,
        });
        if let Some((location, kind)) = &self.details.location {
            item["location"] = json!(location);
            item["locationType"] = json!(kind);
        }
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [item],
                "status": status_name(self.code),
            }
        })
    }

    /// The response headers, valid ones only.
    pub fn header_values(&self) -> Vec<(HeaderName, HeaderValue)> {
        self.details
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.clone(), HeaderValue::from_str(v).ok()?)))
            .collect()
    }
}

/// An OAuth 2.0 error, rendered as `{"error", "error_description"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthError {
    pub status: u16,
    pub error: String,
    pub description: String,
}

impl OAuthError {
    /// An error with this status, code and description.
    pub fn new(status: u16, error: &str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error: error.to_string(),
            description: description.into(),
        }
    }

    /// 400 `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new(400, "invalid_request", description)
    }

    /// 400 `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        OAuthError::new(400, "invalid_grant", description)
    }

    /// 400 `invalid_grant` for a refresh token that is unknown, revoked or expired,
    /// with Google's wording.
    pub fn expired_or_revoked() -> Self {
        OAuthError::invalid_grant("Token has been expired or revoked.")
    }

    /// 401 `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        OAuthError::new(401, "invalid_client", description)
    }

    /// 400 `invalid_scope`.
    pub fn invalid_scope(description: impl Into<String>) -> Self {
        OAuthError::new(400, "invalid_scope", description)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": self.error, "error_description": self.description})
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST)
    }
}

impl axum::response::IntoResponse for OAuthError {
    fn into_response(self) -> axum::response::Response {
        crate::exchange::json_response(self.status(), &self.body(), true, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_shape() {
        let body = ApiError::not_found().body();
        assert_eq!(
            body,
            json!({"error": {
                "code": 404,
                "message": "Requested entity was not found.",
                "errors": [{"message": "Requested entity was not found.", "domain": "global", "reason": "notFound"}],
                "status": "NOT_FOUND"
            }})
        );
    }

    #[test]
    fn unauthenticated_has_header_and_location() {
        let e = ApiError::unauthenticated("http://x/", false);
        assert_eq!(e.code, 401);
        let body = e.body();
        assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
        assert_eq!(body["error"]["errors"][0]["reason"], "authError");
        assert_eq!(body["error"]["errors"][0]["location"], "Authorization");
        assert_eq!(body["error"]["errors"][0]["locationType"], "header");
        let headers = e.header_values();
        assert_eq!(headers[0].0, header::WWW_AUTHENTICATE);
        assert!(
            headers[0]
                .1
                .to_str()
                .unwrap()
                .starts_with("Bearer realm=\"http://x/\"")
        );
    }

    #[test]
    fn oauth_error_shape() {
        let e = OAuthError::expired_or_revoked();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            e.body(),
            json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        );
    }

    #[test]
    fn status_names() {
        assert_eq!(status_name(429), "RESOURCE_EXHAUSTED");
        assert_eq!(status_name(503), "UNAVAILABLE");
        assert_eq!(status_name(418), "UNKNOWN");
        assert_eq!(default_message(503), "Service Unavailable");
    }
}
