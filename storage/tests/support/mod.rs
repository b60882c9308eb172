//! Shared by the storage tests: which backends run here, storages on unique
//! tables / prefixes, and credentials from a stand-in.

#![allow(dead_code)]

pub mod child;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gapi::auth::{AccessToken, ClientSecret, KeyedStorage, RefreshToken, Storage, UserCredentials};
use gapi_standin::StandInHandle;
use gapi_storage::{Encryption, PostgresKeyedStorage, RedisKeyedStorage, SqliteKeyedStorage};

pub const POSTGRES_VAR: &str = "GAPI_TEST_POSTGRES_URL";
pub const REDIS_VAR: &str = "GAPI_TEST_REDIS_URL";

/// One backend and where its data goes for this test: a database file, or a
/// server URL plus a table / prefix unique to this test run.
#[derive(Clone, Debug)]
pub struct Target {
    pub kind: Kind,
    /// The SQLite file, or the server URL.
    pub location: String,
    /// The table (SQLite, PostgreSQL) or key prefix (Redis).
    pub namespace: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    Redis,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
            Kind::Redis => "redis",
        }
    }

    pub fn parse(s: &str) -> Kind {
        match s {
            "sqlite" => Kind::Sqlite,
            "postgres" => Kind::Postgres,
            "redis" => Kind::Redis,
            other => panic!("unknown backend {other}"),
        }
    }
}

/// A name unique to this test run (process id, time and randomness).
pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        rand::random::<u32>()
    )
}

/// The target of `kind` for a test, or `None` (after saying so) when its
/// server is not configured here. `dir` holds SQLite files.
pub fn target(kind: Kind, dir: &std::path::Path, test: &str) -> Option<Target> {
    let namespace = unique(&format!("gapi_test_{test}"));
    let location = match kind {
        Kind::Sqlite => dir
            .join(format!("{namespace}.sqlite"))
            .display()
            .to_string(),
        Kind::Postgres | Kind::Redis => {
            let var = if kind == Kind::Postgres {
                POSTGRES_VAR
            } else {
                REDIS_VAR
            };
            match std::env::var(var) {
                Ok(url) if !url.is_empty() => url,
                _ => {
                    println!(
                        "skipped: the {} part of `{test}` ({var} is not set)",
                        kind.name()
                    );
                    return None;
                }
            }
        }
    };
    Some(Target {
        kind,
        location,
        namespace,
    })
}

/// Every target available here, in order sqlite, postgres, redis.
pub fn targets(dir: &std::path::Path, test: &str) -> Vec<Target> {
    [Kind::Sqlite, Kind::Postgres, Kind::Redis]
        .into_iter()
        .filter_map(|k| target(k, dir, test))
        .collect()
}

/// Options of an opened storage.
#[derive(Clone, Default)]
pub struct Opts {
    pub lock_timeout: Option<Duration>,
    pub lock_ttl: Option<Duration>,
    pub encryption: Option<Encryption>,
}

/// Any of the three keyed storages.
#[derive(Clone)]
pub enum AnyKeyed {
    Sqlite(SqliteKeyedStorage),
    Postgres(PostgresKeyedStorage),
    Redis(RedisKeyedStorage),
}

impl AnyKeyed {
    /// The entry of `key` as a type-erased storage.
    pub fn entry(&self, key: &str) -> Arc<dyn Storage> {
        match self {
            AnyKeyed::Sqlite(s) => Arc::new(s.for_key(key)),
            AnyKeyed::Postgres(s) => Arc::new(s.for_key(key)),
            AnyKeyed::Redis(s) => Arc::new(s.for_key(key)),
        }
    }

    /// Removes what the test created (best effort).
    pub async fn cleanup(&self) {
        match self {
            AnyKeyed::Sqlite(_) => {}
            AnyKeyed::Postgres(s) => {
                let _ = s.drop_table().await;
            }
            AnyKeyed::Redis(s) => {
                let _ = s.delete_all().await;
            }
        }
    }
}

/// Opens the storage of `target`.
pub fn open(target: &Target, opts: Opts) -> AnyKeyed {
    let lock_timeout = opts.lock_timeout.unwrap_or(Duration::from_secs(30));
    match target.kind {
        Kind::Sqlite => {
            let mut b = SqliteKeyedStorage::builder(&target.location)
                .table(&target.namespace)
                .lock_timeout(lock_timeout);
            if let Some(e) = opts.encryption {
                b = b.encryption(e);
            }
            AnyKeyed::Sqlite(b.build().unwrap())
        }
        Kind::Postgres => {
            let mut b = PostgresKeyedStorage::builder(&target.location)
                .table(&target.namespace)
                .lock_timeout(lock_timeout);
            if let Some(e) = opts.encryption {
                b = b.encryption(e);
            }
            AnyKeyed::Postgres(b.build().unwrap())
        }
        Kind::Redis => {
            let mut b = RedisKeyedStorage::builder(&target.location)
                .prefix(&target.namespace)
                .lock_timeout(lock_timeout);
            if let Some(ttl) = opts.lock_ttl {
                b = b.lock_ttl(ttl);
            }
            if let Some(e) = opts.encryption {
                b = b.encryption(e);
            }
            AnyKeyed::Redis(b.build().unwrap())
        }
    }
}

/// Real credentials of the stand-in's default user (scope `tasks`), with the
/// access token already expired (locally and at the stand-in).
pub fn expired_credentials(standin: &StandInHandle) -> UserCredentials {
    let issued = standin.issue_token(&[gapi_standin::TASKS_SCOPE]);
    standin.expire_all_tokens();
    UserCredentials::new(
        standin.client_id(),
        standin.client_secret().map(ClientSecret::new),
        Some(RefreshToken::new(
            issued.refresh_token.expect("a refresh token"),
        )),
    )
    .with_access_token(
        AccessToken::new(issued.access_token),
        Some(SystemTime::now() - Duration::from_secs(60)),
    )
    .with_scopes([gapi_standin::TASKS_SCOPE])
    .with_token_uri(standin.token_uri())
    .with_revoke_uri(standin.revoke_uri())
}

/// Installs the ring provider for reqwest (built without one).
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Lists the user's task lists at the stand-in with these credentials (no
/// storage): proves they work.
pub async fn credentials_work(standin: &StandInHandle, c: &UserCredentials) -> bool {
    install_crypto();
    let source = gapi::auth::UserTokenSource::new(c.clone());
    let Ok(client) = gapi::Client::new(source.credentials()) else {
        return false;
    };
    let tasks = gapi_tasks_v1::TasksService::new(client).with_root_url(standin.base_url());
    tasks.tasklists().list().send().await.is_ok()
}

/// A scratch directory for SQLite files.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Where `PathBuf`s of scratch files come from in children.
pub fn path(s: &str) -> PathBuf {
    PathBuf::from(s)
}
