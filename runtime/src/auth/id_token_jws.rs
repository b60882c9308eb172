//! The compact JWS of an ID token: split, decoded, its algorithm checked,
//! and the signature verified with ring; its claims parsed.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{IdTokenClaims, IdTokenRejection, MAX_TOKEN_LEN};
use crate::Error;
use crate::auth::jwks::PublicKey;

/// A value from the token, fit for a message: at most 100 characters, no
/// control characters.
pub(super) fn shown(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(100).collect()
}

/// The algorithms accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Alg {
    Rs256,
    Es256,
}

impl Alg {
    pub(super) fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    pub(super) fn fits(self, key: &PublicKey) -> bool {
        matches!(
            (self, key),
            (Alg::Rs256, PublicKey::Rsa { .. }) | (Alg::Es256, PublicKey::P256 { .. })
        )
    }

    pub(super) fn verify(self, key: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
        use ring::signature as sig;
        match (self, key) {
            (Alg::Rs256, PublicKey::Rsa { n, e }) => sig::RsaPublicKeyComponents { n, e }
                .verify(&sig::RSA_PKCS1_2048_8192_SHA256, message, signature)
                .is_ok(),
            (Alg::Es256, PublicKey::P256 { point }) => {
                sig::UnparsedPublicKey::new(&sig::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, signature)
                    .is_ok()
            }
            _ => false,
        }
    }
}

/// A compact JWS, split and decoded (the payload not yet parsed).
pub(super) struct Jws<'a> {
    pub(super) alg: Alg,
    pub(super) kid: Option<String>,
    /// `header.payload`, the signed bytes.
    pub(super) signed: &'a str,
    pub(super) payload: Vec<u8>,
    pub(super) signature: Vec<u8>,
}

fn malformed(what: &str) -> Error {
    IdTokenRejection::Malformed.error(format!("the ID token is malformed: {what}"))
}

fn b64url(part: &str, what: &str) -> crate::Result<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| malformed(&format!("its {what} is not base64url")))
}

impl<'a> Jws<'a> {
    pub(super) fn parse(token: &'a str) -> crate::Result<Jws<'a>> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(malformed("it is longer than 16 KiB"));
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("it is not three dot-separated parts"));
        };
        let header: Value = serde_json::from_slice(&b64url(h, "header")?)
            .map_err(|_| malformed("its header is not JSON"))?;
        let header = header
            .as_object()
            .ok_or_else(|| malformed("its header is not a JSON object"))?;
        if header.contains_key("crit") {
            return Err(IdTokenRejection::Algorithm
                .error("the ID token's header has `crit` extensions, which are not supported"));
        }
        let alg = match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => Alg::Rs256,
            Some("ES256") => Alg::Es256,
            Some(other) => {
                return Err(IdTokenRejection::Algorithm.error(format!(
                    "the ID token's algorithm `{}` is not accepted (RS256, ES256)",
                    shown(other)
                )));
            }
            None => return Err(malformed("its header has no `alg`")),
        };
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(_) => return Err(malformed("its `kid` is not a string")),
        };
        Ok(Jws {
            alg,
            kid,
            signed: &token[..h.len() + 1 + p.len()],
            payload: b64url(p, "payload")?,
            signature: b64url(s, "signature")?,
        })
    }
}

pub(super) fn parse_claims(payload: &[u8]) -> crate::Result<IdTokenClaims> {
    let claims: Map<String, Value> = serde_json::from_slice(payload)
        .map_err(|_| malformed("its claims are not a JSON object"))?;
    let text = |name: &str| match claims.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(malformed(&format!("`{name}` is missing or not a string"))),
    };
    let time = |name: &str| {
        claims
            .get(name)
            .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)))
            .ok_or_else(|| malformed(&format!("`{name}` is missing or not a number")))
    };
    let aud = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) if !a.is_empty() => a
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| malformed("`aud` has a member that is not a string"))?,
        _ => return Err(malformed("`aud` is missing")),
    };
    Ok(IdTokenClaims {
        iss: text("iss")?,
        sub: text("sub")?,
        aud,
        exp: time("exp")?,
        iat: time("iat")?,
        claims,
    })
}
