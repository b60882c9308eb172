//! OpenID Connect ID tokens: [`IdTokenVerifier`] checks one (what
//! oauth2client's `verify_id_token` and google-auth's `verify_oauth2_token`
//! did) and yields its [`IdTokenClaims`].
//!
//! Crypto choice: ring, already built for TLS and for signing, rather than
//! `jsonwebtoken` (100 crates and 72 s more to build here with its RustCrypto
//! backend, see `jwt.rs`); the JWS framing around the signature is a split
//! and two base64 decodes.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::jwks::{JwksCache, KEYS_UNAVAILABLE};
use crate::Error;
use crate::clock::{SharedClock, default_clock};

#[path = "id_token_jws.rs"]
mod jws;

use jws::{Jws, parse_claims, shown};

/// Google's ID token issuers.
pub const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// The default tolerance for clocks that differ, on `exp`, `iat` and `nbf`.
pub const DEFAULT_ID_TOKEN_LEEWAY: Duration = Duration::from_secs(60);
/// The longest token accepted (Google's are about 1 KiB).
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Why an ID token was refused: the [`AuthError::code`](crate::AuthError) of
/// the error, as a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdTokenRejection {
    /// `id_token_malformed`: not a compact JWS, bad base64 or JSON, a
    /// required claim (`iss`, `sub`, `aud`, `exp`, `iat`) missing or of the
    /// wrong type, or too long.
    Malformed,
    /// `id_token_algorithm`: `alg` is `none` or not `RS256`/`ES256`, or the
    /// key with the token's `kid` is not of that algorithm, or the header
    /// has `crit` extensions.
    Algorithm,
    /// `id_token_unknown_key`: the issuer's key set has no key with the
    /// token's `kid`, even after fetching it again (or the refetch interval
    /// did not allow one yet).
    UnknownKey,
    /// `id_token_signature`: the signature does not verify.
    Signature,
    /// `id_token_issuer`: `iss` is not one of the expected issuers.
    Issuer,
    /// `id_token_audience`: `aud` does not contain one of the client ids.
    Audience,
    /// `id_token_expired`: `exp` (plus the leeway) has passed.
    Expired,
    /// `id_token_not_yet_valid`: `iat` or `nbf` is in the future (beyond the
    /// leeway).
    NotYetValid,
    /// `id_token_nonce`: the `nonce` is missing or not the expected one.
    Nonce,
    /// `id_token_hosted_domain`: `hd` is missing or not a required domain.
    HostedDomain,
    /// `id_token_keys_unavailable`: the issuer's key set answered with an
    /// HTTP error or is not a key set, and no keys are cached.
    KeysUnavailable,
}

impl IdTokenRejection {
    /// Every rejection, in the order of the checks.
    pub const ALL: [IdTokenRejection; 11] = [
        IdTokenRejection::Malformed,
        IdTokenRejection::Algorithm,
        IdTokenRejection::UnknownKey,
        IdTokenRejection::Signature,
        IdTokenRejection::Issuer,
        IdTokenRejection::Audience,
        IdTokenRejection::Expired,
        IdTokenRejection::NotYetValid,
        IdTokenRejection::Nonce,
        IdTokenRejection::HostedDomain,
        IdTokenRejection::KeysUnavailable,
    ];

    /// The code carried by the error's [`AuthError`](crate::AuthError).
    pub fn code(self) -> &'static str {
        match self {
            IdTokenRejection::Malformed => "id_token_malformed",
            IdTokenRejection::Algorithm => "id_token_algorithm",
            IdTokenRejection::UnknownKey => "id_token_unknown_key",
            IdTokenRejection::Signature => "id_token_signature",
            IdTokenRejection::Issuer => "id_token_issuer",
            IdTokenRejection::Audience => "id_token_audience",
            IdTokenRejection::Expired => "id_token_expired",
            IdTokenRejection::NotYetValid => "id_token_not_yet_valid",
            IdTokenRejection::Nonce => "id_token_nonce",
            IdTokenRejection::HostedDomain => "id_token_hosted_domain",
            IdTokenRejection::KeysUnavailable => KEYS_UNAVAILABLE,
        }
    }

    /// The rejection an error stands for, if it is an ID token refusal.
    pub fn of(error: &Error) -> Option<IdTokenRejection> {
        let code = error.auth_error()?.code.as_deref()?;
        IdTokenRejection::ALL.into_iter().find(|r| r.code() == code)
    }

    fn error(self, message: impl Into<String>) -> Error {
        Error::auth(Some(self.code()), message)
    }
}

