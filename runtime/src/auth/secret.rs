//! Secret newtypes: their `Debug` is redacted, they implement no `Display`, and
//! the value is only reachable through `.secret()`.

use std::fmt;

use base64::Engine as _;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }
            /// The secret value. Never log it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// An OAuth 2.0 access token.
    AccessToken
);
secret_type!(
    /// An API key.
    ApiKey
);
secret_type!(
    /// An OAuth 2.0 refresh token: long-lived, it mints new access tokens.
    RefreshToken
);
secret_type!(
    /// The secret of an OAuth 2.0 client (from `client_secret.json`).
    ClientSecret
);
secret_type!(
    /// The one-time authorization code the authorization server sends to the
    /// redirect URI.
    AuthorizationCode
);
secret_type!(
    /// The PKCE code verifier (RFC 7636) kept by the client between the
    /// authorization request and the code exchange.
    PkceCodeVerifier
);
secret_type!(
    /// The `state` parameter that binds the callback to the authorization
    /// request (protection against cross-site request forgery).
    CsrfState
);
secret_type!(
    /// The device code of the device flow (RFC 8628): what the device polls
    /// the token endpoint with. Not the user code.
    DeviceCode
);
secret_type!(
    /// An OpenID Connect ID token (a JWT) returned alongside the access token.
    IdToken
);

/// 32 bytes from the operating system's generator, base64url without padding (43 chars).
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    crate::random::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two byte strings in time that does not depend on where they
/// differ: both are hashed first, so only the (fixed) digest length is compared.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let sha256 = |v: &[u8]| ring::digest::digest(&ring::digest::SHA256, v);
    let (ha, hb) = (sha256(a), sha256(b));
    ha.as_ref()
        .iter()
        .zip(hb.as_ref())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl CsrfState {
    /// A fresh random state (256 bits).
    pub fn new_random() -> Self {
        CsrfState(random_token())
    }

    /// Whether `received` equals this state, compared in constant time.
    pub fn matches(&self, received: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), received.as_bytes())
    }
}

impl PkceCodeVerifier {
    /// A fresh random verifier: 43 characters of base64url (256 bits), within
    /// RFC 7636's 43–128 character range.
    pub fn new_random() -> Self {
        PkceCodeVerifier(random_token())
    }

    /// The S256 code challenge: `BASE64URL(SHA256(verifier))` without padding.
    /// Not a secret: it is sent in the authorization URL.
    pub fn s256_challenge(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.0.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let t = RefreshToken::new("1//very-secret");
        assert_eq!(format!("{t:?}"), "RefreshToken([redacted])");
        assert_eq!(t.secret(), "1//very-secret");
        let s = ClientSecret::new("GOCSPX-abc");
        assert!(!format!("{s:?}").contains("GOCSPX"));
    }

    #[test]
    fn pkce_s256_matches_rfc7636_appendix_b() {
        let v = PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            v.s256_challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let r = PkceCodeVerifier::new_random();
        assert_eq!(r.secret().len(), 43);
        assert_ne!(r, PkceCodeVerifier::new_random());
    }

    #[test]
    fn csrf_state_compare() {
        let s = CsrfState::new_random();
        assert!(s.matches(s.secret()));
        assert!(!s.matches("nope"));
        assert!(!s.matches(""));
        assert!(constant_time_eq(b"", b""));
    }
}
