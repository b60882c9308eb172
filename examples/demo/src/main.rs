//! The main job: the whole gapi story on this machine, with nothing but the
//! Rust toolchain.
//!
//! 1. starts the local Google stand-in (OAuth 2.0 server + Tasks v1 API);
//! 2. runs the installed-app flow (PKCE, `state`, loopback redirect) with a
//!    scripted "browser" that follows the consent redirect;
//! 3. stores the credentials in a file (0600, atomic);
//! 4. with the generated Tasks client: creates a task list and tasks, lists
//!    them page by page, completes one;
//! 5. expires the access token at the server: the next call gets 401, the
//!    runtime refreshes once, retries, and writes the new token back;
//! 6. a "later run" loads the stored credentials and works without a flow;
//! 7. revokes the grant: the API refuses, and the error says to re-consent.
//!
//! Run it: `cargo run -p gapi-demo`. Pass `--keep` to leave the credentials
//! file in place and print its path.

use std::time::Duration;

use gapi::StreamExt as _;
use gapi::auth::{
    ClientSecrets, FileStorage, InstalledAppFlow, OAuthClient, Storage as _, UserTokenSource,
};
use gapi_standin::StandIn;
use gapi_tasks_v1::{TasksService, schemas, scopes};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let keep = std::env::args().any(|a| a == "--keep");
    println!("gapi demo: OAuth 2.0 flow, stored credentials and the generated Tasks client");
    println!("against a local Google stand-in (nothing leaves this machine).");

    step(1, "start the local Google stand-in");
    let standin = StandIn::builder()
        .access_token_lifetime(Duration::from_secs(3600))
        .start()
        .await?;
    println!("    listening on {}", standin.base_url());

    step(
        2,
        "read client_secret.json (as downloaded from Google Cloud console)",
    );
    let dir = tempfile::tempdir()?;
    let secrets_path = dir.path().join("client_secret.json");
    std::fs::write(
        &secrets_path,
        standin.client_secret_json(gapi_standin::ClientKind::Installed),
    )?;
    let secrets = ClientSecrets::from_file(&secrets_path)?;
    println!(
        "    client id {}, token endpoint {}",
        secrets.client_id(),
        secrets.token_uri()
    );

    step(
        3,
        "run the installed-app flow (loopback redirect, PKCE S256, state)",
    );
    // Endpoints come from the file (the stand-in's also names `revoke_uri`).
    let client = OAuthClient::from_client_secrets(&secrets).with_scopes([scopes::TASKS]);
    let flow = InstalledAppFlow::new(client)
        .open_browser(false)
        .on_url(|url| {
            println!("    authorization URL: {}…", &url[..url.len().min(90)]);
            println!("    (a scripted browser signs in as the test user and consents)");
            let url = url.to_owned();
            tokio::spawn(async move {
                if let Err(e) = browser_visit(&url).await {
                    eprintln!("    browser: {e}");
                }
            });
        });
    let credentials = flow.run().await?;
    println!(
        "    got credentials for scopes {:?}; refresh token: {}",
        credentials.scopes(),
        if credentials.refresh_token().is_some() {
            "yes"
        } else {
            "no"
        }
    );
    println!(
        "    Debug never shows a secret: {:?}",
        credentials.access_token()
    );

    step(4, "store the credentials in a file");
    let cred_dir = if keep {
        std::env::temp_dir().join("gapi-demo")
    } else {
        dir.path().join("config")
    };
    // FileStorage creates the directory itself, mode 0700.
    let path = cred_dir.join("credentials.json");
    let storage = FileStorage::new(&path);
    storage.put(&credentials).await?;
    println!(
        "    wrote {} (mode {:o}, directory {:o})",
        path.display(),
        file_mode(&path),
        file_mode(&cred_dir)
    );

    let source = UserTokenSource::builder(credentials)
        .with_storage(storage.clone())
        .build();
    let tasks = TasksService::new(gapi::Client::new(source.credentials())?)
        .with_root_url(standin.base_url());

    step(
        5,
        "create a task list and five tasks with the generated client",
    );
    let list = tasks
        .tasklists()
        .insert(schemas::TaskList {
            title: Some("gapi demo".into()),
            ..Default::default()
        })
        .send()
        .await?;
    let list_id = list.id.clone().ok_or("the new task list has no id")?;
    println!(
        "    created task list {:?} ({list_id})",
        list.title.as_deref().unwrap_or("")
    );
    let mut first_task = None;
    for title in [
        "Write the generator",
        "Write the runtime",
        "Run the flow",
        "Store the token",
        "Ship it",
    ] {
        let t = tasks
            .tasks()
            .insert(
                &list_id,
                schemas::Task {
                    title: Some(title.into()),
                    ..Default::default()
                },
            )
            .send()
            .await?;
        println!("    created task {title:?}");
        first_task.get_or_insert(t.id.clone().ok_or("task without id")?);
    }

    step(6, "list the tasks, two per page");
    let mut pages = tasks.tasks().list(&list_id).max_results(2).pages();
    let mut n = 0;
    while let Some(page) = pages.next().await {
        let page = page?;
        n += 1;
        let titles: Vec<&str> = page
            .items
            .iter()
            .flatten()
            .map(|t| t.title.as_deref().unwrap_or(""))
            .collect();
        println!("    page {n}: {titles:?}");
    }

    step(7, "complete one task (PATCH status=completed)");
    let task_id = first_task.ok_or("no task")?;
    let done = tasks
        .tasks()
        .patch(
            &list_id,
            &task_id,
            schemas::Task {
                status: Some("completed".into()),
                ..Default::default()
            },
        )
        .send()
        .await?;
    println!(
        "    {:?} is now {}",
        done.title.as_deref().unwrap_or(""),
        done.status.as_deref().unwrap_or("?")
    );

    step(
        8,
        "the access token expires: 401 → one refresh → retry → stored",
    );
    let before = source.current();
    standin.expire_all_tokens();
    let refreshes_before = standin.stats().refreshes;
    let all: Vec<schemas::Task> = tasks
        .tasks()
        .list(&list_id)
        .show_completed(true)
        .fields("items(id,title,status),nextPageToken")
        .items()
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let stored = storage
        .get()
        .await?
        .ok_or("credentials vanished from storage")?;
    println!(
        "    listed {} tasks; token requests for refresh: {}; stored token changed: {}",
        all.len(),
        standin.stats().refreshes - refreshes_before,
        stored.access_token() != before.access_token()
    );
    for t in &all {
        println!(
            "      [{}] {}",
            if t.status.as_deref() == Some("completed") {
                "x"
            } else {
                " "
            },
            t.title.as_deref().unwrap_or("")
        );
    }

    step(
        9,
        "a later run: load the stored credentials, no flow needed",
    );
    let later = UserTokenSource::from_storage(FileStorage::new(&path))
        .await?
        .ok_or("no stored credentials")?
        .build();
    let tasks2 = TasksService::new(gapi::Client::new(later.credentials())?)
        .with_root_url(standin.base_url());
    let lists = tasks2.tasklists().list().send().await?;
    println!(
        "    task lists: {:?}",
        lists
            .items
            .iter()
            .flatten()
            .filter_map(|l| l.title.as_deref())
            .collect::<Vec<_>>()
    );

    step(
        10,
        "revoke the grant: the API now refuses and says to consent again",
    );
    later.revoke().await?;
    match tasks2.tasklists().list().send().await {
        Ok(_) => return Err("the API accepted a revoked token".into()),
        Err(e) => println!(
            "    {} (needs re-authorization: {})",
            e,
            e.needs_reauthorization() || e.status() == Some(401)
        ),
    }
    println!("    stored credentials deleted: {}", !path.exists());

    if keep {
        println!("\ncredentials file kept at {}", path.display());
    }
    println!("\ndone.");
    standin.shutdown().await;
    Ok(())
}

/// A scripted browser: follows the authorization redirect to the loopback
/// server, as a user's browser would after consent.
async fn browser_visit(url: &str) -> Result<(), BoxError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()?;
    let resp = http.get(url).send().await?;
    if !resp.status().is_success() {
        return Err(format!("consent page answered {}", resp.status()).into());
    }
    Ok(())
}

#[cfg(unix)]
fn file_mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

#[cfg(not(unix))]
fn file_mode(_: &std::path::Path) -> u32 {
    0
}
