//! [`OAuth2`]: the configuration and the work behind the extractors and the
//! routes.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::extract::{Extension, OriginalUri};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use gapi::auth::{
    AccessType, AuthorizeOptions, KeyedStorage, OAuthClient, Storage, UserCredentials,
    UserTokenSource, WebServerFlow,
};
use gapi::{Client, Credentials};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::html::{page, redirect};
use crate::identity::{User, UserIdentity};
use crate::pending::{MemoryPendingStore, PendingRecord, PendingStore};
use crate::redirect::safe_return_path;

/// The default path of the authorization route (`?return_to=…&scope=…`).
pub const DEFAULT_AUTHORIZE_PATH: &str = "/oauth2authorize";
/// The default callback path, when the redirect URI has no path.
pub const DEFAULT_CALLBACK_PATH: &str = "/oauth2callback";
/// How long an authorization may take from redirect to callback.
pub const DEFAULT_PENDING_TTL: Duration = Duration::from_secs(600);
/// The SQLite file used when no storage is configured.
pub const DEFAULT_SQLITE_FILE: &str = "gapi-credentials.sqlite";

/// Token sources kept in memory at most (then the cache is emptied).
const MAX_CACHED_SOURCES: usize = 10_000;

/// A [`KeyedStorage`] with its entry type erased.
trait DynKeyed: Send + Sync + 'static {
    fn entry(&self, key: &str) -> Arc<dyn Storage>;
}

impl<K: KeyedStorage> DynKeyed for K {
    fn entry(&self, key: &str) -> Arc<dyn Storage> {
        Arc::new(self.for_key(key))
    }
}

type ClientFactory = dyn Fn(Credentials) -> gapi::Result<Client> + Send + Sync;

/// Builds an [`OAuth2`]; made by [`OAuth2::builder`].
pub struct OAuth2Builder {
    client: OAuthClient,
    redirect_uri: String,
    storage: Option<Arc<dyn DynKeyed>>,
    identity: Option<Arc<dyn UserIdentity>>,
    scopes: Vec<String>,
    allowed_scopes: Vec<String>,
    authorize_path: String,
    callback_path: Option<String>,
    incremental: bool,
    options: AuthorizeOptions,
    pending: Option<Arc<dyn PendingStore>>,
    pending_ttl: Duration,
    client_factory: Option<Arc<ClientFactory>>,
}

impl OAuth2Builder {
    /// How the application tells who is signed in (required).
    pub fn identity(mut self, identity: impl UserIdentity) -> Self {
        self.identity = Some(Arc::new(identity));
        self
    }

