//! What every server-to-server credential type (service accounts, the
//! metadata server, impersonation, workload identity federation) shares on
//! top of the [`TokenCache`]: a bearer token and its expiry, the cache of it
//! with the quota project, the builder settings and their methods, and the
//! [`CredentialSource`](super::CredentialSource) implementation.

use std::time::{Duration, SystemTime};

use super::token_cache::{CachedToken, Refresher, TokenCache};
use super::{AccessToken, Authorization};
use crate::Error;
use crate::clock::SharedClock;

/// The token of the server-to-server credentials: nothing but a bearer
/// token and its expiry.
#[derive(Clone, Default)]
pub(crate) struct BearerToken {
    pub token: Option<AccessToken>,
    pub expiry: Option<SystemTime>,
}

impl BearerToken {
    pub fn new(token: AccessToken, expiry: Option<SystemTime>) -> Self {
        BearerToken {
            token: Some(token),
            expiry,
        }
    }
}

impl CachedToken for BearerToken {
    fn token(&self) -> Option<&AccessToken> {
        self.token.as_ref()
    }
    fn expires_at(&self) -> Option<SystemTime> {
        self.expiry
    }
}

/// `Authorization: Bearer` for `t` (none when there is no token yet), with
/// the quota project.
pub(crate) fn bearer_authorization(
    t: Option<&AccessToken>,
    quota_project: Option<&str>,
) -> Authorization {
    let mut a = match t {
        Some(t) => Authorization::bearer(t.clone()),
        None => Authorization::none(),
    };
    if let Some(p) = quota_project {
        a = a.with_quota_project(p);
    }
    a
}

/// A token cache of bearer tokens plus the quota project: the state of every
/// server-to-server credential type.
pub(crate) struct BearerCache<R: Refresher<Token = BearerToken>> {
    pub cache: TokenCache<R>,
    pub quota_project: Option<String>,
}

impl<R: Refresher<Token = BearerToken>> BearerCache<R> {
    pub fn new(refresher: R, common: &CommonConfig) -> Self {
        BearerCache {
            cache: TokenCache::new(
                BearerToken::default(),
                refresher,
                common.clock(),
                common.margin,
            ),
            quota_project: common.quota_project.clone(),
        }
    }

    pub async fn authorization(&self) -> crate::Result<Authorization> {
        let t = self.cache.get().await?;
        Ok(bearer_authorization(
            t.token.as_ref(),
            self.quota_project.as_deref(),
        ))
    }

    pub async fn access_token(&self) -> crate::Result<AccessToken> {
        self.cache
            .get()
            .await?
            .token
            .ok_or_else(|| Error::auth(None, "no access token"))
    }

    pub async fn force_refresh(&self) -> crate::Result<AccessToken> {
        self.cache
            .force_refresh()
            .await?
            .token
            .ok_or_else(|| Error::auth(None, "no access token"))
    }
}

/// Implements [`CredentialSource`](super::CredentialSource) for a type whose
/// `inner` field is an `Arc<BearerCache<_>>` and that has a
/// `fn describe_source(&self) -> String`.
macro_rules! bearer_credential_source {
    ($t:ty) => {
        impl $crate::auth::CredentialSource for $t {
            fn authorization(
                &self,
            ) -> $crate::clock::BoxFuture<'_, $crate::Result<$crate::auth::Authorization>> {
                Box::pin(self.inner.authorization())
            }

            fn refresh_after_unauthorized<'a>(
                &'a self,
                used: &'a $crate::auth::Authorization,
            ) -> $crate::clock::BoxFuture<'a, $crate::Result<bool>> {
                Box::pin(self.inner.cache.after_unauthorized(used))
            }

            fn describe(&self) -> String {
                self.describe_source()
            }
        }
    };
}
pub(crate) use bearer_credential_source;

/// Settings every server-to-server credential builder shares.
#[derive(Clone)]
pub(crate) struct CommonConfig {
    pub clock: Option<SharedClock>,
    pub margin: Duration,
    pub request: super::token::RequestConfig,
    pub quota_project: Option<String>,
}

impl Default for CommonConfig {
    fn default() -> Self {
        CommonConfig {
            clock: None,
            margin: super::DEFAULT_REFRESH_MARGIN,
            request: Default::default(),
            quota_project: None,
        }
    }
}

impl CommonConfig {
    pub fn clock(&self) -> SharedClock {
        self.clock
            .clone()
            .unwrap_or_else(crate::clock::default_clock)
    }
}

/// The builder methods every server-to-server credential builder shares
/// (`$builder` has a `common: CommonConfig` field).
macro_rules! common_builder_methods {
    () => {
        /// Sends `x-goog-user-project: <project>` with every request: the
        /// project billed for quota. (Application Default Credentials also
        /// read it from `GOOGLE_CLOUD_QUOTA_PROJECT` and the credentials file.)
        pub fn with_quota_project(mut self, project: impl Into<String>) -> Self {
            self.common.quota_project = Some(project.into());
            self
        }

        /// Refreshes this long before the token expires (default 5 minutes,
        /// at most half the token's lifetime).
        pub fn with_refresh_margin(mut self, margin: std::time::Duration) -> Self {
            self.common.margin = margin;
            self
        }

        /// The clock for expiry, assertions and backoff (default: system
        /// time, tokio sleep).
        pub fn with_clock(mut self, clock: $crate::clock::SharedClock) -> Self {
            self.common.clock = Some(clock);
            self
        }

        /// The timeout of one HTTP request for a token (default 30 s).
        pub fn with_request_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.common.request.timeout = timeout;
            self
        }

        /// How many times a transiently failing token request is attempted
        /// in total (default 3, at least 1).
        pub fn with_max_attempts(mut self, attempts: u32) -> Self {
            self.common.request.max_attempts = attempts.max(1);
            self
        }

        /// The first backoff delay between attempts; it doubles each time
        /// (default 1 s).
        pub fn with_initial_backoff(mut self, delay: std::time::Duration) -> Self {
            self.common.request.initial_backoff = delay;
            self
        }
    };
}
pub(crate) use common_builder_methods;
