//! The token endpoint (`POST /token`): the `authorization_code`, `refresh_token` and
//! device-code grants.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::client_auth::authenticate_client;
use super::store::TokenResponse;
use crate::errors::OAuthError;
use crate::exchange::{json_response, no_store_headers};
use crate::form::Params;
use crate::state::{AppState, Shared, lock};

/// The device-code grant type of RFC 8628.
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The device-code grant type Google used before RFC 8628, still accepted there.
const LEGACY_DEVICE_GRANT: &str = "http://oauth.net/grant_type/device/1.0";

/// `POST /token`.
pub(crate) async fn token(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = Params::from_body(content_type, &body);
    let grant_type = params
        .get_nonempty("grant_type")
        .unwrap_or("(none)")
        .to_string();
    shared.count(|s| *s.token_requests.entry(grant_type.clone()).or_default() += 1);
    match handle(&shared, &headers, &params, Instant::now()) {
        Ok(tokens) => {
            shared.count(|s| {
                s.tokens_issued += 1;
                if grant_type == "refresh_token" {
                    s.refreshes += 1;
                }
            });
            json_response(StatusCode::OK, &tokens.body(), true, no_store_headers())
        }
        Err(error) => {
            let mut response = error.into_response();
            response.headers_mut().extend(no_store_headers());
            response
        }
    }
}

/// Runs one token request.
fn handle(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
    now: Instant,
) -> Result<TokenResponse, OAuthError> {
    if let Some(name) = params.first_repeated() {
        return Err(OAuthError::invalid_request(format!(
            "Parameter not allowed more than once: {name}"
        )));
    }
    let Some(grant_type) = params.get_nonempty("grant_type") else {
        return Err(OAuthError::invalid_request(
            "Missing required parameter: grant_type",
        ));
    };
    let config = &shared.config;
    let client_id = authenticate_client(config, headers, params, true)?;
    let lifetime = config.access_token_lifetime;
    let required = |name: &str| {
        params.get_nonempty(name).ok_or_else(|| {
            OAuthError::invalid_request(format!("Missing required parameter: {name}"))
        })
    };
    match grant_type {
        "authorization_code" => {
            let code = required("code")?;
            lock(&shared.oauth).exchange_code(
                &client_id,
                code,
                params.get_nonempty("redirect_uri"),
                params.get_nonempty("code_verifier"),
                lifetime,
                now,
            )
        }
        "refresh_token" => {
            let refresh_token = required("refresh_token")?;
            lock(&shared.oauth).refresh(
                &client_id,
                refresh_token,
                params.get("scope"),
                config.rotate_refresh_tokens,
                lifetime,
                now,
            )
        }
        DEVICE_GRANT | LEGACY_DEVICE_GRANT => {
            let device_code = required("device_code")
                .or_else(|_| required("code"))
                .map_err(|_| {
                    OAuthError::invalid_request("Missing required parameter: device_code")
                })?;
            lock(&shared.oauth).poll_device(&client_id, device_code, lifetime, now)
        }
        other => Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            format!("Invalid grant_type: {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::oauth::scopes;
    use std::time::Duration;

    const CLIENT: &str = "client_id=standin-client&client_secret=standin-secret";

    fn shared() -> Shared {
        Shared::new(Config::default(), "http://127.0.0.1:9/".into())
    }

    fn run(s: &Shared, body: &str) -> Result<TokenResponse, OAuthError> {
        handle(s, &HeaderMap::new(), &Params::parse(body), Instant::now())
    }

    #[test]
    fn request_checks() {
        let s = shared();
        assert_eq!(run(&s, CLIENT).unwrap_err().error, "invalid_request");
        let e = run(&s, &format!("{CLIENT}&grant_type=password")).unwrap_err();
        assert_eq!(e.error, "unsupported_grant_type");
        let e = run(&s, "grant_type=refresh_token&refresh_token=x").unwrap_err();
        assert_eq!(e.error, "invalid_request");
        let e = run(&s, &format!("{CLIENT}&grant_type=refresh_token")).unwrap_err();
        assert_eq!(e.error, "invalid_request");
        let e = run(
            &s,
            &format!("{CLIENT}&grant_type=refresh_token&refresh_token=x"),
        )
        .unwrap_err();
        assert_eq!(e, OAuthError::expired_or_revoked());
        let e = run(
            &s,
            &format!("{CLIENT}&grant_type=refresh_token&grant_type=x"),
        )
        .unwrap_err();
        assert_eq!(e.error, "invalid_request");
    }

    #[test]
    fn refresh_grant() {
        let s = shared();
        let issued = lock(&s.oauth).issue_direct(
            "standin-client",
            "u",
            &scopes::parse("openid"),
            true,
            Duration::from_secs(60),
            Instant::now(),
        );
        let body = format!(
            "{CLIENT}&grant_type=refresh_token&refresh_token={}",
            issued.refresh_token.unwrap()
        );
        let t = run(&s, &body).unwrap();
        assert_eq!(t.expires_in, 3600);
        assert_eq!(t.scope, "openid");
        assert!(t.refresh_token.is_none());
    }

    #[test]
    fn device_grant_by_either_name() {
        let s = shared();
        let e = run(&s, &format!("{CLIENT}&grant_type={DEVICE_GRANT}")).unwrap_err();
        assert_eq!(e.error, "invalid_request");
        let e = run(
            &s,
            &format!("{CLIENT}&grant_type={LEGACY_DEVICE_GRANT}&code=x"),
        )
        .unwrap_err();
        assert_eq!(e.error, "invalid_grant");
    }
}
