//! Batch through the generated Tasks client against the stand-in's real
//! multipart/mixed endpoint: typed results in order, a failing part, and a
//! 401 inside the batch (one refresh, only the failed parts re-sent).

use gapi::Batch;
use gapi_e2e::world;
use gapi_tasks_v1::schemas::{Task, TaskList};

#[tokio::test]
async fn batch_of_typed_calls_in_order() {
    let w = world().await;
    let list = w
        .tasks
        .tasklists()
        .insert(TaskList {
            title: Some("batch".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    let mut batch = Batch::new(w.tasks.service());
    let inserts: Vec<_> = (0..5)
        .map(|i| {
            batch.add(w.tasks.tasks().insert(
                &list,
                Task {
                    title: Some(format!("b{i}")),
                    ..Default::default()
                },
            ))
        })
        .collect();
    let missing = batch.add(w.tasks.tasks().get(&list, "no-such-task"));
    let lists = batch.add(w.tasks.tasklists().list());
    let mut responses = batch.send().await.unwrap();
    for (i, h) in inserts.into_iter().enumerate() {
        let t = responses.take(h).unwrap();
        assert_eq!(t.title.as_deref(), Some(format!("b{i}").as_str()));
    }
    let err = responses.take(missing).unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(responses.take(lists).unwrap().items.unwrap().len() >= 2);
    assert_eq!(w.standin.stats().batch_requests, 1);
}

#[tokio::test]
async fn unauthorized_parts_refresh_once_and_only_they_are_resent() {
    let w = world().await;
    let list = w
        .tasks
        .tasklists()
        .insert(TaskList {
            title: Some("b401".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    w.standin.expire_all_tokens();
    w.standin.reset_stats();
    let mut batch = Batch::new(w.tasks.service());
    let hs: Vec<_> = (0..3)
        .map(|i| {
            batch.add(w.tasks.tasks().insert(
                &list,
                Task {
                    title: Some(format!("x{i}")),
                    ..Default::default()
                },
            ))
        })
        .collect();
    let mut responses = batch.send().await.unwrap();
    for h in hs {
        assert!(responses.take(h).is_ok());
    }
    let stats = w.standin.stats();
    assert_eq!(stats.refreshes, 1, "one refresh for the whole batch");
    let tasks: Vec<Task> = {
        use gapi::TryStreamExt as _;
        w.tasks
            .tasks()
            .list(&list)
            .items()
            .try_collect()
            .await
            .unwrap()
    };
    assert_eq!(tasks.len(), 3, "each insert applied exactly once");
}
