//! `--fresh` / `gapi apis fetch`: a document fetched from a Discovery
//! Service (here a local one, through `--discovery-url`), kept in the cache
//! and used afterwards while its revision is newer than the bundled one; a
//! failed fetch is one line and caches nothing.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Path;
use axum::http::StatusCode;
use support::{repo, run};

#[tokio::test]
async fn fresh_documents_are_fetched_cached_and_preferred_when_newer() {
    let doc = std::fs::read_to_string(repo().join("discovery-docs/tasks.v1.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&doc).unwrap();
    v["revision"] = "29991231".into();
    let served = Arc::new(v.to_string());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/discovery/v1/apis/{api}/{version}/rest",
        axum::routing::get(move |Path((api, version)): Path<(String, String)>| {
            let served = served.clone();
            h.fetch_add(1, Ordering::SeqCst);
            async move {
                if api == "tasks" && version == "v1" {
                    (StatusCode::OK, served.as_ref().clone())
                } else {
                    (
                        StatusCode::NOT_FOUND,
                        r#"{"error":{"code":404,"message":"no such API"}}"#.to_owned(),
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let template = format!("{base}/discovery/v1/apis/{{api}}/{{version}}/rest");
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();

    let fetched = run(
        c,
        &["apis", "fetch", "tasks.v1", "--discovery-url", &template],
    )
    .await;
    assert!(
        fetched.ok().stderr.contains("revision 29991231"),
        "{}",
        fetched.stderr
    );
    assert!(c.join("cache/discovery/tasks.v1.json").is_file());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // Later runs use the cached copy (newer than the bundled one), offline.
    let help = run(c, &["tasks", "--help"]).await;
    assert!(
        help.ok().stdout.contains("revision 29991231"),
        "{}",
        help.stdout
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // --fresh on a call fetches again.
    let dry = run(
        c,
        &[
            "tasks",
            "tasklists",
            "list",
            "--fresh",
            "--discovery-url",
            &template,
            "--dry-run",
            "--anonymous",
        ],
    )
    .await;
    assert_eq!(dry.ok().json()["method"], "GET");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    // A document the service does not have: one line, exit 1, nothing cached.
    let missing = run(
        c,
        &["apis", "fetch", "tasks.v9", "--discovery-url", &template],
    )
    .await;
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert_eq!(missing.stderr.lines().count(), 1, "{}", missing.stderr);
    assert!(missing.stderr.contains("404"), "{}", missing.stderr);
    assert!(!c.join("cache/discovery/tasks.v9.json").exists());
}
