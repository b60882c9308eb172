//! [`JwksCache`]: an issuer's public signing keys (a JSON Web Key Set,
//! RFC 7517), fetched over the runtime's transport and cached as the issuer's
//! `Cache-Control` says.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde_json::Value;

use crate::Error;
use crate::clock::{SharedClock, default_clock};

/// Google's JWKS for the ID tokens it issues.
pub const GOOGLE_JWKS_URI: &str = "https://www.googleapis.com/oauth2/v3/certs";
/// How long a fetch of the key set may take, body included.
pub const DEFAULT_JWKS_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a key set is kept when its answer has no `Cache-Control: max-age`.
pub const DEFAULT_JWKS_CACHE: Duration = Duration::from_secs(300);
/// The longest a key set is kept, whatever `max-age` says.
pub const MAX_JWKS_CACHE: Duration = Duration::from_secs(24 * 3600);
/// The least time between two fetches (except the very first ones, while
/// no key is known at all).
pub const DEFAULT_JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// The largest key set accepted.
const MAX_JWKS_BYTES: usize = 512 * 1024;
/// While no key is known, a failed fetch is tried again after this long at
/// the earliest (its error is the answer meanwhile).
const RETRY_WITHOUT_KEYS: Duration = Duration::from_secs(1);

/// The auth error code of a key set that could not be had (an HTTP error,
/// not a JWKS).
pub(crate) const KEYS_UNAVAILABLE: &str = "id_token_keys_unavailable";

/// A public key, parsed once when the set is fetched.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// RSA: modulus and exponent, big-endian without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// EC P-256: the uncompressed point `04 || x || y`.
    P256 { point: Vec<u8> },
}

/// One key of the set.
#[derive(Clone)]
pub(crate) struct Jwk {
    pub(crate) kid: Option<String>,
    /// The `alg` the set restricts the key to, if any.
    pub(crate) alg: Option<String>,
    pub(crate) key: PublicKey,
}

/// A fetched key set.
pub(crate) struct KeySet {
    pub(crate) keys: Vec<Jwk>,
}

impl KeySet {
    fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// Builds a [`JwksCache`]; made by [`JwksCache::builder`].
pub struct JwksCacheBuilder {
    uri: String,
    timeout: Duration,
    refetch_interval: Duration,
    clock: SharedClock,
}

impl JwksCacheBuilder {
    /// The bound of one fetch, body included (default [`DEFAULT_JWKS_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The least time between two fetches triggered by an expired set or an
    /// unknown key id (default [`DEFAULT_JWKS_REFETCH_INTERVAL`]).
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// The clock that ages the set (default: the system's).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The cache. Nothing is fetched until the first use.
    pub fn build(self) -> JwksCache {
        JwksCache {
            inner: Arc::new(Inner {
                uri: self.uri,
                timeout: self.timeout,
                refetch_interval: self.refetch_interval,
                clock: self.clock,
                state: Mutex::new(State::default()),
                fetching: tokio::sync::Mutex::new(()),
                fetches: AtomicU64::new(0),
            }),
        }
    }
}

/// An issuer's signing keys, cached. Cheap to clone; clones share the cache.
///
/// Rules, all on the injectable [`Clock`](crate::clock::Clock):
///
/// - the first use fetches; the set is then kept for `max-age` (less `Age`)
///   of the answer, at most [`MAX_JWKS_CACHE`], [`DEFAULT_JWKS_CACHE`] when
///   the answer says nothing (`no-cache` / `no-store`: expired at once);
/// - an expired set, or a key id the set does not have (a rotation at the
///   issuer), makes it fetch again, **at most once per
///   [refetch interval](JwksCacheBuilder::refetch_interval)**: a flood of
///   tokens with made-up key ids costs one fetch per interval, not one per
///   token;
/// - one fetch at a time: concurrent callers wait for it and share its
///   result (single flight);
/// - every fetch is bounded: the [timeout](JwksCacheBuilder::timeout)
///   (default [`DEFAULT_JWKS_TIMEOUT`]) covers connecting and the whole body,
///   which may be at most 512 KiB;
/// - a failed fetch keeps the keys already known (stale keys still verify
///   until the next fetch succeeds); with no keys at all, the failure is the
///   answer (and, for a second, the answer of every caller without a new
///   fetch).
///
/// Keys other than RSA and EC P-256 signing keys are ignored.
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<Inner>,
}

