//! The authorization endpoint (`GET /o/oauth2/v2/auth`). Nobody is asked anything: the
//! test user (or the `login_hint` user) approves at once and the browser is redirected
//! back with a code. Problems with the client or the redirect URI get an error page,
//! since redirecting to an unchecked URI would be unsafe; other problems are redirected
//! back as `error=...`.

use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use url::Url;

use super::pages::error_page;
use super::pkce::Pkce;
use super::scopes;
use super::store::NewCode;
use crate::form::Params;
use crate::state::{AppState, Shared, lock};

/// `GET /o/oauth2/v2/auth` and `GET /o/oauth2/auth`.
pub(crate) async fn authorize(
    State(shared): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::parse(query.as_deref().unwrap_or(""));
    handle(&shared, &params, Instant::now())
}

/// A 302 to `base` with these query pairs added (the `None` ones left out).
fn redirect(mut base: Url, pairs: &[(&str, Option<&str>)]) -> Response {
    {
        let mut query = base.query_pairs_mut();
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    match HeaderValue::from_str(base.as_str()) {
        Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
        Err(_) => error_page(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The redirect URI cannot be used.",
        ),
    }
}

/// The whole decision, from parameters to response.
fn handle(shared: &Shared, params: &Params, now: Instant) -> Response {
    let bad = StatusCode::BAD_REQUEST;
    if let Some(name) = params.first_repeated() {
        return error_page(
            bad,
            "invalid_request",
            &format!("Parameter not allowed more than once: {name}"),
        );
    }
    let Some(client_id) = params.get_nonempty("client_id") else {
        return error_page(
            bad,
            "invalid_request",
            "Missing required parameter: client_id",
        );
    };
    let Some(client) = shared.config.client(client_id) else {
        return error_page(bad, "invalid_client", "The OAuth client was not found.");
    };
    let Some(redirect_uri) = params.get_nonempty("redirect_uri") else {
        return error_page(
            bad,
            "invalid_request",
            "Missing required parameter: redirect_uri",
        );
    };
    let redirect_url = match Url::parse(redirect_uri) {
        Ok(url) if client.accepts_redirect(redirect_uri) => url,
        _ => {
            return error_page(
                bad,
                "redirect_uri_mismatch",
                &format!(
                    "The redirect URI in the request, {redirect_uri}, does not match the ones \
                     authorized for the OAuth client."
                ),
            );
        }
    };
    let state = params.get("state");
    let fail = |error: &str, description: Option<&str>| {
        shared.count(|s| s.authorization_errors += 1);
        redirect(
            redirect_url.clone(),
            &[
                ("error", Some(error)),
                ("error_description", description),
                ("state", state),
            ],
        )
    };

    match params.get_nonempty("response_type") {
        None => {
            return fail(
                "invalid_request",
                Some("Missing required parameter: response_type"),
            );
        }
        Some("code") => {}
        Some(other) => {
            return fail(
                "unsupported_response_type",
                Some(&format!("Unsupported response_type: {other}")),
            );
        }
    }
    let requested = match scopes::parse_requested(params.get("scope")) {
        Ok(s) => s,
        Err(description) if params.get_nonempty("scope").is_none() => {
            return fail("invalid_request", Some(&description));
        }
        Err(description) => return fail("invalid_scope", Some(&description)),
    };
    let pkce = match Pkce::from_request(
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        Ok(p) => p,
        Err(description) => return fail("invalid_request", Some(&description)),
    };
    let offline = match params.get_nonempty("access_type") {
        None | Some("online") => false,
        Some("offline") => true,
        Some(other) => {
            return fail(
                "invalid_request",
                Some(&format!("Invalid access_type: {other}")),
            );
        }
    };
    let prompts: Vec<&str> = params
        .get("prompt")
        .unwrap_or("")
        .split_whitespace()
        .collect();
    if prompts
        .iter()
        .any(|p| !matches!(*p, "none" | "consent" | "select_account"))
        || (prompts.contains(&"none") && prompts.len() > 1)
    {
        return fail("invalid_request", Some("Invalid prompt"));
    }
    let include_granted = match params.get_nonempty("include_granted_scopes") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return fail(
                "invalid_request",
                Some("Invalid include_granted_scopes: must be true or false"),
            );
        }
    };
    let user = params
        .get_nonempty("login_hint")
        .filter(|hint| hint.contains('@'))
        .unwrap_or(&shared.config.user)
        .to_string();

    let mut oauth = lock(&shared.oauth);
    if oauth.take_denial() {
        drop(oauth);
        return fail("access_denied", None);
    }
    let granted = oauth.granted_scopes(&user, client_id);
    if prompts.contains(&"none") && !requested.is_subset(&granted) {
        drop(oauth);
        return fail(
            "consent_required",
            Some("The user has not granted these scopes."),
        );
    }
    let mut token_scopes = requested;
    if include_granted {
        token_scopes.extend(granted);
    }
    let scope = scopes::join(&token_scopes);
    let code = oauth.create_code(
        NewCode {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            user,
            scopes: token_scopes,
            pkce,
            offline,
            lifetime: shared.config.auth_code_lifetime,
        },
        now,
    );
    drop(oauth);
    shared.count(|s| s.authorizations += 1);
    redirect(
        redirect_url,
        &[
            ("state", state),
            ("code", Some(&code)),
            ("scope", Some(&scope)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn shared() -> Shared {
        Shared::new(Config::default(), "http://127.0.0.1:9/".into())
    }

    const OK: &str = "client_id=standin-client&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcb\
                      &response_type=code&scope=openid&state=xyz";

    fn location(r: &Response) -> Url {
        Url::parse(r.headers()[header::LOCATION].to_str().unwrap()).unwrap()
    }

    fn query(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    #[test]
    fn success_redirects_with_code_and_state() {
        let s = shared();
        let r = handle(&s, &Params::parse(OK), Instant::now());
        assert_eq!(r.status(), StatusCode::FOUND);
        let url = location(&r);
        assert_eq!(url.path(), "/cb");
        assert_eq!(query(&url, "state").as_deref(), Some("xyz"));
        assert!(query(&url, "code").unwrap().len() > 30);
        assert_eq!(query(&url, "scope").as_deref(), Some("openid"));
        assert_eq!(lock(&s.stats).authorizations, 1);
    }

    #[test]
    fn bad_client_or_redirect_gets_a_page() {
        let s = shared();
        for q in [
            OK.replace("standin-client", "nobody"),
            OK.replace("127.0.0.1%3A5", "evil.example"),
            OK.replace("client_id=standin-client&", ""),
            format!("{OK}&state=again"),
        ] {
            let r = handle(&s, &Params::parse(&q), Instant::now());
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
            assert!(r.headers().get(header::LOCATION).is_none());
        }
    }

    #[test]
    fn other_problems_are_redirected() {
        let s = shared();
        for (q, error) in [
            (
                OK.replace("response_type=code", "response_type=token"),
                "unsupported_response_type",
            ),
            (OK.replace("scope=openid", "scope=bogus"), "invalid_scope"),
            (OK.replace("scope=openid", "scope="), "invalid_request"),
            (
                format!("{OK}&code_challenge_method=S256"),
                "invalid_request",
            ),
            (format!("{OK}&access_type=sometimes"), "invalid_request"),
            (format!("{OK}&prompt=none%20consent"), "invalid_request"),
            (format!("{OK}&prompt=none"), "consent_required"),
        ] {
            let r = handle(&s, &Params::parse(&q), Instant::now());
            assert_eq!(r.status(), StatusCode::FOUND, "{q}");
            let url = location(&r);
            assert_eq!(query(&url, "error").as_deref(), Some(error), "{q}");
            assert_eq!(query(&url, "state").as_deref(), Some("xyz"));
        }
    }

    #[test]
    fn denial_is_one_off() {
        let s = shared();
        lock(&s.oauth).deny_next_authorization();
        let r = handle(&s, &Params::parse(OK), Instant::now());
        assert_eq!(
            query(&location(&r), "error").as_deref(),
            Some("access_denied")
        );
        let r = handle(&s, &Params::parse(OK), Instant::now());
        assert!(query(&location(&r), "code").is_some());
    }

    #[test]
    fn include_granted_scopes_unions() {
        let s = shared();
        handle(&s, &Params::parse(OK), Instant::now());
        let q = OK.replace("scope=openid", "scope=email&include_granted_scopes=true");
        let r = handle(&s, &Params::parse(&q), Instant::now());
        assert_eq!(
            query(&location(&r), "scope").as_deref(),
            Some("email openid")
        );
        let q = OK.replace("scope=openid", "scope=email");
        let r = handle(&s, &Params::parse(&q), Instant::now());
        assert_eq!(query(&location(&r), "scope").as_deref(), Some("email"));
        // Everything asked for has been granted now, so prompt=none works.
        let r = handle(
            &s,
            &Params::parse(&format!("{OK}&prompt=none")),
            Instant::now(),
        );
        assert!(query(&location(&r), "code").is_some());
    }
}
