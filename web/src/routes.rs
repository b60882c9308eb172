//! The two routes: the callback and the authorization start.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;

use crate::html::page;
use crate::oauth::OAuth2;
use crate::redirect::safe_return_path;

/// `GET <callback path>?code=…&state=…`.
pub(crate) async fn callback(State(oauth): State<OAuth2>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    oauth.finish(&parts).await
}

/// `GET <authorize path>?return_to=/page&scope=a%20b`: starts an
/// authorization for the signed-in user (the default scopes plus `scope`,
/// each of which must be known) that returns to `return_to`.
pub(crate) async fn authorize(State(oauth): State<OAuth2>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let bad = |m: &str| page(StatusCode::BAD_REQUEST, "Cannot authorize", m, None);
    let mut return_to = None;
    let mut extra = Vec::new();
    for (k, v) in url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes()) {
        match &*k {
            "return_to" => {
                if return_to.is_some() {
                    return bad("`return_to` is given more than once.");
                }
                match safe_return_path(&v) {
                    Some(p) => return_to = Some(p),
                    None => return bad("`return_to` must be a path on this site."),
                }
            }
            "scope" => {
                for s in v.split_whitespace() {
                    if !oauth.is_allowed(s) {
                        return bad("A requested scope is not one this site uses.");
                    }
                    extra.push(s.to_owned());
                }
            }
            _ => {}
        }
    }
    let return_to = return_to.unwrap_or_else(|| "/".to_owned());
    let identity = oauth.inner.identity.clone();
    let Some(user) = identity.identify(&parts).await else {
        return identity.sign_in_response(&parts, &return_to);
    };
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let scopes = oauth.required_scopes(&extra);
    oauth.begin(&parts, &user, &return_to, &scopes).await
}
