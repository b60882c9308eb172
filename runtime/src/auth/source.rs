//! [`UserTokenSource`]: user credentials that refresh themselves, once.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use super::storage::Storage;
use super::token::{self, RequestConfig};
use super::{AccessToken, Authorization, CredentialSource, Credentials, UserCredentials};
use crate::clock::{BoxFuture, SharedClock, default_clock};
use crate::{Error, ErrorKind};

/// How long before expiry a token is refreshed, by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// After a failed early refresh, how long the still-valid token is used
/// without trying again.
const RETRY_EARLY_REFRESH_AFTER: Duration = Duration::from_secs(30);

/// A [`CredentialSource`] for [`UserCredentials`]: it hands out the access
/// token and refreshes it with the refresh token.
///
/// - **Proactive**: a token is refreshed when it is within the refresh margin
///   of its expiry ([`DEFAULT_REFRESH_MARGIN`], 5 minutes). If that early
///   refresh fails transiently, the still-valid token keeps being used.
/// - **Single flight**: concurrent callers that find the token stale wait for
///   one refresh; they do not each make their own. Callers that were waiting
///   on a refresh that failed get its error without another request.
/// - **Storage**: with a [`Storage`], the refresh re-reads it under its lock
///   first and adopts a token another process already refreshed; otherwise it
///   refreshes and writes the result back before unlocking. If the lock times
///   out, the refresh goes ahead without reading or writing the storage.
/// - **Rotation**: a response without `refresh_token` keeps the old one; a new
///   one replaces it.
/// - **Errors**: `invalid_grant` (revoked or expired grant) marks the
///   credentials invalid, in memory and in the storage, and fails with
///   [`Error::needs_reauthorization`]; network errors, 5xx and 429 are retried
///   with backoff and never mark anything invalid.
///
/// Cheap to clone; clones share one token cache.
#[derive(Clone)]
pub struct UserTokenSource {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Held while a refresh (or revocation) is in flight.
    flight: tokio::sync::Mutex<()>,
    /// Incremented when a refresh attempt finishes.
    generation: AtomicU64,
    storage: Option<Arc<dyn Storage>>,
    clock: SharedClock,
    margin: Duration,
    request: RequestConfig,
}

struct State {
    credentials: UserCredentials,
    /// When the current token was obtained by this source, if it was.
    obtained_at: Option<SystemTime>,
    last_failure: Option<LastFailure>,
}

/// Enough of a refresh error to hand a copy to callers that waited for it.
struct LastFailure {
    generation: u64,
    at: SystemTime,
    kind: ErrorKind,
    code: Option<String>,
    description: String,
    transient: bool,
}

impl LastFailure {
    fn new(e: &Error, generation: u64, at: SystemTime) -> Self {
        LastFailure {
            generation,
            at,
            kind: e.kind(),
            code: e.auth_error().and_then(|a| a.code.clone()),
            description: e
                .auth_error()
                .map(|a| a.description.clone())
                .unwrap_or_else(|| e.to_string()),
            transient: e.is_transient(),
        }
    }

    fn to_error(&self) -> Error {
        if self.kind == ErrorKind::Auth {
            Error::auth(self.code.as_deref(), self.description.clone())
        } else {
            let kind = if self.transient && !matches!(self.kind, ErrorKind::Timeout) {
                ErrorKind::Transport
            } else {
                self.kind
            };
            Error::new(kind, self.description.clone())
        }
    }
}

/// What makes a refresh necessary.
enum Need {
    /// The token is missing or within the margin of its expiry.
    Stale,
    /// The server answered 401 to this token.
    Rejected(AccessToken),
}

/// Builds a [`UserTokenSource`].
pub struct UserTokenSourceBuilder {
    credentials: UserCredentials,
    storage: Option<Arc<dyn Storage>>,
    clock: Option<SharedClock>,
    margin: Duration,
    request: RequestConfig,
}

impl UserTokenSourceBuilder {
    /// Writes refreshed credentials back to `storage`, and coordinates
    /// refreshes through its lock.
    pub fn with_storage(mut self, storage: impl Storage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Refreshes this long before the token expires (default 5 minutes).
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The clock for expiry and backoff (default: system time, tokio sleep).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The timeout of one HTTP request to the token endpoint (default 30 s).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request.timeout = timeout;
        self
    }

