//! Many processes sharing one user's grant through each backend, against the
//! stand-in's token endpoint (hosted by the parent test on 127.0.0.1):
//!
//! - 16 workers in 4 OS processes, one expired token, refresh tokens rotated
//!   by the server: exactly one refresh, every worker ends up with the same
//!   new access token and the rotated refresh token, which is what is stored.
//! - A worker killed with SIGKILL while it holds the lock, after its token
//!   request (before or after its write): the lock is released (by the OS,
//!   the server, or the lease's TTL), the workers waiting for it carry on, and
//!   the stored credentials are valid.
//!
//! The children are this test binary run again with `child_entry` and
//! environment variables. PostgreSQL and Redis run when
//! `GAPI_TEST_POSTGRES_URL` / `GAPI_TEST_REDIS_URL` are set.

mod support;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use gapi::auth::{Storage, StorageGuard, UserCredentials, UserTokenSource};
use gapi::clock::BoxFuture;
use gapi_standin::{StandIn, StandInHandle};
use support::child::{self, Role, spawn as spawn_child, wait_for};
use support::{Kind, Opts, Target};

const PROCESSES: usize = 4;
const WORKERS_PER_PROCESS: usize = 4;
const USER: &str = "user@example.com";
/// The lease of the Redis lock in these tests (so a dead holder's lock
/// expires quickly).
const REDIS_TTL: Duration = Duration::from_millis(1500);

fn child_opts(kind: Kind) -> Opts {
    Opts {
        lock_timeout: Some(Duration::from_secs(60)),
        lock_ttl: (kind == Kind::Redis).then_some(REDIS_TTL),
        encryption: None,
    }
}

/// Where a victim stops, holding the lock, after its token request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stop {
    /// Before writing the refreshed credentials.
    BeforePut,
    /// After writing them (and before releasing the lock).
    AfterPut,
}

/// Not a test on its own: the body of every child process.
#[test]
fn child_entry() {
    let Some(Role {
        role,
        target,
        dir,
        id,
    }) = Role::from_env()
    else {
        return;
    };
    support::install_crypto();
    child::runtime().block_on(async move {
        match role.as_str() {
            "workers" => workers(&target, &dir, &id).await,
            "victim-before-put" => victim(&target, &dir, Stop::BeforePut).await,
            "victim-after-put" => victim(&target, &dir, Stop::AfterPut).await,
            other => panic!("unknown role {other}"),
        }
    });
}

/// Loads the expired grant in each worker (each with its own storage handle
/// and connections), says it is ready, waits for "go", then asks for a token.
async fn workers(target: &Target, dir: &Path, id: &str) {
    let mut sources = Vec::new();
    for _ in 0..WORKERS_PER_PROCESS {
        let keyed = support::open(target, child_opts(target.kind));
        let source = UserTokenSource::from_storage(keyed.entry(USER))
            .await
            .unwrap()
            .expect("the parent stored credentials")
            .build();
        assert!(source.current().is_expired(std::time::SystemTime::now()));
        sources.push(source);
    }
    std::fs::write(dir.join(format!("ready-{id}")), "").unwrap();
    while !dir.join("go").exists() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut tasks = Vec::new();
    for (w, source) in sources.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let token = source.access_token().await.unwrap();
            let c = source.current();
            format!(
                "WORKER {w} {} {}",
                token.secret(),
                c.refresh_token().unwrap().secret()
            )
        }));
    }
    for t in tasks {
        println!("{}", t.await.unwrap());
    }
}

/// Refreshes through a storage that stops, lock held, at `stop` and waits to
/// be killed.
async fn victim(target: &Target, dir: &Path, stop: Stop) {
    let keyed = support::open(target, child_opts(target.kind));
    let storage = Stopping {
        inner: keyed.entry(USER),
        stop,
        marker: dir.join("victim-stopped"),
    };
    let source = UserTokenSource::from_storage(storage)
        .await
        .unwrap()
        .unwrap()
        .build();
    let _ = source.access_token().await;
    unreachable!("the victim is killed before its refresh completes");
}

/// A storage whose guard stops in `put`.
struct Stopping {
    inner: std::sync::Arc<dyn Storage>,
    stop: Stop,
    marker: PathBuf,
}

struct StoppingGuard<'a> {
    inner: Box<dyn StorageGuard + 'a>,
    stop: Stop,
    marker: PathBuf,
}

