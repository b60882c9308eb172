//! Locks released when their work ends (issue #18), per backend, with the
//! default lease and one process per holder:
//!
//! - Processes that each `put` or `get` one key and exit the moment the call
//!   returns leave no lock behind: a process started after them takes the
//!   same key's lock at once (measured, well under the 5 s Redis lease).
//! - Three processes refreshing three different keys at the same moment,
//!   against a token endpoint that takes [`REFRESH_DELAY`] to answer, finish
//!   in about one refresh, not three in a row.
//! - A waiter that times out is told the key, and for how long the holder
//!   (another process) has held the lock.
//!
//! The children are this test binary run again (see `support::child`). The
//! tests run one at a time (they measure time on a small machine).

mod support;

use std::process::Child;
use std::time::{Duration, Instant, SystemTime};

use gapi::auth::{AccessToken, RefreshToken, UserCredentials, UserTokenSource};
use gapi_standin::StandIn;
use gapi_storage::{StorageError, storage_error};
use support::child::{self, Role, spawn, wait_for};
use support::{Kind, Opts};

const USER: &str = "user@example.com";
/// How long the token endpoint takes to answer a refresh.
const REFRESH_DELAY: Duration = Duration::from_millis(400);
/// The processes that put or get and exit, before the follow-up.
const QUICK_PROCESSES: usize = 4;
/// What "at once" means for the follow-up: far below the lease (5 s).
const AT_ONCE: Duration = Duration::from_secs(1);
/// The lock timeout of the waiter that is meant to time out.
const SHORT_TIMEOUT: Duration = Duration::from_millis(500);

/// One test at a time in this binary: they measure durations.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The children's storage: the default lease, a lock timeout that outlasts
/// a few leases (so that a lock left behind shows as a slow child rather
/// than a failed one).
fn child_opts() -> Opts {
    Opts {
        lock_timeout: Some(Duration::from_secs(12)),
        ..Opts::default()
    }
}

fn creds(token: &str) -> UserCredentials {
    UserCredentials::new("cid", None, Some(RefreshToken::new("1//refresh")))
        .with_access_token(AccessToken::new(token), None)
}

/// Microseconds since the Unix epoch (comparable across processes).
fn unix_micros() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

/// Not a test on its own: the body of every child process.
#[test]
fn child_entry() {
    let Some(role) = Role::from_env() else {
        return;
    };
    support::install_crypto();
    child::runtime().block_on(async move {
        let keyed = support::open(&role.target, child_opts());
        match role.role.as_str() {
            // Store or read, then exit the moment the call returned.
            "put-and-exit" => {
                keyed.entry(USER).put(&creds(&role.id)).await.unwrap();
                exit_now();
            }
            "get-and-exit" => {
                keyed.entry(USER).get().await.unwrap();
                exit_now();
            }
            "lock-once" => {
                let entry = keyed.entry(USER);
                let started = Instant::now();
                let guard = entry.lock().await.unwrap();
                let waited = started.elapsed();
                guard.release().await.unwrap();
                println!("WAITED {}", waited.as_micros());
            }
            "hold" => {
                let entry = keyed.entry(USER);
                let guard = entry.lock().await.unwrap();
                std::fs::write(role.dir.join("holding"), "").unwrap();
                while !role.dir.join("stop").exists() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                guard.release().await.unwrap();
                exit_now();
            }
            // Stores the credentials the parent left in `creds-<i>.json`
            // under key `i`, then exits at once.
            "store-keys" => {
                for i in 0..3 {
                    let json = std::fs::read_to_string(role.dir.join(format!("creds-{i}.json")));
                    let c = UserCredentials::from_json(&json.unwrap()).unwrap();
                    keyed.entry(&key(&i.to_string())).put(&c).await.unwrap();
                }
                exit_now();
            }
            "refresh" => refresh(&role, &keyed).await,
            other => panic!("unknown role {other}"),
        }
    });
}

/// Ends the process without running anything more (no runtime shutdown,
/// no destructors): what a command-line tool does when its work is done.
fn exit_now() -> ! {
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    std::process::exit(0)
}

/// Waits for "go", then loads the key `id`'s expired grant from the
/// storage and refreshes it (what a command-line tool run does), prints when
/// it started and ended, and exits at once.
async fn refresh(role: &Role, keyed: &support::AnyKeyed) {
    let entry = keyed.entry(&key(&role.id));
    std::fs::write(role.dir.join(format!("ready-{}", role.id)), "").unwrap();
    while !role.dir.join("go").exists() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let start = unix_micros();
    let source = UserTokenSource::from_storage(entry)
        .await
        .unwrap()
        .expect("stored by the setup process")
        .build();
    let token = source.access_token().await.unwrap();
    let end = unix_micros();
    println!("REFRESH {start} {end} {}", token.secret());
    exit_now();
}

