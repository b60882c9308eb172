//! # web-tasks
//!
//! An example web application on [`gapi_axum`]: users sign in to the app
//! with a toy login (a username and a session cookie, the app's own
//! [`UserIdentity`](gapi_axum::UserIdentity)), connect their Google account once (consent, callback,
//! credentials stored per user in SQLite, PostgreSQL or Redis, optionally
//! encrypted), and see their Google Tasks through the generated
//! [`gapi_tasks_v1`] client. Adding a task needs one more scope: an
//! incremental consent.
//!
//! `cargo run -p web-tasks -- --standin` runs it against a local stand-in of
//! Google (started in-process, with a few tasks); `--client-secret FILE`
//! runs it against Google with a web client's `client_secret.json` (whose
//! `auth_uri` / `token_uri` may name any server: with `--root-url` for the
//! Tasks API, a stand-in started elsewhere). Task lists and tasks are read
//! page by page, all of them.
//!
//! Several processes can serve one site (behind a load balancer): give them
//! the same `--storage` (credentials **and** sign-ins in progress live there,
//! so a consent begun on one process completes on another) and the same
//! `--session-key` (the toy login's signed session cookie). `--openid` also
//! asks for `openid email` and shows the Google account the callback
//! verified from the ID token.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gapi::StreamExt as _;
use gapi::auth::{ClientSecrets, OAuthClient};
use gapi::clock::{BoxFuture, Clock, SharedClock};
use gapi_axum::{OAuth2, OAuthAware, OAuthRequired, VerifiedIdentity, escape, safe_return_path};
use gapi_standin::{DEFAULT_CLIENT_ID, RegisteredClient, StandIn, StandInHandle};
use gapi_storage::{
    Encryption, EncryptionKey, PostgresKeyedStorage, RedisKeyedStorage, SqliteKeyedStorage,
};
use gapi_tasks_v1::TasksService;
use gapi_tasks_v1::schemas::{Task, TaskList};

mod session;

use session::Sessions;
pub use session::{SESSION_COOKIE, SessionKey};

gapi_axum::scope_set!(
    /// Reading tasks.
    pub TasksRead = [gapi_tasks_v1::scopes::TASKS_READONLY]
);
gapi_axum::scope_set!(
    /// Reading and writing tasks.
    pub TasksWrite = [gapi_tasks_v1::scopes::TASKS]
);

/// Where the authorization server and the Tasks API are.
#[derive(Debug, Clone)]
pub enum Google {
    /// A stand-in started in-process, seeded with a few tasks.
    StandIn,
    /// Real Google, with the `client_secret.json` of a web client.
    ClientSecret(PathBuf),
}

/// Where users' credentials are stored.
#[derive(Debug, Clone)]
pub enum StorageChoice {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database (`postgres://…`).
    Postgres(String),
    /// A Redis server (`redis://…`).
    Redis(String),
}

impl std::str::FromStr for StorageChoice {
    type Err = String;

    /// `sqlite:PATH`, `postgres://…` or `redis://…` (a bare path is SQLite).
    fn from_str(s: &str) -> Result<Self, String> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(StorageChoice::Postgres(s.to_owned()))
        } else if s.starts_with("redis://") {
            Ok(StorageChoice::Redis(s.to_owned()))
        } else {
            let path = s.strip_prefix("sqlite:").unwrap_or(s);
            if path.is_empty() {
                return Err("an empty SQLite path".into());
            }
            Ok(StorageChoice::Sqlite(PathBuf::from(path)))
        }
    }
}

/// How to run the app.
#[derive(Debug, Clone)]
pub struct Config {
    /// The address to listen on (port 0: any free port).
    pub addr: SocketAddr,
    /// Stand-in or real Google.
    pub google: Google,
    /// Where credentials (and sign-ins in progress) are stored.
    pub storage: StorageChoice,
    /// The table (SQLite, PostgreSQL) or key prefix (Redis) in the storage
    /// (default `web_tasks_credentials`, `web-tasks`).
    pub storage_namespace: Option<String>,
    /// Encrypts stored credentials with this key.
    pub encryption_key: Option<EncryptionKey>,
    /// The redirect URI registered for the client (default
    /// `http://<addr>/oauth2callback`).
    pub redirect_uri: Option<String>,
    /// The Tasks API's root URL (default: the stand-in's, or Google's).
    pub root_url: Option<String>,
    /// The key of the signed session cookies (default: a random one, so
    /// sessions end with the process). Share it between processes.
    pub session_key: Option<SessionKey>,
    /// Ask for `openid email` too, and show the verified Google account.
    pub openid: bool,
    /// For tests: this process's clock runs this far ahead (expiry checks
    /// of sign-ins in progress and of tokens).
    pub clock_skew: Duration,
}

