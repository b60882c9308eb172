//! PKCE (RFC 7636): code challenges and verifiers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// How the challenge was derived from the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PkceMethod {
    /// The challenge is the verifier.
    Plain,
    /// The challenge is `BASE64URL(SHA256(verifier))`.
    S256,
}

/// The challenge an authorization request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pkce {
    pub challenge: String,
    pub method: PkceMethod,
}

/// Whether `s` is 43 to 128 characters of `[A-Za-z0-9-._~]`, the form of both verifiers
/// and challenges.
pub(crate) fn well_formed(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge of a verifier.
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl Pkce {
    /// Reads `code_challenge` and `code_challenge_method` from an authorization request:
    /// `Ok(None)` without a challenge, `Err` with a description when they are malformed.
    pub fn from_request(
        challenge: Option<&str>,
        method: Option<&str>,
    ) -> Result<Option<Pkce>, String> {
        let Some(challenge) = challenge.filter(|c| !c.is_empty()) else {
            if method.is_some_and(|m| !m.is_empty()) {
                return Err("code_challenge_method requires code_challenge".to_string());
            }
            return Ok(None);
        };
        let method = match method.unwrap_or("plain") {
            "plain" => PkceMethod::Plain,
            "S256" => PkceMethod::S256,
            other => return Err(format!("Invalid code_challenge_method: {other}")),
        };
        if !well_formed(challenge) || (method == PkceMethod::S256 && challenge.len() != 43) {
            return Err("Invalid code_challenge".to_string());
        }
        Ok(Some(Pkce {
            challenge: challenge.to_string(),
            method,
        }))
    }

    /// Whether `verifier` matches this challenge.
    pub fn verify(&self, verifier: &str) -> bool {
        if !well_formed(verifier) {
            return false;
        }
        match self.method {
            PkceMethod::Plain => verifier == self.challenge,
            PkceMethod::S256 => s256(verifier) == self.challenge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example from RFC 7636, appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_example() {
        assert_eq!(s256(VERIFIER), CHALLENGE);
        let p = Pkce::from_request(Some(CHALLENGE), Some("S256"))
            .unwrap()
            .unwrap();
        assert!(p.verify(VERIFIER));
        assert!(!p.verify(&VERIFIER.replace('d', "e")));
    }

    #[test]
    fn plain_is_the_default_method() {
        let p = Pkce::from_request(Some(VERIFIER), None).unwrap().unwrap();
        assert_eq!(p.method, PkceMethod::Plain);
        assert!(p.verify(VERIFIER));
        assert!(!p.verify(CHALLENGE));
    }

    #[test]
    fn malformed_requests() {
        assert_eq!(Pkce::from_request(None, None), Ok(None));
        assert!(Pkce::from_request(None, Some("S256")).is_err());
        assert!(Pkce::from_request(Some(CHALLENGE), Some("S512")).is_err());
        assert!(Pkce::from_request(Some("short"), Some("plain")).is_err());
        assert!(Pkce::from_request(Some(&"a".repeat(44)), Some("S256")).is_err());
        let p = Pkce::from_request(Some(CHALLENGE), Some("S256"))
            .unwrap()
            .unwrap();
        assert!(!p.verify("short"));
    }
}
