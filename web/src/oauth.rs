//! [`OAuth2`]: the configuration and the work behind the extractors and the
//! routes (the authorization's start and callback are in `flow.rs`).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Extension, OriginalUri};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use gapi::auth::{
    AuthorizeOptions, IdTokenVerifier, KeyedStorage, OAuthClient, Storage, UserCredentials,
    UserTokenSource,
};
use gapi::clock::SharedClock;
use gapi::{Client, Credentials};
use sha2::{Digest as _, Sha256};

use crate::builder::OAuth2Builder;
use crate::html::page;
use crate::identity::UserIdentity;
use crate::pending::PendingStore;
use crate::redirect::safe_return_path;
use crate::verified::{self, VerifiedIdentity};

/// Token sources kept in memory at most (then the cache is emptied).
const MAX_CACHED_SOURCES: usize = 10_000;

/// A [`KeyedStorage`] with its entry type erased.
pub(crate) trait DynKeyed: Send + Sync + 'static {
    fn entry(&self, key: &str) -> Arc<dyn Storage>;
}

impl<K: KeyedStorage> DynKeyed for K {
    fn entry(&self, key: &str) -> Arc<dyn Storage> {
        Arc::new(self.for_key(key))
    }
}

pub(crate) type ClientFactory = dyn Fn(Credentials) -> gapi::Result<Client> + Send + Sync;

/// The OAuth 2.0 web integration: what oauth2client's `OAuth2Decorator` was,
/// for axum. Cheap to clone.
///
/// - [`routes`](Self::routes): the callback route (`/oauth2callback`, or the
///   redirect URI's path) and the authorization route
///   (`/oauth2authorize?return_to=/page&scope=…`), to merge into the app.
/// - [`layer`](Self::layer): makes the extractors [`OAuthRequired`](crate::OAuthRequired)
///   and [`OAuthAware`](crate::OAuthAware) work on the routes it wraps.
///
/// The flow: a protected page with no usable credentials for the signed-in
/// user redirects to the consent screen; the `state` is random, single-use,
/// kept server-side with the PKCE verifier and bound to the user, their
/// session, the browser (an HttpOnly cookie) and the page to return to; the
/// callback checks all of that before exchanging the code and storing
/// anything, then returns to the page.
///
/// Each user's [`UserTokenSource`] is kept in memory while its credentials
/// stay usable, so a page view costs no storage read; refreshes still go
/// through the storage's lock (and adopt what another process refreshed).
/// To sign a user out of Google, use [`revoke`](Self::revoke) rather than
/// deleting the stored credentials behind the cache's back.
#[derive(Clone)]
pub struct OAuth2 {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client: OAuthClient,
    pub(crate) redirect_uri: String,
    pub(crate) storage: Arc<dyn DynKeyed>,
    pub(crate) identity: Arc<dyn UserIdentity>,
    pub(crate) scopes: Vec<String>,
    pub(crate) allowed: RwLock<BTreeSet<String>>,
    pub(crate) authorize_path: String,
    pub(crate) callback_path: String,
    pub(crate) incremental: bool,
    pub(crate) options: AuthorizeOptions,
    pub(crate) pending: Arc<dyn PendingStore>,
    pub(crate) pending_ttl: Duration,
    pub(crate) client_factory: Option<Arc<ClientFactory>>,
    pub(crate) verifier: IdTokenVerifier,
    pub(crate) clock: SharedClock,
    pub(crate) sources: Mutex<HashMap<String, UserTokenSource>>,
    pub(crate) binding_cookie: String,
    pub(crate) secure: bool,
}

impl fmt::Debug for OAuth2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2")
            .field("client", &self.inner.client)
            .field("redirect_uri", &self.inner.redirect_uri)
            .field("callback_path", &self.inner.callback_path)
            .field("authorize_path", &self.inner.authorize_path)
            .field("scopes", &self.inner.scopes)
            .field("incremental", &self.inner.incremental)
            .finish_non_exhaustive()
    }
}

