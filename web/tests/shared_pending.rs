//! Two gapi-axum apps behind one public address (a load balancer without
//! sticky sessions), sharing a gapi-storage backend: a sign-in begun on A
//! completes on B; the used `state` is refused by both, also when both get
//! it at once; an expired one is refused. With per-process memory stores
//! (the old default) the callback on B fails. Per backend: SQLite (one file,
//! opened by each app, also through `storage_url`), PostgreSQL and Redis
//! when `GAPI_TEST_POSTGRES_URL` / `GAPI_TEST_REDIS_URL` are set
//! (`GAPI_REQUIRE_POSTGRES=1` / `GAPI_REQUIRE_REDIS=1` make them mandatory).

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use gapi::auth::{ClientSecret, OAuthClient};
use gapi::clock::{ManualClock, SharedClock};
use gapi_axum::{OAuth2, OAuth2Builder, OAuthRequired, User, cookie};
use gapi_standin::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, StandIn, StandInHandle};
use support::{Browser, last};

gapi_axum::scope_set!(TasksRead = ["https://www.googleapis.com/auth/tasks.readonly"]);

fn identity(parts: &Parts) -> Option<User> {
    cookie(parts, "user").map(User::new)
}

async fn lists(
    google: OAuthRequired<TasksRead>,
    axum::Extension(root): axum::Extension<Arc<String>>,
) -> Response {
    let tasks =
        gapi_tasks_v1::TasksService::new(google.client().unwrap()).with_root_url(root.as_str());
    match tasks.tasklists().list().send().await {
        Ok(l) => Html(format!(
            "{} has {} lists",
            google.user().id(),
            l.items.unwrap_or_default().len()
        ))
        .into_response(),
        Err(e) => google.error_response(&e),
    }
}

/// One app process: its own OAuth2, listening on its own port.
struct App {
    url: String,
    oauth: OAuth2,
}

/// A backend both apps open separately (own connections), or a memory
/// store each.
#[derive(Clone)]
enum Backend {
    Memory,
    SqliteUrl(String),
    Sqlite(String),
    Postgres(String, String),
    Redis(String, String),
}

impl Backend {
    fn configure(&self, b: OAuth2Builder) -> OAuth2Builder {
        match self {
            Backend::Memory => b,
            Backend::SqliteUrl(path) => b.storage_url(&format!("sqlite:{path}")),
            Backend::Sqlite(path) => b.shared_storage(
                gapi_storage::SqliteKeyedStorage::builder(path)
                    .table("web_shared")
                    .build()
                    .unwrap(),
            ),
            Backend::Postgres(url, table) => b.shared_storage(
                gapi_storage::PostgresKeyedStorage::builder(url)
                    .table(table)
                    .build()
                    .unwrap(),
            ),
            Backend::Redis(url, prefix) => b.shared_storage(
                gapi_storage::RedisKeyedStorage::builder(url)
                    .prefix(prefix)
                    .build()
                    .unwrap(),
            ),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::SqliteUrl(_) => "sqlite (storage_url)",
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(..) => "postgres",
            Backend::Redis(..) => "redis",
        }
    }

    async fn cleanup(&self) {
        match self {
            Backend::Postgres(url, table) => {
                use gapi_storage::HasSingleUse as _;
                let s = gapi_storage::PostgresKeyedStorage::builder(url)
                    .table(table)
                    .build()
                    .unwrap();
                s.single_use().unwrap().drop_table().await.unwrap();
                s.drop_table().await.unwrap();
            }
            Backend::Redis(url, prefix) => {
                let s = gapi_storage::RedisKeyedStorage::builder(url)
                    .prefix(prefix)
                    .build()
                    .unwrap();
                s.delete_all().await.unwrap();
            }
            _ => {}
        }
    }
}

async fn app(
    backend: &Backend,
    standin: &StandInHandle,
    public: &str,
    listener: tokio::net::TcpListener,
    clock: &ManualClock,
) -> App {
    let url = format!("http://{}", listener.local_addr().unwrap());
    let client = OAuthClient::new(
        DEFAULT_CLIENT_ID,
        Some(ClientSecret::new(DEFAULT_CLIENT_SECRET)),
    )
    .with_auth_uri(standin.auth_uri())
    .with_token_uri(standin.token_uri())
    .with_revoke_uri(standin.revoke_uri());
    let shared: SharedClock = Arc::new(clock.clone());
    // Both apps are reached through the same public redirect URI.
    let builder = OAuth2::builder(client, format!("{public}/oauth2callback"))
        .identity(identity)
        .clock(shared);
    let oauth = backend.configure(builder).build().unwrap();
    let router = Router::new()
        .route("/lists", get(lists))
        .merge(oauth.routes())
        .layer(oauth.layer())
        .layer(axum::Extension(Arc::new(standin.base_url().to_owned())));
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    App { url, oauth }
}

fn on(app: &App, public_url: &str, public: &str) -> String {
    public_url.replacen(public, &app.url, 1)
}

/// Starts an authorization on `a` for `browser` and returns the callback
/// URL the consent screen sends it to (at the public address).
async fn begin(a: &App, browser: &Browser, public: &str) -> String {
    let first = browser.get(&format!("{}/lists", a.url)).await;
    assert_eq!(first.status, 303, "{first:?}");
    let consent = browser.get(first.location.as_deref().unwrap()).await;
    assert_eq!(consent.status, 302, "{consent:?}");
    let cb = consent.location.unwrap();
    assert!(cb.starts_with(&format!("{public}/oauth2callback?")), "{cb}");
    cb
}