impl fmt::Display for IdTokenRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The claims of a verified ID token. `Debug` shows the standard claims
/// (no secret: a used nonce is not one), not the others' values.
#[derive(Clone, PartialEq)]
pub struct IdTokenClaims {
    claims: Map<String, Value>,
    iss: String,
    sub: String,
    aud: Vec<String>,
    exp: u64,
    iat: u64,
}

impl IdTokenClaims {
    /// `iss`: who issued it.
    pub fn issuer(&self) -> &str {
        &self.iss
    }

    /// `sub`: the account's stable, unique id at the issuer. Use this (with
    /// the issuer) to know the user, never the email address.
    pub fn subject(&self) -> &str {
        &self.sub
    }

    /// `aud`: the client ids it was issued to.
    pub fn audiences(&self) -> &[String] {
        &self.aud
    }

    /// `azp`: the client that asked for it, when the issuer says.
    pub fn authorized_party(&self) -> Option<&str> {
        self.str_claim("azp")
    }

    /// `exp`: when it expires.
    pub fn expires_at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.exp)
    }

    /// `iat`: when it was issued.
    pub fn issued_at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.iat)
    }

    /// `nonce`, if any.
    pub fn nonce(&self) -> Option<&str> {
        self.str_claim("nonce")
    }

    /// `email`, if the `email` scope was granted. Not an identifier: an
    /// address can change hands; see [`email_verified`](Self::email_verified).
    pub fn email(&self) -> Option<&str> {
        self.str_claim("email")
    }

    /// `email_verified`: whether the issuer verified the address (`true` or
    /// the string `"true"`, as Google once sent it).
    pub fn email_verified(&self) -> bool {
        match self.claims.get("email_verified") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    /// `hd`: the Google Workspace domain of the account, if it has one.
    pub fn hosted_domain(&self) -> Option<&str> {
        self.str_claim("hd")
    }

    /// `name`, if the `profile` scope was granted.
    pub fn name(&self) -> Option<&str> {
        self.str_claim("name")
    }

    /// `picture`, if the `profile` scope was granted.
    pub fn picture(&self) -> Option<&str> {
        self.str_claim("picture")
    }

    /// Any claim, as JSON.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// All claims.
    pub fn all(&self) -> &Map<String, Value> {
        &self.claims
    }

    fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

impl fmt::Debug for IdTokenClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenClaims")
            .field("iss", &self.iss)
            .field("sub", &self.sub)
            .field("aud", &self.aud)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("email", &self.email())
            .field("email_verified", &self.email_verified())
            .field("hd", &self.hosted_domain())
            .field("claims", &self.claims.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Verifies ID tokens of one issuer for one or several client ids. Cheap to
/// clone; clones share the key cache.
///
/// A token is accepted only when, in this order:
///
/// 1. it is a compact JWS of at most 16 KiB whose header names `RS256` or
///    `ES256` (`none`, HMAC and everything else are refused: the algorithm
///    is never taken from the token alone, the key must be of its type);
/// 2. its `kid` is in the issuer's key set ([`JwksCache`], fetched again
///    when the kid is unknown, at most once per refetch interval) and the
///    signature verifies with that key (ring's constant-time RSA PKCS#1 v1.5
///    SHA-256 and ECDSA P-256 SHA-256, the code that already signs the
///    runtime's service-account JWTs);
/// 3. `iss` is one of the verifier's issuers (Google's are
///    `https://accounts.google.com` and `accounts.google.com`);
/// 4. `aud` (a string or an array) contains one of the verifier's client ids;
/// 5. it has not expired (`exp`) and was not issued in the future (`iat`,
///    and `nbf` when present), each with a small leeway (default
///    [`DEFAULT_ID_TOKEN_LEEWAY`]), on the injectable clock;
/// 6. its `nonce` equals the expected one, when one is expected (compared in
///    constant time);
/// 7. its `hd` is one of the required hosted domains, when some are required.
///
/// A refusal is a [`gapi::Error`](crate::Error) of kind
/// [`Auth`](crate::ErrorKind::Auth) whose [`AuthError::code`](crate::AuthError)
/// says why — see [`IdTokenRejection`] for the codes. Its message never
/// contains the token. A key set that could not be fetched because of the
/// network is the transport's error instead (kind `Transport` or `Timeout`,
/// [transient](crate::Error::is_transient)): the token may be fine.
///
/// ```no_run
/// use gapi::auth::IdTokenVerifier;
/// # async fn run(token: &str, nonce: &str) -> gapi::Result<()> {
/// let verifier = IdTokenVerifier::google(["1234.apps.googleusercontent.com"]);
/// let claims = verifier.verify(token, Some(nonce)).await?;
/// println!("signed in: {} ({:?})", claims.subject(), claims.email());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct IdTokenVerifier {
    issuers: Vec<String>,
    audiences: Vec<String>,
    hosted_domains: Vec<String>,
    jwks: JwksCache,
    leeway: Duration,
    clock: SharedClock,
}

impl fmt::Debug for IdTokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenVerifier")
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("hosted_domains", &self.hosted_domains)
            .field("jwks", &self.jwks)
            .field("leeway", &self.leeway)
            .finish()
    }
}

