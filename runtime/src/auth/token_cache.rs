//! The token cache behind every credential type that hands out expiring
//! access tokens (user credentials, service accounts, the metadata server,
//! impersonation): proactive refresh, single flight, shared failures.
//!
//! A [`TokenCache`] holds the current token and a [`Refresher`] that knows
//! how to get a new one. The cache decides *when* to refresh and makes sure
//! that concurrent callers share one refresh; the refresher only talks to
//! its endpoint.
//!
//! - **Proactive**: a token within the refresh margin of its expiry (at most
//!   half its lifetime) is refreshed; if that early refresh fails
//!   transiently, the still-valid token keeps being used, and no new attempt
//!   is made for [`RETRY_EARLY_REFRESH_AFTER`].
//! - **Single flight**: callers that find the token stale wait for one
//!   refresh; callers that waited on a refresh that failed get a copy of its
//!   error without another request.
//! - **Permanent failures** (the refresher says which, e.g. `invalid_grant`
//!   for a revoked refresh token) mark the token invalid: no more requests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use super::{AccessToken, Authorization};
use crate::clock::{BoxFuture, SharedClock};
use crate::{Error, ErrorKind};

/// After a failed early refresh, how long the still-valid token is used
/// without trying again.
pub(crate) const RETRY_EARLY_REFRESH_AFTER: Duration = Duration::from_secs(30);

/// What a cache holds: an access token (maybe none yet) and its expiry.
pub(crate) trait CachedToken: Clone + Send + Sync + 'static {
    /// The current access token, if any.
    fn token(&self) -> Option<&AccessToken>;
    /// When it expires (`None`: unknown, valid until a 401).
    fn expires_at(&self) -> Option<SystemTime>;
    /// When it was obtained, when the token records it (user credentials
    /// do, so that another process that reads them knows their lifetime).
    fn issued_at(&self) -> Option<SystemTime> {
        None
    }
    /// True once a permanent failure marked it unusable.
    fn invalid(&self) -> bool {
        false
    }
    /// Marks it unusable (after a permanent failure).
    fn mark_invalid(&mut self) {}

    /// Missing, or expiring within `margin` of `now`.
    fn stale(&self, now: SystemTime, margin: Duration) -> bool {
        match (self.token(), self.expires_at()) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(exp)) => now + margin >= exp,
        }
    }

    /// Missing or already expired at `now`.
    fn expired(&self, now: SystemTime) -> bool {
        self.stale(now, Duration::ZERO)
    }
}

/// What makes a refresh necessary.
pub(crate) enum Need {
    /// The token is missing or within the margin of its expiry.
    Stale,
    /// The server answered 401 to this token.
    Rejected(AccessToken),
}

/// Answers, for a refresher, whether a token it found elsewhere (in a
/// storage, say) would still need the refresh it was asked for.
pub(crate) struct Check<'a> {
    clock: &'a SharedClock,
    margin: Duration,
}

impl Check<'_> {
    /// Whether `t` would need refreshing for `need`, now (with the margin
    /// for its own lifetime, when it records when it was obtained).
    pub fn needs<T: CachedToken>(&self, t: &T, need: &Need) -> bool {
        needs(t, need, self.clock.now(), margin_for(self.margin, t, None))
    }

    /// The cache's clock's time.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }
}

/// The refresh margin of `t`: `margin`, but at most half the token's
/// lifetime — from when it was obtained (recorded in the token, or seen by
/// the cache) to when it expires — so that a server that hands out tokens
/// shorter-lived than the margin does not see a refresh on every request:
/// a 5 s token is refreshed 2.5 s before it expires, a 1 h token 5 minutes
/// before (the default margin).
fn margin_for<T: CachedToken>(
    margin: Duration,
    t: &T,
    obtained_at: Option<SystemTime>,
) -> Duration {
    match (t.expires_at(), t.issued_at().or(obtained_at)) {
        (Some(exp), Some(at)) => exp
            .duration_since(at)
            .map(|life| margin.min(life / 2))
            .unwrap_or(margin),
        _ => margin,
    }
}

fn needs<T: CachedToken>(t: &T, need: &Need, now: SystemTime, margin: Duration) -> bool {
    match need {
        Need::Stale => t.stale(now, margin),
        Need::Rejected(used) => t.token().is_none_or(|cur| cur == used),
    }
}

/// Gets new tokens for a [`TokenCache`].
pub(crate) trait Refresher: Send + Sync + 'static {
    /// What the cache holds.
    type Token: CachedToken;

    /// Obtains a fresh token. Called with the flight lock held, only when a
    /// refresh is still needed. `current` is the token being replaced.
    fn refresh<'a>(
        &'a self,
        current: Self::Token,
        need: &'a Need,
        check: Check<'a>,
    ) -> BoxFuture<'a, crate::Result<Self::Token>>;

    /// Whether a token the server rejected can be replaced by a refresh
    /// (false: a fixed token).
    fn can_refresh(&self, _current: &Self::Token) -> bool {
        true
    }

    /// Whether `e` means these credentials will never work again: the token
    /// is then marked invalid and no more requests are made.
    fn is_permanent(&self, _e: &Error) -> bool {
        false
    }

    /// The error returned once the token was marked invalid.
    fn invalid_error(&self) -> Error {
        Error::auth(None, "the credentials were marked invalid")
    }
}

