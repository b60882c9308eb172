//! The toy login's sessions: a cookie the app signs (HMAC-SHA256 with
//! ring), so that every process holding the same session key knows the
//! user — no session store to share. A toy: signing out clears the cookie,
//! it does not revoke it.

use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use gapi::clock::BoxFuture;
use gapi_axum::{User, UserIdentity};
use rand::RngCore as _;

/// The session cookie of the toy login.
pub const SESSION_COOKIE: &str = "web_tasks_session";

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
const CONTEXT: &[u8] = b"web-tasks session v1\0";

/// The key sessions are signed with: 32 bytes, shared by every process of
/// one deployment (`--session-key`), or random for one process.
#[derive(Clone)]
pub struct SessionKey(ring::hmac::Key);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey([redacted])")
    }
}

impl SessionKey {
    /// A random key (sessions end with the process).
    pub fn random() -> Self {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        Self::from_bytes(&b)
    }

    /// The key of these bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        SessionKey(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, bytes))
    }

    /// A key written as base64 (32 bytes).
    pub fn from_base64(text: &str) -> Result<Self, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .or_else(|_| B64.decode(text.trim()))
            .map_err(|_| "the session key is not base64".to_owned())?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "the session key must be 32 bytes".to_owned())?;
        Ok(Self::from_bytes(&bytes))
    }

    fn tag(&self, signed: &str) -> ring::hmac::Tag {
        let mut ctx = ring::hmac::Context::with_key(&self.0);
        ctx.update(CONTEXT);
        ctx.update(signed.as_bytes());
        ctx.sign()
    }

    /// A new session cookie value for `user`: `name.session.signature`.
    pub fn issue(&self, user: &str) -> String {
        let mut id = [0u8; 16];
        rand::rng().fill_bytes(&mut id);
        let signed = format!("{}.{}", B64.encode(user), B64.encode(id));
        let tag = self.tag(&signed);
        format!("{signed}.{}", B64.encode(tag.as_ref()))
    }

    /// The user and session id of a cookie value this key signed.
    pub fn open(&self, value: &str) -> Option<(String, String)> {
        let (signed, tag) = value.rsplit_once('.')?;
        let tag = B64.decode(tag).ok()?;
        let mut ctx_input = CONTEXT.to_vec();
        ctx_input.extend_from_slice(signed.as_bytes());
        ring::hmac::verify(&self.0, &ctx_input, &tag).ok()?;
        let (name, id) = signed.split_once('.')?;
        let name = String::from_utf8(B64.decode(name).ok()?).ok()?;
        Some((name, id.to_owned()))
    }
}

/// The app's [`UserIdentity`]: the signed session cookie.
#[derive(Clone)]
pub(crate) struct Sessions {
    pub(crate) key: SessionKey,
}

impl Sessions {
    /// The user and session id of the request, if signed in.
    pub(crate) fn user_of(&self, parts: &Parts) -> Option<(String, String)> {
        self.key.open(gapi_axum::cookie(parts, SESSION_COOKIE)?)
    }
}

impl UserIdentity for Sessions {
    fn identify<'a>(&'a self, parts: &'a Parts) -> BoxFuture<'a, Option<User>> {
        let user = self.user_of(parts).map(|(name, sid)| {
            let mut u = User::new(name.clone()).with_session(sid);
            if name.contains('@') {
                u = u.with_login_hint(name);
            }
            u
        });
        Box::pin(async move { user })
    }

    /// Not signed in: to the login page, and back afterwards.
    fn sign_in_response(&self, _parts: &Parts, return_to: &str) -> Response {
        let q: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
        Redirect::to(&format!("/login?return_to={q}")).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_sessions_open_only_with_their_key() {
        let key = SessionKey::random();
        let v = key.issue("alice@example.com");
        let (name, sid) = key.open(&v).unwrap();
        assert_eq!(name, "alice@example.com");
        assert_eq!(sid.len(), 22);
        assert_ne!(
            key.issue("alice@example.com"),
            v,
            "a new session id each time"
        );
        assert!(SessionKey::random().open(&v).is_none(), "another key");
        let (signed, tag) = v.rsplit_once('.').unwrap();
        let forged = format!(
            "{}.{}",
            signed.replacen(&B64.encode("alice@example.com"), &B64.encode("bob"), 1),
            tag
        );
        assert!(key.open(&forged).is_none(), "another name");
        assert!(key.open("garbage").is_none());
        let shared =
            SessionKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([7u8; 32]))
                .unwrap();
        let again = SessionKey::from_bytes(&[7u8; 32]);
        assert!(
            again.open(&shared.issue("x")).is_some(),
            "the same key in two processes"
        );
        assert!(SessionKey::from_base64("AAAA").is_err());
    }
}
