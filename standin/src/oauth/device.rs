//! The device flow (RFC 8628) endpoints: `POST /device/code` hands out a device code
//! and a user code; `/device` is the page where a person would type the user code.
//! Tests approve with the `approve_device` hook instead.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::client_auth::authenticate_client;
use super::pages::device_page as render_page;
use super::{DEVICE_PAGE_PATH, scopes};
use crate::errors::OAuthError;
use crate::exchange::{json_response, no_store_headers};
use crate::form::Params;
use crate::state::{AppState, lock};

/// `POST /device/code`: `client_id` and `scope` in, `device_code`, `user_code`,
/// `verification_url` (Google's spelling), `expires_in` and `interval` out.
pub(crate) async fn device_code(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = Params::from_body(content_type, &body);
    if let Some(name) = params.first_repeated() {
        return OAuthError::invalid_request(format!(
            "Parameter not allowed more than once: {name}"
        ))
        .into_response();
    }
    let client_id = match authenticate_client(&shared.config, &headers, &params, false) {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let requested = match scopes::parse_requested(params.get("scope")) {
        Ok(s) => s,
        Err(description) => return OAuthError::invalid_scope(description).into_response(),
    };
    let device = lock(&shared.oauth).create_device(
        &client_id,
        requested,
        shared.config.device_poll_interval,
        shared.config.device_code_lifetime,
        Instant::now(),
    );
    shared.count(|s| s.device_codes += 1);
    let body = json!({
        "device_code": device.device_code,
        "user_code": device.user_code,
        "expires_in": device.expires_in,
        "interval": device.interval,
        "verification_url": shared.url(DEVICE_PAGE_PATH),
    });
    json_response(StatusCode::OK, &body, true, no_store_headers())
}

/// `GET /device`: the code entry page.
pub(crate) async fn device_page() -> Response {
    render_page(None)
}

/// `POST /device`: the code entry form (`user_code`, `action=approve|deny`); approval
/// signs in the stand-in's default user.
pub(crate) async fn device_form(State(shared): State<AppState>, body: Bytes) -> Response {
    let params = Params::parse_bytes(&body);
    let code = params.get("user_code").unwrap_or("").trim();
    let approve = params.get("action") != Some("deny");
    let user = approve.then_some(shared.config.user.as_str());
    let done = lock(&shared.oauth).decide_device(code, user, Instant::now());
    let message = match (done, approve) {
        (true, true) => "Device connected. You can close this page.",
        (true, false) => "Access denied to the device.",
        (false, _) => "That code is not valid or has expired.",
    };
    let mut response = render_page(Some(message));
    if !done {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    response
}