/// Enough of a refresh error to hand a copy to callers that waited for it.
struct LastFailure {
    generation: u64,
    at: SystemTime,
    kind: ErrorKind,
    code: Option<String>,
    description: String,
    transient: bool,
    permanent: bool,
}

impl LastFailure {
    fn new(e: &Error, generation: u64, at: SystemTime, permanent: bool) -> Self {
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
            permanent,
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

struct State<T> {
    token: T,
    /// When the current token was obtained by this cache, if it was.
    obtained_at: Option<SystemTime>,
    last_failure: Option<LastFailure>,
}

/// A token, its refresher, and the single-flight machinery. Share it in an
/// `Arc`.
pub(crate) struct TokenCache<R: Refresher> {
    state: Mutex<State<R::Token>>,
    /// Held while a refresh (or anything that replaces the token) is in flight.
    flight: tokio::sync::Mutex<()>,
    /// Incremented when a refresh attempt finishes.
    generation: AtomicU64,
    clock: SharedClock,
    margin: Duration,
    refresher: R,
}

impl<R: Refresher> TokenCache<R> {
    pub fn new(initial: R::Token, refresher: R, clock: SharedClock, margin: Duration) -> Self {
        TokenCache {
            state: Mutex::new(State {
                token: initial,
                obtained_at: None,
                last_failure: None,
            }),
            flight: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            clock,
            margin,
            refresher,
        }
    }

    pub fn refresher(&self) -> &R {
        &self.refresher
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn margin(&self) -> Duration {
        self.margin
    }

    fn state(&self) -> MutexGuard<'_, State<R::Token>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the current token.
    pub fn current(&self) -> R::Token {
        self.state().token.clone()
    }

    /// Waits for any refresh in progress and keeps others out while the
    /// guard lives (for operations that replace the token, like revocation).
    pub async fn exclusive(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.flight.lock().await
    }

    /// Changes the current token in place.
    pub fn update(&self, f: impl FnOnce(&mut R::Token)) {
        f(&mut self.state().token)
    }

    /// The refresh margin of `t`, obtained at `obtained_at` if the cache saw it.
    fn margin_for(&self, t: &R::Token, obtained_at: Option<SystemTime>) -> Duration {
        margin_for(self.margin, t, obtained_at)
    }

    /// A usable token, refreshing first when it is missing or stale.
    pub async fn get(&self) -> crate::Result<R::Token> {
        let now = self.clock.now();
        let (cur, obtained_at, recent_failure) = {
            let st = self.state();
            let recent = st.last_failure.as_ref().is_some_and(|f| {
                !f.permanent
                    && now
                        .duration_since(f.at)
                        .is_ok_and(|d| d < RETRY_EARLY_REFRESH_AFTER)
            });
            (st.token.clone(), st.obtained_at, recent)
        };
        if cur.invalid() {
            return Err(self.refresher.invalid_error());
        }
        if !cur.stale(now, self.margin_for(&cur, obtained_at)) {
            return Ok(cur);
        }
        if recent_failure && !cur.expired(now) {
            return Ok(cur);
        }
        match self.refresh(Need::Stale).await {
            Ok(fresh) => Ok(fresh),
            Err(e) => {
                let cur = self.current();
                if !self.refresher.is_permanent(&e)
                    && !cur.invalid()
                    && !cur.expired(self.clock.now())
                {
                    tracing::warn!(
                        error = %e,
                        "could not refresh the access token early; using the current one until it expires"
                    );
                    Ok(cur)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The server rejected `used` with 401: refresh once unless another
    /// caller already replaced it. `Ok(false)`: the token cannot be refreshed.
    pub async fn after_unauthorized(&self, used: &Authorization) -> crate::Result<bool> {
        let Some(used) = used.access_token() else {
            return Ok(false);
        };
        let cur = self.current();
        if cur.invalid() {
            return Err(self.refresher.invalid_error());
        }
        if cur.token().is_some_and(|t| t != used) {
            return Ok(true);
        }
        if !self.refresher.can_refresh(&cur) {
            return Ok(false);
        }
        tracing::debug!("the server rejected the access token; refreshing");
        self.refresh(Need::Rejected(used.clone()))
            .await
            .map(|_| true)
    }

    /// Refreshes now, whatever the expiry (still single flight: callers that
    /// wait on a refresh in progress share its result).
    pub async fn force_refresh(&self) -> crate::Result<R::Token> {
        match self.current().token().cloned() {
            Some(t) => self.refresh(Need::Rejected(t)).await,
            None => self.refresh(Need::Stale).await,
        }
    }

    /// Single-flight refresh: waits for any refresh in progress, re-checks,
    /// and refreshes only if still needed.
    pub async fn refresh(&self, need: Need) -> crate::Result<R::Token> {
        let observed = self.generation.load(Ordering::Acquire);
        let _flight = self.flight.lock().await;
        let now = self.clock.now();
        {
            let st = self.state();
            if st.token.invalid() {
                return Err(self.refresher.invalid_error());
            }
            let margin = self.margin_for(&st.token, st.obtained_at);
            if !needs(&st.token, &need, now, margin) {
                return Ok(st.token.clone());
            }
            let generation = self.generation.load(Ordering::Acquire);
            if generation != observed
                && let Some(f) = st
                    .last_failure
                    .as_ref()
                    .filter(|f| f.generation == generation)
            {
                return Err(f.to_error());
            }
        }
        let cur = self.current();
        let check = Check {
            clock: &self.clock,
            margin: self.margin,
        };
        let result = self.refresher.refresh(cur, &need, check).await;
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let mut st = self.state();
        match result {
            Ok(fresh) => {
                st.token = fresh.clone();
                st.obtained_at = Some(now);
                st.last_failure = None;
                Ok(fresh)
            }
            Err(e) => {
                let permanent = self.refresher.is_permanent(&e);
                if permanent {
                    st.token.mark_invalid();
                }
                st.last_failure = Some(LastFailure::new(
                    &e,
                    generation,
                    self.clock.now(),
                    permanent,
                ));
                Err(e)
            }
        }
    }
}

/// The quota project from `GOOGLE_CLOUD_QUOTA_PROJECT`, if set and not empty.
pub(crate) fn quota_project_from_env() -> Option<String> {
    std::env::var("GOOGLE_CLOUD_QUOTA_PROJECT")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    /// A bearer token and its expiry, as the server-to-server credentials
    /// keep them.
    #[derive(Clone, Default)]
    struct TestToken {
        token: Option<AccessToken>,
        expiry: Option<SystemTime>,
    }

    impl TestToken {
        fn new(token: AccessToken, expiry: Option<SystemTime>) -> Self {
            TestToken {
                token: Some(token),
                expiry,
            }
        }
    }

    impl CachedToken for TestToken {
        fn token(&self) -> Option<&AccessToken> {
            self.token.as_ref()
        }
        fn expires_at(&self) -> Option<SystemTime> {
            self.expiry
        }
    }

    struct Counting(Arc<AtomicUsize>, Result<(), &'static str>);

    impl Refresher for Counting {
        type Token = TestToken;
        fn refresh<'a>(
            &'a self,
            _current: TestToken,
            _need: &'a Need,
            check: Check<'a>,
        ) -> BoxFuture<'a, crate::Result<TestToken>> {
            Box::pin(async move {
                let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
                match self.1 {
                    Ok(()) => Ok(TestToken::new(
                        AccessToken::new(format!("t{n}")),
                        Some(check.now() + Duration::from_secs(3600)),
                    )),
                    Err(code) => Err(Error::auth(Some(code), "refused")),
                }
            })
        }
        fn is_permanent(&self, e: &Error) -> bool {
            e.auth_error().and_then(|a| a.code.as_deref()) == Some("dead")
        }
    }

    fn cache(result: Result<(), &'static str>) -> (Arc<TokenCache<Counting>>, Arc<AtomicUsize>) {
        let n = Arc::new(AtomicUsize::new(0));
        let c = TokenCache::new(
            TestToken::default(),
            Counting(n.clone(), result),
            crate::clock::default_clock(),
            Duration::from_secs(300),
        );
        (Arc::new(c), n)
    }

    #[tokio::test]
    async fn concurrent_gets_share_one_refresh_and_one_failure() {
        let (c, n) = cache(Ok(()));
        let all = futures_util::future::join_all((0..50).map(|_| c.get())).await;
        assert!(
            all.iter()
                .all(|t| t.as_ref().unwrap().token.as_ref().unwrap().secret() == "t1")
        );
        assert_eq!(n.load(Ordering::SeqCst), 1);

        let (c, n) = cache(Err("nope"));
        let all = futures_util::future::join_all((0..50).map(|_| c.get())).await;
        assert!(all.iter().all(|r| r.is_err()));
        assert_eq!(n.load(Ordering::SeqCst), 1);
        // Not permanent: a later call tries again.
        assert!(c.get().await.is_err());
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn permanent_failure_marks_nothing_for_bearer_tokens_but_is_shared() {
        let (c, n) = cache(Err("dead"));
        assert!(c.get().await.is_err());
        assert!(c.get().await.is_err());
        // TestToken cannot be marked invalid: each later call asks again.
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }
}