struct Inner {
    uri: String,
    timeout: Duration,
    refetch_interval: Duration,
    clock: SharedClock,
    state: Mutex<State>,
    /// Held while fetching: one fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    expires_at: Option<SystemTime>,
    /// When the last fetch started, and how it ended (`Err`: its message).
    last_attempt: Option<SystemTime>,
    last_error: Option<String>,
    /// Counts finished fetches, so that a waiter sees one happened.
    generation: u64,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("JwksCache")
            .field("uri", &self.inner.uri)
            .field("keys", &st.keys.as_ref().map(|k| k.keys.len()))
            .field("fetches", &self.fetch_count())
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A builder for the key set at `uri`.
    pub fn builder(uri: impl Into<String>) -> JwksCacheBuilder {
        JwksCacheBuilder {
            uri: uri.into(),
            timeout: DEFAULT_JWKS_TIMEOUT,
            refetch_interval: DEFAULT_JWKS_REFETCH_INTERVAL,
            clock: default_clock(),
        }
    }

    /// The key set at `uri` with the defaults.
    pub fn new(uri: impl Into<String>) -> Self {
        Self::builder(uri).build()
    }

    /// Google's key set ([`GOOGLE_JWKS_URI`]).
    pub fn google() -> Self {
        Self::new(GOOGLE_JWKS_URI)
    }

    /// Where the keys are fetched from.
    pub fn uri(&self) -> &str {
        &self.inner.uri
    }

    /// How many fetches were started so far.
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The key ids currently known (for diagnostics).
    pub fn key_ids(&self) -> Vec<String> {
        let st = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        st.keys
            .iter()
            .flat_map(|s| s.keys.iter().filter_map(|k| k.kid.clone()))
            .collect()
    }

