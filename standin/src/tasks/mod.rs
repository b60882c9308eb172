//! The Tasks v1 API over in-memory data, one set of task lists per user (the user
//! behind the access token). [`handle`] serves one request, whether it came over HTTP
//! or inside a batch: routing, authentication, scope checks, parameter checks, the
//! method itself, then `fields` and `prettyPrint`.

mod input;
mod paging;
mod params;
mod render;
mod routes;
pub(crate) mod store;
mod task_methods;
mod tasklist_methods;

use std::sync::MutexGuard;
use std::time::Instant;

use axum::http::{HeaderMap, Method, StatusCode, header};
use time::OffsetDateTime;

use crate::config::{TASKS_READONLY_SCOPE, TASKS_SCOPE};
use crate::errors::ApiError;
use crate::exchange::{ApiRequest, ApiResponse};
use crate::form::Params;
use crate::oauth::store::TokenOwner;
use crate::state::{Shared, lock};
use crate::stats::RequestRecord;
use params::Query;
use routes::Route;
use store::TaskStore;
use tasklist_methods::Outcome;

/// Whether a path belongs to the Tasks API.
pub(crate) fn is_api_path(path: &str) -> bool {
    path.starts_with("/tasks/")
}

/// What a method implementation works with.
pub(crate) struct Ctx<'a> {
    shared: &'a Shared,
    user: &'a str,
    query: &'a Query,
    body: &'a [u8],
    now: OffsetDateTime,
}

impl Ctx<'_> {
    fn store(&self) -> MutexGuard<'_, TaskStore> {
        lock(&self.shared.tasks)
    }

    fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The largest page allowed: the API's own cap, or the configured one if smaller.
    fn page_cap(&self, api_max: u32) -> u32 {
        self.shared
            .config
            .max_page_size
            .map_or(api_max, |cap| cap.min(api_max))
    }
}

/// The method a request stands for, honouring `X-HTTP-Method-Override` on POST.
fn effective_method(request: &ApiRequest) -> Method {
    if request.method == Method::POST
        && let Some(m) = request
            .headers
            .get("x-http-method-override")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Method::from_bytes(v.trim().to_ascii_uppercase().as_bytes()).ok())
    {
        return m;
    }
    request.method.clone()
}

/// Serves one API request and records it in the counters and the request log.
pub(crate) fn handle(shared: &Shared, request: &ApiRequest) -> ApiResponse {
    shared.count(|s| s.api_calls += 1);
    let method = effective_method(request);
    let route = Route::parse(&method, &request.path);
    if let Some(route) = &route {
        shared.count(|s| {
            *s.api_calls_by_method
                .entry(route.id().to_string())
                .or_default() += 1
        });
    }
    let response = match shared.take_injection(method.as_str(), &request.path) {
        Some(injected) => ApiResponse::error(&injected.to_api_error()),
        None => respond(shared, request, &method, route.as_ref()),
    };
    record(shared, request, &method, route.as_ref(), &response);
    response
}

/// Adds a request to the log.
fn record(
    shared: &Shared,
    request: &ApiRequest,
    method: &Method,
    route: Option<&Route>,
    response: &ApiResponse,
) {
    let header = |name: header::HeaderName| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let entry = RequestRecord {
        method: method.to_string(),
        path: request.path.clone(),
        query: request.query.clone(),
        method_id: route.map(|r| r.id().to_string()),
        status: response.status.as_u16(),
        in_batch: request.in_batch,
        user_agent: header(header::USER_AGENT),
        api_client: header(header::HeaderName::from_static("x-goog-api-client")),
        content_type: header(header::CONTENT_TYPE),
    };
    lock(&shared.log).push(entry);
}

/// The access token of a request: `Authorization: Bearer`, or the `access_token` /
/// `oauth_token` query parameter. `Err` for an `Authorization` header of another kind.
fn presented_token(headers: &HeaderMap, params: &Params) -> Result<Option<String>, ()> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| ())?.trim();
        let (scheme, token) = value.split_once(' ').ok_or(())?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(());
        }
        return Ok(Some(token.trim().to_string()));
    }
    Ok(params
        .get_nonempty("access_token")
        .or_else(|| params.get_nonempty("oauth_token"))
        .map(str::to_string))
}

/// Checks the credentials of a request.
fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
    params: &Params,
) -> Result<TokenOwner, ApiError> {
    let realm = &shared.base_url;
    let token = match presented_token(headers, params) {
        Ok(Some(token)) => token,
        Ok(None) => return Err(ApiError::unauthenticated(realm, true)),
        Err(()) => return Err(ApiError::unauthenticated(realm, false)),
    };
    lock(&shared.oauth)
        .authenticate(&token, Instant::now())
        .map_err(|_| ApiError::unauthenticated(realm, false))
}

/// Checks that the token's scopes allow the method.
fn authorize(route: &Route, owner: &TokenOwner, realm: &str) -> Result<(), ApiError> {
    let allowed: &[&str] = if route.is_write() {
        &[TASKS_SCOPE]
    } else {
        &[TASKS_SCOPE, TASKS_READONLY_SCOPE]
    };
    if allowed.iter().any(|s| owner.scopes.contains(*s)) {
        Ok(())
    } else {
        Err(ApiError::insufficient_scope(realm, allowed))
    }
}