impl Config {
    /// A configuration with the defaults for everything but these.
    pub fn new(addr: SocketAddr, google: Google, storage: StorageChoice) -> Self {
        Config {
            addr,
            google,
            storage,
            storage_namespace: None,
            encryption_key: None,
            redirect_uri: None,
            root_url: None,
            session_key: None,
            openid: false,
            clock_skew: Duration::ZERO,
        }
    }
}

/// The system clock, `skew` ahead.
struct SkewedClock(Duration);

impl Clock for SkewedClock {
    fn now(&self) -> std::time::SystemTime {
        std::time::SystemTime::now() + self.0
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A running app.
pub struct Running {
    /// `http://127.0.0.1:PORT/`.
    pub url: String,
    /// The stand-in, in stand-in mode.
    pub standin: Option<StandInHandle>,
    /// The OAuth 2.0 integration (to look at stored credentials in tests).
    pub oauth: OAuth2,
    server: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Waits until the server stops (it does not on its own).
    pub async fn wait(self) {
        let _ = self.server.await;
    }

    /// Stops the server (and the stand-in).
    pub async fn stop(self) {
        self.server.abort();
        if let Some(s) = self.standin {
            s.shutdown().await;
        }
    }
}

#[derive(Clone)]
struct AppState {
    sessions: Sessions,
    oauth: OAuth2,
    /// The Tasks API root (the stand-in's), or `None` for Google's.
    tasks_root: Option<String>,
}

/// Starts the stand-in (stand-in mode), the storage and the server.
pub async fn start(config: Config) -> gapi::Result<Running> {
    let io = |what: &str, e: std::io::Error| {
        gapi::Error::new(gapi::ErrorKind::Io, what.to_owned()).with_source(e)
    };
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| io("could not listen", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| io("no local address", e))?;
    let url = format!("http://{addr}/");
    let redirect_uri = config
        .redirect_uri
        .clone()
        .unwrap_or_else(|| format!("http://{addr}/oauth2callback"));

    let (client, standin, standin_root) = match &config.google {
        Google::StandIn => {
            let standin = start_standin().await?;
            let json = standin
                .client_secret_json_for(DEFAULT_CLIENT_ID, gapi_standin::ClientKind::Web)
                .expect("the app's client is registered");
            let secrets = ClientSecrets::from_json(&json, "the stand-in's client_secret.json")?;
            let client =
                OAuthClient::from_client_secrets(&secrets).with_revoke_uri(standin.revoke_uri());
            let root = standin.base_url().to_owned();
            (client, Some(standin), Some(root))
        }
        Google::ClientSecret(path) => {
            let secrets = ClientSecrets::from_file(path)?;
            if secrets.kind() != gapi::auth::ClientKind::Web {
                eprintln!(
                    "web-tasks: warning: {} is not a web client; Google may refuse its redirect URI",
                    path.display()
                );
            }
            (OAuthClient::from_client_secrets(&secrets), None, None)
        }
    };

    let tasks_root = config.root_url.clone().or(standin_root);
    let sessions = Sessions {
        key: config
            .session_key
            .clone()
            .unwrap_or_else(SessionKey::random),
    };
    let clock: SharedClock = Arc::new(SkewedClock(config.clock_skew));
    let mut builder = OAuth2::builder(client, redirect_uri)
        .identity(sessions.clone())
        .clock(clock);
    if config.openid {
        builder = builder.scopes(["openid", "email"]);
    }
    let encryption = config.encryption_key.clone().map(Encryption::new);
    // Credentials and sign-ins in progress, in the same database.
    let builder = match &config.storage {
        StorageChoice::Sqlite(path) => {
            let mut b = SqliteKeyedStorage::builder(path);
            if let Some(t) = &config.storage_namespace {
                b = b.table(t);
            }
            if let Some(e) = encryption {
                b = b.encryption(e);
            }
            builder.shared_storage(b.build()?)
        }
        StorageChoice::Postgres(url) => {
            let table = config.storage_namespace.as_deref();
            let mut b =
                PostgresKeyedStorage::builder(url).table(table.unwrap_or("web_tasks_credentials"));
            if let Some(e) = encryption {
                b = b.encryption(e);
            }
            builder.shared_storage(b.build()?)
        }
        StorageChoice::Redis(url) => {
            let prefix = config.storage_namespace.as_deref();
            let mut b = RedisKeyedStorage::builder(url).prefix(prefix.unwrap_or("web-tasks"));
            if let Some(e) = encryption {
                b = b.encryption(e);
            }
            builder.shared_storage(b.build()?)
        }
    };
    let oauth = builder.build()?;
    let state = AppState {
        sessions,
        oauth: oauth.clone(),
        tasks_root,
    };
    let app = router(state, &oauth);
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("web-tasks: the server stopped: {e}");
        }
    });
    Ok(Running {
        url,
        standin,
        oauth,
        server,
    })
}