fn key(id: &str) -> String {
    format!("user-{id}@example.com")
}

/// (a) `QUICK_PROCESSES` processes put or get one key and exit at once;
/// then another process takes the key's lock without waiting for a lease.
async fn quick_processes_leave_no_lock(kind: Kind) {
    let _serial = SERIAL.lock().await;
    let scratch = support::scratch();
    let Some(target) = support::target(kind, scratch.path(), "quick") else {
        return;
    };
    let keyed = support::open(&target, Opts::default());
    keyed.entry(USER).put(&creds("setup")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let quick: Vec<Child> = (0..QUICK_PROCESSES)
        .map(|i| {
            let role = if i % 2 == 0 {
                "put-and-exit"
            } else {
                "get-and-exit"
            };
            spawn(&target, dir.path(), role, &i.to_string())
        })
        .collect();
    for c in quick {
        child::finish(c, "a put-or-get process").await;
    }
    let quick_took = started.elapsed();
    // They did their work: the last put is stored.
    let stored = keyed.entry(USER).get().await.unwrap();
    assert!(
        (0..QUICK_PROCESSES)
            .step_by(2)
            .any(|i| stored == Some(creds(&i.to_string()))),
        "{kind:?}: {stored:?}"
    );
    let out = child::finish(
        spawn(&target, dir.path(), "lock-once", "f"),
        "the follow-up",
    )
    .await;
    let lines = child::tagged(&out, "WAITED");
    let waited = Duration::from_micros(lines[0].parse().unwrap());
    println!(
        "{kind:?}: {QUICK_PROCESSES} put/get processes took {quick_took:?} in all; \
         the follow-up waited {waited:?} for the lock"
    );
    assert!(
        waited < AT_ONCE,
        "{kind:?}: the follow-up waited {waited:?} for a lock nobody holds"
    );
    // Each child also took the lock after its predecessors exited: had a
    // lock outlived one, they would have waited a lease each.
    assert!(
        quick_took < Duration::from_secs(4),
        "{kind:?}: the {QUICK_PROCESSES} processes took {quick_took:?}"
    );
    keyed.cleanup().await;
}

/// A TCP proxy to `to` that holds every new connection for `delay` before
/// forwarding it: a token endpoint that takes `delay` to answer.
async fn slow_proxy(to: std::net::SocketAddr, delay: Duration) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    addr
}

/// (b) Three processes load and refresh three keys at the same moment,
/// right after the process that stored them exited: about one refresh in
/// all.
async fn three_keys_refresh_at_once(kind: Kind) {
    let _serial = SERIAL.lock().await;
    let scratch = support::scratch();
    let Some(target) = support::target(kind, scratch.path(), "three") else {
        return;
    };
    let standin = StandIn::builder().start().await.unwrap();
    let proxy = slow_proxy(standin.addr(), REFRESH_DELAY).await;
    let token_uri = standin
        .token_uri()
        .replace(&standin.addr().to_string(), &proxy.to_string());
    // The keys are stored by a process that exits at once (as a setup tool
    // would): its locks must not outlive it either.
    let keyed = support::open(&target, Opts::default());
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        let c = support::expired_credentials(&standin).with_token_uri(&token_uri);
        std::fs::write(dir.path().join(format!("creds-{i}.json")), c.to_json()).unwrap();
    }
    child::finish(
        spawn(&target, dir.path(), "store-keys", "s"),
        "the setup process",
    )
    .await;
    standin.reset_stats();
    let refreshers: Vec<Child> = (0..3)
        .map(|i| spawn(&target, dir.path(), "refresh", &i.to_string()))
        .collect();
    wait_for(
        "the refreshers to load their grants",
        Duration::from_secs(60),
        || (0..3).all(|i| dir.path().join(format!("ready-{i}")).exists()),
    )
    .await;
    std::fs::write(dir.path().join("go"), "").unwrap();
    let mut spans = Vec::new();
    for (i, c) in refreshers.into_iter().enumerate() {
        let out = child::finish(c, "a refresher").await;
        let line = child::tagged(&out, "REFRESH").remove(0);
        let parts: Vec<&str> = line.split(' ').collect();
        let (start, end): (u128, u128) = (parts[0].parse().unwrap(), parts[1].parse().unwrap());
        let stored = keyed
            .entry(&key(&i.to_string()))
            .get()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.access_token().unwrap().secret(),
            parts[2],
            "{kind:?}"
        );
        spans.push((start, end));
    }
    assert_eq!(
        standin.stats().refreshes,
        3,
        "{kind:?}: one refresh per key"
    );
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    let all = Duration::from_micros((last - first) as u64);
    let each: Vec<Duration> = spans
        .iter()
        .map(|(s, e)| Duration::from_micros((e - s) as u64))
        .collect();
    println!("{kind:?}: 3 keys refreshed at once: each {each:?}, all {all:?}");
    for d in &each {
        assert!(
            *d >= REFRESH_DELAY,
            "{kind:?}: a refresh faster than the endpoint"
        );
    }
    assert!(
        all < 2 * REFRESH_DELAY,
        "{kind:?}: 3 keys took {all:?} ({each:?}): one after another, not at once"
    );
    keyed.cleanup().await;
    standin.shutdown().await;
}