/// Everything after routing.
fn respond(
    shared: &Shared,
    request: &ApiRequest,
    method: &Method,
    route: Option<&Route>,
) -> ApiResponse {
    let Some(route) = route else {
        let error = ApiError::new(
            404,
            "notFound",
            format!("Method not found: {method} {}", request.path),
        );
        return ApiResponse::error(&error);
    };
    let params = Params::parse(request.query.as_deref().unwrap_or(""));
    let owner = match authenticate(shared, &request.headers, &params) {
        Ok(owner) => owner,
        Err(error) => {
            shared.count(|s| s.unauthorized += 1);
            return ApiResponse::error(&error);
        }
    };
    if let Err(error) = authorize(route, &owner, &shared.base_url) {
        shared.count(|s| s.forbidden += 1);
        return ApiResponse::error(&error);
    }
    let query = Query::new(params);
    let options = match query.check(route.query_params()) {
        Ok(options) => options,
        Err(error) => return ApiResponse::error(&error),
    };
    let ctx = Ctx {
        shared,
        user: &owner.user,
        query: &query,
        body: if route.takes_body() {
            &request.body
        } else {
            &[]
        },
        now: crate::timefmt::now(),
    };
    match execute(&ctx, route) {
        Ok(Some(value)) => {
            let value = match &options.fields {
                Some(mask) => mask.apply(&value),
                None => value,
            };
            ApiResponse::json(StatusCode::OK, &value, options.pretty)
        }
        Ok(None) => ApiResponse::empty(StatusCode::NO_CONTENT),
        Err(error) => ApiResponse::error(&error),
    }
}

