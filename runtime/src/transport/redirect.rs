//! Which redirects are followed, and what the next request keeps.
//!
//! At most [`MAX_REDIRECTS`] hops; a loop (a URL seen before) and a
//! downgrade from `https` to `http` stop at once. 301, 302 and 303 turn a
//! request other than `GET`/`HEAD` into a bodiless `GET`; 307 and 308 keep
//! method and body, and are not followed when the body was a stream that
//! cannot be sent again (nor is a 308 without `Location`: that is Google's
//! "resume incomplete"). Credentials never follow a redirect to another
//! origin: `Authorization`, `Cookie` and `Proxy-Authorization` are dropped
//! when the scheme, host or port changes; an API key travels only in the
//! original URL's query, and no `Referer` is ever sent.

use http::{HeaderMap, Method, StatusCode, Uri, header};

use super::error::{HttpError, Kind};

/// Redirects followed before giving up: 10 hops, 11 requests at most.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// What to send next.
pub(crate) struct Hop {
    pub uri: Uri,
    /// The body is dropped and the method becomes `GET`.
    pub to_get: bool,
}

/// The next hop for a response of `status` with `location` to a request
/// for `visited.last()`, or `None` when the response is the answer.
pub(crate) fn next(
    status: StatusCode,
    location: Option<&http::HeaderValue>,
    method: &Method,
    body_replayable: bool,
    visited: &[Uri],
) -> Result<Option<Hop>, HttpError> {
    let to_get = match status {
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER => {
            *method != Method::GET && *method != Method::HEAD
        }
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => {
            if !body_replayable {
                return Ok(None);
            }
            false
        }
        _ => return Ok(None),
    };
    let (Some(location), Some(current)) = (location, visited.last()) else {
        return Ok(None);
    };
    let Some(uri) = resolve(current, location) else {
        return Ok(None);
    };
    if visited.contains(&uri) {
        return Err(refused(format!(
            "a redirect loop (back to an URL already visited, after {} hops)",
            visited.len()
        )));
    }
    if current.scheme() == Some(&http::uri::Scheme::HTTPS)
        && uri.scheme() != Some(&http::uri::Scheme::HTTPS)
    {
        return Err(refused("a redirect from https to plain http".into()));
    }
    if visited.len() > MAX_REDIRECTS {
        return Err(refused(format!("more than {MAX_REDIRECTS} redirects")));
    }
    Ok(Some(Hop { uri, to_get }))
}

fn refused(why: String) -> HttpError {
    HttpError::because(Kind::Redirect, why)
}

/// `location` resolved against `base`; `None` when it is no http(s) URL.
fn resolve(base: &Uri, location: &http::HeaderValue) -> Option<Uri> {
    let location = std::str::from_utf8(location.as_bytes()).ok()?;
    let next = crate::href::join(&base.to_string(), location).ok()?;
    if !crate::href::is_web(&next) {
        return None;
    }
    next.parse().ok()
}

/// Adjusts the headers for the hop from `from` to `hop`.
pub(crate) fn adjust(headers: &mut HeaderMap, from: &Uri, hop: &Hop) {
    if hop.to_get {
        for h in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::TRANSFER_ENCODING,
        ] {
            headers.remove(h);
        }
    }
    let same_origin = from.scheme() == hop.uri.scheme()
        && from.host() == hop.uri.host()
        && port_of(from) == port_of(&hop.uri);
    if !same_origin {
        for h in [
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
            header::WWW_AUTHENTICATE,
        ] {
            headers.remove(h);
        }
    }
}

fn port_of(u: &Uri) -> Option<u16> {
    u.port_u16().or(match u.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hv(s: &str) -> http::HeaderValue {
        http::HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn hops_resolve_keep_or_change_the_method_and_stop_where_they_must() {
        let first: Uri = "https://a.example/v1/x?key=k".parse().unwrap();
        // The hop after the first request.
        let after_first = |status, location: Option<&str>, method: &Method, replayable| {
            next(
                status,
                location.map(hv).as_ref(),
                method,
                replayable,
                std::slice::from_ref(&first),
            )
        };
        let hop = after_first(StatusCode::FOUND, Some("/v2/y"), &Method::POST, true)
            .unwrap()
            .unwrap();
        assert_eq!(hop.uri, "https://a.example/v2/y");
        assert!(hop.to_get);
        let hop = after_first(
            StatusCode::TEMPORARY_REDIRECT,
            Some("z"),
            &Method::PUT,
            true,
        )
        .unwrap()
        .unwrap();
        assert_eq!(hop.uri, "https://a.example/v1/z");
        assert!(!hop.to_get);
        // A stream cannot be sent again; 308 without Location is an answer.
        let answer = |status, location, method: &Method, replayable| {
            after_first(status, location, method, replayable)
                .unwrap()
                .is_none()
        };
        assert!(answer(
            StatusCode::PERMANENT_REDIRECT,
            Some("/z"),
            &Method::PUT,
            false
        ));
        assert!(answer(
            StatusCode::PERMANENT_REDIRECT,
            None,
            &Method::PUT,
            true
        ));
        assert!(answer(StatusCode::OK, Some("/z"), &Method::GET, true));
        // Not an http(s) URL: the response is the answer.
        assert!(answer(
            StatusCode::FOUND,
            Some("ftp://x/"),
            &Method::GET,
            true
        ));
        let e = after_first(
            StatusCode::FOUND,
            Some("http://a.example/"),
            &Method::GET,
            true,
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("https to plain http"), "{e}");
        let e = after_first(StatusCode::FOUND, Some("/v1/x?key=k"), &Method::GET, true)
            .err()
            .unwrap();
        assert!(e.to_string().contains("loop"), "{e}");
        let chain: Vec<Uri> = (0..=MAX_REDIRECTS)
            .map(|i| format!("https://a.example/{i}").parse().unwrap())
            .collect();
        let e = next(
            StatusCode::FOUND,
            Some(&hv("/next")),
            &Method::GET,
            true,
            &chain,
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), Kind::Redirect);
        assert!(e.to_string().contains("more than 10"), "{e}");
    }

    #[test]
    fn credentials_stay_with_their_origin() {
        let from: Uri = "https://a.example/x".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, hv("Bearer t"));
        h.insert(header::COOKIE, hv("c=1"));
        h.insert(header::CONTENT_TYPE, hv("application/json"));
        let same = Hop {
            uri: "https://a.example:443/y".parse().unwrap(),
            to_get: false,
        };
        adjust(&mut h, &from, &same);
        assert!(h.contains_key(header::AUTHORIZATION) && h.contains_key(header::CONTENT_TYPE));
        let other = Hop {
            uri: "https://b.example/y".parse().unwrap(),
            to_get: true,
        };
        adjust(&mut h, &from, &other);
        assert!(h.is_empty(), "{h:?}");
    }
}
