//! The state every handler shares: configuration, the OAuth and Tasks stores, counters,
//! the injected-error queue and the request log.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::config::Config;
use crate::exchange::percent_decode;
use crate::inject::{InjectedError, InjectionQueue};
use crate::oauth::store::OAuthStore;
use crate::stats::{RequestLog, Stats};
use crate::tasks::store::TaskStore;

/// The state behind a running stand-in.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: Config,
    /// `http://HOST:PORT/`, with the trailing slash.
    pub base_url: String,
    pub oauth: Mutex<OAuthStore>,
    pub tasks: Mutex<TaskStore>,
    pub stats: Mutex<Stats>,
    pub injections: Mutex<InjectionQueue>,
    pub log: Mutex<RequestLog>,
}

/// What axum handlers get as state.
pub(crate) type AppState = Arc<Shared>;

/// Locks a mutex, carrying on with the data if another thread panicked while holding it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Fresh state for this configuration, serving at `base_url`.
    pub fn new(config: Config, base_url: String) -> Self {
        Shared {
            config,
            base_url,
            oauth: Mutex::default(),
            tasks: Mutex::default(),
            stats: Mutex::default(),
            injections: Mutex::default(),
            log: Mutex::default(),
        }
    }

    /// Updates the counters.
    pub fn count(&self, update: impl FnOnce(&mut Stats)) {
        update(&mut lock(&self.stats));
    }

    /// An absolute URL on this stand-in for a path without a leading slash.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path.trim_start_matches('/'))
    }

    /// Takes one use of an injected error matching this request, counting it.
    pub fn take_injection(&self, method: &str, raw_path: &str) -> Option<InjectedError> {
        let found = lock(&self.injections).take(method, &percent_decode(raw_path));
        if found.is_some() {
            self.count(|s| s.injected_errors += 1);
        }
        found
    }
}
