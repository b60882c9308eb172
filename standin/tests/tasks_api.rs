//! The Tasks v1 API driven over HTTP.

mod common;

use common::{Reply, api, client};
use gapi_standin::{InjectedError, StandIn, StandInHandle, TASKS_READONLY_SCOPE, TASKS_SCOPE};
use reqwest::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Api {
    standin: StandInHandle,
    token: String,
}

impl Api {
    async fn start(builder: gapi_standin::StandInBuilder) -> Api {
        let standin = builder.start().await.unwrap();
        let token = standin.issue_token(&[TASKS_SCOPE]).access_token;
        Api { standin, token }
    }

    fn url(&self, path: &str) -> String {
        format!("{}tasks/v1/{path}", self.standin.base_url())
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        api(
            &client(),
            method,
            &self.url(path),
            Some(&self.token),
            body.as_ref(),
        )
        .await
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.call(method, path, body).await;
        assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text);
        r.json
    }

    async fn new_list(&self, title: &str) -> String {
        let list = self
            .ok(
                Method::POST,
                "users/@me/lists",
                Some(json!({"title": title})),
            )
            .await;
        list["id"].as_str().unwrap().to_string()
    }

    async fn new_task(&self, list: &str, query: &str, title: &str) -> String {
        let task = self
            .ok(
                Method::POST,
                &format!("lists/{list}/tasks{query}"),
                Some(json!({"title": title})),
            )
            .await;
        task["id"].as_str().unwrap().to_string()
    }

    async fn titles(&self, list: &str, query: &str) -> Vec<String> {
        let page = self
            .ok(Method::GET, &format!("lists/{list}/tasks{query}"), None)
            .await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

#[tokio::test]
async fn task_lists_crud() {
    let api = Api::start(StandIn::builder()).await;
    let lists = api.ok(Method::GET, "users/@me/lists", None).await;
    assert_eq!(lists["kind"], "tasks#taskLists");
    assert_eq!(lists["items"][0]["title"], "My Tasks");
    assert!(lists["etag"].is_string());

    let created = api
        .ok(
            Method::POST,
            "users/@me/lists",
            Some(json!({"title": "Errands"})),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["kind"], "tasks#taskList");
    assert_eq!(
        created["selfLink"],
        format!("{}tasks/v1/users/@me/lists/{id}", api.standin.base_url())
    );
    assert!(created["updated"].as_str().unwrap().ends_with('Z'));

    let got = api
        .ok(Method::GET, &format!("users/@me/lists/{id}"), None)
        .await;
    assert_eq!(got, created);
    let patched = api
        .ok(
            Method::PATCH,
            &format!("users/@me/lists/{id}"),
            Some(json!({"title": "Chores"})),
        )
        .await;
    assert_eq!(patched["title"], "Chores");
    assert_ne!(patched["etag"], created["etag"]);
    let updated = api
        .ok(
            Method::PUT,
            &format!("users/@me/lists/{id}"),
            Some(json!({"title": "Jobs"})),
        )
        .await;
    assert_eq!(updated["title"], "Jobs");
    let default = api.ok(Method::GET, "users/@me/lists/@default", None).await;
    assert_eq!(default["title"], "My Tasks");

    let r = api
        .call(Method::DELETE, &format!("users/@me/lists/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(r.text.is_empty());
    let r = api
        .call(Method::GET, &format!("users/@me/lists/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json,
        json!({"error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "errors": [{"message": "Requested entity was not found.", "domain": "global", "reason": "notFound"}],
            "status": "NOT_FOUND"
        }})
    );
    let default_id = default["id"].as_str().unwrap();
    let r = api
        .call(
            Method::DELETE,
            &format!("users/@me/lists/{default_id}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tasks_crud_and_ordering() {
    let api = Api::start(StandIn::builder()).await;
    let list = api.new_list("Work").await;
    let a = api.new_task(&list, "", "a").await;
    let b = api.new_task(&list, &format!("?previous={a}"), "b").await;
    let a1 = api.new_task(&list, &format!("?parent={a}"), "a1").await;
    let _first = api.new_task(&list, "", "first").await;
    assert_eq!(api.titles(&list, "").await, ["first", "a", "a1", "b"]);

    let task = api
        .ok(Method::GET, &format!("lists/{list}/tasks/{a1}"), None)
        .await;
    assert_eq!(task["kind"], "tasks#task");
    assert_eq!(task["parent"], a.as_str());
    assert_eq!(task["position"], "00000000000000000000");
    assert_eq!(task["status"], "needsAction");

    // Patch with a null clears a field; update replaces the writable fields.
    let patched = api
        .ok(
            Method::PATCH,
            &format!("lists/{list}/tasks/{b}"),
            Some(json!({"notes": "n", "due": "2025-03-04T15:00:00Z"})),
        )
        .await;
    assert_eq!(patched["due"], "2025-03-04T00:00:00.000Z");
    let cleared = api
        .ok(
            Method::PATCH,
            &format!("lists/{list}/tasks/{b}"),
            Some(json!({"notes": null})),
        )
        .await;
    assert!(cleared.get("notes").is_none());
    assert_eq!(cleared["title"], "b");
    let replaced = api
        .ok(
            Method::PUT,
            &format!("lists/{list}/tasks/{b}"),
            Some(json!({"title": "B", "status": "completed"})),
        )
        .await;
    assert_eq!(replaced["title"], "B");
    assert!(replaced.get("due").is_none());
    assert!(replaced["completed"].is_string());

    // Completed tasks show by default, unless asked not to; clear hides them.
    assert_eq!(
        api.titles(&list, "?showCompleted=false").await,
        ["first", "a", "a1"]
    );
    let r = api
        .call(Method::POST, &format!("lists/{list}/clear"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(api.titles(&list, "").await, ["first", "a", "a1"]);
    assert_eq!(
        api.titles(&list, "?showHidden=true").await,
        ["first", "a", "a1", "B"]
    );

    // Deleting a parent deletes its subtasks.
    let r = api
        .call(Method::DELETE, &format!("lists/{list}/tasks/{a}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(api.titles(&list, "").await, ["first"]);
    let deleted = api
        .ok(
            Method::GET,
            &format!("lists/{list}/tasks?showDeleted=true"),
            None,
        )
        .await;
    assert_eq!(deleted["items"][1]["deleted"], true);
}

#[tokio::test]
async fn moving_tasks() {
    let api = Api::start(StandIn::builder()).await;
    let list = api.new_list("L").await;
    let c = api.new_task(&list, "", "c").await;
    let b = api.new_task(&list, "", "b").await;
    let a = api.new_task(&list, "", "a").await;
    let moved = api
        .ok(
            Method::POST,
            &format!("lists/{list}/tasks/{a}/move?previous={c}"),
            None,
        )
        .await;
    assert_eq!(moved["position"], "00000000000000000002");
    assert_eq!(api.titles(&list, "").await, ["b", "c", "a"]);
    let moved = api
        .ok(
            Method::POST,
            &format!("lists/{list}/tasks/{c}/move?parent={b}"),
            None,
        )
        .await;
    assert_eq!(moved["parent"], b.as_str());
    let r = api
        .call(
            Method::POST,
            &format!("lists/{list}/tasks/{b}/move?parent={c}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let other = api.new_list("Other").await;
    let moved = api
        .ok(
            Method::POST,
            &format!("lists/{list}/tasks/{b}/move?destinationTasklist={other}"),
            None,
        )
        .await;
    assert!(moved["selfLink"].as_str().unwrap().contains(&other));
    assert_eq!(api.titles(&list, "").await, ["a"]);
    assert_eq!(api.titles(&other, "").await, ["b", "c"]);
}

#[tokio::test]
async fn pagination_with_a_page_cap() {
    let api = Api::start(StandIn::builder().max_page_size(2)).await;
    let list = api.new_list("Paged").await;
    for i in 0..5 {
        api.new_task(&list, "", &format!("t{i}")).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &token {
            Some(t) => format!("?maxResults=50&pageToken={t}"),
            None => "?maxResults=50".to_string(),
        };
        let page = api
            .ok(Method::GET, &format!("lists/{list}/tasks{query}"), None)
            .await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(
            items
                .iter()
                .map(|t| t["title"].as_str().unwrap().to_string()),
        );
        pages += 1;
        match page.get("nextPageToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["t4", "t3", "t2", "t1", "t0"]);

    let r = api
        .call(
            Method::GET,
            &format!("lists/{list}/tasks?pageToken=bogus"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // A token from one query is no good for another.
    let page = api
        .ok(Method::GET, &format!("lists/{list}/tasks"), None)
        .await;
    let t = page["nextPageToken"].as_str().unwrap();
    let r = api
        .call(
            Method::GET,
            &format!("lists/{list}/tasks?showHidden=true&pageToken={t}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let lists = api
        .ok(Method::GET, "users/@me/lists?maxResults=1", None)
        .await;
    assert!(lists["nextPageToken"].is_string());
}

#[tokio::test]
async fn partial_responses_and_pretty_print() {
    let api = Api::start(StandIn::builder()).await;
    let list = api.new_list("F").await;
    api.new_task(&list, "", "x").await;
    let r = api
        .call(
            Method::GET,
            &format!("lists/{list}/tasks?fields=items(title,status),kind&prettyPrint=false"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.text.contains('\n'));
    assert_eq!(
        r.json,
        json!({"kind": "tasks#tasks", "items": [{"title": "x", "status": "needsAction"}]})
    );
    let r = api
        .call(Method::GET, "users/@me/lists?fields=items/id", None)
        .await;
    assert!(r.text.contains('\n'));
    assert_eq!(r.json.as_object().unwrap().len(), 1);
    assert!(r.json["items"][0].get("title").is_none());
    let r = api
        .call(Method::GET, "users/@me/lists?fields=items(id", None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["error"]["errors"][0]["reason"], "invalidParameter");
    let r = api
        .call(
            Method::GET,
            "users/@me/lists?quotaUser=q&alt=json&%24.xgafv=2&key=k",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn request_errors() {
    let api = Api::start(StandIn::builder()).await;
    let http = client();
    let url = api.url("users/@me/lists");

    let r = common::api(&http, Method::GET, &url, None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers.contains_key(WWW_AUTHENTICATE));
    assert_eq!(r.json["error"]["code"], 401);
    assert_eq!(r.json["error"]["errors"][0]["reason"], "authError");
    let r = common::api(&http, Method::GET, &url, Some("ya29.unknown"), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let readonly = api
        .standin
        .issue_token(&[TASKS_READONLY_SCOPE])
        .access_token;
    let r = common::api(&http, Method::GET, &url, Some(&readonly), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = common::api(
        &http,
        Method::POST,
        &url,
        Some(&readonly),
        Some(&json!({"title": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.json["error"]["errors"][0]["reason"],
        "insufficientPermissions"
    );
    assert_eq!(r.json["error"]["status"], "PERMISSION_DENIED");

    let r = http
        .post(&url)
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{\"title\": ")
        .send()
        .await
        .unwrap();
    let r = common::reply(r).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json["error"]["status"], "INVALID_ARGUMENT");

    let r = api
        .call(Method::POST, "users/@me/lists", Some(json!({"title": 3})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .call(Method::POST, "users/@me/lists", Some(json!({"name": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .call(Method::GET, "users/@me/lists?maxResult=3", None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maxResult")
    );
    let r = api
        .call(Method::GET, "lists/@default/tasks?showDeleted=maybe", None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api.call(Method::GET, "nothing/here", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = api
        .call(Method::GET, "lists/@default/tasks/missing", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let stats = api.standin.stats();
    assert_eq!(stats.unauthorized, 2);
    assert_eq!(stats.forbidden, 1);
}

#[tokio::test]
async fn injected_errors() {
    let api = Api::start(StandIn::builder()).await;
    api.standin
        .inject_error(InjectedError::unavailable(2).path("/tasks/v1/users/@me/lists"));
    let r = api.call(Method::GET, "users/@me/lists", None).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers[RETRY_AFTER], "2");
    assert_eq!(r.json["error"]["errors"][0]["reason"], "backendError");
    assert_eq!(r.json["error"]["status"], "UNAVAILABLE");
    assert_eq!(
        api.call(Method::GET, "users/@me/lists", None).await.status,
        StatusCode::OK
    );

    api.standin
        .inject_error(InjectedError::too_many_requests().times(2));
    assert_eq!(
        api.call(Method::GET, "users/@me/lists", None)
            .await
            .status
            .as_u16(),
        429
    );
    assert_eq!(
        api.call(Method::GET, "lists/@default/tasks", None)
            .await
            .status
            .as_u16(),
        429
    );
    assert_eq!(
        api.call(Method::GET, "users/@me/lists", None).await.status,
        StatusCode::OK
    );

    api.standin
        .inject_error(InjectedError::rate_limit_exceeded().method("POST"));
    assert_eq!(
        api.call(Method::GET, "users/@me/lists", None).await.status,
        StatusCode::OK
    );
    let r = api
        .call(Method::POST, "users/@me/lists", Some(json!({"title": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json["error"]["errors"][0]["reason"], "rateLimitExceeded");
    assert_eq!(r.json["error"]["errors"][0]["domain"], "usageLimits");

    // The token endpoint answers injected errors in the OAuth shape.
    api.standin.set_next_error("/token", 500);
    let r = common::post_form(&client(), &api.standin.token_uri(), &[("grant_type", "x")]).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.json["error"], "internal_failure");

    api.standin.set_next_error("/tasks/v1/lists", 404);
    api.standin.clear_injected_errors();
    assert_eq!(
        api.call(Method::GET, "lists/@default/tasks", None)
            .await
            .status,
        StatusCode::OK
    );
    let stats = api.standin.stats();
    assert_eq!(stats.injected_errors, 5);
    assert_eq!(stats.api_calls, 8);
}

#[tokio::test]
async fn users_have_their_own_data() {
    let api = Api::start(StandIn::builder()).await;
    api.new_list("Mine").await;
    let theirs = api
        .standin
        .issue_token_for("other@example.com", &[TASKS_SCOPE])
        .access_token;
    let r = common::api(
        &client(),
        Method::GET,
        &api.url("users/@me/lists"),
        Some(&theirs),
        None,
    )
    .await;
    assert_eq!(r.json["items"].as_array().unwrap().len(), 1);
    let mine = api.ok(Method::GET, "users/@me/lists", None).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn request_log_records_api_calls() {
    let api = Api::start(StandIn::builder()).await;
    let r = client()
        .get(api.url("users/@me/lists?prettyPrint=false"))
        .bearer_auth(&api.token)
        .header("user-agent", "gapi-test/1")
        .header("x-goog-api-client", "gl-rust/1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let log = api.standin.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method_id.as_deref(), Some("tasks.tasklists.list"));
    assert_eq!(log[0].query.as_deref(), Some("prettyPrint=false"));
    assert_eq!(log[0].user_agent.as_deref(), Some("gapi-test/1"));
    assert_eq!(log[0].api_client.as_deref(), Some("gl-rust/1"));
    assert_eq!(api.standin.stats().api_calls_for("tasks.tasklists.list"), 1);
    api.standin.reset_stats();
    assert!(api.standin.requests().is_empty());
    assert_eq!(api.standin.stats(), gapi_standin::Stats::default());
}