impl Storage for Stopping {
    fn lock(&self) -> BoxFuture<'_, gapi::Result<Box<dyn StorageGuard + '_>>> {
        Box::pin(async move {
            let inner = self.inner.lock().await?;
            Ok(Box::new(StoppingGuard {
                inner,
                stop: self.stop,
                marker: self.marker.clone(),
            }) as Box<dyn StorageGuard>)
        })
    }
    fn describe(&self) -> String {
        format!("stopping {}", self.inner.describe())
    }
}

impl StorageGuard for StoppingGuard<'_> {
    fn get(&mut self) -> BoxFuture<'_, gapi::Result<Option<UserCredentials>>> {
        self.inner.get()
    }
    fn put<'a>(&'a mut self, credentials: &'a UserCredentials) -> BoxFuture<'a, gapi::Result<()>> {
        Box::pin(async move {
            if self.stop == Stop::AfterPut {
                self.inner.put(credentials).await?;
            }
            std::fs::write(&self.marker, credentials.access_token().unwrap().secret()).unwrap();
            loop {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        })
    }
    fn delete(&mut self) -> BoxFuture<'_, gapi::Result<()>> {
        self.inner.delete()
    }
    fn release<'b>(self: Box<Self>) -> BoxFuture<'b, gapi::Result<()>>
    where
        Self: 'b,
    {
        self.inner.release()
    }
}

/// Starts `n` worker processes and waits until each has loaded the grant.
async fn spawn_workers(target: &Target, dir: &Path, n: usize) -> Vec<Child> {
    let children: Vec<Child> = (0..n)
        .map(|i| spawn_child(target, dir, "workers", &i.to_string()))
        .collect();
    wait_for(
        "the workers to load the grant",
        Duration::from_secs(120),
        || (0..n).all(|i| dir.join(format!("ready-{i}")).exists()),
    )
    .await;
    children
}

/// Lets the workers go, all at once.
fn go(dir: &Path) {
    std::fs::write(dir.join("go"), "").unwrap();
}

/// Waits for the workers; returns every worker's `(access, refresh)` token.
async fn finish_workers(children: Vec<Child>) -> Vec<(String, String)> {
    let mut results = Vec::new();
    for c in children {
        let out = child::finish(c, "a worker process").await;
        for line in child::tagged(&out, "WORKER") {
            let parts: Vec<&str> = line.split(' ').collect();
            results.push((parts[1].to_owned(), parts[2].to_owned()));
        }
    }
    results
}

async fn store_expired(target: &Target, standin: &StandInHandle) -> UserCredentials {
    let creds = support::expired_credentials(standin);
    let keyed = support::open(target, child_opts(target.kind));
    keyed.entry(USER).put(&creds).await.unwrap();
    creds
}

async fn stored(target: &Target) -> UserCredentials {
    support::open(target, child_opts(target.kind))
        .entry(USER)
        .get()
        .await
        .unwrap()
        .expect("credentials stay stored")
}

async fn sixteen_workers(kind: Kind) {
    let scratch = support::scratch();
    let Some(target) = support::target(kind, scratch.path(), "procs") else {
        return;
    };
    let standin = StandIn::builder()
        .rotate_refresh_tokens(true)
        .start()
        .await
        .unwrap();
    let original = store_expired(&target, &standin).await;
    standin.reset_stats();
    let dir = tempfile::tempdir().unwrap();
    let children = spawn_workers(&target, dir.path(), PROCESSES).await;
    go(dir.path());
    let results = finish_workers(children).await;

    assert_eq!(results.len(), PROCESSES * WORKERS_PER_PROCESS);
    let stats = standin.stats();
    assert_eq!(
        stats.token_requests_for("refresh_token"),
        1,
        "{kind:?}: {stats:?}"
    );
    assert_eq!(
        stats.refreshes, 1,
        "{kind:?}: exactly one refresh for 16 workers"
    );
    let (access, refresh) = results[0].clone();
    assert_ne!(
        refresh,
        original.refresh_token().unwrap().secret(),
        "the server rotated the refresh token"
    );
    for r in &results {
        assert_eq!(
            r,
            &(access.clone(), refresh.clone()),
            "{kind:?}: {results:?}"
        );
    }
    let stored = stored(&target).await;
    assert_eq!(stored.access_token().unwrap().secret(), access);
    assert_eq!(
        stored.refresh_token().unwrap().secret(),
        refresh,
        "{kind:?}: the rotated refresh token is the stored one (no stale overwrite)"
    );
    assert!(!stored.is_invalid());
    assert!(support::credentials_work(&standin, &stored).await);
    // The stored (rotated) refresh token refreshes; the old one is dead.
    let again = UserTokenSource::new(stored.clone());
    again.force_refresh().await.unwrap();
    let old = UserTokenSource::new(original);
    assert!(
        old.force_refresh()
            .await
            .unwrap_err()
            .needs_reauthorization()
    );
    support::open(&target, Opts::default()).cleanup().await;
    standin.shutdown().await;
}

