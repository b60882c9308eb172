//! The token info endpoint (`/tokeninfo?access_token=...`), which tells what an access
//! token stands for.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::scopes;
use crate::errors::OAuthError;
use crate::exchange::json_response;
use crate::form::Params;
use crate::state::{AppState, lock};

/// `GET` or `POST /tokeninfo`.
pub(crate) async fn tokeninfo(
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
    let token = form
        .get_nonempty("access_token")
        .or_else(|| query.get_nonempty("access_token"));
    let invalid = || OAuthError::new(400, "invalid_token", "Invalid Value").into_response();
    let Some(token) = token else {
        return invalid();
    };
    let owner = match lock(&shared.oauth).authenticate(token, Instant::now()) {
        Ok(owner) => owner,
        Err(_) => return invalid(),
    };
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .saturating_add(owner.expires_in);
    let body = json!({
        "azp": owner.client_id,
        "aud": owner.client_id,
        "sub": owner.user,
        "scope": scopes::join(&owner.scopes),
        "exp": exp.to_string(),
        "expires_in": owner.expires_in.to_string(),
        "email": owner.user,
        "email_verified": "true",
        "access_type": if owner.offline { "offline" } else { "online" },
    });
    json_response(StatusCode::OK, &body, true, Vec::new())
}
