//! The axum integration end to end, through a real HTTP client: a test app
//! served on 127.0.0.1, the stand-in's consent (auto-approving) and Tasks API,
//! and a scripted browser that keeps cookies per site and follows redirects
//! one by one (so each hop can be checked).

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use gapi::auth::{ClientSecret, KeyedStorage as _, OAuthClient, Storage as _};
use gapi_axum::{OAuth2, OAuthAware, OAuthRequired, User, cookie, escape};
use gapi_standin::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, RegisteredClient, StandIn, StandInHandle,
    TASKS_READONLY_SCOPE, TASKS_SCOPE,
};
use gapi_storage::SqliteKeyedStorage;
use gapi_tasks_v1::TasksService;
use gapi_tasks_v1::schemas::{Task, TaskList};
use support::{Browser, last, query};

gapi_axum::scope_set!(TasksRead = ["https://www.googleapis.com/auth/tasks.readonly"]);
gapi_axum::scope_set!(TasksWrite = ["https://www.googleapis.com/auth/tasks"]);

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

struct App {
    url: String,
    oauth: OAuth2,
    standin: StandInHandle,
    storage: SqliteKeyedStorage,
    _dir: tempfile::TempDir,
    roots: Arc<Mutex<Option<String>>>,
}

/// The test app's identity: the (toy) cookie `user`, and `sid` as session.
fn identity(parts: &Parts) -> Option<User> {
    let user = cookie(parts, "user")?;
    let mut u = User::new(user).with_login_hint(user);
    if let Some(sid) = cookie(parts, "sid") {
        u = u.with_session(sid);
    }
    Some(u)
}

fn tasks_client(client: gapi::Client, root: &Arc<Mutex<Option<String>>>) -> TasksService {
    TasksService::new(client).with_root_url(root.lock().unwrap().clone().unwrap())
}

async fn list_page(
    google: OAuthRequired<TasksRead>,
    axum::Extension(root): axum::Extension<Arc<Mutex<Option<String>>>>,
) -> Response {
    let tasks = tasks_client(google.client().unwrap(), &root);
    let lists = match tasks.tasklists().list().send().await {
        Ok(l) => l,
        Err(e) => return google.error_response(&e),
    };
    let mut out = format!("<h1>Tasks of {}</h1><ul>", escape(google.user().id()));
    for list in lists.items.unwrap_or_default() {
        let id = list.id.unwrap_or_default();
        let items = match tasks.tasks().list(id).send().await {
            Ok(t) => t,
            Err(e) => return google.error_response(&e),
        };
        for t in items.items.unwrap_or_default() {
            out.push_str(&format!(
                "<li>{}</li>",
                escape(&t.title.unwrap_or_default())
            ));
        }
    }
    out.push_str("</ul>");
    Html(out).into_response()
}

async fn write_page(
    google: OAuthRequired<TasksWrite>,
    axum::Extension(root): axum::Extension<Arc<Mutex<Option<String>>>>,
) -> Response {
    let tasks = tasks_client(google.client().unwrap(), &root);
    let task = Task {
        title: Some("written by the test".into()),
        ..Default::default()
    };
    match tasks.tasks().insert("@default", task).send().await {
        Ok(_) => Html("created".to_owned()).into_response(),
        Err(e) => google.error_response(&e),
    }
}

async fn aware_page(google: OAuthAware<TasksRead>) -> Html<String> {
    if google.has_credentials() {
        Html("connected".to_owned())
    } else {
        Html(format!(
            "<a id=\"connect\" href=\"{}\">Connect Google Tasks</a>",
            escape(&google.authorize_url())
        ))
    }
}