    /// Fetches the set now, whatever the cache holds (still one at a time).
    pub async fn refresh(&self) -> crate::Result<()> {
        let generation = self.lock_state().generation;
        self.fetch_shared(generation).await.map(drop)
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The keys to check a token signed with `kid` against: the cached set,
    /// or a new one when the cached set is missing, expired or lacks `kid`
    /// (and the refetch interval allows).
    pub(crate) async fn keys_for(&self, kid: Option<&str>) -> crate::Result<Arc<KeySet>> {
        let now = self.inner.clock.now();
        let (cached, generation, fetch) = {
            let st = self.lock_state();
            if let (None, Some(t), Some(e)) = (&st.keys, st.last_attempt, &st.last_error)
                && now.duration_since(t).unwrap_or_default() < RETRY_WITHOUT_KEYS
            {
                return Err(unavailable(e.clone()));
            }
            let fresh = st.expires_at.is_some_and(|e| now < e);
            let known = match (&st.keys, kid) {
                (Some(k), Some(kid)) => k.has_kid(kid),
                (Some(_), None) => true,
                (None, _) => false,
            };
            let may_refetch = st.last_attempt.is_none_or(|t| {
                now.duration_since(t).unwrap_or_default() >= self.inner.refetch_interval
            });
            let fetch = st.keys.is_none() || ((!fresh || !known) && may_refetch);
            (st.keys.clone(), st.generation, fetch)
        };
        match (fetch, cached) {
            (false, Some(keys)) => Ok(keys),
            (_, cached) => match self.fetch_shared(generation).await {
                Ok(keys) => Ok(keys),
                Err(e) => match cached {
                    // Stale keys beat none: the issuer is down, not changed.
                    Some(keys) => {
                        tracing::warn!(uri = %self.inner.uri, error = %e, "could not refresh the ID token signing keys; using the cached ones");
                        Ok(keys)
                    }
                    None => Err(e),
                },
            },
        }
    }

    /// Fetches, unless a fetch finished since `seen` (then its outcome).
    async fn fetch_shared(&self, seen: u64) -> crate::Result<Arc<KeySet>> {
        let _one = self.inner.fetching.lock().await;
        {
            let st = self.lock_state();
            if st.generation != seen {
                return match (&st.keys, &st.last_error) {
                    (Some(k), None) => Ok(k.clone()),
                    (_, Some(e)) => Err(unavailable(e.clone())),
                    (None, None) => Err(unavailable("no keys".to_owned())),
                };
            }
        }
        let started = self.inner.clock.now();
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let result = fetch(&self.inner.uri, self.inner.timeout).await;
        let mut st = self.lock_state();
        st.generation += 1;
        st.last_attempt = Some(started);
        match result {
            Ok((keys, max_age)) => {
                let keys = Arc::new(keys);
                tracing::debug!(uri = %self.inner.uri, keys = keys.keys.len(), ?max_age, "fetched the ID token signing keys");
                st.keys = Some(keys.clone());
                st.expires_at = Some(started + max_age);
                st.last_error = None;
                Ok(keys)
            }
            Err(e) => {
                st.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }
}

fn unavailable(message: String) -> Error {
    Error::auth(Some(KEYS_UNAVAILABLE), message)
}

/// One GET of the set: the keys and how long to keep them.
async fn fetch(uri: &str, timeout: Duration) -> crate::Result<(KeySet, Duration)> {
    let what = format!("fetching the ID token signing keys at {uri}");
    let (body, cache_control, age) = get(uri, timeout, &what).await?;
    let max_age = cache_lifetime(cache_control.as_deref(), age.as_deref());
    let keys = parse_jwks(&body).map_err(|m| unavailable(format!("{what}: {m}")))?;
    Ok((keys, max_age))
}

/// The `jwks_uri` of `issuer`'s OpenID Connect discovery document, whose
/// `issuer` must be `issuer`.
pub(crate) async fn discover_jwks_uri(issuer: &str) -> crate::Result<String> {
    let uri = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let what = format!("reading the OpenID configuration at {uri}");
    let (body, _, _) = get(&uri, DEFAULT_JWKS_TIMEOUT, &what).await?;
    let doc: Value =
        serde_json::from_slice(&body).map_err(|_| unavailable(format!("{what}: not JSON")))?;
    if doc.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(unavailable(format!(
            "{what}: its `issuer` is not `{issuer}`"
        )));
    }
    doc.get("jwks_uri")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| unavailable(format!("{what}: no `jwks_uri`")))
}

/// One bounded GET over the runtime's transport: the body (at most
/// 512 KiB), `Cache-Control` and `Age`. Only 200 is a success.
async fn get(
    uri: &str,
    timeout: Duration,
    what: &str,
) -> crate::Result<(Vec<u8>, Option<String>, Option<String>)> {
    let client = crate::transport::shared()?;
    let mut resp = client
        .get(uri)
        .header(http::header::ACCEPT, "application/json")
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| crate::transport::map_err(e, what))?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(unavailable(format!("{what}: HTTP {status}")));
    }
    let header = |name: http::header::HeaderName| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let cache_control = header(http::header::CACHE_CONTROL);
    let age = header(http::header::AGE);
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| crate::transport::map_err(e, what))?
    {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(unavailable(format!(
                "{what}: the answer is larger than {MAX_JWKS_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, cache_control, age))
}

/// How long an answer may be kept, from `Cache-Control` and `Age`.
pub(crate) fn cache_lifetime(cache_control: Option<&str>, age: Option<&str>) -> Duration {
    let Some(cc) = cache_control else {
        return DEFAULT_JWKS_CACHE;
    };
    let mut max_age = None;
    for directive in cc.split(',') {
        let d = directive.trim().to_ascii_lowercase();
        if d == "no-cache" || d == "no-store" {
            return Duration::ZERO;
        }
        if let Some(v) = d.strip_prefix("max-age=") {
            max_age = v.trim_matches('"').parse::<u64>().ok();
        }
    }
    let Some(max_age) = max_age else {
        return DEFAULT_JWKS_CACHE;
    };
    let age = age.and_then(|a| a.trim().parse::<u64>().ok()).unwrap_or(0);
    Duration::from_secs(max_age.saturating_sub(age)).min(MAX_JWKS_CACHE)
}

fn b64(field: &Value, name: &str) -> Result<Vec<u8>, String> {
    let s = field
        .as_str()
        .ok_or_else(|| format!("a key's `{name}` is not a string"))?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| format!("a key's `{name}` is not base64url"))
}

fn strip_zeros(mut v: Vec<u8>) -> Vec<u8> {
    let lead = v.iter().take_while(|b| **b == 0).count();
    v.drain(..lead);
    v
}

/// Parses a JWKS document; unusable keys are skipped.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<KeySet, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|_| "not JSON".to_owned())?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no `keys` array")?;
    let mut out = Vec::new();
    for k in keys {
        match parse_jwk(k) {
            Ok(Some(jwk)) => out.push(jwk),
            Ok(None) => {}
            Err(e) => tracing::debug!("skipping a key of the key set: {e}"),
        }
    }
    Ok(KeySet { keys: out })
}

fn parse_jwk(k: &Value) -> Result<Option<Jwk>, String> {
    let text = |name: &str| k.get(name).and_then(Value::as_str).map(str::to_owned);
    if text("use").is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let key = match text("kty").as_deref() {
        Some("RSA") => PublicKey::Rsa {
            n: strip_zeros(b64(k.get("n").unwrap_or(&Value::Null), "n")?),
            e: strip_zeros(b64(k.get("e").unwrap_or(&Value::Null), "e")?),
        },
        Some("EC") if text("crv").as_deref() == Some("P-256") => {
            let x = b64(k.get("x").unwrap_or(&Value::Null), "x")?;
            let y = b64(k.get("y").unwrap_or(&Value::Null), "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err("a P-256 key's `x` or `y` is not 32 bytes".into());
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            PublicKey::P256 { point }
        }
        _ => return Ok(None),
    };
    Ok(Some(Jwk {
        kid: text("kid"),
        alg: text("alg"),
        key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_is_honoured_and_bounded() {
        let s = Duration::from_secs;
        assert_eq!(cache_lifetime(None, None), DEFAULT_JWKS_CACHE);
        assert_eq!(
            cache_lifetime(Some("public, max-age=19895, must-revalidate"), None),
            s(19895)
        );
        assert_eq!(cache_lifetime(Some("max-age=120"), Some("100")), s(20));
        assert_eq!(cache_lifetime(Some("max-age=120"), Some("500")), s(0));
        assert_eq!(
            cache_lifetime(Some("Max-Age=999999999"), None),
            MAX_JWKS_CACHE
        );
        assert_eq!(cache_lifetime(Some("no-store"), None), s(0));
        assert_eq!(cache_lifetime(Some("public, no-cache"), None), s(0));
        assert_eq!(cache_lifetime(Some("public"), None), DEFAULT_JWKS_CACHE);
        assert_eq!(cache_lifetime(Some("max-age=x"), None), DEFAULT_JWKS_CACHE);
    }

    #[test]
    fn parses_rsa_and_p256_keys_and_skips_the_rest() {
        let body = br#"{"keys":[
            {"kty":"RSA","kid":"r","alg":"RS256","use":"sig","n":"AAEC","e":"AQAB"},
            {"kty":"EC","crv":"P-256","kid":"e","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"},
            {"kty":"EC","crv":"P-384","kid":"p384","x":"AA","y":"AA"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQ","e":"AQAB"},
            {"kty":"oct","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"bad","n":"!!","e":"AQAB"}
        ]}"#;
        let set = parse_jwks(body).unwrap();
        let kids: Vec<_> = set.keys.iter().map(|k| k.kid.clone().unwrap()).collect();
        assert_eq!(kids, ["r", "e"]);
        assert!(matches!(&set.keys[0].key, PublicKey::Rsa { n, .. } if n == &[1, 2]));
        assert!(matches!(&set.keys[1].key, PublicKey::P256 { point } if point.len() == 65));
        assert!(parse_jwks(b"[]").is_err());
        assert!(parse_jwks(b"nope").is_err());
    }
}
