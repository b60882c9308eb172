//! Starting and stopping a stand-in: the router, the injected-error middleware, and
//! the handle tests hold.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{ClientKind, Config, StandInBuilder};
use crate::errors::ApiError;
use crate::exchange::{ApiRequest, ApiResponse, json_response, percent_decode};
use crate::hooks::{self, IssuedToken};
use crate::inject::InjectedError;
use crate::oauth::{
    self, DEVICE_CODE_PATH, DEVICE_PAGE_PATH, REVOKE_PATH, TOKEN_PATH, TOKENINFO_PATH,
};
use crate::state::{AppState, Shared, lock};
use crate::stats::{RequestRecord, Stats};
use crate::{batch, client_secret, tasks};

/// A stand-in for Google's OAuth 2.0 server and the Tasks v1 API, ready to start.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use gapi_standin::StandIn;
/// let standin = StandIn::builder().max_page_size(2).start().await?;
/// let token = standin.issue_token(&[gapi_standin::TASKS_SCOPE]);
/// println!("{} {}", standin.base_url(), token.access_token);
/// standin.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StandIn {
    pub(crate) config: Config,
}

impl StandIn {
    /// A builder with the defaults: 127.0.0.1 on any free port, one-hour access tokens,
    /// no refresh token rotation, the client `standin-client`/`standin-secret`, and the
    /// user `test-user@example.com`.
    pub fn builder() -> StandInBuilder {
        StandInBuilder::default()
    }

    /// Binds the configured address and serves in a tokio task until
    /// [`StandInHandle::shutdown`] (or until the handle is dropped).
    pub async fn start(self) -> io::Result<StandInHandle> {
        let listener = TcpListener::bind(self.config.addr).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}/");
        let shared = Arc::new(Shared::new(self.config, base_url));
        let app = router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(StandInHandle {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// The largest request body accepted (a batch of many parts can be big).
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Every route.
fn router(shared: AppState) -> Router {
    Router::new()
        .merge(oauth::routes())
        .merge(hooks::routes())
        .route("/", get(index))
        .route("/batch", post(batch::batch))
        .route("/batch/tasks/v1", post(batch::batch))
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            inject_errors,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(shared)
}

/// `GET /`: where everything is.
async fn index(State(shared): State<AppState>) -> Response {
    let body = json!({
        "name": "gapi-standin",
        "auth_uri": shared.url(oauth::AUTH_PATHS[0]),
        "token_uri": shared.url(TOKEN_PATH),
        "revoke_uri": shared.url(REVOKE_PATH),
        "device_uri": shared.url(DEVICE_CODE_PATH),
        "verification_url": shared.url(DEVICE_PAGE_PATH),
        "tokeninfo_uri": shared.url(TOKENINFO_PATH),
        "root_url": shared.base_url,
        "batch_uri": shared.url("batch/tasks/v1"),
        "stats_uri": shared.url("__standin/stats"),
    });
    json_response(StatusCode::OK, &body, true, Vec::new())
}

/// Everything no route claims: the Tasks API, or a 404.
async fn fallback(
    State(shared): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if tasks::is_api_path(path) {
        let request = ApiRequest {
            method,
            path: path.to_string(),
            query: uri.query().map(str::to_string),
            headers,
            body,
            in_batch: false,
        };
        return tasks::handle(&shared, &request).into_response();
    }
    ApiResponse::error(&ApiError::new(
        404,
        "notFound",
        format!("Not found: {path}"),
    ))
    .into_response()
}

/// Answers requests outside the API (OAuth endpoints, batch) from the injected-error
/// queue; the API does its own check so that batch parts are covered too.
async fn inject_errors(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/__standin/") || tasks::is_api_path(&path) {
        return next.run(request).await;
    }
    match shared.take_injection(request.method().as_str(), &path) {
        None => next.run(request).await,
        Some(injected) if oauth::is_oauth_path(&percent_decode(&path)) => {
            let mut response = injected.to_oauth_error().into_response();
            if let Some(secs) = injected.retry_after
                && let Ok(value) = secs.to_string().parse()
            {
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, value);
            }
            response
        }
        Some(injected) => ApiResponse::error(&injected.to_api_error()).into_response(),
    }
}

/// A running stand-in. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct StandInHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<io::Result<()>>>,
}