async fn killed_holder(kind: Kind, stop: Stop) {
    let scratch = support::scratch();
    let Some(target) = support::target(kind, scratch.path(), "kill") else {
        return;
    };
    // Google does not rotate refresh tokens; with rotation, a holder killed
    // between the token response and its write would take the only valid
    // refresh token with it, whatever the storage. After its write, rotation
    // is fine: the write is durable.
    let standin = StandIn::builder()
        .rotate_refresh_tokens(stop == Stop::AfterPut)
        .start()
        .await
        .unwrap();
    store_expired(&target, &standin).await;
    standin.reset_stats();
    let dir = tempfile::tempdir().unwrap();
    let role = match stop {
        Stop::BeforePut => "victim-before-put",
        Stop::AfterPut => "victim-after-put",
    };
    // The workers load the grant first (loading takes the lock too).
    let workers = spawn_workers(&target, dir.path(), PROCESSES - 1).await;
    let mut victim = spawn_child(&target, dir.path(), role, "victim");
    let marker = dir.path().join("victim-stopped");
    wait_for(
        "the victim to stop in its write",
        Duration::from_secs(60),
        || marker.exists(),
    )
    .await;
    let victim_token = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(standin.stats().refreshes, 1, "the victim refreshed");

    // The workers go while the victim holds the lock: they wait for it.
    go(dir.path());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        standin.stats().token_requests_for("refresh_token"),
        1,
        "{kind:?}: nobody refreshed while the victim held the lock"
    );
    let killed_at = Instant::now();
    victim.kill().unwrap(); // SIGKILL
    let status = victim.wait().unwrap();
    assert!(!status.success());
    let results = finish_workers(workers).await;
    let recovered = killed_at.elapsed();

    assert_eq!(results.len(), (PROCESSES - 1) * WORKERS_PER_PROCESS);
    let stats = standin.stats();
    let (access, refresh) = results[0].clone();
    for r in &results {
        assert_eq!(
            r,
            &(access.clone(), refresh.clone()),
            "{kind:?}: {results:?}"
        );
    }
    let stored = stored(&target).await;
    match stop {
        Stop::BeforePut => {
            // The victim's refresh was lost with it; the grant was not: one
            // more refresh, by one of the 12 workers.
            assert_eq!(stats.refreshes, 2, "{kind:?}: {stats:?}");
            assert_ne!(access, victim_token);
        }
        Stop::AfterPut => {
            // The victim's write survived it: everybody adopted its token.
            assert_eq!(stats.refreshes, 1, "{kind:?}: {stats:?}");
            assert_eq!(access, victim_token, "{kind:?}: the victim's write is kept");
        }
    }
    assert_eq!(stored.access_token().unwrap().secret(), access);
    assert_eq!(stored.refresh_token().unwrap().secret(), refresh);
    assert!(!stored.is_invalid());
    assert!(support::credentials_work(&standin, &stored).await);
    println!("{kind:?} {stop:?}: the waiting workers finished {recovered:?} after the kill");
    support::open(&target, Opts::default()).cleanup().await;
    standin.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sixteen_workers_in_four_processes_refresh_once() {
    sixteen_workers(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sixteen_workers_in_four_processes_refresh_once() {
    sixteen_workers(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_sixteen_workers_in_four_processes_refresh_once() {
    sixteen_workers(Kind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_holder_killed_before_its_write_loses_nothing() {
    killed_holder(Kind::Sqlite, Stop::BeforePut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_holder_killed_after_its_write_keeps_it() {
    killed_holder(Kind::Sqlite, Stop::AfterPut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_holder_killed_before_its_write_loses_nothing() {
    killed_holder(Kind::Postgres, Stop::BeforePut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_holder_killed_after_its_write_keeps_it() {
    killed_holder(Kind::Postgres, Stop::AfterPut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holder_killed_before_its_write_loses_nothing() {
    killed_holder(Kind::Redis, Stop::BeforePut).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holder_killed_after_its_write_keeps_it() {
    killed_holder(Kind::Redis, Stop::AfterPut).await;
}
