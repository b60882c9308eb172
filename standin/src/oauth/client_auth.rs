//! Client authentication at the token endpoint: `client_id`/`client_secret` form
//! fields or HTTP Basic (RFC 6749 §2.3.1), never both.

use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::config::Config;
use crate::errors::OAuthError;
use crate::form::Params;

/// Credentials taken from an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().unwrap_or("");
    let Some((scheme, encoded)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || OAuthError::invalid_client("Invalid client credentials in Authorization header.");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((decode(id), decode(secret))))
}

/// Authenticates the client of a token request and gives its id. With
/// `require_secret`, a client registered with a secret must present it.
pub(crate) fn authenticate_client(
    config: &Config,
    headers: &HeaderMap,
    params: &Params,
    require_secret: bool,
) -> Result<String, OAuthError> {
    let (client_id, secret) = match basic_credentials(headers)? {
        Some((id, secret)) => {
            if params.get("client_secret").is_some() {
                return Err(OAuthError::invalid_request(
                    "The request uses more than one method for authenticating the client.",
                ));
            }
            if params.get("client_id").is_some_and(|form_id| form_id != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the Authorization header.",
                ));
            }
            (id, Some(secret))
        }
        None => {
            let Some(id) = params.get_nonempty("client_id") else {
                return Err(OAuthError::invalid_request(
                    "Could not determine client ID from request.",
                ));
            };
            (
                id.to_string(),
                params.get_nonempty("client_secret").map(str::to_string),
            )
        }
    };
    let Some(client) = config.client(&client_id) else {
        return Err(OAuthError::invalid_client(
            "The OAuth client was not found.",
        ));
    };
    if let Some(expected) = &client.client_secret
        && require_secret
    {
        match secret {
            None => return Err(OAuthError::invalid_request("client_secret is missing.")),
            Some(given) if &given != expected => {
                return Err(OAuthError::invalid_client("Unauthorized"));
            }
            Some(_) => {}
        }
    }
    Ok(client_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RegisteredClient;
    use axum::http::HeaderValue;

    fn config() -> Config {
        let mut c = Config::default();
        c.clients.push(RegisteredClient::public("pub"));
        c
    }

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = STANDARD.encode(format!("{id}:{secret}"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {v}")).unwrap(),
        );
        h
    }

    #[test]
    fn form_credentials() {
        let c = config();
        let h = HeaderMap::new();
        let ok = Params::parse("client_id=standin-client&client_secret=standin-secret");
        assert_eq!(
            authenticate_client(&c, &h, &ok, true).unwrap(),
            "standin-client"
        );
        let wrong = Params::parse("client_id=standin-client&client_secret=x");
        assert_eq!(
            authenticate_client(&c, &h, &wrong, true)
                .unwrap_err()
                .status,
            401
        );
        let missing = Params::parse("client_id=standin-client");
        assert_eq!(
            authenticate_client(&c, &h, &missing, true)
                .unwrap_err()
                .error,
            "invalid_request"
        );
        assert!(authenticate_client(&c, &h, &missing, false).is_ok());
        let unknown = Params::parse("client_id=nobody&client_secret=x");
        assert_eq!(
            authenticate_client(&c, &h, &unknown, true)
                .unwrap_err()
                .error,
            "invalid_client"
        );
        assert!(authenticate_client(&c, &h, &Params::default(), true).is_err());
        assert!(authenticate_client(&c, &h, &Params::parse("client_id=pub"), true).is_ok());
    }

    #[test]
    fn basic_credentials_work() {
        let c = config();
        let h = basic("standin-client", "standin-secret");
        assert!(authenticate_client(&c, &h, &Params::default(), true).is_ok());
        let same_id = Params::parse("client_id=standin-client");
        assert!(authenticate_client(&c, &h, &same_id, true).is_ok());
        let both = Params::parse("client_secret=standin-secret");
        assert_eq!(
            authenticate_client(&c, &h, &both, true).unwrap_err().error,
            "invalid_request"
        );
        let bad = basic("standin-client", "nope");
        assert_eq!(
            authenticate_client(&c, &bad, &Params::default(), true)
                .unwrap_err()
                .status,
            401
        );
        let mut garbage = HeaderMap::new();
        garbage.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(authenticate_client(&c, &garbage, &Params::default(), true).is_err());
    }
}