fn backends(dir: &std::path::Path) -> Vec<Backend> {
    let unique = format!("web_{}_{}", std::process::id(), rand::random::<u32>());
    let mut out = vec![
        Backend::SqliteUrl(dir.join("url.sqlite").display().to_string()),
        Backend::Sqlite(dir.join("shared.sqlite").display().to_string()),
    ];
    for (var, require, kind) in [
        (
            "GAPI_TEST_POSTGRES_URL",
            "GAPI_REQUIRE_POSTGRES",
            "postgres",
        ),
        ("GAPI_TEST_REDIS_URL", "GAPI_REQUIRE_REDIS", "redis"),
    ] {
        match std::env::var(var) {
            Ok(url) if !url.is_empty() => out.push(if kind == "postgres" {
                Backend::Postgres(url, unique.clone())
            } else {
                Backend::Redis(url, unique.clone())
            }),
            _ => {
                assert!(
                    std::env::var(require).as_deref() != Ok("1"),
                    "{require}=1 but {var} is not set"
                );
                println!("skipped: the {kind} part ({var} is not set)");
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_begun_on_one_app_completes_on_the_other_per_backend() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    for backend in backends(dir.path()) {
        let standin = StandIn::builder().start().await.unwrap();
        let la = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        // A's address doubles as the public one (the load balancer's).
        let public = format!("http://{}", la.local_addr().unwrap());
        let clock = ManualClock::new(SystemTime::now());
        let a = app(&backend, &standin, &public, la, &clock).await;
        let b = app(&backend, &standin, &public, lb, &clock).await;
        let name = backend.name();

        // Begun on A, the callback lands on B: accepted, and back to the page.
        let alice = Browser::by_host();
        alice.set_cookie_for_all("user", "alice");
        let cb = begin(&a, &alice, &public).await;
        let done = alice.visit(&on(&b, &cb, &public)).await;
        assert_eq!(done[0].status, 303, "{name}: {done:#?}");
        assert_eq!(last(&done).status, 200, "{name}: {done:#?}");
        assert!(
            last(&done).body.starts_with("alice has"),
            "{name}: {done:#?}"
        );
        // Both apps see the stored credentials: no new consent on A.
        let on_a = alice.visit(&format!("{}/lists", a.url)).await;
        assert_eq!(on_a.len(), 1, "{name}: {on_a:#?}");
        assert!(a.oauth.token_source("alice").await.unwrap().is_some());

        // The used state is refused by both.
        for app in [&a, &b] {
            let replay = alice.get(&on(app, &cb, &public)).await;
            assert_eq!(replay.status, 400, "{name}: {replay:?}");
            assert!(replay.body.contains("already used"), "{name}");
        }
        assert_eq!(standin.stats().token_requests_for("authorization_code"), 1);

        // One callback delivered to both at once: exactly one accepts it.
        let bob = Browser::by_host();
        bob.set_cookie_for_all("user", "bob");
        let cb = begin(&b, &bob, &public).await;
        let (to_a, to_b) = (on(&a, &cb, &public), on(&b, &cb, &public));
        let (ra, rb) = tokio::join!(bob.get(&to_a), bob.get(&to_b));
        let mut statuses = [ra.status, rb.status];
        statuses.sort();
        assert_eq!(statuses, [303, 400], "{name}: {ra:?} {rb:?}");
        assert_eq!(standin.stats().token_requests_for("authorization_code"), 2);

        // Expired: begun on A, the callback comes after the TTL.
        let carol = Browser::by_host();
        carol.set_cookie_for_all("user", "carol");
        let cb = begin(&a, &carol, &public).await;
        clock.advance(gapi_axum::DEFAULT_PENDING_TTL + Duration::from_secs(1));
        let late = carol.get(&on(&b, &cb, &public)).await;
        assert_eq!(late.status, 400, "{name}: {late:?}");
        assert!(late.body.contains("expired"), "{name}: {late:?}");
        assert_eq!(carol.get(&on(&a, &cb, &public)).await.status, 400);
        assert!(b.oauth.token_source("carol").await.unwrap().is_none());
        assert_eq!(standin.stats().token_requests_for("authorization_code"), 2);
        backend.cleanup().await;
        println!("{name}: begun on A, completed on B; replays and the expired state refused");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_memory_store_per_process_the_other_process_knows_nothing() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let standin = StandIn::builder().start().await.unwrap();
    let la = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lb = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", la.local_addr().unwrap());
    let clock = ManualClock::new(SystemTime::now());
    let a = app(&Backend::Memory, &standin, &public, la, &clock).await;
    let b = app(&Backend::Memory, &standin, &public, lb, &clock).await;
    let alice = Browser::by_host();
    alice.set_cookie_for_all("user", "alice");
    let cb = begin(&a, &alice, &public).await;
    let hop = alice.get(&on(&b, &cb, &public)).await;
    assert_eq!(hop.status, 400, "{hop:?}");
    assert!(hop.body.contains("unknown"), "{hop:?}");
    // On A itself it works (and only once).
    assert_eq!(alice.get(&cb).await.status, 303);
    assert_eq!(alice.get(&cb).await.status, 400);
}