    /// Where users' credentials live, by user id: any [`KeyedStorage`]
    /// (default: SQLite in [`DEFAULT_SQLITE_FILE`] in the working directory).
    pub fn storage(mut self, storage: impl KeyedStorage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// The scopes every protected page needs (extractors add their own).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Scopes the authorization route accepts in its `scope` parameter
    /// besides the default ones and those of extractors already used (use it
    /// for links built by hand).
    pub fn allow_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// The path of the authorization route (default [`DEFAULT_AUTHORIZE_PATH`]).
    pub fn authorize_path(mut self, path: impl Into<String>) -> Self {
        self.authorize_path = path.into();
        self
    }

    /// The path of the callback route (default: the path of the redirect
    /// URI, or [`DEFAULT_CALLBACK_PATH`]).
    pub fn callback_path(mut self, path: impl Into<String>) -> Self {
        self.callback_path = Some(path.into());
        self
    }

    /// Incremental authorization (default on): asking for more scopes keeps
    /// the granted ones (`include_granted_scopes=true`, and the granted
    /// scopes are asked for again).
    pub fn incremental(mut self, yes: bool) -> Self {
        self.incremental = yes;
        self
    }

    /// Options of every authorization request (access type, `prompt`, extra
    /// parameters). By default access is offline, and `prompt=consent` is
    /// sent when no usable refresh token is stored for the user (Google only
    /// returns a refresh token with the consent screen).
    pub fn authorize_options(mut self, options: AuthorizeOptions) -> Self {
        self.options = options;
        self
    }

    /// Where authorizations in progress wait (default [`MemoryPendingStore`]).
    pub fn pending_store(mut self, store: impl PendingStore) -> Self {
        self.pending = Some(Arc::new(store));
        self
    }

    /// How long an authorization may take (default [`DEFAULT_PENDING_TTL`]).
    pub fn pending_ttl(mut self, ttl: Duration) -> Self {
        self.pending_ttl = ttl;
        self
    }

    /// How API clients are built from a user's credentials (default
    /// [`Client::new`]).
    pub fn client_factory(
        mut self,
        factory: impl Fn(Credentials) -> gapi::Result<Client> + Send + Sync + 'static,
    ) -> Self {
        self.client_factory = Some(Arc::new(factory));
        self
    }

    /// Checks the settings.
    pub fn build(self) -> gapi::Result<OAuth2> {
        let bad = |m: String| gapi::Error::new(gapi::ErrorKind::Request, m);
        let redirect = url::Url::parse(&self.redirect_uri).map_err(|e| {
            bad(format!(
                "the redirect URI `{}` is not a URL: {e}",
                self.redirect_uri
            ))
        })?;
        if !matches!(redirect.scheme(), "http" | "https") {
            return Err(bad("the redirect URI must be http or https".into()));
        }
        let callback_path = self.callback_path.unwrap_or_else(|| match redirect.path() {
            "" | "/" => DEFAULT_CALLBACK_PATH.to_owned(),
            p => p.to_owned(),
        });
        for (what, p) in [
            ("callback", &callback_path),
            ("authorize", &self.authorize_path),
        ] {
            if !p.starts_with('/') || p.contains('?') {
                return Err(bad(format!(
                    "the {what} path `{p}` must start with `/` and have no query"
                )));
            }
        }
        let identity = self
            .identity
            .ok_or_else(|| bad("OAuth2 needs a UserIdentity (OAuth2Builder::identity)".into()))?;
        let storage = match self.storage {
            Some(s) => s,
            None => Arc::new(gapi_storage::SqliteKeyedStorage::open(PathBuf::from(
                DEFAULT_SQLITE_FILE,
            ))?),
        };
        let secure = redirect.scheme() == "https";
        let mut allowed: BTreeSet<String> = self.scopes.iter().cloned().collect();
        allowed.extend(self.allowed_scopes);
        Ok(OAuth2 {
            inner: Arc::new(Inner {
                client: self.client,
                redirect_uri: self.redirect_uri,
                storage,
                identity,
                scopes: self.scopes,
                allowed: RwLock::new(allowed),
                authorize_path: self.authorize_path,
                callback_path,
                incremental: self.incremental,
                options: self.options,
                pending: self
                    .pending
                    .unwrap_or_else(|| Arc::new(MemoryPendingStore::new())),
                pending_ttl: self.pending_ttl,
                client_factory: self.client_factory,
                sources: Mutex::new(HashMap::new()),
                binding_cookie: if secure {
                    "__Host-gapi_oauth".to_owned()
                } else {
                    "gapi_oauth".to_owned()
                },
                secure,
            }),
        })
    }
}

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
    client: OAuthClient,
    redirect_uri: String,
    storage: Arc<dyn DynKeyed>,
    pub(crate) identity: Arc<dyn UserIdentity>,
    scopes: Vec<String>,
    allowed: RwLock<BTreeSet<String>>,
    pub(crate) authorize_path: String,
    pub(crate) callback_path: String,
    incremental: bool,
    options: AuthorizeOptions,
    pending: Arc<dyn PendingStore>,
    pending_ttl: Duration,
    client_factory: Option<Arc<ClientFactory>>,
    sources: Mutex<HashMap<String, UserTokenSource>>,
    binding_cookie: String,
    secure: bool,
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
fn usable(c: &UserCredentials, scopes: &[String], now: SystemTime) -> bool {
    !c.is_invalid() && c.has_scopes(scopes) && (c.refresh_token().is_some() || !c.is_expired(now))
}

/// The id under which a state's record is kept: SHA-256 of the state.
fn state_id(state: &str) -> String {
    Sha256::digest(state.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hash_hex(v: &str) -> String {
    state_id(v)
}

/// Compares in constant time (for equal lengths).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn well_formed_binding(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Credentials as they should be stored after a new grant: the new ones, but
/// keeping the stored refresh token when the new grant came without one (an
/// incremental consent).
fn merge(new: UserCredentials, stored: Option<UserCredentials>) -> UserCredentials {
    let Some(old_rt) = stored
        .filter(|s| !s.is_invalid() && s.client_id() == new.client_id())
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
    out
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
        OAuth2Builder {
            client,
            redirect_uri: redirect_uri.into(),
            storage: None,
            identity: None,
            scopes: Vec::new(),
            allowed_scopes: Vec::new(),
            authorize_path: DEFAULT_AUTHORIZE_PATH.to_owned(),
            callback_path: None,
            incremental: true,
            options: AuthorizeOptions::new(),
            pending: None,
            pending_ttl: DEFAULT_PENDING_TTL,
            client_factory: None,
        }
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

    fn cache(&self, user_id: &str, source: UserTokenSource) {
        let mut map = self.inner.sources.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED_SOURCES && !map.contains_key(user_id) {
            map.clear();
        }
        map.insert(user_id.to_owned(), source);
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
        let now = SystemTime::now();
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

    /// Starts an authorization for `user` asking for `scopes` (plus the
    /// granted ones, when incremental), returning to `return_to`: keeps the
    /// pending record and answers the redirect to the consent screen.
    pub(crate) async fn begin(
        &self,
        parts: &Parts,
        user: &User,
        return_to: &str,
        scopes: &[String],
    ) -> Response {
        let inner = &self.inner;
        let stored = match inner.storage.entry(user.id()).get().await {
            Ok(s) => s.filter(|c| !c.is_invalid()),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the stored credentials before an authorization");
                None
            }
        };
        let mut ask: Vec<String> = scopes.to_vec();
        let mut options = inner.options.clone();
        if inner.incremental {
            options.include_granted_scopes = true;
            if let Some(s) = &stored {
                for g in s.scopes() {
                    if !ask.contains(g) {
                        ask.push(g.clone());
                    }
                }
            }
        }
        if ask.is_empty() {
            return page(
                StatusCode::BAD_REQUEST,
                "Nothing to authorize",
                "No scopes were asked for.",
                None,
            );
        }
        if options.login_hint.is_none() {
            options.login_hint = user.login_hint().map(str::to_owned);
        }
        let has_refresh_token = stored.as_ref().is_some_and(|s| s.refresh_token().is_some());
        if options.prompt.is_none()
            && options.access_type == AccessType::Offline
            && !has_refresh_token
        {
            options.prompt = Some("consent".to_owned());
        }
        let flow = WebServerFlow::new(
            inner.client.clone().with_scopes(ask.clone()),
            inner.redirect_uri.clone(),
        );
        let pending = match flow.authorize_url(&options) {
            Ok(p) => p,
            Err(e) => return internal_error("Could not build the authorization request.", &e),
        };
        let binding = crate::identity::cookie(parts, &inner.binding_cookie)
            .filter(|v| well_formed_binding(v))
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let mut b = [0u8; 32];
                rand::rng().fill_bytes(&mut b);
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
            });
        let expires_at = SystemTime::now() + inner.pending_ttl;
        let record = PendingRecord {
            pending: pending.clone(),
            user_id: user.id().to_owned(),
            session: user.session().map(str::to_owned),
            binding: hash_hex(&binding),
            return_to: return_to.to_owned(),
            scopes: ask,
            expires_at: expires_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        if let Err(e) = inner
            .pending
            .insert(state_id(pending.state().secret()), record)
            .await
        {
            return internal_error("Could not keep the authorization request.", &e);
        }
        let cookie = format!(
            "{}={binding}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
            inner.binding_cookie,
            inner.pending_ttl.as_secs(),
            if inner.secure { "; Secure" } else { "" }
        );
        tracing::debug!(
            user = user.id(),
            return_to,
            "redirecting to the consent screen"
        );
        redirect(pending.url(), Some(cookie))
    }

    /// The callback: verifies the state and its bindings, exchanges the code,
    /// stores the credentials, and returns to the page.
    pub(crate) async fn finish(&self, parts: &Parts) -> Response {
        let inner = &self.inner;
        let bad_request = |m: &str| page(StatusCode::BAD_REQUEST, "Authorization failed", m, None);
        let forbidden = |m: &str| page(StatusCode::FORBIDDEN, "Authorization refused", m, None);
        let params = gapi::auth::CallbackParams::from_query(parts.uri.query().unwrap_or_default());
        let Some(state) = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 512)
        else {
            return bad_request("The authorization response has no valid state.");
        };
        // Single use: whatever follows, this state is consumed.
        let record = match inner.pending.take(&state_id(state)).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                return bad_request(
                    "This authorization response is unknown, expired or was already used.",
                );
            }
            Err(e) => return internal_error("Could not look up the authorization request.", &e),
        };
        if record.is_expired(SystemTime::now()) {
            return bad_request("This authorization request expired; please try again.");
        }
        let Some(user) = inner.identity.identify(parts).await else {
            return forbidden("Sign in before completing an authorization.");
        };
        if !ct_eq(user.id().as_bytes(), record.user_id.as_bytes()) {
            tracing::warn!("an authorization response for another user was refused");
            return forbidden("This authorization was started by another user.");
        }
        if let Some(expected) = &record.session
            && !user
                .session()
                .is_some_and(|s| ct_eq(s.as_bytes(), expected.as_bytes()))
        {
            return forbidden("This authorization was started in another session.");
        }
        let binding_ok = crate::identity::cookie(parts, &inner.binding_cookie)
            .is_some_and(|v| ct_eq(hash_hex(v).as_bytes(), record.binding.as_bytes()));
        if !binding_ok {
            return forbidden("This authorization was started in another browser.");
        }
        let flow = WebServerFlow::new(
            inner.client.clone().with_scopes(record.scopes.clone()),
            inner.redirect_uri.clone(),
        );
        let fresh = match flow.exchange(&record.pending, &params).await {
            Ok(c) => c,
            Err(e) => {
                let code = e.auth_error().and_then(|a| a.code.clone());
                let retry = self.authorize_link(&record.return_to, &[]);
                return if code.as_deref() == Some("access_denied") {
                    page(
                        StatusCode::FORBIDDEN,
                        "Access not granted",
                        "You did not grant access.",
                        Some((&retry, "Try again")),
                    )
                } else {
                    tracing::warn!(error = %e, "the authorization failed");
                    page(
                        StatusCode::BAD_GATEWAY,
                        "Authorization failed",
                        "The authorization server did not complete the authorization.",
                        Some((&retry, "Try again")),
                    )
                };
            }
        };
        let entry = inner.storage.entry(user.id());
        let stored = {
            let mut guard = match entry.lock().await {
                Ok(g) => g,
                Err(e) => return internal_error("Could not store the credentials.", &e),
            };
            // An unreadable old value (a changed key…) is replaced.
            let old = guard.get().await.ok().flatten();
            let merged = merge(fresh, old);
            let written = guard.put(&merged).await;
            let released = guard.release().await;
            if let Err(e) = written.and(released) {
                return internal_error("Could not store the credentials.", &e);
            }
            merged
        };
        let source = UserTokenSource::builder(stored).with_storage(entry).build();
        self.cache(user.id(), source);
        tracing::info!(user = user.id(), "stored new credentials");
        let back = safe_return_path(&record.return_to).unwrap_or_else(|| "/".to_owned());
        redirect(&back, None)
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
        let m = merge(new.clone(), Some(old.clone()));
        assert_eq!(m.refresh_token().unwrap().secret(), "old-rt");
        assert_eq!(m.scopes(), ["a", "b"]);
        assert_eq!(m.access_token().unwrap().secret(), "at");
        let with_rt = UserCredentials::new("c", None, Some(RefreshToken::new("new-rt")));
        assert_eq!(
            merge(with_rt, Some(old.clone()))
                .refresh_token()
                .unwrap()
                .secret(),
            "new-rt"
        );
        let mut dead = old;
        dead.set_invalid(true);
        assert!(merge(new, Some(dead)).refresh_token().is_none());
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
