//! The example app in headless Chromium, driven over the DevTools protocol
//! (on a pipe: `--remote-debugging-pipe`): open the home page, sign in with
//! the toy login form, follow "your tasks" through the consent redirect at
//! the stand-in and the callback, and read the tasks on the page — all 45
//! of a long list, which the API serves 20 to a page; then add a task, which
//! needs one more scope (an incremental consent). Screenshots go
//! to `target/web-tasks-chromium*.png`.
//!
//! Skipped (with a message) when no `chromium` is installed, unless
//! `GAPI_REQUIRE_CHROMIUM=1` (CI), which makes a missing browser a failure.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use web_tasks::{Config, Google, StorageChoice};

const REQUIRE_VAR: &str = "GAPI_REQUIRE_CHROMIUM";

fn find_chromium() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("GAPI_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Headless Chromium with the DevTools protocol on fds 3 (commands in) and
/// 4 (replies and events out), NUL-separated JSON.
struct Chromium {
    child: Child,
    commands: Mutex<std::io::PipeWriter>,
    replies: Receiver<Value>,
    next_id: AtomicU64,
    session: String,
    log: PathBuf,
    _profile: tempfile::TempDir,
}

impl Chromium {
    fn launch(binary: &Path) -> Chromium {
        use std::os::fd::AsRawFd as _;
        use std::os::unix::process::CommandExt as _;

        let profile = tempfile::tempdir().unwrap();
        let log = profile.path().join("chromium.log");
        let (cmd_r, cmd_w) = std::io::pipe().unwrap();
        let (res_r, res_w) = std::io::pipe().unwrap();
        let (cr, rw) = (cmd_r.as_raw_fd(), res_w.as_raw_fd());
        let mut command = Command::new(binary);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1100,900",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork
        // and exec. The pipe ends are moved above 10 first so that placing
        // them at 3 and 4 cannot close one another; dup2 clears CLOEXEC.
        unsafe {
            command.pre_exec(move || {
                let a = libc::fcntl(cr, libc::F_DUPFD, 10);
                let b = libc::fcntl(rw, libc::F_DUPFD, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("start chromium");
        drop(cmd_r);
        drop(res_w);
        let (tx, replies) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(res_r);
            loop {
                let mut buf = Vec::new();
                match reader.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if buf.last() == Some(&0) {
                            buf.pop();
                        }
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                            && tx.send(v).is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
        let mut c = Chromium {
            child,
            commands: Mutex::new(cmd_w),
            replies,
            next_id: AtomicU64::new(1),
            session: String::new(),
            log,
            _profile: profile,
        };
        let target = c
            .call_on(None, "Target.createTarget", json!({"url": "about:blank"}))
            .unwrap_or_else(|e| panic!("{e}\n{}", c.log_text()));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = c
            .call_on(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
            )
            .unwrap();
        c.session = attached["sessionId"].as_str().unwrap().to_owned();
        c.call("Page.enable", json!({})).unwrap();
        c
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn call_on(&self, session: Option<&str>, method: &str, params: Value) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        {
            let mut w = self.commands.lock().unwrap();
            let mut bytes = serde_json::to_vec(&msg).unwrap();
            bytes.push(0);
            w.write_all(&bytes).map_err(|e| format!("{method}: {e}"))?;
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.replies.recv_timeout(left) {
                Ok(v) if v["id"].as_u64() == Some(id) => {
                    if let Some(e) = v.get("error") {
                        return Err(format!("{method}: {e}"));
                    }
                    return Ok(v["result"].clone());
                }
                Ok(_) => {} // an event, or a late reply
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("{method}: no reply in 30 s"));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(format!("{method}: chromium closed the pipe"));
                }
            }
        }
    }

    fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        self.call_on(Some(&self.session), method, params)
    }

    fn navigate(&self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).unwrap();
    }

    /// Evaluates JavaScript in the page; errors while a navigation replaces
    /// the page are `Err`.
    fn eval(&self, expression: &str) -> Result<Value, String> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(format!("{expression}: {ex}"));
        }
        Ok(r["result"]["value"].clone())
    }

    fn page_text(&self) -> String {
        self.eval("location.href + '\\n' + (document.body ? document.body.innerText : '')")
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Waits until `condition` (JavaScript) is true on a fully loaded page.
    fn wait_until(&self, what: &str, condition: &str) {
        let expr = format!("document.readyState === 'complete' && !!({condition})");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.eval(&expr).ok() == Some(Value::Bool(true)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.screenshot("web-tasks-chromium-failure.png");
        panic!(
            "timed out waiting for {what}; the page:\n{}\nchromium's log:\n{}",
            self.page_text(),
            self.log_text()
        );
    }

    fn click(&self, selector: &str) {
        let sel = serde_json::to_string(selector).unwrap();
        self.eval(&format!("document.querySelector({sel}).click(); true"))
            .unwrap_or_else(|e| panic!("click {selector}: {e}\n{}", self.page_text()));
    }

    fn screenshot(&self, name: &str) -> Option<PathBuf> {
        let r = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .ok()?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str()?)
            .ok()?;
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join(name);
        std::fs::write(&path, png).ok()?;
        Some(path)
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.call_on(None, "Browser.close", json!({}));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A list "Long list" with `n` tasks at the stand-in, for its default user
/// (whom its consent screen signs in); returns the list's id.
async fn seed_long_list(standin: &gapi_standin::StandInHandle, n: usize) -> String {
    use gapi_tasks_v1::schemas::{Task, TaskList};
    let issued = standin.issue_token(&[gapi_tasks_v1::scopes::TASKS]);
    let client = gapi::Client::new(gapi::Credentials::access_token(issued.access_token)).unwrap();
    let tasks = gapi_tasks_v1::TasksService::new(client).with_root_url(standin.base_url());
    let list = tasks
        .tasklists()
        .insert(TaskList {
            title: Some("Long list".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let id = list.id.unwrap();
    // Inserted last first: each new task goes to the top.
    for i in (1..=n).rev() {
        tasks
            .tasks()
            .insert(
                &id,
                Task {
                    title: Some(format!("Long list task {i:02}")),
                    ..Default::default()
                },
            )
            .send()
            .await
            .unwrap();
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_consent_and_see_the_tasks_in_chromium() {
    let Some(binary) = find_chromium() else {
        if std::env::var(REQUIRE_VAR).as_deref() == Ok("1") {
            panic!("{REQUIRE_VAR}=1 but no chromium was found on PATH (apt-get install chromium)");
        }
        println!("skipped: chromium is not installed (set {REQUIRE_VAR}=1 to require it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = web_tasks::start(Config {
        encryption_key: Some(gapi_storage::EncryptionKey::generate()),
        ..Config::new(
            "127.0.0.1:0".parse().unwrap(),
            Google::StandIn,
            StorageChoice::Sqlite(dir.path().join("credentials.sqlite")),
        )
    })
    .await
    .unwrap();
    let url = app.url.clone();
    let standin = app.standin.as_ref().unwrap();
    let paged = seed_long_list(standin, 45).await;

    let shots = tokio::task::spawn_blocking(move || {
        let chrome = Chromium::launch(&binary);
        chrome.navigate(&url);
        chrome.wait_until("the home page", "document.querySelector('#sign-in')");

        // The app's own (toy) login.
        chrome.click("#sign-in");
        chrome.wait_until(
            "the login form",
            "location.pathname === '/login' && document.querySelector('input[name=user]')",
        );
        chrome
            .eval(
                "document.querySelector('input[name=user]').value = 'alice'; \
                 document.querySelector('#sign-in-button').click(); true",
            )
            .unwrap();
        chrome.wait_until(
            "the signed-in home page offering to connect Google",
            "location.pathname === '/' && document.querySelector('#connect') \
             && document.body.innerText.includes('Signed in as alice')",
        );

        // "Your tasks": consent at the stand-in, the callback, then the page.
        chrome.click("#tasks");
        chrome.wait_until(
            "the tasks page",
            "location.pathname === '/tasks' && document.body.innerText.includes('Coffee beans')",
        );
        chrome.wait_until("the last of the long list", "document.body.innerText.includes('Long list task 45')");
        let text = chrome.page_text();
        for want in ["Groceries", "Milk", "Bread", "Work", "Ship web-tasks", "45 tasks"] {
            assert!(text.contains(want), "{want} missing from:\n{text}");
        }
        let shown = chrome
            .eval(
                "[...document.querySelectorAll('h2')].find(h => h.innerText === 'Long list')\
                 .nextElementSibling.nextElementSibling.querySelectorAll('li').length",
            )
            .unwrap();
        assert_eq!(shown, json!(45), "every task of the long list is on the page");
        for i in 1..=45 {
            assert!(text.contains(&format!("Long list task {i:02}")), "task {i} missing");
        }
        let tasks_shot = chrome.screenshot("web-tasks-chromium.png");

        // Adding a task needs write access: one more (incremental) consent.
        chrome.click("#new-task");
        chrome.wait_until(
            "the new-task form",
            "location.pathname === '/tasks/new' && document.querySelector('input[name=title]')",
        );
        chrome
            .eval(
                "document.querySelector('input[name=title]').value = 'Written from Chromium'; \
                 document.querySelector('#add').click(); true",
            )
            .unwrap();
        chrome.wait_until(
            "the tasks page with the new task",
            "location.pathname === '/tasks' && document.body.innerText.includes('Written from Chromium')",
        );
        let final_shot = chrome.screenshot("web-tasks-chromium-added.png");

        // Back home: connected now.
        chrome.navigate(&url);
        chrome.wait_until("the connected home page", "document.querySelector('#disconnect')");
        (tasks_shot, final_shot)
    })
    .await
    .unwrap();

    let stats = standin.stats();
    // The long list came in pages: 20 + 20 + 5, each asked for once.
    let pages = standin
        .requests()
        .iter()
        .filter(|r| r.method_id.as_deref() == Some("tasks.tasks.list") && r.path.contains(&paged))
        .count();
    assert!(pages >= 3, "the 45 tasks were read in {pages} request(s)");
    // Only the browser talks to the authorization endpoint: two consents
    // there (read, then write), two codes exchanged by the app.
    assert_eq!(stats.authorizations, 2, "{stats:?}");
    assert_eq!(stats.token_requests_for("authorization_code"), 2);
    let source = app
        .oauth
        .token_source("alice")
        .await
        .unwrap()
        .expect("stored");
    let granted = source.current();
    assert!(granted.has_scopes(&[
        gapi_tasks_v1::scopes::TASKS,
        gapi_tasks_v1::scopes::TASKS_READONLY
    ]));
    if let Some(p) = &shots.0 {
        println!("screenshot: {}", p.display());
    }
    if let Some(p) = &shots.1 {
        println!("screenshot: {}", p.display());
    }
    app.stop().await;
}