impl StandInHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`: the root URL of the Tasks API here (paths start with
    /// `tasks/v1/`), with the trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// An absolute URL for a path on this stand-in (with or without a leading `/`).
    pub fn url(&self, path: &str) -> String {
        self.shared.url(path)
    }

    /// The authorization endpoint, `{base}o/oauth2/v2/auth`.
    pub fn auth_uri(&self) -> String {
        self.url(oauth::AUTH_PATHS[0])
    }

    /// The token endpoint, `{base}token`.
    pub fn token_uri(&self) -> String {
        self.url(TOKEN_PATH)
    }

    /// The revocation endpoint, `{base}revoke`.
    pub fn revoke_uri(&self) -> String {
        self.url(REVOKE_PATH)
    }

    /// The device authorization endpoint, `{base}device/code`.
    pub fn device_uri(&self) -> String {
        self.url(DEVICE_CODE_PATH)
    }

    /// The page a person would enter a device's user code on, `{base}device`.
    pub fn verification_url(&self) -> String {
        self.url(DEVICE_PAGE_PATH)
    }

    /// The token info endpoint, `{base}tokeninfo`.
    pub fn tokeninfo_uri(&self) -> String {
        self.url(TOKENINFO_PATH)
    }

    /// The Tasks API's batch endpoint, `{base}batch/tasks/v1` (`{base}batch` works too).
    pub fn batch_uri(&self) -> String {
        self.url("batch/tasks/v1")
    }

    /// The id of the default (first registered) client.
    pub fn client_id(&self) -> &str {
        self.shared
            .config
            .clients
            .first()
            .map(|c| c.client_id.as_str())
            .unwrap_or("")
    }

    /// The secret of the default (first registered) client, if it has one.
    pub fn client_secret(&self) -> Option<&str> {
        self.shared
            .config
            .clients
            .first()
            .and_then(|c| c.client_secret.as_deref())
    }

    /// The user authorizations sign in by default.
    pub fn user(&self) -> &str {
        &self.shared.config.user
    }

    /// A `client_secret.json` for the default client, pointing at this stand-in:
    /// `{"installed": {...}}` or `{"web": {...}}` with `client_id`, `client_secret`,
    /// `auth_uri`, `token_uri`, `revoke_uri` and `redirect_uris`. Empty when no client
    /// is registered.
    pub fn client_secret_json(&self, kind: ClientKind) -> String {
        client_secret::for_default_client(&self.shared, kind).unwrap_or_default()
    }

    /// A `client_secret.json` for a registered client by id.
    pub fn client_secret_json_for(&self, client_id: &str, kind: ClientKind) -> Option<String> {
        let client = self.shared.config.client(client_id)?;
        Some(client_secret::for_client(&self.shared, client, kind))
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Zeroes the counters and clears the request log.
    pub fn reset_stats(&self) {
        hooks::reset_stats(&self.shared);
    }

    /// The last API requests (batch parts included), oldest first.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).snapshot()
    }

    /// Makes every access token issued so far expired (refresh tokens keep working).
    pub fn expire_all_tokens(&self) {
        lock(&self.shared.oauth).expire_all(std::time::Instant::now());
    }

    /// Revokes every grant made so far: their access and refresh tokens stop working.
    pub fn revoke_all(&self) {
        lock(&self.shared.oauth).revoke_all();
    }

    /// Approves a pending device authorization for the default user. The user code is
    /// matched ignoring case, spaces and dashes. False when no pending, unexpired
    /// authorization has it.
    pub fn approve_device(&self, user_code: &str) -> bool {
        hooks::decide_device(&self.shared, user_code, Some(&self.shared.config.user))
    }

    /// Approves a pending device authorization for a given user.
    pub fn approve_device_as(&self, user_code: &str, user: &str) -> bool {
        hooks::decide_device(&self.shared, user_code, Some(user))
    }

    /// Denies a pending device authorization: its polls get `access_denied`.
    pub fn deny_device(&self, user_code: &str) -> bool {
        hooks::decide_device(&self.shared, user_code, None)
    }

    /// The user codes of device authorizations waiting for a decision.
    pub fn pending_device_codes(&self) -> Vec<String> {
        lock(&self.shared.oauth).pending_user_codes(std::time::Instant::now())
    }

    /// Makes the next authorization request redirect back with `error=access_denied`.
    pub fn deny_next_authorization(&self) {
        lock(&self.shared.oauth).deny_next_authorization();
    }

    /// Queues an error for the next matching request(s).
    pub fn inject_error(&self, error: InjectedError) {
        lock(&self.shared.injections).push(error);
    }

    /// Shorthand: the next request whose path starts with `path_prefix` gets `status`
    /// (with the usual reason for it).
    pub fn set_next_error(&self, path_prefix: &str, status: u16) {
        self.inject_error(InjectedError::new(status).path(path_prefix));
    }

    /// Drops every queued error.
    pub fn clear_injected_errors(&self) {
        lock(&self.shared.injections).clear();
    }

    /// Mints an access token and a refresh token for the default user and client,
    /// without any flow: for tests that only need to call the API.
    pub fn issue_token(&self, scopes: &[&str]) -> IssuedToken {
        hooks::issue_token(&self.shared, &self.shared.config.user, scopes)
    }

    /// Mints tokens for another user (each user has their own task lists).
    pub fn issue_token_for(&self, user: &str, scopes: &[&str]) -> IssuedToken {
        hooks::issue_token(&self.shared, user, scopes)
    }

    /// Stops accepting connections, lets requests in flight finish (for up to five
    /// seconds) and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for StandInHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