/// Runs the method.
fn execute(ctx: &Ctx<'_>, route: &Route) -> Outcome {
    match route {
        Route::TaskListsList => tasklist_methods::list(ctx),
        Route::TaskListsInsert => tasklist_methods::insert(ctx),
        Route::TaskListsGet { list } => tasklist_methods::get(ctx, list),
        Route::TaskListsUpdate { list } => tasklist_methods::modify(ctx, list, true),
        Route::TaskListsPatch { list } => tasklist_methods::modify(ctx, list, false),
        Route::TaskListsDelete { list } => tasklist_methods::delete(ctx, list),
        Route::TasksList { list } => task_methods::list(ctx, list),
        Route::TasksInsert { list } => task_methods::insert(ctx, list),
        Route::TasksGet { list, task } => task_methods::get(ctx, list, task),
        Route::TasksUpdate { list, task } => task_methods::modify(ctx, list, task, true),
        Route::TasksPatch { list, task } => task_methods::modify(ctx, list, task, false),
        Route::TasksDelete { list, task } => task_methods::delete(ctx, list, task),
        Route::TasksClear { list } => task_methods::clear(ctx, list),
        Route::TasksMove { list, task } => task_methods::move_task(ctx, list, task),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::oauth::scopes;
    use axum::body::Bytes;
    use axum::http::HeaderValue;
    use serde_json::Value;
    use std::time::Duration;

    fn shared() -> Shared {
        Shared::new(Config::default(), "http://127.0.0.1:9/".into())
    }

    fn token(s: &Shared, scope: &str) -> String {
        lock(&s.oauth)
            .issue_direct(
                "standin-client",
                "u@example.com",
                &scopes::parse(scope),
                false,
                Duration::from_secs(60),
                Instant::now(),
            )
            .access_token
    }

    fn call(
        s: &Shared,
        token: Option<&str>,
        method: &str,
        target: &str,
        body: &str,
    ) -> (u16, Value) {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.to_string(), None),
        };
        let mut headers = HeaderMap::new();
        if let Some(t) = token {
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
            );
        }
        let request = ApiRequest {
            method: Method::from_bytes(method.as_bytes()).unwrap(),
            path,
            query,
            headers,
            body: Bytes::from(body.to_string()),
            in_batch: false,
        };
        let response = handle(s, &request);
        let value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response.status.as_u16(), value)
    }

    #[test]
    fn authentication_and_scopes() {
        let s = shared();
        let lists = "/tasks/v1/users/@me/lists";
        let (status, body) = call(&s, None, "GET", lists, "");
        assert_eq!(status, 401);
        assert_eq!(body["error"]["errors"][0]["reason"], "authError");
        assert_eq!(call(&s, Some("bogus"), "GET", lists, "").0, 401);
        let ro = token(&s, TASKS_READONLY_SCOPE);
        assert_eq!(call(&s, Some(&ro), "GET", lists, "").0, 200);
        let (status, body) = call(&s, Some(&ro), "POST", lists, "{}");
        assert_eq!(status, 403);
        assert_eq!(
            body["error"]["errors"][0]["reason"],
            "insufficientPermissions"
        );
        let other = token(&s, "openid");
        assert_eq!(call(&s, Some(&other), "GET", lists, "").0, 403);
        let rw = token(&s, TASKS_SCOPE);
        assert_eq!(
            call(&s, None, "GET", &format!("{lists}?access_token={rw}"), "").0,
            200
        );
        let stats = lock(&s.stats).clone();
        assert_eq!(stats.unauthorized, 2);
        assert_eq!(stats.forbidden, 2);
        assert_eq!(stats.api_calls, 6);
        assert_eq!(stats.api_calls_for("tasks.tasklists.list"), 5);
        assert_eq!(lock(&s.log).snapshot().len(), 6);
    }

    #[test]
    fn crud_round_trip() {
        let s = shared();
        let t = token(&s, TASKS_SCOPE);
        let t = Some(t.as_str());
        let (status, list) = call(
            &s,
            t,
            "POST",
            "/tasks/v1/users/@me/lists",
            r#"{"title":"Groceries"}"#,
        );
        assert_eq!(status, 200);
        assert_eq!(list["kind"], "tasks#taskList");
        let id = list["id"].as_str().unwrap();
        let tasks = format!("/tasks/v1/lists/{id}/tasks");
        let (_, milk) = call(&s, t, "POST", &tasks, r#"{"title":"milk"}"#);
        let (_, eggs) = call(
            &s,
            t,
            "POST",
            &format!("{tasks}?previous={}", milk["id"].as_str().unwrap()),
            r#"{"title":"eggs"}"#,
        );
        assert_eq!(eggs["position"], "00000000000000000001");
        let (status, page) = call(&s, t, "GET", &format!("{tasks}?fields=items(title)"), "");
        assert_eq!(status, 200);
        assert_eq!(
            page,
            serde_json::json!({"items": [{"title": "milk"}, {"title": "eggs"}]})
        );
        let milk_path = format!("{tasks}/{}", milk["id"].as_str().unwrap());
        let (status, patched) = call(&s, t, "PATCH", &milk_path, r#"{"status":"completed"}"#);
        assert_eq!(status, 200);
        assert!(patched["completed"].is_string());
        assert_eq!(
            call(&s, t, "POST", &format!("/tasks/v1/lists/{id}/clear"), "").0,
            204
        );
        let (_, page) = call(&s, t, "GET", &tasks, "");
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let (_, page) = call(&s, t, "GET", &format!("{tasks}?showHidden=true"), "");
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        assert_eq!(call(&s, t, "DELETE", &milk_path, "").0, 204);
        let (_, page) = call(
            &s,
            t,
            "GET",
            &format!("{tasks}?showHidden=true&showDeleted=true"),
            "",
        );
        assert_eq!(page["items"][0]["deleted"], true);
        assert_eq!(
            call(
                &s,
                t,
                "DELETE",
                &format!("/tasks/v1/users/@me/lists/{id}"),
                ""
            )
            .0,
            204
        );
        assert_eq!(call(&s, t, "GET", &tasks, "").0, 404);
    }

    #[test]
    fn request_problems() {
        let s = shared();
        let t = token(&s, TASKS_SCOPE);
        let t = Some(t.as_str());
        let (status, body) = call(&s, t, "GET", "/tasks/v1/nowhere", "");
        assert_eq!(
            (status, body["error"]["status"].as_str()),
            (404, Some("NOT_FOUND"))
        );
        assert_eq!(
            call(&s, t, "GET", "/tasks/v1/users/@me/lists?bogus=1", "").0,
            400
        );
        assert_eq!(
            call(&s, t, "GET", "/tasks/v1/users/@me/lists?fields=items(", "").0,
            400
        );
        assert_eq!(
            call(&s, t, "GET", "/tasks/v1/users/@me/lists?pageToken=zzz", "").0,
            400
        );
        let (status, body) = call(&s, t, "POST", "/tasks/v1/users/@me/lists", "{not json");
        assert_eq!(status, 400);
        assert_eq!(body["error"]["errors"][0]["reason"], "parseError");
        assert_eq!(
            call(&s, t, "GET", "/tasks/v1/lists/@default/tasks/nope", "").0,
            404
        );
        assert_eq!(
            call(
                &s,
                t,
                "POST",
                "/tasks/v1/lists/@default/tasks?parent=nope",
                "{}"
            )
            .0,
            400
        );
    }

    #[test]
    fn method_override() {
        let s = shared();
        let t = token(&s, TASKS_SCOPE);
        let request = ApiRequest {
            method: Method::POST,
            path: "/tasks/v1/users/@me/lists/@default".into(),
            query: None,
            headers: {
                let mut h = HeaderMap::new();
                h.insert(
                    header::AUTHORIZATION,
                    HeaderValue::from_str(&format!("Bearer {t}")).unwrap(),
                );
                h.insert("x-http-method-override", HeaderValue::from_static("PATCH"));
                h
            },
            body: Bytes::from_static(br#"{"title":"Renamed"}"#),
            in_batch: false,
        };
        let response = handle(&s, &request);
        assert_eq!(response.status, StatusCode::OK);
        let v: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(v["title"], "Renamed");
    }
}
