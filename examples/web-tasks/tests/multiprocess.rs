//! The web-tasks binary run as separate processes behind a tiny proxy (a
//! load balancer without sticky sessions that this test steers request by
//! request), sharing one storage: a sign-in begun on process A completes on
//! process B, the used `state` is refused by both, and a third process whose
//! clock runs past the sign-in's time-to-live refuses it as expired. Per
//! backend: an SQLite file all processes open, PostgreSQL
//! (`GAPI_TEST_POSTGRES_URL`) and Redis (`GAPI_TEST_REDIS_URL`), skipped when
//! unset unless `GAPI_REQUIRE_POSTGRES=1` / `GAPI_REQUIRE_REDIS=1`. The
//! stand-in (authorization server and Tasks API) runs in this test.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use gapi_standin::{ClientKind, DEFAULT_CLIENT_ID, RegisteredClient, StandIn};
use gapi_storage::HasSingleUse as _;

const BIN: &str = env!("CARGO_BIN_EXE_web-tasks");

/// A web-tasks process; killed when dropped.
struct Process {
    child: Child,
    url: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(args: &[String]) -> Process {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start web-tasks");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "web-tasks exited early"
        );
        if let Some(u) = line.trim().strip_prefix("web-tasks: open ") {
            break u.trim_end_matches('/').to_owned();
        }
    };
    std::thread::spawn(move || {
        let mut sink = String::new();
        while out.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    Process { child, url }
}

/// The proxy's state: the upstreams and which one gets the next request.
#[derive(Clone)]
struct Proxy {
    upstreams: Arc<Mutex<Vec<String>>>,
    next: Arc<Mutex<usize>>,
    http: reqwest::Client,
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let i = *p.next.lock().unwrap();
    let upstream = p.upstreams.lock().unwrap()[i].clone();
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let uri = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let mut out = p.http.request(parts.method, format!("{upstream}{uri}"));
    for (k, v) in &parts.headers {
        if k != "host" {
            out = out.header(k, v);
        }
    }
    let resp = out.body(body).send().await.unwrap();
    let mut back = Response::builder().status(resp.status());
    for (k, v) in resp.headers() {
        back = back.header(k, v);
    }
    back = back.header("x-served-by", i.to_string());
    back.body(Body::from(resp.bytes().await.unwrap())).unwrap()
}

/// A browser: cookies per host (as browsers keep them), manual redirects.
struct Browser {
    http: reqwest::Client,
    jar: BTreeMap<String, String>,
    proxy: String,
}

struct Hop {
    status: u16,
    location: Option<String>,
    body: String,
}

impl Browser {
    async fn request(&mut self, url: &str, form: Option<&[(&str, &str)]>) -> Hop {
        let mut req = match form {
            Some(f) => self
                .http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(f)
                        .finish(),
                ),
            None => self.http.get(url),
        };
        let ours = url.starts_with(&self.proxy);
        if ours && !self.jar.is_empty() {
            let c: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req = req.header("cookie", c.join("; "));
        }
        let resp = req.send().await.unwrap();
        if ours {
            for sc in resp.headers().get_all("set-cookie") {
                let pair = sc.to_str().unwrap().split(';').next().unwrap();
                let (k, v) = pair.split_once('=').unwrap();
                self.jar.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = resp.status().as_u16();
        let location = resp.headers().get("location").map(|l| {
            url::Url::parse(url)
                .unwrap()
                .join(l.to_str().unwrap())
                .unwrap()
                .to_string()
        });
        Hop {
            status,
            location,
            body: resp.text().await.unwrap(),
        }
    }
}

/// What each backend needs: the `--storage` value and how to clean up.
#[derive(Clone)]
enum Backend {
    Sqlite(String),
    Postgres(String),
    Redis(String),
}

fn backends(dir: &std::path::Path) -> Vec<Backend> {
    let mut out = vec![Backend::Sqlite(
        dir.join("shared.sqlite").display().to_string(),
    )];
    for (var, require) in [
        ("GAPI_TEST_POSTGRES_URL", "GAPI_REQUIRE_POSTGRES"),
        ("GAPI_TEST_REDIS_URL", "GAPI_REQUIRE_REDIS"),
    ] {
        match std::env::var(var) {
            Ok(u) if !u.is_empty() => out.push(if var.contains("POSTGRES") {
                Backend::Postgres(u)
            } else {
                Backend::Redis(u)
            }),
            _ => {
                assert!(
                    std::env::var(require).as_deref() != Ok("1"),
                    "{require}=1 but {var} is unset"
                );
                println!("skipped: a backend ({var} is not set)");
            }
        }
    }
    out
}

impl Backend {
    fn url(&self) -> String {
        match self {
            Backend::Sqlite(p) => format!("sqlite:{p}"),
            Backend::Postgres(u) | Backend::Redis(u) => u.clone(),
        }
    }

    async fn cleanup(&self, namespace: &str) {
        match self {
            Backend::Sqlite(_) => {}
            Backend::Postgres(u) => {
                let s = gapi_storage::PostgresKeyedStorage::builder(u)
                    .table(namespace)
                    .build()
                    .unwrap();
                s.single_use().unwrap().drop_table().await.unwrap();
                s.drop_table().await.unwrap();
            }
            Backend::Redis(u) => {
                let s = gapi_storage::RedisKeyedStorage::builder(u)
                    .prefix(namespace)
                    .build()
                    .unwrap();
                s.delete_all().await.unwrap();
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_begun_on_one_process_completes_on_another() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let standin = StandIn::builder()
        .without_default_client()
        .client(RegisteredClient::new(
            DEFAULT_CLIENT_ID,
            gapi_standin::DEFAULT_CLIENT_SECRET,
        ))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client_secret.json");
    std::fs::write(
        &secret,
        standin
            .client_secret_json_for(DEFAULT_CLIENT_ID, ClientKind::Web)
            .unwrap(),
    )
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let proxy = Proxy {
        upstreams: Arc::new(Mutex::new(Vec::new())),
        next: Arc::new(Mutex::new(0)),
        http: http.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let session_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    for (n, backend) in backends(dir.path()).into_iter().enumerate() {
        let namespace = format!("wt_mp_{}_{}_{n}", std::process::id(), rand::random::<u32>());
        let args = |skew: u64| -> Vec<String> {
            [
                "--client-secret",
                secret.to_str().unwrap(),
                "--root-url",
                standin.base_url(),
                "--addr",
                "127.0.0.1:0",
                "--redirect-uri",
                &format!("{public}/oauth2callback"),
                "--storage",
                &backend.url(),
                "--storage-namespace",
                &namespace,
                "--session-key",
                session_key,
                "--clock-skew-secs",
                &skew.to_string(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect()
        };
        let (a, b, c) = (spawn(&args(0)), spawn(&args(0)), spawn(&args(601)));
        *proxy.upstreams.lock().unwrap() = vec![a.url.clone(), b.url.clone(), c.url.clone()];
        let to = |i: usize| *proxy.next.lock().unwrap() = i;
        let name = backend.url();
        let codes_before = standin.stats().token_requests_for("authorization_code");

        // Sign in to the app on A; /tasks on A sends the browser to consent.
        let mut alice = Browser {
            http: http.clone(),
            jar: BTreeMap::new(),
            proxy: public.clone(),
        };
        to(0);
        let login = alice
            .request(
                &format!("{public}/login"),
                Some(&[("user", "alice"), ("return_to", "/tasks")]),
            )
            .await;
        assert_eq!(login.status, 303, "{name}");
        let begin = alice.request(&format!("{public}/tasks"), None).await;
        assert_eq!(begin.status, 303, "{name}: {}", begin.body);
        let consent = alice
            .request(begin.location.as_deref().unwrap(), None)
            .await;
        let callback = consent.location.unwrap();
        assert!(
            callback.starts_with(&format!("{public}/oauth2callback?")),
            "{callback}"
        );

        // The callback lands on B: accepted.
        to(1);
        let done = alice.request(&callback, None).await;
        assert_eq!(done.status, 303, "{name}: {}", done.body);
        assert_eq!(
            done.location.as_deref(),
            Some(format!("{public}/tasks").as_str())
        );
        for i in [0, 1, 2] {
            to(i);
            let page = alice.request(&format!("{public}/tasks"), None).await;
            assert_eq!(page.status, 200, "{name}, process {i}: {}", page.body);
            assert!(page.body.contains("My Tasks"), "{name}: {}", page.body);
        }

        // Replayed on either: refused, and never exchanged again.
        for i in [0, 1] {
            to(i);
            let replay = alice.request(&callback, None).await;
            assert_eq!(replay.status, 400, "{name}, process {i}");
            assert!(
                replay.body.contains("already used"),
                "{name}: {}",
                replay.body
            );
        }
        assert_eq!(
            standin.stats().token_requests_for("authorization_code"),
            codes_before + 1
        );

        // Begun on A, called back on C, whose clock is past the 10-minute TTL.
        let mut bob = Browser {
            http: http.clone(),
            jar: BTreeMap::new(),
            proxy: public.clone(),
        };
        to(0);
        bob.request(
            &format!("{public}/login"),
            Some(&[("user", "bob"), ("return_to", "/tasks")]),
        )
        .await;
        let begin = bob.request(&format!("{public}/tasks"), None).await;
        let callback = bob
            .request(begin.location.as_deref().unwrap(), None)
            .await
            .location
            .unwrap();
        to(2);
        let late = bob.request(&callback, None).await;
        assert_eq!(late.status, 400, "{name}: {}", late.body);
        assert!(late.body.contains("expired"), "{name}: {}", late.body);
        to(1);
        assert_eq!(
            bob.request(&callback, None).await.status,
            400,
            "{name}: taken by C"
        );
        assert_eq!(
            standin.stats().token_requests_for("authorization_code"),
            codes_before + 1
        );

        drop((a, b, c));
        backend.cleanup(&namespace).await;
        println!(
            "{name}: begun on process A, completed on B; replays refused by both; expired refused by C"
        );
    }
}