/// A stand-in with a few tasks for its default user. The tasks are made
/// through a separate client, so that the app's client starts with no grant.
async fn start_standin() -> gapi::Result<StandInHandle> {
    let standin = StandIn::builder()
        .without_default_client()
        .client(RegisteredClient::new("seeder", "seeder-secret"))
        .client(RegisteredClient::new(
            DEFAULT_CLIENT_ID,
            gapi_standin::DEFAULT_CLIENT_SECRET,
        ))
        .start()
        .await
        .map_err(|e| {
            gapi::Error::new(gapi::ErrorKind::Io, "could not start the stand-in").with_source(e)
        })?;
    let issued = standin.issue_token(&[gapi_tasks_v1::scopes::TASKS]);
    let tasks = TasksService::new(gapi::Client::new(gapi::Credentials::access_token(
        issued.access_token,
    ))?)
    .with_root_url(standin.base_url());
    for (list, items) in [
        ("Groceries", &["Milk", "Bread", "Coffee beans"][..]),
        (
            "Work",
            &["Review the storage backends", "Ship web-tasks"][..],
        ),
    ] {
        let l = tasks
            .tasklists()
            .insert(TaskList {
                title: Some(list.to_owned()),
                ..Default::default()
            })
            .send()
            .await?;
        for title in items {
            tasks
                .tasks()
                .insert(
                    l.id.clone().unwrap_or_default(),
                    Task {
                        title: Some((*title).to_owned()),
                        ..Default::default()
                    },
                )
                .send()
                .await?;
        }
    }
    Ok(standin)
}

fn router(state: AppState, oauth: &OAuth2) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/tasks", get(tasks_page))
        .route("/tasks/new", get(new_task_form).post(new_task))
        .route("/disconnect", post(disconnect))
        .with_state(state)
        .merge(oauth.routes())
        .layer(oauth.layer())
}

fn html_page(title: &str, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t} · web-tasks</title>\
         <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.5}}\
         h2{{margin-bottom:0.2em}} .done{{text-decoration:line-through;color:#888}}</style>\
         </head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Html(page),
    )
        .into_response()
}

async fn home(State(app): State<AppState>, google: OAuthAware<TasksRead>) -> Response {
    let Some(user) = google.user() else {
        return html_page(
            "web-tasks",
            "<p>An example of gapi-axum: sign in, connect Google Tasks, see your tasks.</p>\
             <p><a id=\"sign-in\" href=\"/login?return_to=%2F\">Sign in</a></p>",
        );
    };
    let mut body = format!(
        "<p id=\"who\">Signed in as <b>{}</b>.</p>\
         <form method=\"post\" action=\"/logout\"><button id=\"sign-out\">Sign out</button></form>",
        escape(user.id())
    );
    if let Some(id) = google.identity() {
        body.push_str(&account(&id));
    }
    if google.has_credentials() {
        body.push_str(
            "<p>Google Tasks is connected. <a id=\"tasks\" href=\"/tasks\">Your tasks</a></p>\
             <form method=\"post\" action=\"/disconnect\"><button id=\"disconnect\">Disconnect Google</button></form>",
        );
    } else {
        body.push_str(&format!(
            "<p>Google Tasks is not connected. <a id=\"connect\" href=\"{}\">Connect Google Tasks</a> \
             or go straight to <a id=\"tasks\" href=\"/tasks\">your tasks</a>.</p>",
            escape(&google.authorize_url())
        ));
    }
    let _ = &app.tasks_root;
    html_page("web-tasks", &body)
}

/// The Google account the callback verified (from the ID token).
fn account(id: &VerifiedIdentity) -> String {
    format!(
        "<p id=\"account\">Google account: <b>{}</b>{}</p>",
        escape(id.email().unwrap_or(id.subject())),
        if id.email_verified() {
            " (verified)"
        } else {
            ""
        }
    )
}

#[derive(serde::Deserialize)]
struct ReturnTo {
    return_to: Option<String>,
}

async fn login_form(Query(q): Query<ReturnTo>) -> Response {
    let return_to = q
        .return_to
        .as_deref()
        .and_then(safe_return_path)
        .unwrap_or_else(|| "/".to_owned());
    html_page(
        "Sign in",
        &format!(
            "<p>A toy login: any name will do (an email address is passed to Google as the login hint).</p>\
             <form id=\"login\" method=\"post\" action=\"/login\">\
             <input type=\"hidden\" name=\"return_to\" value=\"{}\">\
             <label>Name <input name=\"user\" autofocus required maxlength=\"100\"></label> \
             <button id=\"sign-in-button\">Sign in</button></form>",
            escape(&return_to)
        ),
    )
}

