//! [`UserTokenSource`]: user credentials that refresh themselves, once.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::storage::{Storage, StorageGuard};
use super::token::{self, RequestConfig};
use super::token_cache::{CachedToken, Check, Need, Refresher, TokenCache};
use super::{AccessToken, Authorization, CredentialSource, Credentials, UserCredentials};
use crate::Error;
use crate::clock::{BoxFuture, SharedClock, default_clock};

/// How long before expiry a token is refreshed, by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

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
    inner: Arc<TokenCache<UserRefresher>>,
}

/// Refreshes user credentials with their refresh token, through the storage
/// when there is one.
struct UserRefresher {
    storage: Option<Arc<dyn Storage>>,
    clock: SharedClock,
    request: RequestConfig,
}

impl CachedToken for UserCredentials {
    fn token(&self) -> Option<&AccessToken> {
        self.access_token()
    }
    fn expires_at(&self) -> Option<SystemTime> {
        self.expiry()
    }
    fn issued_at(&self) -> Option<SystemTime> {
        self.issued()
    }
    fn invalid(&self) -> bool {
        self.is_invalid()
    }
    fn mark_invalid(&mut self) {
        self.set_invalid(true);
    }
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
        let clock = self.clock.unwrap_or_else(default_clock);
        let refresher = UserRefresher {
            storage: self.storage,
            clock: clock.clone(),
            request: self.request,
        };
        UserTokenSource {
            inner: Arc::new(TokenCache::new(
                self.credentials,
                refresher,
                clock,
                self.margin,
            )),
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
        self.inner.current()
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
        self.inner.force_refresh().await
    }

    /// Revokes the grant at the revocation endpoint (the refresh token, or
    /// the access token when there is none), marks these credentials invalid
    /// and deletes them from the storage.
    pub async fn revoke(&self) -> crate::Result<()> {
        let inner = &self.inner;
        let refresher = inner.refresher();
        let _flight = inner.exclusive().await;
        let cur = self.current();
        let token = cur
            .refresh_token()
            .map(|t| t.secret())
            .or_else(|| cur.access_token().map(|t| t.secret()))
            .ok_or_else(|| Error::auth(None, "there is no token to revoke"))?;
        token::revoke(
            cur.revoke_uri(),
            token,
            cur.client_id(),
            cur.client_secret().map(|s| s.secret()),
            &refresher.request,
            inner.clock(),
        )
        .await?;
        tracing::info!(client_id = cur.client_id(), "revoked the grant");
        inner.update(|c| c.set_invalid(true));
        if let Some(storage) = &refresher.storage {
            storage.delete().await?;
        }
        Ok(())
    }

    async fn authorize(&self) -> crate::Result<Authorization> {
        self.inner.get().await.map(|c| authorization_of(&c))
    }
}

impl Refresher for UserRefresher {
    type Token = UserCredentials;

    fn refresh<'a>(
        &'a self,
        current: UserCredentials,
        need: &'a Need,
        check: Check<'a>,
    ) -> BoxFuture<'a, crate::Result<UserCredentials>> {
        Box::pin(self.refresh_locked(current, need, check))
    }

    fn can_refresh(&self, current: &UserCredentials) -> bool {
        current.refresh_token().is_some() || self.storage.is_some()
    }

    fn is_permanent(&self, e: &Error) -> bool {
        e.needs_reauthorization()
    }

    fn invalid_error(&self) -> Error {
        invalid_error()
    }
}

impl UserRefresher {
    /// The refresh proper, with the flight lock held.
    async fn refresh_locked(
        &self,
        cur: UserCredentials,
        need: &Need,
        check: Check<'_>,
    ) -> crate::Result<UserCredentials> {
        let Some(storage) = &self.storage else {
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
        let out = self
            .refresh_under(&mut *guard, storage, cur, need, check)
            .await;
        crate::auth::storage::finish(guard, out).await
    }

    /// [`refresh_locked`](Self::refresh_locked)'s work under the lock: re-read,
    /// adopt or refresh, write back.
    async fn refresh_under(
        &self,
        guard: &mut (dyn StorageGuard + '_),
        storage: &Arc<dyn Storage>,
        cur: UserCredentials,
        need: &Need,
        check: Check<'_>,
    ) -> crate::Result<UserCredentials> {
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
                if !check.needs(&stored, need) && !stored.is_expired(check.now()) {
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
        let Some(refresh_token) = base.refresh_token() else {
            return Err(Error::auth(
                Some(crate::error::REAUTHORIZE),
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
        let started = self.clock.now();
        tracing::debug!(
            client_id = base.client_id(),
            token_uri = base.token_uri(),
            "{what}"
        );
        let resp = token::with_retries(&self.clock, &self.request, what, || {
            token::token_request_once(base.token_uri(), &form, &self.request, what, &secrets)
        })
        .await
        .map_err(|f| {
            tracing::warn!(error = %f.error, "{what} failed");
            Error::from(f)
        })?;
        let mut fresh = base.clone();
        fresh.set_access_token(
            resp.access_token,
            resp.expires_in.map(|d| started + d),
            started,
        );
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
        Box::pin(self.inner.after_unauthorized(used))
    }

    fn describe(&self) -> String {
        let c = self.current();
        match &self.inner.refresher().storage {
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
                &self
                    .inner
                    .refresher()
                    .storage
                    .as_ref()
                    .map(|s| s.describe()),
            )
            .field("refresh_margin", &self.inner.margin())
            .finish()
    }
}
