//! The OAuth 2.0 server, shaped like Google's: the authorization endpoint, the token
//! endpoint (authorization code with PKCE, refresh token, device code), revocation,
//! the device flow's endpoints and token info.

mod authorize;
mod client_auth;
mod device;
mod pages;
pub(crate) mod pkce;
mod revoke;
pub(crate) mod scopes;
pub(crate) mod store;
mod token;
mod tokeninfo;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

/// The paths of the authorization endpoint (current and legacy).
pub(crate) const AUTH_PATHS: [&str; 2] = ["/o/oauth2/v2/auth", "/o/oauth2/auth"];
/// The path of the token endpoint.
pub(crate) const TOKEN_PATH: &str = "/token";
/// The path of the revocation endpoint.
pub(crate) const REVOKE_PATH: &str = "/revoke";
/// The path of the device authorization endpoint.
pub(crate) const DEVICE_CODE_PATH: &str = "/device/code";
/// The path of the page where a user enters a device's user code.
pub(crate) const DEVICE_PAGE_PATH: &str = "/device";
/// The path of the token info endpoint.
pub(crate) const TOKENINFO_PATH: &str = "/tokeninfo";

/// Whether a path belongs to the OAuth server (whose errors take the OAuth shape).
pub(crate) fn is_oauth_path(path: &str) -> bool {
    path.starts_with("/o/oauth2/")
        || path.starts_with("/oauth2/")
        || [TOKEN_PATH, REVOKE_PATH, DEVICE_CODE_PATH, TOKENINFO_PATH].contains(&path)
}

/// The OAuth server's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(AUTH_PATHS[0], get(authorize::authorize))
        .route(AUTH_PATHS[1], get(authorize::authorize))
        .route(TOKEN_PATH, post(token::token))
        .route("/o/oauth2/token", post(token::token))
        .route(REVOKE_PATH, post(revoke::revoke).get(revoke::revoke))
        .route("/o/oauth2/revoke", post(revoke::revoke).get(revoke::revoke))
        .route(DEVICE_CODE_PATH, post(device::device_code))
        .route("/o/oauth2/device/code", post(device::device_code))
        .route(
            DEVICE_PAGE_PATH,
            get(device::device_page).post(device::device_form),
        )
        .route(
            TOKENINFO_PATH,
            get(tokeninfo::tokeninfo).post(tokeninfo::tokeninfo),
        )
        .route(
            "/oauth2/v3/tokeninfo",
            get(tokeninfo::tokeninfo).post(tokeninfo::tokeninfo),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_paths() {
        assert!(is_oauth_path("/token"));
        assert!(is_oauth_path("/o/oauth2/v2/auth"));
        assert!(is_oauth_path("/device/code"));
        assert!(!is_oauth_path("/device"));
        assert!(!is_oauth_path("/batch"));
        assert!(!is_oauth_path("/tasks/v1/users/@me/lists"));
    }
}
