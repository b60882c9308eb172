//! Bad input: each refusal is one line on stderr that says what and where,
//! a non-zero exit code (2: nothing was sent), and no connection to the
//! server the call would have gone to.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::run;

/// A listener that counts connections (and answers none).
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root = format!("http://{}/", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    (root, count)
}

async fn refused(config: &std::path::Path, root: &str, args: &[&str], wanted: &[&str]) {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--root-url", root, "--access-token", "not-a-real-token"]);
    let r = run(config, &all).await;
    assert_eq!(r.code, 2, "exit code of {args:?}: {}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line for {args:?}: {:?}", r.stderr);
    assert!(lines[0].starts_with("gapi: "), "{}", lines[0]);
    for w in wanted {
        assert!(lines[0].contains(w), "{args:?}: {:?} lacks {w:?}", lines[0]);
    }
    assert!(!lines[0].contains("not-a-real-token"));
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[tokio::test]
async fn bad_input_is_one_line_a_non_zero_exit_and_nothing_sent() {
    let (root, count) = counting_server().await;
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    // unknown method, with a suggestion
    refused(
        c,
        &root,
        &["tasks", "tasks", "lst"],
        &[
            "tasks.v1 resource tasks",
            "no resource or method `lst`",
            "did you mean `list`?",
        ],
    )
    .await;
    // unknown API and resource
    refused(
        c,
        &root,
        &["taks", "tasks", "list"],
        &["no API `taks`", "did you mean `tasks`?"],
    )
    .await;
    refused(
        c,
        &root,
        &["tasks", "tasklist", "list"],
        &["did you mean `tasklists`?"],
    )
    .await;
    // a missing required parameter
    refused(
        c,
        &root,
        &["tasks", "tasks", "list"],
        &["tasks.tasks.list: parameter `tasklist`: is required (path, string)"],
    )
    .await;
    // a wrong type, an unknown parameter, a bad enum value
    refused(
        c,
        &root,
        &[
            "tasks",
            "tasks",
            "list",
            "-p",
            "tasklist=a",
            "-p",
            "maxResults=ten",
        ],
        &["parameter `maxResults`: expected an integer (int32), got \"ten\""],
    )
    .await;
    refused(
        c,
        &root,
        &[
            "tasks",
            "tasks",
            "list",
            "-p",
            "tasklist=a",
            "-p",
            "max_results=3",
        ],
        &["parameter `max_results`", "did you mean `maxResults`?"],
    )
    .await;
    refused(
        c,
        &root,
        &[
            "storage",
            "objects",
            "list",
            "-p",
            "bucket=b",
            "-p",
            "projection=ful",
        ],
        &[
            "storage.objects.list: parameter `projection`",
            "not one of `full`, `noAcl`",
        ],
    )
    .await;
    refused(
        c,
        &root,
        &["tasks", "tasks", "list", "--params", "[1]"],
        &["--params", "a JSON object"],
    )
    .await;
    // a malformed body, and one that does not fit the schema
    refused(
        c,
        &root,
        &[
            "tasks",
            "tasks",
            "insert",
            "-p",
            "tasklist=a",
            "--body",
            "{\"title\":",
        ],
        &[
            "tasks.tasks.insert: the request body (--body) is not JSON",
            "line 1 column",
        ],
    )
    .await;
    refused(
        c,
        &root,
        &[
            "tasks",
            "tasks",
            "insert",
            "-p",
            "tasklist=a",
            "--body",
            "{\"title\": 5}",
        ],
        &["request body at $.title: expected a string, got the number 5"],
    )
    .await;
    refused(
        c,
        &root,
        &[
            "tasks",
            "tasks",
            "insert",
            "-p",
            "tasklist=a",
            "--body",
            "@/nonexistent/body.json",
        ],
        &["--body @/nonexistent/body.json"],
    )
    .await;
    // an unreadable document: not there, not JSON, a wrong type inside
    refused(
        c,
        &root,
        &[
            "tasks",
            "tasks",
            "list",
            "--discovery-file",
            "/nonexistent/doc.json",
        ],
        &["discovery document /nonexistent/doc.json"],
    )
    .await;
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let bad_s = bad.display().to_string();
    refused(
        c,
        &root,
        &["x", "r", "m", "--discovery-file", &bad_s],
        &[&format!("discovery document {bad_s}: $:")],
    )
    .await;
    std::fs::write(&bad, r#"{"name":"x","version":"v1","resources":{"r":{"methods":{"m":{"parameters":{"p":{"required":"yes"}}}}}}}"#).unwrap();
    refused(
        c,
        &root,
        &["x", "r", "m", "--discovery-file", &bad_s],
        &["$.resources.r.methods.m.parameters.p.required"],
    )
    .await;
    // media options on methods without media
    refused(
        c,
        &root,
        &["tasks", "tasklists", "list", "--upload", "/etc/hostname"],
        &["takes no media"],
    )
    .await;
    assert_eq!(count.load(Ordering::SeqCst), 0, "nothing was sent");
}

#[tokio::test]
async fn help_comes_from_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let api = run(c, &["tasks", "--help"]).await;
    assert!(
        api.ok().stdout.contains("Google Tasks API"),
        "{}",
        api.stdout
    );
    assert!(api.stdout.contains("tasklists"));
    let m = run(c, &["storage", "objects", "list", "--help"]).await;
    let m = &m.ok().stdout;
    assert!(m.contains("storage.objects.list — GET b/{bucket}/o"), "{m}");
    assert!(m.contains("bucket (string, path, required)"), "{m}");
    assert!(m.contains("one of: full, noAcl"), "{m}");
    assert!(m.contains("--page-all"), "{m}");
    // a resource without a method: its help on stderr and exit 2
    let r = run(c, &["tasks", "tasks"]).await;
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Methods:"), "{}", r.stderr);
    // gapi schema, with $ref expanded and a suggestion for a miss
    let s = run(c, &["schema", "tasks", "Task"]).await;
    let s = s.ok().json();
    assert_eq!(s["id"], "Task");
    assert_eq!(s["properties"]["links"]["type"], "array");
    let s = run(c, &["schema", "tasks", "tasks.insert"]).await;
    assert_eq!(s.ok().json()["request"]["id"], "Task");
    let miss = run(c, &["schema", "tasks", "Taks"]).await;
    assert_eq!(miss.code, 2);
    assert!(
        miss.stderr.contains("did you mean `Task`?"),
        "{}",
        miss.stderr
    );
    // completions: API names, then resources, then parameter names
    let comp = run(c, &["__complete", "tas"]).await;
    assert!(
        comp.ok().stdout.lines().any(|l| l == "tasks"),
        "{}",
        comp.stdout
    );
    let comp = run(c, &["__complete", "tasks", "task"]).await;
    assert_eq!(comp.ok().stdout, "tasklists\ntasks\n");
    let comp = run(c, &["__complete", "tasks", "tasks", "list", "-p", "max"]).await;
    assert_eq!(comp.ok().stdout, "maxResults=\n");
    for shell in ["bash", "zsh", "fish"] {
        let s = run(c, &["completions", shell]).await;
        assert!(s.ok().stdout.contains("__complete"), "{shell}");
    }
    let apis = run(c, &["apis", "list"]).await;
    let apis = apis.ok().json();
    assert!(apis["count"].as_u64().unwrap() >= 8);
}

#[tokio::test]
async fn dry_runs_show_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let c = dir.path();
    let key = run(
        c,
        &[
            "tasks",
            "tasklists",
            "list",
            "--dry-run",
            "--api-key",
            "SEKRIT-KEY-123",
        ],
    )
    .await;
    let key = key.ok();
    assert!(key.stdout.contains("key=<redacted>"), "{}", key.stdout);
    let token = run(
        c,
        &[
            "tasks",
            "tasklists",
            "list",
            "--dry-run",
            "--access-token",
            "ya29.SEKRIT-TOKEN",
        ],
    )
    .await;
    let token = token.ok();
    assert_eq!(
        token.json()["headers"]["authorization"],
        "Bearer <redacted>"
    );
    for r in [&key, &token] {
        for secret in ["SEKRIT-KEY-123", "ya29.SEKRIT-TOKEN"] {
            assert!(
                !r.stdout.contains(secret) && !r.stderr.contains(secret),
                "{secret} shown"
            );
        }
    }
    // The exact request: method, URL, the runtime's own headers.
    let v = token.json();
    assert_eq!(v["method"], "GET");
    assert_eq!(
        v["url"],
        "https://tasks.googleapis.com/tasks/v1/users/@me/lists"
    );
    assert!(
        v["headers"]["x-goog-api-client"]
            .as_str()
            .unwrap()
            .contains("gdcl/")
    );
}
