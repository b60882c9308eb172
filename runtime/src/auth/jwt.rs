//! RS256 JSON Web Tokens (RFC 7515/7519) signed with a service account's key.
//!
//! Crypto choice, measured on this project's 2-core build machine (clean
//! `cargo build`, debug, while others were building too):
//!
//! | option | crates | build |
//! |---|---|---|
//! | `ring` 0.17 directly | 6 | 12 s, **0 s extra here**: rustls already builds it for TLS |
//! | `rsa` 0.9 + `sha2` | 43 | 27 s |
//! | `jsonwebtoken` 10, `rust_crypto` | 100 | 72 s |
//! | `jsonwebtoken` 10, `aws_lc_rs` | — | minutes (the `aws-lc-sys` C build) |
//!
//! A JWT is `base64url(header) . base64url(claims) . base64url(signature)`:
//! the only part worth a library is the RSASSA-PKCS1-v1_5 SHA-256 signature,
//! and ring's is constant-time (the pure-Rust `rsa` crate carries the
//! RUSTSEC-2023-0071 timing advisory). So: ring, already in the tree, plus
//! the `base64` and `serde_json` we already use. Keys are PKCS#8
//! (`BEGIN PRIVATE KEY`, what Google issues) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).

use std::fmt;

use base64::Engine as _;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use crate::{Error, ErrorKind};

/// The JWT-bearer grant type (RFC 7523) of the token endpoint.
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// An RSA private key that signs RS256 JWTs. A secret: its `Debug` shows
/// only the key id, and nothing reaches the key material but the signer.
pub(crate) struct RsaSigner {
    key: RsaKeyPair,
    key_id: Option<String>,
}

impl fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaSigner")
            .field("key_id", &self.key_id)
            .field("key", &"[redacted]")
            .finish()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl RsaSigner {
    /// Parses a PEM private key. The error never contains key material.
    pub fn from_pem(pem: &str, key_id: Option<String>) -> Result<Self, String> {
        let (label, der) = pem_decode(pem)?;
        let key = match label.as_str() {
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            other => {
                return Err(format!(
                    "a PEM `{other}` block is not an RSA private key (expected `PRIVATE KEY` or `RSA PRIVATE KEY`)"
                ));
            }
        }
        .map_err(|e| format!("not a usable RSA private key ({e})"))?;
        Ok(RsaSigner { key, key_id })
    }

    /// The public key as DER `RSAPublicKey` (PKCS#1), for verification.
    #[cfg(test)]
    pub fn public_key_der(&self) -> Vec<u8> {
        use ring::signature::KeyPair as _;
        self.key.public_key().as_ref().to_vec()
    }

    /// Signs `claims` (a JSON object) as a compact RS256 JWT.
    pub fn sign(&self, claims: &serde_json::Value) -> crate::Result<String> {
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.key_id {
            header["kid"] = serde_json::Value::String(kid.clone());
        }
        let mut out = b64(header.to_string().as_bytes());
        out.push('.');
        out.push_str(&b64(claims.to_string().as_bytes()));
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                out.as_bytes(),
                &mut sig,
            )
            .map_err(|_| Error::new(ErrorKind::Auth, "could not sign the JWT (RS256)"))?;
        out.push('.');
        out.push_str(&b64(&sig));
        Ok(out)
    }
}

/// The label and DER bytes of the first PEM block in `pem`.
fn pem_decode(pem: &str) -> Result<(String, Vec<u8>), String> {
    let begin = pem
        .find("-----BEGIN ")
        .ok_or("no `-----BEGIN ...-----` line (is it a PEM-encoded key?)")?;
    let rest = &pem[begin + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or("a malformed `-----BEGIN` line")?;
    let label = rest[..label_end].to_owned();
    let body = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body
        .find(&end_marker)
        .ok_or_else(|| format!("no `-----END {label}-----` line"))?;
    let b64: String = body[..end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| "the PEM body is not valid base64".to_owned())?;
    Ok((label, der))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A 2048-bit key made for these tests with `openssl genpkey`; it signs
    // nothing else.
    pub(crate) const TEST_KEY: &str = include_str!("../../tests/auth_s2s_support/test-key.pem");

    #[test]
    fn signs_and_verifies() {
        let s = RsaSigner::from_pem(TEST_KEY, Some("kid-1".into())).unwrap();
        let jwt = s
            .sign(&serde_json::json!({"iss": "a@b", "exp": 1}))
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(parts[0])
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "kid-1");
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            s.public_key_der(),
        );
        public
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .unwrap();
        assert!(!format!("{s:?}").contains("MII"));
    }

    #[test]
    fn bad_keys_say_why_without_key_material() {
        let e = RsaSigner::from_pem("nope", None).unwrap_err();
        assert!(e.contains("BEGIN"), "{e}");
        let e = RsaSigner::from_pem(
            "-----BEGIN PRIVATE KEY-----\nMIIBsecretsecret\n-----END PRIVATE KEY-----\n",
            None,
        )
        .unwrap_err();
        assert!(!e.contains("MIIB"), "{e}");
        let e = RsaSigner::from_pem(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            None,
        )
        .unwrap_err();
        assert!(e.contains("CERTIFICATE"), "{e}");
    }
}