/// Seeds tasks for a user of the stand-in.
async fn seed(standin: &StandInHandle, user: &str, titles: &[&str]) {
    let issued = standin.issue_token_for(user, &[TASKS_SCOPE]);
    let client = gapi::Client::new(gapi::Credentials::access_token(issued.access_token)).unwrap();
    let tasks = TasksService::new(client).with_root_url(standin.base_url());
    let list = tasks
        .tasklists()
        .insert(TaskList {
            title: Some(format!("Seeded for {user}")),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    for t in titles {
        tasks
            .tasks()
            .insert(
                list.id.clone().unwrap(),
                Task {
                    title: Some((*t).to_owned()),
                    ..Default::default()
                },
            )
            .send()
            .await
            .unwrap();
    }
}

async fn start() -> App {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Seeding uses its own client (the first one registered), so that the
    // app's client starts with no grant.
    let standin = StandIn::builder()
        .without_default_client()
        .client(RegisteredClient::new("seeder", "seeder-secret"))
        .client(RegisteredClient::new(
            DEFAULT_CLIENT_ID,
            DEFAULT_CLIENT_SECRET,
        ))
        .start()
        .await
        .unwrap();
    seed(&standin, ALICE, &["Buy milk", "Call <Bob>"]).await;
    seed(&standin, BOB, &["Bob's own task"]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteKeyedStorage::open(dir.path().join("credentials.sqlite")).unwrap();
    let client = OAuthClient::new(
        DEFAULT_CLIENT_ID,
        Some(ClientSecret::new(DEFAULT_CLIENT_SECRET)),
    )
    .with_auth_uri(standin.auth_uri())
    .with_token_uri(standin.token_uri())
    .with_revoke_uri(standin.revoke_uri());
    let oauth = OAuth2::builder(client, format!("{url}/oauth2callback"))
        .identity(identity)
        .storage(storage.clone())
        .build()
        .unwrap();
    let roots = Arc::new(Mutex::new(Some(standin.base_url().to_owned())));
    let app = Router::new()
        .route("/tasks", get(list_page))
        .route("/write", get(write_page))
        .route("/aware", get(aware_page))
        .merge(oauth.routes())
        .layer(oauth.layer())
        .layer(axum::Extension(roots.clone()));
    let oauth = oauth.clone();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    App {
        url,
        oauth,
        standin,
        storage,
        _dir: dir,
        roots,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_page_consents_and_comes_back_with_data() {
    let app = start().await;
    let alice = Browser::signed_in(ALICE);
    let hops = alice
        .visit(&format!("{}/tasks?sort=title&x=%2F", app.url))
        .await;
    assert_eq!(hops.len(), 4, "{hops:#?}");
    // 1. The page redirects to the consent screen.
    assert_eq!(hops[0].status, 303);
    let consent = hops[1].url.clone();
    assert!(consent.starts_with(&app.standin.auth_uri()), "{consent}");
    assert_eq!(
        query(&consent, "scope").as_deref(),
        Some(TASKS_READONLY_SCOPE)
    );
    assert_eq!(query(&consent, "access_type").as_deref(), Some("offline"));
    assert_eq!(query(&consent, "prompt").as_deref(), Some("consent"));
    assert_eq!(
        query(&consent, "include_granted_scopes").as_deref(),
        Some("true")
    );
    assert_eq!(query(&consent, "login_hint").as_deref(), Some(ALICE));
    assert_eq!(
        query(&consent, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query(&consent, "state").unwrap().len() >= 43);
    assert_eq!(
        query(&consent, "redirect_uri").unwrap(),
        format!("{}/oauth2callback", app.url)
    );
    // 2. The stand-in approves and calls back; 3. back on the original page.
    assert!(
        hops[2]
            .url
            .starts_with(&format!("{}/oauth2callback?", app.url))
    );
    assert_eq!(hops[2].status, 303);
    assert_eq!(hops[2].location.as_deref(), Some("/tasks?sort=title&x=%2F"));
    let page = last(&hops);
    assert_eq!(page.status, 200, "{page:?}");
    assert!(page.body.contains("<li>Buy milk</li>"), "{}", page.body);
    assert!(
        page.body.contains("<li>Call &lt;Bob&gt;</li>"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Bob's own task"));

    // Stored under the user id, with a refresh token and the scope.
    let stored = app.storage.for_key(ALICE).get().await.unwrap().unwrap();
    assert!(stored.refresh_token().is_some());
    assert!(stored.has_scopes(&[TASKS_READONLY_SCOPE]));
    // The next visit needs no consent.
    let again = alice.visit(&format!("{}/tasks", app.url)).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].status, 200);
    assert_eq!(app.standin.stats().authorizations, 1);

    // Access tokens expire at the server: refreshed through the storage.
    app.standin.expire_all_tokens();
    let refreshed = alice.visit(&format!("{}/tasks", app.url)).await;
    assert_eq!(refreshed.len(), 1, "{refreshed:#?}");
    assert!(refreshed[0].body.contains("Buy milk"));
    assert_eq!(app.standin.stats().refreshes, 1);
    let after = app.storage.for_key(ALICE).get().await.unwrap().unwrap();
    assert_ne!(after.access_token(), stored.access_token(), "written back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_users_get_the_sign_in_response() {
    let app = start().await;
    let anon = Browser::new();
    let hops = anon.visit(&format!("{}/tasks", app.url)).await;
    assert_eq!(hops.len(), 1);
    assert_eq!(hops[0].status, 401);
    let aware = anon.visit(&format!("{}/aware", app.url)).await;
    assert_eq!(aware[0].status, 200);
    assert!(aware[0].body.contains("Connect Google Tasks"));
    assert_eq!(app.standin.stats().authorizations, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aware_page_shows_the_authorize_link_then_has_credentials() {
    let app = start().await;
    let alice = Browser::signed_in(ALICE);
    let page = alice.visit(&format!("{}/aware", app.url)).await;
    assert_eq!(page.len(), 1);
    let body = &page[0].body;
    let start = body.find("href=\"").unwrap() + 6;
    let link = body[start..body[start..].find('"').unwrap() + start].replace("&amp;", "&");
    assert!(
        link.starts_with("/oauth2authorize?return_to=%2Faware"),
        "{link}"
    );
    assert!(link.contains("scope="), "{link}");
    assert_eq!(
        app.standin.stats().authorizations,
        0,
        "showing the link starts nothing"
    );
    let hops = alice.visit(&format!("{}{link}", app.url)).await;
    let done = last(&hops);
    assert_eq!(done.url, format!("{}/aware", app.url), "{hops:#?}");
    assert_eq!(done.body, "connected");
}

/// Runs the flow up to the callback and returns the callback URL without
/// visiting it.
async fn callback_url(app: &App, browser: &Browser, page: &str) -> String {
    let first = browser.get(&format!("{}{page}", app.url)).await;
    assert_eq!(first.status, 303, "{first:?}");
    let consent = browser.get(first.location.as_deref().unwrap()).await;
    assert_eq!(consent.status, 302, "{consent:?}");
    let cb = consent.location.unwrap();
    assert!(
        cb.starts_with(&format!("{}/oauth2callback?", app.url)),
        "{cb}"
    );
    cb
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_missing_replayed_and_foreign_states_are_rejected() {
    let app = start().await;
    let alice = Browser::signed_in(ALICE);
    let callback = format!("{}/oauth2callback", app.url);
    let nothing_stored = || async {
        app.storage.for_key(ALICE).get().await.unwrap().is_none()
            && app.storage.for_key(BOB).get().await.unwrap().is_none()
    };

    // Missing and forged.
    for url in [
        format!("{callback}?code=abc"),
        format!("{callback}?code=abc&state="),
        format!("{callback}?code=abc&state=forged-state-value"),
        format!("{callback}?state={}", "x".repeat(600)),
        callback.clone(),
    ] {
        let hop = alice.get(&url).await;
        assert_eq!(hop.status, 400, "{url}: {hop:?}");
        assert!(hop.location.is_none());
    }
    assert!(nothing_stored().await);

    // A real callback, used once, then replayed.
    let cb = callback_url(&app, &alice, "/tasks").await;
    let forged = cb.replace("state=", "state=x");
    assert_eq!(alice.get(&forged).await.status, 400, "a modified state");
    let ok = alice.get(&cb).await;
    assert_eq!(ok.status, 303, "{ok:?}");
    assert_eq!(ok.location.as_deref(), Some("/tasks"));
    let replay = alice.get(&cb).await;
    assert_eq!(replay.status, 400, "{replay:?}");
    assert!(replay.body.contains("already used"));
    assert_eq!(
        app.standin.stats().token_requests_for("authorization_code"),
        1,
        "the replay never reached the token endpoint"
    );
    app.oauth.revoke(ALICE).await.unwrap();

    // Bob's callback, delivered to Alice's browser (login CSRF): refused,
    // and consumed.
    let bob = Browser::signed_in(BOB);
    let bobs = callback_url(&app, &bob, "/tasks").await;
    let hop = alice.get(&bobs).await;
    assert_eq!(hop.status, 403, "{hop:?}");
    assert!(hop.body.contains("another user"));
    assert_eq!(bob.get(&bobs).await.status, 400, "single use");
    assert!(nothing_stored().await);

    // Same user, another session: refused.
    let cb = callback_url(&app, &alice, "/tasks").await;
    let other_session = Browser::new();
    other_session.set_cookie_for_all("user", ALICE);
    other_session.set_cookie_for_all("sid", "another-session");
    let hop = other_session.get(&cb).await;
    assert_eq!(hop.status, 403);
    assert!(hop.body.contains("another session"));

    // Same user and session, without the browser's binding cookie: refused.
    let cb = callback_url(&app, &alice, "/tasks").await;
    let host = Browser::host_of(&app.url);
    alice.forget_cookie(&host, "gapi_oauth");
    let hop = alice.get(&cb).await;
    assert_eq!(hop.status, 403, "{hop:?}");
    assert!(hop.body.contains("another browser"));
    assert!(nothing_stored().await);

    // The user declines: nothing stored, a page that says so.
    app.standin.deny_next_authorization();
    let hops = alice.visit(&format!("{}/tasks", app.url)).await;
    let denied = last(&hops);
    assert_eq!(denied.status, 403, "{hops:#?}");
    assert!(denied.body.contains("did not grant"));
    assert!(nothing_stored().await);

    // After all that, a normal flow still works.
    let hops = alice.visit(&format!("{}/tasks", app.url)).await;
    assert!(last(&hops).body.contains("Buy milk"), "{hops:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_redirects_are_rejected() {
    let app = start().await;
    let alice = Browser::signed_in(ALICE);
    for target in [
        "//evil.example",
        "//evil.example/tasks",
        "/\\evil.example",
        "\\\\evil.example",
        "http://evil.example/",
        "https:evil.example",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
        "/%252F%252Fevil.example",
        "/%5Cevil.example",
        "/.//evil.example",
        "/%2e%2e//evil.example",
        "/\t/evil.example",
        "evil.example",
    ] {
        let enc: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        let hop = alice
            .get(&format!("{}/oauth2authorize?return_to={enc}", app.url))
            .await;
        assert_eq!(hop.status, 400, "{target:?}: {hop:?}");
        assert!(hop.location.is_none(), "{target:?}");
    }
    // Unknown scopes are refused too.
    let hop = alice
        .get(&format!(
            "{}/oauth2authorize?return_to=%2F&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdrive",
            app.url
        ))
        .await;
    assert_eq!(hop.status, 400);
    assert_eq!(app.standin.stats().authorizations, 0);
    // A fine path goes through, and the flow returns there.
    let hop = alice
        .get(&format!("{}/oauth2authorize?return_to=%2Faware", app.url))
        .await;
    assert_eq!(hop.status, 400, "no scopes to ask for: {hop:?}");
    // A scope of a page's extractor is accepted once the page was used (or
    // when allowed up front with `OAuth2Builder::allow_scopes`).
    let read_scope: String =
        url::form_urlencoded::byte_serialize(TASKS_READONLY_SCOPE.as_bytes()).collect();
    let early = alice
        .get(&format!(
            "{}/oauth2authorize?return_to=%2F&scope={read_scope}",
            app.url
        ))
        .await;
    assert_eq!(early.status, 400);
    alice.visit(&format!("{}/aware", app.url)).await;
    let hops = alice
        .visit(&format!(
            "{}/oauth2authorize?return_to=%2Faware%3Fa%3D1&scope={}",
            app.url,
            url::form_urlencoded::byte_serialize(TASKS_READONLY_SCOPE.as_bytes())
                .collect::<String>()
        ))
        .await;
    assert_eq!(
        last(&hops).url,
        format!("{}/aware?a=1", app.url),
        "{hops:#?}"
    );
    // A request whose own path looks like another site comes back to `/`.
    let hop = alice.get(&format!("{}//evil.example/tasks", app.url)).await;
    assert_ne!(hop.location.as_deref(), Some("//evil.example/tasks"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_scopes_later_with_incremental_authorization() {
    let app = start().await;
    let alice = Browser::signed_in(ALICE);
    let hops = alice.visit(&format!("{}/tasks", app.url)).await;
    assert!(last(&hops).body.contains("Buy milk"));
    let first = app.storage.for_key(ALICE).get().await.unwrap().unwrap();
    assert!(!first.has_scopes(&[TASKS_SCOPE]));

    // Writing needs the `tasks` scope: one more consent, for both scopes.
    let hops = alice.visit(&format!("{}/write", app.url)).await;
    assert_eq!(hops.len(), 4, "{hops:#?}");
    let consent = &hops[1].url;
    let scope = query(consent, "scope").unwrap();
    assert!(scope.split(' ').any(|s| s == TASKS_SCOPE), "{scope}");
    assert!(
        scope.split(' ').any(|s| s == TASKS_READONLY_SCOPE),
        "{scope}"
    );
    assert_eq!(
        query(consent, "include_granted_scopes").as_deref(),
        Some("true")
    );
    assert_eq!(
        query(consent, "prompt"),
        None,
        "a refresh token is stored: no forced consent screen"
    );
    assert_eq!(last(&hops).body, "created");
    let stored = app.storage.for_key(ALICE).get().await.unwrap().unwrap();
    assert!(
        stored.has_scopes(&[TASKS_SCOPE, TASKS_READONLY_SCOPE]),
        "{stored:?}"
    );
    assert!(stored.refresh_token().is_some());

    // Both pages now work without consent.
    for page in ["/tasks", "/write"] {
        let hops = alice.visit(&format!("{}{page}", app.url)).await;
        assert_eq!(hops.len(), 1, "{page}: {hops:#?}");
        assert_eq!(hops[0].status, 200);
    }
    assert_eq!(app.standin.stats().authorizations, 2);
    let listed = alice.visit(&format!("{}/tasks", app.url)).await;
    assert!(listed[0].body.contains("written by the test"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_sends_the_user_to_consent_again() {
    let app = start().await;
    let alice = Browser::signed_in(ALICE);
    alice.visit(&format!("{}/tasks", app.url)).await;
    app.standin.revoke_all();
    // The API refuses the token, the refresh fails with invalid_grant: the
    // page redirects to the authorization route, and on to consent.
    let hops = alice.visit(&format!("{}/tasks", app.url)).await;
    assert_eq!(hops[0].status, 303, "{hops:#?}");
    assert!(
        hops[0]
            .location
            .as_deref()
            .unwrap()
            .starts_with("/oauth2authorize?return_to=%2Ftasks"),
        "{hops:#?}"
    );
    let page = last(&hops);
    assert_eq!(page.url, format!("{}/tasks", app.url));
    assert!(page.body.contains("Buy milk"), "{hops:#?}");
    assert_eq!(app.standin.stats().authorizations, 2);
    let _ = Duration::ZERO;
    let _ = &app.roots;
}
