//! The revocation endpoint (`POST /revoke`, `token` in the form or the query).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::errors::OAuthError;
use crate::exchange::json_response;
use crate::form::Params;
use crate::state::{AppState, lock};

/// `POST /revoke` (and `GET`, as Google still allows). Revoking either token of a grant
/// revokes the whole grant; an unknown, revoked or expired token gets `invalid_token`.
pub(crate) async fn revoke(
    State(shared): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let form = Params::from_body(content_type, &body);
    let query = Params::parse(query.as_deref().unwrap_or(""));
    let Some(token) = form
        .get_nonempty("token")
        .or_else(|| query.get_nonempty("token"))
    else {
        return OAuthError::invalid_request("Missing required parameter: token").into_response();
    };
    if lock(&shared.oauth).revoke(token, Instant::now()) {
        shared.count(|s| s.revocations += 1);
        json_response(StatusCode::OK, &json!({}), true, Vec::new())
    } else {
        OAuthError::new(400, "invalid_token", "Token expired or revoked").into_response()
    }
}
