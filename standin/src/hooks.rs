//! Test hooks: what a test can make the stand-in do or tell, both in process (through
//! [`crate::StandInHandle`]) and over HTTP under `/__standin/` for tests in another
//! process.
//!
//! | HTTP | does |
//! |---|---|
//! | `GET /__standin/stats` | the counters ([`crate::Stats`]) as JSON |
//! | `POST /__standin/reset-stats` | zeroes the counters and clears the request log |
//! | `GET /__standin/requests` | the API request log ([`crate::RequestRecord`]s) |
//! | `POST /__standin/expire-all-tokens` | every access token issued so far expires |
//! | `POST /__standin/revoke-all` | every grant made so far is revoked |
//! | `POST /__standin/approve-device` | `user_code` (and optional `user`): approves a device |
//! | `POST /__standin/deny-device` | `user_code`: denies a device |
//! | `GET /__standin/device-codes` | user codes still pending |
//! | `POST /__standin/deny-next-authorization` | the next authorization gets `access_denied` |
//! | `POST /__standin/inject-error` | a JSON [`crate::InjectedError`] to queue |
//! | `POST /__standin/clear-errors` | drops queued errors |
//! | `POST /__standin/issue-token` | `scope` (space-separated), optional `user`: mints tokens without a flow |
//! | `GET /__standin/client-secret?kind=installed\|web` | a `client_secret.json` for the default client |
//!
//! Parameters may come as a form, a JSON object or the query string. Hooks that find
//! nothing to act on answer 404 with `{"ok": false}`.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::ClientKind;
use crate::exchange::json_response;
use crate::form::Params;
use crate::inject::InjectedError;
use crate::oauth::scopes;
use crate::state::{AppState, Shared, lock};
use crate::stats::Stats;

/// Tokens minted by [`crate::StandInHandle::issue_token`], without any OAuth flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    /// The access token, for `Authorization: Bearer`.
    pub access_token: String,
    /// The refresh token (issued to the default client).
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// Mints tokens for `user` with `scopes` through the default client.
pub(crate) fn issue_token(shared: &Shared, user: &str, scopes: &[&str]) -> IssuedToken {
    let client = shared
        .config
        .clients
        .first()
        .map(|c| c.client_id.clone())
        .unwrap_or_default();
    let scopes = scopes.iter().map(|s| s.to_string()).collect();
    let t = lock(&shared.oauth).issue_direct(
        &client,
        user,
        &scopes,
        true,
        shared.config.access_token_lifetime,
        Instant::now(),
    );
    IssuedToken {
        access_token: t.access_token,
        refresh_token: t.refresh_token,
        expires_in: t.expires_in,
        scope: t.scope,
    }
}

/// Approves (with `Some(user)`) or denies a pending device authorization.
pub(crate) fn decide_device(shared: &Shared, user_code: &str, approve_as: Option<&str>) -> bool {
    lock(&shared.oauth).decide_device(user_code, approve_as, Instant::now())
}

/// Zeroes the counters and clears the request log.
pub(crate) fn reset_stats(shared: &Shared) {
    *lock(&shared.stats) = Stats::default();
    lock(&shared.log).clear();
}

/// The hooks' routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/__standin/stats", get(stats))
        .route("/__standin/reset-stats", post(reset_stats_route))
        .route("/__standin/requests", get(requests))
        .route("/__standin/expire-all-tokens", post(expire_all_tokens))
        .route("/__standin/revoke-all", post(revoke_all))
        .route("/__standin/approve-device", post(approve_device))
        .route("/__standin/deny-device", post(deny_device))
        .route("/__standin/device-codes", get(device_codes))
        .route(
            "/__standin/deny-next-authorization",
            post(deny_next_authorization),
        )
        .route("/__standin/inject-error", post(inject_error))
        .route("/__standin/clear-errors", post(clear_errors))
        .route("/__standin/issue-token", post(issue_token_route))
        .route("/__standin/client-secret", get(client_secret))
}