    /// How many times a transiently failing refresh is attempted in total
    /// (default 3, at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.request.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff delay between attempts; it doubles each time
    /// (default 1 s).
    pub fn with_initial_backoff(mut self, delay: Duration) -> Self {
        self.request.initial_backoff = delay;
        self
    }

    /// The source.
    pub fn build(self) -> UserTokenSource {
        UserTokenSource {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    credentials: self.credentials,
                    obtained_at: None,
                    last_failure: None,
                }),
                flight: tokio::sync::Mutex::new(()),
                generation: AtomicU64::new(0),
                storage: self.storage,
                clock: self.clock.unwrap_or_else(default_clock),
                margin: self.margin,
                request: self.request,
            }),
        }
    }
}

impl UserTokenSource {
    /// A source for `credentials` with the defaults and no storage.
    pub fn new(credentials: UserCredentials) -> Self {
        Self::builder(credentials).build()
    }

    /// A builder for a source of `credentials`.
    pub fn builder(credentials: UserCredentials) -> UserTokenSourceBuilder {
        UserTokenSourceBuilder {
            credentials,
            storage: None,
            clock: None,
            margin: DEFAULT_REFRESH_MARGIN,
            request: RequestConfig::default(),
        }
    }

    /// Loads the credentials in `storage` and returns a builder that writes
    /// back to it; `None` when the storage is empty (run a flow first).
    pub async fn from_storage(
        storage: impl Storage,
    ) -> crate::Result<Option<UserTokenSourceBuilder>> {
        let Some(credentials) = storage.get().await? else {
            return Ok(None);
        };
        Ok(Some(Self::builder(credentials).with_storage(storage)))
    }

    /// [`Credentials`] backed by this source (sharing its token cache), for a
    /// client.
    pub fn credentials(&self) -> Credentials {
        Credentials::from_source(self.clone())
    }

    /// A copy of the current credentials.
    pub fn current(&self) -> UserCredentials {
        self.state().credentials.clone()
    }

    /// A valid access token, refreshing first if needed.
    pub async fn access_token(&self) -> crate::Result<AccessToken> {
        let auth = self.authorize().await?;
        auth.access_token()
            .cloned()
            .ok_or_else(|| Error::auth(None, "no access token"))
    }

    /// Refreshes now, whatever the expiry (still single-flight: callers that
    /// wait on a refresh in progress share its result).
    pub async fn force_refresh(&self) -> crate::Result<UserCredentials> {
        let used = self.current().access_token().cloned();
        match used {
            Some(t) => self.refresh(Need::Rejected(t)).await,
            None => self.refresh(Need::Stale).await,
        }
    }

