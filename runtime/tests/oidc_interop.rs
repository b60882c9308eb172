//! Interop with a real OAuth 2.0 server nobody here wrote: panva's
//! oidc-provider (OpenID Certified), from npm, on 127.0.0.1. Its consent step
//! is scripted (peers/oidc-provider/server.mjs); everything the client does —
//! the web-server flow with PKCE, refresh, revocation and the device flow — is
//! gapi's own code against the real server.
//!
//! Needs `GAPI_OIDC_PROVIDER_DIR` (set by `.ci/peers.sh`, which runs `npm ci`
//! there); without it the test says it is skipped.

mod oidc_support;

use std::collections::BTreeMap;
use std::time::Duration;

use gapi::auth::{
    AuthorizeOptions, CallbackParams, ClientSecret, DeviceFlow, OAuthClient, UserTokenSource,
    WebServerFlow,
};
use oidc_support::REDIRECT;

const CLIENT_ID: &str = "gapi-test";
const CLIENT_SECRET: &str = "gapi-test-secret-0123456789";

fn start_peer() -> Option<oidc_support::Peer> {
    oidc_support::start_peer("server.mjs")
}

fn client(base: &str) -> OAuthClient {
    OAuthClient::new(CLIENT_ID, Some(ClientSecret::new(CLIENT_SECRET)))
        .with_auth_uri(format!("{base}/auth"))
        .with_token_uri(format!("{base}/token"))
        .with_revoke_uri(format!("{base}/token/revocation"))
        .with_device_uri(format!("{base}/device/auth"))
        .with_scopes(["openid", "offline_access", "tasks"])
}

/// A minimal browser: a cookie jar, manual redirects, and auto-submission of
/// the pages' hidden-input forms (oidc-provider's device confirmation pages).
struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    async fn request(
        &mut self,
        method: &str,
        url: &str,
        form: Option<Vec<(String, String)>>,
    ) -> (u16, Option<String>, String) {
        let mut rb = if method == "POST" {
            self.http.post(url)
        } else {
            self.http.get(url)
        };
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            rb = rb.header("cookie", c.join("; "));
        }
        if let Some(form) = form {
            let body: Vec<String> = form
                .iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect();
            rb = rb
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.join("&"));
        }
        let resp = rb.send().await.expect("browser request");
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            if let Some((kv, _)) = v.split_once(';').or(Some((v, "")))
                && let Some((k, val)) = kv.split_once('=')
            {
                self.cookies
                    .insert(k.trim().to_owned(), val.trim().to_owned());
            }
        }
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (status, location, resp.text().await.unwrap_or_default())
    }

    /// Visits `url`, following redirects and submitting forms, until a
    /// redirect to `stop_prefix` (returned) or a page without a form.
    async fn visit(&mut self, url: &str, stop_prefix: &str) -> Result<String, String> {
        let base = url.split('/').take(3).collect::<Vec<_>>().join("/");
        let (mut method, mut url, mut form) = ("GET".to_owned(), url.to_owned(), None);
        for _ in 0..20 {
            let (status, location, body) = self.request(&method, &url, form.take()).await;
            if let Some(loc) = location {
                let loc = if loc.starts_with('/') {
                    format!("{base}{loc}")
                } else {
                    loc
                };
                if loc.starts_with(stop_prefix) {
                    return Ok(loc);
                }
                (method, url) = ("GET".into(), loc);
                continue;
            }
            match parse_form(&body) {
                Some((action, fields)) if status == 200 => {
                    let action = if action.starts_with('/') {
                        format!("{base}{action}")
                    } else {
                        action
                    };
                    (method, url, form) = ("POST".into(), action, Some(fields));
                }
                _ => return Err(format!("HTTP {status}: {}", &body[..body.len().min(300)])),
            }
        }
        Err("too many steps".into())
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The first POST form of a page: its action and hidden inputs.
fn parse_form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let start = html.find("<form")?;
    let form = &html[start..html[start..].find("</form>").map(|e| start + e)?];
    let action = attr(form, "action")?;
    let mut fields = Vec::new();
    for input in form.split("<input").skip(1) {
        if let (Some(n), Some(v)) = (attr(input, "name"), attr(input, "value")) {
            fields.push((n, v));
        }
    }
    Some((action, fields))
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let pat = format!("{name}=\"");
    let s = tag.find(&pat)? + pat.len();
    let e = tag[s..].find('"')? + s;
    Some(tag[s..e].replace("&amp;", "&"))
}

#[tokio::test]
async fn web_server_flow_refresh_revocation_and_device_flow_against_oidc_provider() {
    let Some(peer) = start_peer() else { return };
    let base = peer.base.clone();

    // --- web server flow with PKCE S256 and state
    let flow = WebServerFlow::new(client(&base), REDIRECT);
    let pending = flow
        .authorize_url(&AuthorizeOptions::new().prompt("consent"))
        .unwrap();
    assert!(pending.url().contains("code_challenge_method=S256"));
    let mut browser = Browser::new();
    let callback = browser
        .visit(pending.url(), REDIRECT)
        .await
        .expect("consent");
    let params = CallbackParams::from_url(&callback).unwrap();
    let creds = flow
        .exchange(&pending, &params)
        .await
        .expect("code exchange");
    assert!(creds.access_token().is_some());
    assert!(
        creds.refresh_token().is_some(),
        "offline_access gives a refresh token"
    );

    // A forged state is refused before anything is exchanged.
    let other = flow
        .authorize_url(&AuthorizeOptions::new().prompt("consent"))
        .unwrap();
    let err = flow.exchange(&other, &params).await.unwrap_err();
    assert!(err.is_auth(), "{err}");

    // --- refresh
    let source = UserTokenSource::new(creds.clone());
    let refreshed = source
        .force_refresh()
        .await
        .expect("refresh at oidc-provider");
    assert_ne!(refreshed.access_token(), creds.access_token());

    // --- revocation: afterwards the refresh token is refused with invalid_grant
    source.revoke().await.expect("revocation at oidc-provider");
    let after = UserTokenSource::new(refreshed.clone());
    let err = after.force_refresh().await.unwrap_err();
    assert!(err.needs_reauthorization(), "{err:?}");

    // --- device flow (RFC 8628): oidc-provider says `verification_uri` and
    // sends no `interval`; both are accepted.
    let device =
        DeviceFlow::new(client(&base).with_clock(std::sync::Arc::new(gapi::clock::TokioClock)));
    let auth = device.request_code().await.expect("device code");
    assert!(auth.verification_url().starts_with(&base));
    assert_eq!(auth.interval(), Duration::from_secs(5), "default interval");
    let complete = auth
        .verification_url_complete()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{}?user_code={}", auth.verification_url(), auth.user_code()));
    let confirm = tokio::spawn(async move {
        let mut b = Browser::new();
        // the final page (success) has no form: visit returns Err with its text
        match b.visit(&complete, "never://").await {
            Ok(loc) => loc,
            Err(page) => page,
        }
    });
    let device_creds = tokio::time::timeout(Duration::from_secs(60), device.poll(&auth))
        .await
        .expect("device flow finished in time")
        .expect("device flow");
    let page = confirm.await.unwrap();
    assert!(
        page.contains("Success") || page.contains("success"),
        "{page}"
    );
    assert!(device_creds.access_token().is_some());
    assert!(device_creds.refresh_token().is_some());
    drop(peer);
}