fn strings<I, S>(values: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    values.into_iter().map(Into::into).collect()
}

impl IdTokenVerifier {
    /// A verifier of tokens issued by `issuer`, signed with keys from `jwks`,
    /// for any of `client_ids`.
    pub fn new<I, S>(issuer: impl Into<String>, jwks: JwksCache, client_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        IdTokenVerifier {
            issuers: vec![issuer.into()],
            audiences: strings(client_ids),
            hosted_domains: Vec::new(),
            jwks,
            leeway: DEFAULT_ID_TOKEN_LEEWAY,
            clock: default_clock(),
        }
    }

    /// A verifier of Google's ID tokens ([`GOOGLE_ISSUERS`], keys from
    /// [`GOOGLE_JWKS_URI`](super::GOOGLE_JWKS_URI)) for any of `client_ids`.
    pub fn google<I, S>(client_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(GOOGLE_ISSUERS[0], JwksCache::google(), client_ids).with_issuer(GOOGLE_ISSUERS[1])
    }

    /// Finds the issuer's key set through OpenID Connect discovery
    /// (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be
    /// `issuer`), with the default cache settings.
    pub async fn discover<I, S>(issuer: &str, client_ids: I) -> crate::Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let jwks_uri = super::jwks::discover_jwks_uri(issuer).await?;
        Ok(Self::new(issuer, JwksCache::new(jwks_uri), client_ids))
    }

    /// Accepts tokens of another issuer name too (sharing the key set).
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuers.push(issuer.into());
        self
    }

    /// Accepts tokens issued to another client id too.
    pub fn with_audience(mut self, client_id: impl Into<String>) -> Self {
        self.audiences.push(client_id.into());
        self
    }

    /// Accepts only tokens whose `hd` is one of `domains` (Google Workspace
    /// accounts of those domains).
    pub fn require_hosted_domain<I, S>(mut self, domains: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hosted_domains = strings(domains);
        self
    }

    /// The tolerance on `exp`, `iat` and `nbf` (default
    /// [`DEFAULT_ID_TOKEN_LEEWAY`]).
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The clock of the time checks (default: the system's). The key
    /// cache has its own ([`JwksCacheBuilder::clock`](super::JwksCacheBuilder::clock)).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The key cache.
    pub fn jwks(&self) -> &JwksCache {
        &self.jwks
    }

    /// The client ids accepted in `aud`.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The issuers accepted in `iss`.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// Verifies `id_token` (see [`IdTokenVerifier`] for the checks);
    /// `expected_nonce`, when given, must be its `nonce`.
    pub async fn verify(
        &self,
        id_token: &str,
        expected_nonce: Option<&str>,
    ) -> crate::Result<IdTokenClaims> {
        let jws = Jws::parse(id_token)?;
        self.check_signature(&jws).await?;
        let claims = parse_claims(&jws.payload)?;
        self.check_claims(&claims, expected_nonce)?;
        Ok(claims)
    }

    async fn check_signature(&self, jws: &Jws<'_>) -> crate::Result<()> {
        let keys = self.jwks.keys_for(jws.kid.as_deref()).await?;
        let named: Vec<_> = keys
            .keys
            .iter()
            .filter(|k| jws.kid.is_none() || k.kid == jws.kid)
            .collect();
        if named.is_empty() {
            return Err(IdTokenRejection::UnknownKey.error(format!(
                "the ID token's signing key is not in the key set of {}",
                self.jwks.uri()
            )));
        }
        let usable: Vec<_> = named
            .into_iter()
            .filter(|k| k.alg.as_deref().is_none_or(|a| a == jws.alg.name()))
            .filter(|k| jws.alg.fits(&k.key))
            .collect();
        if usable.is_empty() {
            return Err(IdTokenRejection::Algorithm.error(format!(
                "the ID token's key is not an {} key",
                jws.alg.name()
            )));
        }
        if usable.iter().any(|k| {
            jws.alg
                .verify(&k.key, jws.signed.as_bytes(), &jws.signature)
        }) {
            Ok(())
        } else {
            Err(IdTokenRejection::Signature
                .error("the ID token's signature does not verify with the issuer's key"))
        }
    }

    fn check_claims(&self, c: &IdTokenClaims, expected_nonce: Option<&str>) -> crate::Result<()> {
        if !self.issuers.contains(&c.iss) {
            return Err(IdTokenRejection::Issuer.error(format!(
                "the ID token was issued by `{}`, not by {:?}",
                shown(&c.iss),
                self.issuers
            )));
        }
        if !c.aud.iter().any(|a| self.audiences.contains(a)) {
            return Err(IdTokenRejection::Audience.error(format!(
                "the ID token is for {:?}, not for this client ({:?})",
                c.aud.iter().map(|a| shown(a)).collect::<Vec<_>>(),
                self.audiences
            )));
        }
        let now = self
            .clock
            .now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let leeway = self.leeway.as_secs();
        if now > c.exp.saturating_add(leeway) {
            return Err(IdTokenRejection::Expired
                .error(format!("the ID token expired {} s ago", now - c.exp)));
        }
        let nbf = c.claims.get("nbf").and_then(Value::as_u64);
        for (name, t) in [("iat", Some(c.iat)), ("nbf", nbf)] {
            if let Some(t) = t.filter(|t| *t > now.saturating_add(leeway)) {
                return Err(IdTokenRejection::NotYetValid.error(format!(
                    "the ID token's `{name}` is {} s in the future",
                    t - now
                )));
            }
        }
        if let Some(want) = expected_nonce {
            let ok = c.nonce().is_some_and(|got| {
                super::secret::constant_time_eq(got.as_bytes(), want.as_bytes())
            });
            if !ok {
                return Err(IdTokenRejection::Nonce
                    .error("the ID token's nonce is not the one of this sign-in"));
            }
        }
        if !self.hosted_domains.is_empty()
            && !c
                .hosted_domain()
                .is_some_and(|hd| self.hosted_domains.iter().any(|d| d == hd))
        {
            return Err(IdTokenRejection::HostedDomain.error(format!(
                "the ID token's account is not in {:?}",
                self.hosted_domains
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "id_token_tests.rs"]
mod tests;