    /// Revokes the grant at the revocation endpoint (the refresh token, or
    /// the access token when there is none), marks these credentials invalid
    /// and deletes them from the storage.
    pub async fn revoke(&self) -> crate::Result<()> {
        let inner = &self.inner;
        let _flight = inner.flight.lock().await;
        let cur = self.current();
        let token = cur
            .refresh_token()
            .map(|t| t.secret())
            .or_else(|| cur.access_token().map(|t| t.secret()))
            .ok_or_else(|| Error::auth(None, "there is no token to revoke"))?;
        token::revoke(cur.revoke_uri(), token, &inner.request, &inner.clock).await?;
        tracing::info!(client_id = cur.client_id(), "revoked the grant");
        self.state().credentials.set_invalid(true);
        if let Some(storage) = &inner.storage {
            storage.delete().await?;
        }
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The refresh margin for a token obtained at `obtained_at`: at most half
    /// its lifetime, so a server that hands out tokens shorter-lived than the
    /// margin does not get a refresh on every request.
    fn margin_for(&self, c: &UserCredentials, obtained_at: Option<SystemTime>) -> Duration {
        match (c.expiry(), obtained_at) {
            (Some(exp), Some(at)) => exp
                .duration_since(at)
                .map(|life| self.inner.margin.min(life / 2))
                .unwrap_or(self.inner.margin),
            _ => self.inner.margin,
        }
    }

    fn needs(
        &self,
        c: &UserCredentials,
        obtained_at: Option<SystemTime>,
        need: &Need,
        now: SystemTime,
    ) -> bool {
        match need {
            Need::Stale => c.needs_refresh(now, self.margin_for(c, obtained_at)),
            Need::Rejected(t) => c.access_token().is_none_or(|cur| cur == t),
        }
    }

    async fn authorize(&self) -> crate::Result<Authorization> {
        let now = self.inner.clock.now();
        let (cur, obtained_at, recent_failure) = {
            let st = self.state();
            let recent = st.last_failure.as_ref().is_some_and(|f| {
                f.code.as_deref() != Some("invalid_grant")
                    && now
                        .duration_since(f.at)
                        .is_ok_and(|d| d < RETRY_EARLY_REFRESH_AFTER)
            });
            (st.credentials.clone(), st.obtained_at, recent)
        };
        if cur.is_invalid() {
            return Err(invalid_error());
        }
        if !cur.needs_refresh(now, self.margin_for(&cur, obtained_at)) {
            return Ok(authorization_of(&cur));
        }
        if recent_failure && !cur.is_expired(now) {
            return Ok(authorization_of(&cur));
        }
        match self.refresh(Need::Stale).await {
            Ok(fresh) => Ok(authorization_of(&fresh)),
            Err(e) => {
                let cur = self.current();
                if !e.needs_reauthorization()
                    && !cur.is_invalid()
                    && !cur.is_expired(self.inner.clock.now())
                {
                    tracing::warn!(
                        error = %e,
                        "could not refresh the access token early; using the current one until it expires"
                    );
                    Ok(authorization_of(&cur))
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn after_unauthorized(&self, used: &Authorization) -> crate::Result<bool> {
        let Some(used) = used.access_token() else {
            return Ok(false);
        };
        let cur = self.current();
        if cur.is_invalid() {
            return Err(invalid_error());
        }
        if cur.access_token().is_some_and(|t| t != used) {
            return Ok(true);
        }
        if cur.refresh_token().is_none() && self.inner.storage.is_none() {
            return Ok(false);
        }
        tracing::debug!("the server rejected the access token; refreshing");
        self.refresh(Need::Rejected(used.clone()))
            .await
            .map(|_| true)
    }

    /// Single-flight refresh: waits for any refresh in progress, re-checks,
    /// and refreshes only if still needed.
    async fn refresh(&self, need: Need) -> crate::Result<UserCredentials> {
        let inner = &self.inner;
        let observed = inner.generation.load(Ordering::Acquire);
        let _flight = inner.flight.lock().await;
        let now = inner.clock.now();
        {
            let st = self.state();
            let cur = &st.credentials;
            if cur.is_invalid() {
                return Err(invalid_error());
            }
            if !self.needs(cur, st.obtained_at, &need, now) {
                return Ok(cur.clone());
            }
            let generation = inner.generation.load(Ordering::Acquire);
            if generation != observed {
                if let Some(f) = st
                    .last_failure
                    .as_ref()
                    .filter(|f| f.generation == generation)
                {
                    return Err(f.to_error());
                }
            }
        }
        let cur = self.current();
        let result = self.refresh_locked(cur, &need).await;
        let generation = inner.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let mut st = self.state();
        match result {
            Ok(fresh) => {
                st.credentials = fresh.clone();
                st.obtained_at = Some(now);
                st.last_failure = None;
                Ok(fresh)
            }
            Err(e) => {
                if e.needs_reauthorization() {
                    st.credentials.set_invalid(true);
                }
                st.last_failure = Some(LastFailure::new(&e, generation, inner.clock.now()));
                Err(e)
            }
        }
    }

    /// The refresh proper, with the flight lock held.
    async fn refresh_locked(
        &self,
        cur: UserCredentials,
        need: &Need,
    ) -> crate::Result<UserCredentials> {
        let Some(storage) = &self.inner.storage else {
            return self.network_refresh(cur).await;
        };
        let mut guard = match storage.lock().await {
            Ok(g) => g,
            Err(e) if e.is_timeout() => {
                tracing::warn!(
                    storage = %storage.describe(),
                    error = %e,
                    "refreshing without the storage lock; the result will not be saved"
                );
                return self.network_refresh(cur).await;
            }
            Err(e) => return Err(e),
        };
        let mut base = cur;
        if let Some(stored) = guard.get().await? {
            let same_grant = stored.refresh_token() == base.refresh_token();
            if stored.is_invalid() {
                if same_grant {
                    tracing::info!(
                        storage = %storage.describe(),
                        "the stored credentials were marked invalid"
                    );
                    return Err(invalid_error());
                }
            } else {
                let now = self.inner.clock.now();
                if !self.needs(&stored, None, need, now) && !stored.is_expired(now) {
                    tracing::info!(
                        storage = %storage.describe(),
                        "adopting an access token another process refreshed"
                    );
                    return Ok(stored);
                }
                // The storage holds the newest grant (another process may have
                // rotated the refresh token or signed in again).
                base = stored;
            }
        }
        match self.network_refresh(base.clone()).await {
            Ok(fresh) => {
                if let Err(e) = guard.put(&fresh).await {
                    tracing::warn!(storage = %storage.describe(), error = %e, "could not save the refreshed credentials");
                }
                Ok(fresh)
            }
            Err(e) if e.needs_reauthorization() => {
                let mut dead = base;
                dead.set_invalid(true);
                if let Err(pe) = guard.put(&dead).await {
                    tracing::warn!(storage = %storage.describe(), error = %pe, "could not mark the stored credentials invalid");
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// POSTs `grant_type=refresh_token` (with retries on transient failures).
    async fn network_refresh(&self, base: UserCredentials) -> crate::Result<UserCredentials> {
        let inner = &self.inner;
        let Some(refresh_token) = base.refresh_token() else {
            return Err(Error::auth(
                None,
                "the access token expired and there is no refresh token; authorize again",
            ));
        };
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
            ("client_id", base.client_id()),
        ];
        if let Some(s) = base.client_secret() {
            form.push(("client_secret", s.secret()));
        }
        let secrets = base.secret_strings();
        let what = "refreshing the access token";
        let started = inner.clock.now();
        tracing::debug!(
            client_id = base.client_id(),
            token_uri = base.token_uri(),
            "{what}"
        );
        let resp = token::with_retries(&inner.clock, &inner.request, what, || {
            token::token_request_once(base.token_uri(), &form, &inner.request, what, &secrets)
        })
        .await
        .map_err(|f| {
            tracing::warn!(error = %f.error, "{what} failed");
            Error::from(f)
        })?;
        let mut fresh = base.clone();
        fresh.set_access_token(resp.access_token, resp.expires_in.map(|d| started + d));
        if let Some(rt) = resp.refresh_token {
            tracing::info!("the token endpoint rotated the refresh token");
            fresh.set_refresh_token(rt);
        }
        if let Some(scopes) = resp.scope {
            fresh.set_scopes(scopes);
        }
        if resp.id_token.is_some() {
            fresh = fresh.with_id_token(resp.id_token);
        }
        fresh.set_invalid(false);
        tracing::info!(
            client_id = fresh.client_id(),
            expires_in_secs = resp.expires_in.map(|d| d.as_secs()),
            "refreshed the access token"
        );
        Ok(fresh)
    }
}

fn invalid_error() -> Error {
    Error::auth(
        Some("invalid_grant"),
        "the credentials were marked invalid (the grant was revoked or expired); authorize again",
    )
}

fn authorization_of(c: &UserCredentials) -> Authorization {
    let mut a = match c.access_token() {
        Some(t) => Authorization::bearer(t.clone()),
        None => Authorization::none(),
    };
    if let Some(p) = c.quota_project() {
        a = a.with_quota_project(p);
    }
    a
}

impl CredentialSource for UserTokenSource {
    fn authorization(&self) -> BoxFuture<'_, crate::Result<Authorization>> {
        Box::pin(self.authorize())
    }

    fn refresh_after_unauthorized<'a>(
        &'a self,
        used: &'a Authorization,
    ) -> BoxFuture<'a, crate::Result<bool>> {
        Box::pin(self.after_unauthorized(used))
    }

    fn describe(&self) -> String {
        let c = self.current();
        match &self.inner.storage {
            Some(s) => format!(
                "user credentials of client {} in {}",
                c.client_id(),
                s.describe()
            ),
            None => format!("user credentials of client {}", c.client_id()),
        }
    }
}

impl fmt::Debug for UserTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserTokenSource")
            .field("credentials", &self.current())
            .field(
                "storage",
                &self.inner.storage.as_ref().map(|s| s.describe()),
            )
            .field("refresh_margin", &self.inner.margin)
            .finish()
    }
}
