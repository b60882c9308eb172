//! The generated Tasks client through the runtime against the local Google
//! stand-in: CRUD, pagination, token expiry mid-run, revocation, typed errors,
//! retries, partial responses.

use gapi::auth::Storage as _;
use gapi::{StreamExt as _, TryStreamExt as _};
use gapi_e2e::world;
use gapi_standin::InjectedError;
use gapi_tasks_v1::schemas::{Task, TaskList};

fn task(title: &str) -> Task {
    Task {
        title: Some(title.into()),
        ..Default::default()
    }
}

async fn new_list(w: &gapi_e2e::World, title: &str) -> String {
    w.tasks
        .tasklists()
        .insert(TaskList {
            title: Some(title.into()),
            ..Default::default()
        })
        .send()
        .await
        .expect("insert task list")
        .id
        .expect("task list id")
}

#[tokio::test]
async fn task_crud_move_and_clear() {
    let w = world().await;
    let list = new_list(&w, "crud").await;
    let t = w.tasks.tasks();

    let a = t.insert(&list, task("a")).send().await.unwrap();
    let a_id = a.id.clone().unwrap();
    assert_eq!(a.title.as_deref(), Some("a"));
    assert_eq!(a.status.as_deref(), Some("needsAction"));

    let got = t.get(&list, &a_id).send().await.unwrap();
    assert_eq!(got, a);

    // update replaces the resource
    let mut upd = got.clone();
    upd.title = Some("a2".into());
    upd.notes = Some("some notes".into());
    let upd = t.update(&list, &a_id, upd).send().await.unwrap();
    assert_eq!(upd.title.as_deref(), Some("a2"));
    assert_eq!(upd.notes.as_deref(), Some("some notes"));

    // patch: absent fields are untouched, an explicit null clears one
    let patched = t
        .patch(
            &list,
            &a_id,
            Task {
                status: Some("completed".into()),
                ..Default::default()
            },
        )
        .with_null_field("notes")
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status.as_deref(), Some("completed"));
    assert_eq!(patched.title.as_deref(), Some("a2"));
    assert_eq!(patched.notes, None, "null_field cleared notes");

    // move: b becomes a child of a new parent
    let parent = t
        .insert(&list, task("parent"))
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let b = t.insert(&list, task("b")).send().await.unwrap().id.unwrap();
    let moved = t.r#move(&list, &b).parent(&parent).send().await.unwrap();
    assert_eq!(moved.parent.as_deref(), Some(parent.as_str()));

    // clear hides completed tasks; delete removes one
    t.clear(&list).send().await.unwrap();
    let visible: Vec<Task> = t.list(&list).items().try_collect().await.unwrap();
    assert!(
        visible
            .iter()
            .all(|x| x.id.as_deref() != Some(a_id.as_str())),
        "cleared task hidden"
    );
    t.delete(&list, &b).send().await.unwrap();
    let err = t.get(&list, "no-such-task").send().await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert_eq!(err.reason(), Some("notFound"));

    // task lists: patch and delete
    let tl = w
        .tasks
        .tasklists()
        .patch(
            &list,
            TaskList {
                title: Some("renamed".into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap();
    assert_eq!(tl.title.as_deref(), Some("renamed"));
    w.tasks.tasklists().delete(&list).send().await.unwrap();
    assert!(
        w.tasks
            .tasklists()
            .get(&list)
            .send()
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn pagination_over_more_than_three_pages() {
    let w = world().await;
    let list = new_list(&w, "pages").await;
    for i in 0..11 {
        w.tasks
            .tasks()
            .insert(&list, task(&format!("t{i:02}")))
            .send()
            .await
            .unwrap();
    }
    let pages: Vec<_> = w
        .tasks
        .tasks()
        .list(&list)
        .max_results(3)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 4, "11 tasks at 3 per page");
    assert!(
        pages
            .iter()
            .all(|p| p.items.as_ref().is_some_and(|i| i.len() <= 3))
    );
    let mut titles: Vec<String> = w
        .tasks
        .tasks()
        .list(&list)
        .max_results(3)
        .items()
        .map(|t| t.unwrap().title.unwrap())
        .collect()
        .await;
    titles.sort();
    assert_eq!(titles.len(), 11);
    assert_eq!(titles[0], "t00");
    // every page request carried the caller's page size
    let lists: Vec<_> = w
        .standin
        .requests()
        .into_iter()
        .filter(|r| r.method_id.as_deref() == Some("tasks.tasks.list"))
        .collect();
    assert_eq!(lists.len(), 8);
    assert!(lists.iter().all(|r| {
        r.query
            .as_deref()
            .is_some_and(|q| q.contains("maxResults=3"))
    }));
}

#[tokio::test]
async fn token_expiring_mid_run_is_refreshed_once_and_stored() {
    let w = world().await;
    let list = new_list(&w, "expiry").await;
    let before = w.storage.get().await.unwrap().unwrap();
    w.standin.reset_stats();
    w.standin.expire_all_tokens();
    // many concurrent calls on the dead token: one refresh between them
    let calls = (0..20).map(|i| {
        let tasks = w.tasks.clone();
        let list = list.clone();
        async move {
            tasks
                .tasks()
                .insert(&list, task(&format!("c{i}")))
                .send()
                .await
        }
    });
    let results = futures_join_all(calls).await;
    assert!(
        results.iter().all(|r| r.is_ok()),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(w.standin.stats().refreshes, 1, "exactly one refresh");
    let after = w.storage.get().await.unwrap().unwrap();
    assert_ne!(
        after.access_token(),
        before.access_token(),
        "stored credentials updated"
    );
    assert_eq!(
        after.refresh_token(),
        before.refresh_token(),
        "refresh token kept"
    );
}

async fn futures_join_all<F>(fs: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn revoked_token_is_a_typed_auth_error() {
    let w = world().await;
    w.tasks.tasklists().list().send().await.unwrap();
    w.standin.revoke_all();
    let err = w.tasks.tasklists().list().send().await.unwrap_err();
    assert!(err.needs_reauthorization(), "{err:?}");
    assert!(err.is_auth());
    let stored = w.storage.get().await.unwrap().unwrap();
    assert!(stored.is_invalid(), "stored credentials marked invalid");
}

#[tokio::test]
async fn api_errors_are_typed_with_reason_and_transient_ones_retried() {
    let w = world().await;
    // a 503 with Retry-After and a 403 rate limit are retried transparently
    w.standin
        .inject_error(InjectedError::unavailable(0).path("tasks/v1/users/@me/lists"));
    w.standin
        .inject_error(InjectedError::rate_limit_exceeded().path("tasks/v1/users/@me/lists"));
    let lists = w.tasks.tasklists().list().send().await.unwrap();
    assert!(lists.items.is_some());
    assert_eq!(w.standin.stats().injected_errors, 2);

    // a bad page token is a 400 with Google's error shape, not retried
    let err = w
        .tasks
        .tasklists()
        .list()
        .page_token("garbage")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    let api = err.api_error().unwrap();
    assert!(!api.errors.is_empty());
    assert!(!err.is_transient());
}

#[tokio::test]
async fn partial_responses_with_fields() {
    let w = world().await;
    let list = new_list(&w, "fields").await;
    w.tasks
        .tasks()
        .insert(
            &list,
            Task {
                title: Some("x".into()),
                notes: Some("n".into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap();
    let page = w
        .tasks
        .tasks()
        .list(&list)
        .fields("items(title)")
        .send()
        .await
        .unwrap();
    let items = page.items.unwrap();
    assert_eq!(items[0].title.as_deref(), Some("x"));
    assert_eq!(items[0].notes, None);
    assert_eq!(items[0].id, None);
    assert_eq!(page.etag, None);
}