/// Whether stored credentials can serve requests needing `scopes` without a
/// new consent.
pub(crate) fn usable(c: &UserCredentials, scopes: &[String], now: SystemTime) -> bool {
    !c.is_invalid() && c.has_scopes(scopes) && (c.refresh_token().is_some() || !c.is_expired(now))
}

/// The id under which a state's record is kept: SHA-256 of the state.
pub(crate) fn state_id(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub(crate) fn hash_hex(v: &str) -> String {
    state_id(v)
}

/// Compares in constant time (for equal lengths).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn well_formed_binding(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Credentials as they should be stored after a new grant: the new ones
/// (with the grant's verified identity, if any), but keeping the stored
/// refresh token when the new grant came without one (an incremental
/// consent) — unless the stored credentials are another account's.
pub(crate) fn merge(
    new: UserCredentials,
    identity: Option<&VerifiedIdentity>,
    stored: Option<UserCredentials>,
) -> UserCredentials {
    let new = verified::attach(new, identity);
    let same_account = |s: &UserCredentials| match (identity, verified::of(s)) {
        (Some(a), Some(b)) => a.same_account(&b),
        _ => true,
    };
    let Some(old_rt) = stored
        .filter(|s| !s.is_invalid() && s.client_id() == new.client_id() && same_account(s))
        .and_then(|s| s.refresh_token().cloned())
    else {
        return new;
    };
    if new.refresh_token().is_some() {
        return new;
    }
    let mut out = UserCredentials::new(new.client_id(), new.client_secret().cloned(), Some(old_rt))
        .with_scopes(new.scopes().iter().cloned())
        .with_token_uri(new.token_uri())
        .with_revoke_uri(new.revoke_uri())
        .with_id_token(new.id_token().cloned());
    if let Some(at) = new.access_token() {
        out = out.with_access_token(at.clone(), new.expiry());
    }
    if let Some(q) = new.quota_project() {
        out = out.with_quota_project(q);
    }
    verified::attach(out, identity)
}

/// The current request's path and query, checked (`/` if it is odd).
pub(crate) fn current_path(parts: &Parts) -> String {
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map(|o| &o.0)
        .unwrap_or(&parts.uri);
    uri.path_and_query()
        .and_then(|pq| safe_return_path(pq.as_str()))
        .unwrap_or_else(|| "/".to_owned())
}

pub(crate) fn internal_error(what: &str, e: &gapi::Error) -> Response {
    tracing::error!(error = %e, "{what}");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        what,
        None,
    )
}

impl OAuth2 {
    /// A builder for the web server flow of `client` (its id, secret,
    /// endpoints; its scopes are ignored: see
    /// [`OAuth2Builder::scopes`]) with the absolute `redirect_uri` registered
    /// for it.
    pub fn builder(client: OAuthClient, redirect_uri: impl Into<String>) -> OAuth2Builder {
        OAuth2Builder::new(client, redirect_uri.into())
    }

