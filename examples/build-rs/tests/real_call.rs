//! The build.rs-generated client makes a real call against the local stand-in.

use gapi_example_build_rs::{task_list_titles, tasks_v1 as tasks};

#[tokio::test]
async fn lists_task_lists_through_the_build_rs_client() {
    let standin = gapi_standin::StandIn::builder().start().await.unwrap();
    let token = standin.issue_token(&[tasks::scopes::TASKS]);
    let client =
        gapi::Client::new(gapi::Credentials::access_token(token.access_token.clone())).unwrap();
    let api = tasks::TasksService::new(client).with_root_url(standin.base_url());
    api.tasklists()
        .insert(tasks::schemas::TaskList {
            title: Some("from build.rs".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let titles = task_list_titles(&api).await.unwrap();
    assert!(titles.contains(&"from build.rs".to_string()), "{titles:?}");
    assert!(titles.len() >= 2, "paged with max_results(1): {titles:?}");
}