/// Parameters from the body (form or JSON) followed by the query string.
fn hook_params(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Params {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let looks_json = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let mut params = if looks_json {
        Params::from_json(body).unwrap_or_default()
    } else {
        Params::from_body(content_type, body)
    };
    for (k, v) in Params::parse(query.unwrap_or("")).pairs() {
        params.push(k, v);
    }
    params
}

fn ok(done: bool) -> Response {
    let status = if done {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    json_response(status, &json!({"ok": done}), true, Vec::new())
}

async fn stats(State(shared): State<AppState>) -> Response {
    let stats = lock(&shared.stats).clone();
    json_response(StatusCode::OK, &json!(stats), true, Vec::new())
}

async fn reset_stats_route(State(shared): State<AppState>) -> Response {
    reset_stats(&shared);
    ok(true)
}

async fn requests(State(shared): State<AppState>) -> Response {
    let log = lock(&shared.log).snapshot();
    json_response(StatusCode::OK, &json!(log), true, Vec::new())
}

async fn expire_all_tokens(State(shared): State<AppState>) -> Response {
    lock(&shared.oauth).expire_all(Instant::now());
    ok(true)
}

async fn revoke_all(State(shared): State<AppState>) -> Response {
    lock(&shared.oauth).revoke_all();
    ok(true)
}

async fn approve_device(
    State(shared): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = hook_params(query.as_deref(), &headers, &body);
    let code = params.get("user_code").unwrap_or("");
    let user = params.get_nonempty("user").unwrap_or(&shared.config.user);
    ok(decide_device(&shared, code, Some(user)))
}

async fn deny_device(
    State(shared): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = hook_params(query.as_deref(), &headers, &body);
    ok(decide_device(
        &shared,
        params.get("user_code").unwrap_or(""),
        None,
    ))
}

async fn device_codes(State(shared): State<AppState>) -> Response {
    let codes = lock(&shared.oauth).pending_user_codes(Instant::now());
    json_response(
        StatusCode::OK,
        &json!({"user_codes": codes}),
        true,
        Vec::new(),
    )
}

async fn deny_next_authorization(State(shared): State<AppState>) -> Response {
    lock(&shared.oauth).deny_next_authorization();
    ok(true)
}

async fn inject_error(State(shared): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<InjectedError>(&body) {
        Ok(error) => {
            lock(&shared.injections).push(error);
            ok(true)
        }
        Err(e) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({"ok": false, "error": e.to_string()}),
            true,
            Vec::new(),
        ),
    }
}

async fn clear_errors(State(shared): State<AppState>) -> Response {
    lock(&shared.injections).clear();
    ok(true)
}

async fn issue_token_route(
    State(shared): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = hook_params(query.as_deref(), &headers, &body);
    let requested = scopes::parse(params.get("scope").unwrap_or(""));
    if requested.is_empty() {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"ok": false, "error": "scope is required"}),
            true,
            Vec::new(),
        );
    }
    let user = params.get_nonempty("user").unwrap_or(&shared.config.user);
    let list: Vec<&str> = requested.iter().map(String::as_str).collect();
    let token = issue_token(&shared, user, &list);
    json_response(StatusCode::OK, &json!(token), true, Vec::new())
}

async fn client_secret(State(shared): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or(""));
    let kind = match params.get("kind") {
        Some("web") => ClientKind::Web,
        _ => ClientKind::Installed,
    };
    match crate::client_secret::for_default_client(&shared, kind) {
        Some(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
            text,
        )
            .into_response(),
        None => ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_from_anywhere() {
        let h = HeaderMap::new();
        let p = hook_params(Some("user=q@x"), &h, br#"{"user_code": "AB"}"#);
        assert_eq!(p.get("user_code"), Some("AB"));
        assert_eq!(p.get("user"), Some("q@x"));
        let p = hook_params(None, &h, b"user_code=CD");
        assert_eq!(p.get("user_code"), Some("CD"));
    }
}
