//! `gapi` against the local Google stand-in (OAuth 2.0 + Tasks v1): sign in
//! with the installed-app flow and the device flow, list/insert/patch/
//! delete tasks, page through more than three pages as NDJSON, and an
//! expired token refreshed once across a paged listing — the binary run as
//! a user runs it.

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use gapi_standin::{ClientKind, StandIn, StandInHandle};
use support::{gapi, run};

fn client_secret(standin: &StandInHandle, dir: &Path) -> String {
    let path = dir.join("client_secret.json");
    std::fs::write(&path, standin.client_secret_json(ClientKind::Installed)).unwrap();
    path.display().to_string()
}

/// Runs `gapi auth login` (installed-app flow, no browser) and plays the
/// browser: reads the URL from stderr and follows it.
async fn login_installed(standin: &StandInHandle, config: &Path, profile: &str) {
    let secret = client_secret(standin, config);
    let mut child = gapi(config)
        .args([
            "auth",
            "login",
            "--client-secret",
            &secret,
            "--scopes",
            "tasks",
            "--no-browser",
            "--profile",
            profile,
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<String>();
    let reader = std::thread::spawn(move || {
        let mut tx = Some(tx);
        let mut all = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if line.starts_with("http")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(line.clone());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let url = tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .expect("the login printed a URL")
        .unwrap();
    assert!(url.starts_with(standin.base_url()), "{url}");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .unwrap();
    let page = browser.get(&url).send().await.unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let log = reader.join().unwrap();
    assert!(status.success(), "login failed: {log}");
    assert!(log.contains("Signed in"), "{log}");
}

fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn installed_flow_then_tasks_crud_paging_and_one_refresh() {
    let standin = StandIn::builder().max_page_size(2).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path();
    login_installed(&standin, config, "default").await;
    let creds = config.join("profiles/default/credentials.json");
    #[cfg(unix)]
    {
        assert_eq!(mode(&creds), 0o600);
        assert_eq!(mode(creds.parent().unwrap()), 0o700);
    }
    let stored = std::fs::read_to_string(&creds).unwrap();
    let status = run(config, &["auth", "status"]).await;
    let status = status.ok().json();
    assert_eq!(status["signed_in"], true);
    assert_eq!(status["user"]["refresh_token"], true);
    // No secret in status output.
    let v: serde_json::Value = serde_json::from_str(&stored).unwrap();
    for secret in ["refresh_token", "access_token"] {
        let s = v[secret].as_str().unwrap_or("");
        if !s.is_empty() {
            assert!(!status.to_string().contains(s), "{secret} shown by status");
        }
    }
    let root = standin.base_url().to_owned();
    let api = |args: &[&str]| {
        let mut a: Vec<String> = vec!["tasks".into()];
        a.extend(args.iter().map(|s| s.to_string()));
        a.extend(["--root-url".into(), root.clone()]);
        a
    };
    let call = |args: Vec<String>| async move {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(config, &refs).await
    };

    // insert a list, then 7 tasks
    let list = call(api(&[
        "tasklists",
        "insert",
        "--body",
        r#"{"title":"cli"}"#,
    ]))
    .await;
    let list_id = list.ok().json()["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for i in 0..7 {
        let body = format!(r#"{{"title":"task {i}"}}"#);
        let t = call(api(&[
            "tasks",
            "insert",
            "-p",
            &format!("tasklist={list_id}"),
            "--body",
            &body,
        ]))
        .await;
        ids.push(t.ok().json()["id"].as_str().unwrap().to_owned());
    }
    // get, patch, delete
    let tl = format!("tasklist={list_id}");
    let t0 = format!("task={}", ids[0]);
    let patched = call(api(&[
        "tasks",
        "patch",
        "-p",
        &tl,
        "-p",
        &t0,
        "--body",
        r#"{"status":"completed"}"#,
    ]))
    .await;
    assert_eq!(patched.ok().json()["status"], "completed");
    let got = call(api(&[
        "tasks",
        "get",
        "-p",
        &tl,
        "-p",
        &t0,
        "--fields",
        "id,status",
    ]))
    .await;
    let got = got.ok().json();
    assert_eq!(got["status"], "completed");
    assert!(got.get("title").is_none(), "fields applied: {got}");
    let t6 = format!("task={}", ids[6]);
    call(api(&["tasks", "delete", "-p", &tl, "-p", &t6]))
        .await
        .ok();
    // A deleted task is gone from listings; `get` shows it marked deleted
    // (as Google does) or not at all.
    let gone = call(api(&["tasks", "get", "-p", &tl, "-p", &t6])).await;
    match gone.code {
        0 => assert_eq!(gone.json()["deleted"], true, "{}", gone.stdout),
        _ => assert!(gone.stderr.contains("404"), "{}", gone.stderr),
    }

    // --page-all: 6 tasks (with the completed one), 2 per page = 3 pages,
    // plus hidden/completed: ask for showCompleted and showHidden.
    for i in 7..10 {
        let body = format!(r#"{{"title":"task {i}"}}"#);
        call(api(&["tasks", "insert", "-p", &tl, "--body", &body]))
            .await
            .ok();
    }
    // 9 live tasks, 2 per page: 5 pages. The token expires first: one refresh.
    standin.expire_all_tokens();
    let before = standin.stats().refreshes;
    let pages = call(api(&[
        "tasks",
        "list",
        "-p",
        &tl,
        "-p",
        "showCompleted=true",
        "-p",
        "showHidden=true",
        "--page-all",
    ]))
    .await;
    let pages = json_lines(&pages.ok().stdout);
    assert!(pages.len() > 3, "{} pages", pages.len());
    let titles: Vec<&str> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().into_iter().flatten())
        .filter_map(|t| t["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 9, "{titles:?}");
    let log: Vec<(String, u16)> = standin
        .requests()
        .iter()
        .rev()
        .take(8)
        .map(|r| (r.path.clone(), r.status))
        .collect();
    assert_eq!(
        standin.stats().refreshes - before,
        1,
        "one refresh for the whole listing: {:?} {log:?}",
        standin.stats()
    );
    let after = std::fs::read_to_string(&creds).unwrap();
    assert_ne!(after, stored, "the refreshed token was written back");

    // table and yaml
    let table = call(api(&["tasklists", "list", "--format", "table"])).await;
    assert!(table.ok().stdout.contains("cli"), "{}", table.stdout);
    let yaml = call(api(&["tasklists", "get", "-p", &tl, "--format", "yaml"])).await;
    assert!(yaml.ok().stdout.contains("title: cli"), "{}", yaml.stdout);

    // print-access-token is a token the API takes; logout revokes and deletes
    let token = run(config, &["auth", "print-access-token"]).await;
    let token = token.ok().stdout.trim().to_owned();
    assert!(token.len() > 20);
    let anon = call(api(&["tasklists", "list", "--access-token", &token])).await;
    anon.ok();
    run(config, &["auth", "logout"]).await.ok();
    assert!(!creds.exists());
    let refused = call(api(&["tasklists", "list", "--access-token", &token])).await;
    assert_eq!(
        refused.code, 1,
        "the revoked token is refused: {}",
        refused.stdout
    );
    let not_in = call(api(&["tasklists", "list"])).await;
    assert_eq!(not_in.code, 2);
    assert!(not_in.stderr.contains("not signed in"), "{}", not_in.stderr);
    standin.shutdown().await;
}

#[tokio::test]
async fn device_flow_login_into_a_second_profile() {
    let standin = StandIn::builder()
        .device_poll_interval(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path();
    let secret = client_secret(&standin, config);
    let mut child = gapi(config)
        .args([
            "auth",
            "login",
            "--device",
            "--client-secret",
            &secret,
            "--scopes",
            "tasks",
            "--profile",
            "work",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines();
        let mut code = None;
        let mut all = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            all.push_str(&line);
            all.push('\n');
            if let Some(c) = line.strip_prefix("and enter the code ") {
                code = Some(c.trim().to_owned());
                break;
            }
        }
        (
            code,
            lines.map(|l| l.unwrap()).collect::<Vec<_>>().join("\n"),
            all,
        )
    });
    // Approve as soon as the code is pending.
    let mut approved = false;
    for _ in 0..200 {
        if let Some(code) = standin.pending_device_codes().first() {
            approved = standin.approve_device(code);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(approved, "a device code was pending");
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let (code, rest, shown) = reader.join().unwrap();
    assert!(code.is_some(), "the user code was shown: {shown}");
    assert!(shown.contains(&standin.base_url()[..20]), "{shown}");
    assert!(status.success(), "{shown}{rest}");
    let profiles = run(config, &["auth", "list"]).await;
    assert_eq!(profiles.ok().json(), serde_json::json!(["work"]));
    let lists = run(
        config,
        &[
            "tasks",
            "tasklists",
            "list",
            "--profile",
            "work",
            "--root-url",
            standin.base_url(),
        ],
    )
    .await;
    assert!(lists.ok().json().is_object());
    // the default profile is not signed in
    let other = run(
        config,
        &[
            "tasks",
            "tasklists",
            "list",
            "--root-url",
            standin.base_url(),
        ],
    )
    .await;
    assert_eq!(other.code, 2, "{}", other.stderr);
    standin.shutdown().await;
}