#[derive(serde::Deserialize)]
struct LoginForm {
    user: String,
    return_to: Option<String>,
}

async fn login(State(app): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    let user = f.user.trim();
    if user.is_empty() || user.len() > 100 || user.chars().any(char::is_control) {
        return (StatusCode::BAD_REQUEST, "a name of 1 to 100 characters").into_response();
    }
    let session = app.sessions.key.issue(user);
    let to = f
        .return_to
        .as_deref()
        .and_then(safe_return_path)
        .unwrap_or_else(|| "/".to_owned());
    let cookie = format!("{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax");
    ([(header::SET_COOKIE, cookie)], Redirect::to(&to)).into_response()
}

async fn logout() -> Response {
    (
        [(
            header::SET_COOKIE,
            format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
        )],
        Redirect::to("/"),
    )
        .into_response()
}

async fn disconnect(State(app): State<AppState>, google: OAuthAware<TasksRead>) -> Response {
    if let Some(user) = google.user()
        && let Err(e) = app.oauth.revoke(user.id()).await
    {
        eprintln!("web-tasks: could not disconnect: {e}");
    }
    Redirect::to("/").into_response()
}

fn tasks_api(app: &AppState, client: gapi::Client) -> TasksService {
    let t = TasksService::new(client);
    match &app.tasks_root {
        Some(root) => t.with_root_url(root.clone()),
        None => t,
    }
}

async fn tasks_page(State(app): State<AppState>, google: OAuthRequired<TasksRead>) -> Response {
    let client = match google.client() {
        Ok(c) => c,
        Err(e) => return google.error_response(&e),
    };
    let api = tasks_api(&app, client);
    let mut body = format!(
        "<p>Signed in as <b>{}</b>. <a href=\"/\">Home</a> · <a id=\"new-task\" href=\"/tasks/new\">Add a task</a></p>",
        escape(google.user().id())
    );
    if let Some(id) = google.identity() {
        body.push_str(&account(&id));
    }
    // Every list and every task, page after page.
    let mut lists = api.tasklists().list().items();
    let mut count = 0;
    while let Some(list) = lists.next().await {
        let list = match list {
            Ok(l) => l,
            Err(e) => return google.error_response(&e),
        };
        let id = list.id.clone().unwrap_or_default();
        let mut tasks = api
            .tasks()
            .list(id)
            .show_completed(true)
            .show_hidden(true)
            .items();
        let mut items = String::new();
        let mut n = 0;
        while let Some(t) = tasks.next().await {
            let t = match t {
                Ok(t) => t,
                Err(e) => return google.error_response(&e),
            };
            let done = t.completed.is_some();
            items.push_str(&format!(
                "<li class=\"task{}\">{}</li>",
                if done { " done" } else { "" },
                escape(t.title.as_deref().unwrap_or("(untitled)"))
            ));
            n += 1;
        }
        if n == 0 {
            items.push_str("<li><i>no tasks</i></li>");
        }
        body.push_str(&format!(
            "<h2>{}</h2><p class=\"count\">{n} task{}</p><ul class=\"tasks\">{items}</ul>",
            escape(list.title.as_deref().unwrap_or("(untitled)")),
            if n == 1 { "" } else { "s" }
        ));
        count += n;
    }
    body.push_str(&format!("<p id=\"total\">{count} tasks in all.</p>"));
    html_page("Your tasks", &body)
}

async fn new_task_form(google: OAuthRequired<TasksWrite>) -> Response {
    html_page(
        "Add a task",
        &format!(
            "<p>Signed in as <b>{}</b>; adding tasks needs write access, which you just granted.</p>\
             <form id=\"new\" method=\"post\" action=\"/tasks/new\">\
             <label>Title <input name=\"title\" required maxlength=\"200\"></label> \
             <button id=\"add\">Add to My Tasks</button></form>",
            escape(google.user().id())
        ),
    )
}

#[derive(serde::Deserialize)]
struct NewTask {
    title: String,
}

async fn new_task(
    State(app): State<AppState>,
    google: OAuthRequired<TasksWrite>,
    Form(f): Form<NewTask>,
) -> Response {
    let client = match google.client() {
        Ok(c) => c,
        Err(e) => return google.error_response(&e),
    };
    let task = Task {
        title: Some(f.title.trim().chars().take(200).collect()),
        ..Default::default()
    };
    match tasks_api(&app, client)
        .tasks()
        .insert("@default", task)
        .send()
        .await
    {
        Ok(_) => Redirect::to("/tasks").into_response(),
        Err(e) => google.error_response(&e),
    }
}