    /// The callback and authorization routes, to merge into the app's router.
    pub fn routes<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        Router::new()
            .route(&self.inner.callback_path, get(crate::routes::callback))
            .route(&self.inner.authorize_path, get(crate::routes::authorize))
            .with_state(self.clone())
    }

    /// The layer that gives the extractors this configuration:
    /// `router.layer(oauth.layer())`.
    pub fn layer(&self) -> Extension<OAuth2> {
        Extension(self.clone())
    }

    /// The callback path.
    pub fn callback_path(&self) -> &str {
        &self.inner.callback_path
    }

    /// The authorization route's path.
    pub fn authorize_path(&self) -> &str {
        &self.inner.authorize_path
    }

    /// The default scopes.
    pub fn scopes(&self) -> &[String] {
        &self.inner.scopes
    }

    /// The link to the authorization route that returns to `return_to`
    /// (which must be a [safe](crate::safe_return_path) path) and asks for
    /// the default scopes plus `extra_scopes`.
    pub fn authorize_link(&self, return_to: &str, extra_scopes: &[&str]) -> String {
        let return_to = safe_return_path(return_to).unwrap_or_else(|| "/".to_owned());
        self.allow(extra_scopes);
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("return_to", &return_to);
        if !extra_scopes.is_empty() {
            q.append_pair("scope", &extra_scopes.join(" "));
        }
        format!("{}?{}", self.inner.authorize_path, q.finish())
    }

    /// A token source of `user_id`'s stored credentials, whatever their
    /// scopes (for background work); `None` when nothing usable is stored.
    pub async fn token_source(&self, user_id: &str) -> gapi::Result<Option<UserTokenSource>> {
        self.usable_source(user_id, &[]).await
    }

    /// Forgets `user_id`'s credentials: revokes the grant at the
    /// authorization server (best effort) and deletes them from the storage.
    pub async fn revoke(&self, user_id: &str) -> gapi::Result<()> {
        self.forget_cached(user_id);
        let entry = self.inner.storage.entry(user_id);
        if let Some(c) = entry.get().await? {
            let source = UserTokenSource::builder(c)
                .with_storage(entry.clone())
                .build();
            if let Err(e) = source.revoke().await {
                tracing::warn!(error = %e, "could not revoke the grant; deleting it anyway");
            }
        }
        entry.delete().await
    }

    /// The API client for these credentials.
    pub(crate) fn client_for(&self, credentials: Credentials) -> gapi::Result<Client> {
        match &self.inner.client_factory {
            Some(f) => f(credentials),
            None => Client::new(credentials),
        }
    }

    /// Registers scopes asked for by extractors, for the authorization route.
    pub(crate) fn allow(&self, scopes: &[&str]) {
        if scopes.is_empty() {
            return;
        }
        let known = {
            let allowed = self.inner.allowed.read().unwrap_or_else(|p| p.into_inner());
            scopes.iter().all(|s| allowed.contains(*s))
        };
        if !known {
            let mut allowed = self
                .inner
                .allowed
                .write()
                .unwrap_or_else(|p| p.into_inner());
            allowed.extend(scopes.iter().map(|s| s.to_string()));
        }
    }

    pub(crate) fn is_allowed(&self, scope: &str) -> bool {
        self.inner
            .allowed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(scope)
    }

    /// The default scopes plus `extra`, without duplicates, in order.
    pub(crate) fn required_scopes(&self, extra: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in self
            .inner
            .scopes
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
        {
            if !out.iter().any(|o| o == s) {
                out.push(s.to_owned());
            }
        }
        out
    }

    /// The configuration from a request's extensions (put there by
    /// [`layer`](Self::layer)).
    pub(crate) fn from_parts(parts: &Parts) -> Option<OAuth2> {
        parts.extensions.get::<OAuth2>().cloned()
    }

    /// The answer when [`layer`](Self::layer) is missing.
    pub(crate) fn missing_layer() -> Response {
        tracing::error!("gapi-axum: the OAuth2 layer is missing; add .layer(oauth.layer())");
        page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Misconfigured",
            "The OAuth 2.0 layer is missing on this route.",
            None,
        )
    }

    fn cached(&self, user_id: &str) -> Option<UserTokenSource> {
        self.inner
            .sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(user_id)
            .cloned()
    }

    pub(crate) fn cache(&self, user_id: &str, source: UserTokenSource) {
        let mut map = self.inner.sources.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED_SOURCES && !map.contains_key(user_id) {
            map.clear();
        }
        map.insert(user_id.to_owned(), source);
    }

    /// The verified identity stored with `user_id`'s credentials, if any
    /// (see [`VerifiedIdentity`]).
    pub async fn verified_identity(&self, user_id: &str) -> gapi::Result<Option<VerifiedIdentity>> {
        Ok(self
            .usable_source(user_id, &[])
            .await?
            .and_then(|s| verified::of(&s.current())))
    }

    pub(crate) fn forget_cached(&self, user_id: &str) {
        self.inner
            .sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(user_id);
    }

    /// A token source for `user_id` whose credentials have `scopes`, from
    /// the cache or the storage; `None` when a consent is needed.
    pub(crate) async fn usable_source(
        &self,
        user_id: &str,
        scopes: &[String],
    ) -> gapi::Result<Option<UserTokenSource>> {
        let now = self.inner.clock.now();
        if let Some(src) = self.cached(user_id)
            && usable(&src.current(), scopes, now)
        {
            return Ok(Some(src));
        }
        // Not cached, or not enough: the storage may know better (another
        // server process may have completed a consent).
        let entry = self.inner.storage.entry(user_id);
        let Some(stored) = entry.get().await? else {
            self.forget_cached(user_id);
            return Ok(None);
        };
        if !usable(&stored, scopes, now) {
            return Ok(None);
        }
        let src = UserTokenSource::builder(stored).with_storage(entry).build();
        self.cache(user_id, src.clone());
        Ok(Some(src))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gapi::auth::{AccessToken, RefreshToken};

    #[test]
    fn merge_keeps_the_old_refresh_token_only_when_needed() {
        let old =
            UserCredentials::new("c", None, Some(RefreshToken::new("old-rt"))).with_scopes(["a"]);
        let new = UserCredentials::new("c", None, None)
            .with_access_token(AccessToken::new("at"), None)
            .with_scopes(["a", "b"]);
        let m = merge(new.clone(), None, Some(old.clone()));
        assert_eq!(m.refresh_token().unwrap().secret(), "old-rt");
        assert_eq!(m.scopes(), ["a", "b"]);
        assert_eq!(m.access_token().unwrap().secret(), "at");
        let with_rt = UserCredentials::new("c", None, Some(RefreshToken::new("new-rt")));
        assert_eq!(
            merge(with_rt, None, Some(old.clone()))
                .refresh_token()
                .unwrap()
                .secret(),
            "new-rt"
        );
        let mut dead = old;
        dead.set_invalid(true);
        assert!(merge(new, None, Some(dead)).refresh_token().is_none());
    }

    #[test]
    fn another_accounts_refresh_token_is_never_carried_over() {
        let id = |sub: &str| -> VerifiedIdentity {
            serde_json::from_value(serde_json::json!({"iss": "i", "sub": sub, "verified_at": 1}))
                .unwrap()
        };
        let old = verified::attach(
            UserCredentials::new("c", None, Some(RefreshToken::new("old-rt"))),
            Some(&id("account-1")),
        );
        let new =
            UserCredentials::new("c", None, None).with_access_token(AccessToken::new("at"), None);
        let same = merge(new.clone(), Some(&id("account-1")), Some(old.clone()));
        assert_eq!(same.refresh_token().unwrap().secret(), "old-rt");
        assert_eq!(verified::of(&same).unwrap().subject(), "account-1");
        let other = merge(new.clone(), Some(&id("account-2")), Some(old.clone()));
        assert!(other.refresh_token().is_none(), "another account's grant");
        assert_eq!(verified::of(&other).unwrap().subject(), "account-2");
        // No identity on the new grant: no claim to compare, the old one goes.
        let unknown = merge(new, None, Some(old));
        assert!(verified::of(&unknown).is_none());
    }

    #[test]
    fn usable_needs_scopes_and_a_way_to_refresh() {
        let now = SystemTime::now();
        let c = UserCredentials::new("c", None, Some(RefreshToken::new("rt"))).with_scopes(["a"]);
        assert!(usable(&c, &["a".into()], now));
        assert!(!usable(&c, &["a".into(), "b".into()], now));
        let no_rt = UserCredentials::new("c", None, None)
            .with_access_token(AccessToken::new("at"), Some(now - Duration::from_secs(1)));
        assert!(!usable(&no_rt, &[], now));
        let mut invalid = c.clone();
        invalid.set_invalid(true);
        assert!(!usable(&invalid, &[], now));
    }

    #[test]
    fn constant_time_compare() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
