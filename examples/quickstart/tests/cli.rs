//! The quickstart binary against the local stand-in: first run authorizes
//! (installed-app flow with --no-browser, and the device flow), later runs
//! reuse and refresh the stored credentials without asking again.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use gapi_standin::{ClientKind, StandIn};

const BIN: &str = env!("CARGO_BIN_EXE_gapi-quickstart");

fn quickstart(dir: &std::path::Path, base: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--client-secret")
        .arg(dir.join("client_secret.json"))
        .arg("--credentials")
        .arg(dir.join("creds/credentials.json"))
        .arg("--root-url")
        .arg(base)
        .args(extra);
    c
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_flow_then_reuse_and_refresh() {
    let standin = StandIn::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("client_secret.json"),
        standin.client_secret_json(ClientKind::Installed),
    )
    .unwrap();
    let base = standin.base_url().to_owned();

    // First run: prints the URL (no browser), we consent in a scripted browser.
    let mut child = quickstart(dir.path(), &base, &["--no-browser", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "no authorization URL printed"
        );
        if line.starts_with("http") {
            break line.trim().to_owned();
        }
    };
    assert!(url.contains("code_challenge="));
    assert_eq!(gapi_e2e::browser_visit(&url).await, 200);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(rest.contains("My Tasks"), "{rest}");
    let creds = dir.path().join("creds/credentials.json");
    assert!(creds.exists());

    // Later runs: no URL, stored credentials reused.
    let listing = run_ok(&mut quickstart(dir.path(), &base, &["list"]));
    let list_id = listing
        .lines()
        .next()
        .unwrap()
        .rsplit('(')
        .next()
        .unwrap()
        .trim_end_matches(')')
        .to_owned();
    // A new list, then listed.
    let created = run_ok(&mut quickstart(
        dir.path(),
        &base,
        &["create-list", "Groceries"],
    ));
    let mut words = created.split_whitespace();
    assert_eq!(words.next(), Some("created"), "{created}");
    let new_id = words.next().unwrap().to_owned();
    assert_eq!(words.collect::<Vec<_>>(), ["Groceries"]);
    let listing_after = run_ok(&mut quickstart(dir.path(), &base, &["list"]));
    assert!(
        listing_after.contains(&format!("Groceries ({new_id})")),
        "{listing_after}"
    );
    let added = run_ok(&mut quickstart(
        dir.path(),
        &base,
        &["add", "--list", &list_id, "Buy milk"],
    ));
    let task_id = added.split_whitespace().nth(1).unwrap().to_owned();
    standin.expire_all_tokens();
    let before = standin.stats().refreshes;
    let done = run_ok(&mut quickstart(
        dir.path(),
        &base,
        &["complete", "--list", &list_id, &task_id],
    ));
    assert!(done.starts_with("completed"), "{done}");
    assert_eq!(
        standin.stats().refreshes,
        before + 1,
        "expired token refreshed once"
    );
    let listing = run_ok(&mut quickstart(dir.path(), &base, &["list"]));
    assert!(listing.contains("[x] Buy milk"), "{listing}");
    assert_eq!(standin.stats().authorizations, 1, "never asked again");

    // Logout revokes and deletes.
    // (the stand-in's client_secret.json names its revocation endpoint)
    run_ok(&mut quickstart(dir.path(), &base, &["logout"]));
    assert!(!creds.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow() {
    let standin = StandIn::builder()
        .device_poll_interval(std::time::Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("client_secret.json"),
        standin.client_secret_json(ClientKind::Installed),
    )
    .unwrap();
    let base = standin.base_url().to_owned();
    let device_uri = standin.device_uri();
    let mut child = quickstart(
        dir.path(),
        &base,
        &["--device", "--device-uri", &device_uri, "list"],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("enter the code"), "{line}");
    assert!(
        !line.contains("open"),
        "no complete URI from this server: {line}"
    );
    let code = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(standin.approve_device(&code), "user code {code} pending");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(rest.contains("My Tasks"), "{rest}");
}

/// A device authorization endpoint in front of the stand-in's that adds
/// `verification_uri_complete` (RFC 8628 §3.3.1), as Google's and
/// oidc-provider's do.
async fn device_endpoint_with_complete_uri(upstream: String) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/device/code",
        post(move |body: String| {
            let upstream = upstream.clone();
            async move {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let resp = reqwest::Client::new()
                    .post(&upstream)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let mut v: serde_json::Value =
                    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
                let url = v["verification_url"]
                    .as_str()
                    .or(v["verification_uri"].as_str())
                    .unwrap()
                    .to_owned();
                v["verification_uri_complete"] =
                    format!("{url}?user_code={}", v["user_code"].as_str().unwrap()).into();
                axum::Json(v)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/device/code", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_flow_shows_the_complete_verification_uri() {
    let standin = StandIn::builder()
        .device_poll_interval(std::time::Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("client_secret.json"),
        standin.client_secret_json(ClientKind::Installed),
    )
    .unwrap();
    let base = standin.base_url().to_owned();
    let device_uri = device_endpoint_with_complete_uri(standin.device_uri()).await;
    let mut child = quickstart(
        dir.path(),
        &base,
        &[
            "--device",
            "--device-uri",
            &device_uri,
            "create-list",
            "From the device",
        ],
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let complete = first
        .trim()
        .strip_prefix("To sign in, open ")
        .unwrap_or_else(|| panic!("{first}"));
    let code = second
        .trim()
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        complete,
        format!("{}?user_code={code}", standin.verification_url()),
        "the link with the code filled in comes first"
    );
    assert!(second.contains("enter the code"), "{second}");
    assert!(standin.approve_device(&code), "user code {code} pending");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        rest.starts_with("created ") && rest.trim_end().ends_with("From the device"),
        "{rest}"
    );
}