/// (c) Another process holds the key; a waiter times out and is told the
/// key and for how long the holder has had the lock.
async fn timeout_names_key_and_holder_age(kind: Kind) {
    let _serial = SERIAL.lock().await;
    let scratch = support::scratch();
    let Some(target) = support::target(kind, scratch.path(), "held") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spawned = Instant::now();
    let holder = spawn(&target, dir.path(), "hold", "h");
    let holding = dir.path().join("holding");
    wait_for("the holder", Duration::from_secs(60), || holding.exists()).await;
    let impatient = support::open(
        &target,
        Opts {
            lock_timeout: Some(SHORT_TIMEOUT),
            ..Opts::default()
        },
    );
    let entry = impatient.entry(USER);
    let e = match entry.lock().await {
        Ok(_) => panic!("{kind:?}: a second holder got the lock"),
        Err(e) => e,
    };
    let since_spawn = spawned.elapsed();
    println!("{kind:?}: {e}");
    assert!(e.is_timeout(), "{kind:?}: {e}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("{USER:?}")),
        "{kind:?}: no key in {text}"
    );
    let Some(StorageError::LockTimeout {
        key,
        waited,
        held_for,
        holder: who,
    }) = storage_error(&e)
    else {
        panic!("{kind:?}: not a LockTimeout: {e:?}");
    };
    assert_eq!(key, USER);
    assert_eq!(*waited, SHORT_TIMEOUT);
    let held_for = held_for.unwrap_or_else(|| panic!("{kind:?}: no holder age: {text}"));
    // At least our wait; at most since the holder process was started.
    assert!(
        held_for >= SHORT_TIMEOUT && held_for <= since_spawn + Duration::from_millis(50),
        "{kind:?}: held for {held_for:?}, the holder started {since_spawn:?} ago"
    );
    assert!(
        text.contains(&format!(
            "has held it for {}",
            gapi_storage_millis(held_for)
        )),
        "{kind:?}: {text}"
    );
    match kind {
        Kind::Sqlite => assert_eq!(who.as_deref(), Some(&*format!("process {}", holder.id()))),
        Kind::Postgres => assert!(
            who.as_deref()
                .is_some_and(|w| w.starts_with("backend pid "))
        ),
        Kind::Redis => assert!(
            who.as_deref()
                .is_some_and(|w| w.starts_with("lease ending in "))
        ),
    }
    // Released by the holder: the lock is free again at once.
    std::fs::write(dir.path().join("stop"), "").unwrap();
    child::finish(holder, "the holder").await;
    let started = Instant::now();
    entry.lock().await.unwrap().release().await.unwrap();
    assert!(
        started.elapsed() < AT_ONCE,
        "{kind:?}: {:?}",
        started.elapsed()
    );
    impatient.cleanup().await;
}

/// How the crate writes a duration in messages (rounded to milliseconds).
fn gapi_storage_millis(d: Duration) -> String {
    format!("{:?}", Duration::from_millis(d.as_millis() as u64))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_processes_that_exit_at_once_leave_no_lock() {
    quick_processes_leave_no_lock(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_processes_that_exit_at_once_leave_no_lock() {
    quick_processes_leave_no_lock(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_processes_that_exit_at_once_leave_no_lock() {
    quick_processes_leave_no_lock(Kind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_three_keys_refresh_at_once() {
    three_keys_refresh_at_once(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_three_keys_refresh_at_once() {
    three_keys_refresh_at_once(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_three_keys_refresh_at_once() {
    three_keys_refresh_at_once(Kind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lock_timeout_names_key_and_holder_age() {
    timeout_names_key_and_holder_age(Kind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lock_timeout_names_key_and_holder_age() {
    timeout_names_key_and_holder_age(Kind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_lock_timeout_names_key_and_holder_age() {
    timeout_names_key_and_holder_age(Kind::Redis).await;
}
