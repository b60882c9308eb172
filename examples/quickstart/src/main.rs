//! Google Tasks from the command line, for real use.
//!
//! ```text
//! gapi-quickstart --client-secret client_secret.json list
//! gapi-quickstart --client-secret client_secret.json create-list "Groceries"
//! gapi-quickstart --client-secret client_secret.json add --list LIST_ID "Buy milk"
//! gapi-quickstart --client-secret client_secret.json complete --list LIST_ID TASK_ID
//! gapi-quickstart --client-secret client_secret.json logout
//! ```
//!
//! The first run authorizes with the installed-app flow (a browser opens;
//! `--no-browser` prints the URL instead; `--device` uses the device flow,
//! showing the link with the code filled in when the server gives one) and
//! stores the credentials under the user's config folder
//! (`$XDG_CONFIG_HOME/gapi-quickstart/credentials.json`, by default
//! `~/.config/...`). Later runs reuse them and refresh them as needed, writing
//! refreshed tokens back. The OAuth endpoints come from `client_secret.json`
//! (`auth_uri`, `token_uri`); `--root-url` points the API elsewhere (a local
//! stand-in, a proxy).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gapi::StreamExt as _;
use gapi::auth::{
    ClientSecrets, DeviceFlow, FileStorage, InstalledAppFlow, OAuthClient, Storage as _,
    UserTokenSource,
};
use gapi_tasks_v1::{TasksService, schemas, scopes};

#[derive(Parser, Debug)]
#[command(version, about = "Google Tasks from the command line, with gapi")]
struct Args {
    /// Google's client_secret.json (an OAuth client of type "Desktop app").
    #[arg(long, value_name = "FILE")]
    client_secret: PathBuf,
    /// Use the device flow (enter a code on another device) instead of a browser.
    #[arg(long)]
    device: bool,
    /// Print the authorization URL instead of opening a browser.
    #[arg(long)]
    no_browser: bool,
    /// The API's root URL (default: Google's).
    #[arg(long, value_name = "URL")]
    root_url: Option<String>,
    /// Where to keep the credentials (default: under the user's config folder).
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// The device authorization endpoint (client_secret.json does not name
    /// one; default: Google's).
    #[arg(long, value_name = "URL")]
    device_uri: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every task list and its tasks (all pages).
    List,
    /// Create a task list.
    CreateList {
        /// The list's title.
        title: String,
    },
    /// Add a task to a list.
    Add {
        /// The task list id (see `list`).
        #[arg(long)]
        list: String,
        /// The task's title.
        title: String,
    },
    /// Mark a task completed.
    Complete {
        /// The task list id.
        #[arg(long)]
        list: String,
        /// The task id.
        task: String,
    },
    /// Revoke the stored grant and delete the credentials.
    Logout,
}

fn default_credentials_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("APPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("gapi-quickstart").join("credentials.json")
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), BoxError> {
    let secrets = ClientSecrets::from_file(&args.client_secret)?;
    let path = args
        .credentials
        .clone()
        .unwrap_or_else(default_credentials_path);
    // FileStorage creates the directory itself, mode 0700.
    let storage = FileStorage::new(&path);
    let source = match UserTokenSource::from_storage(storage.clone()).await? {
        Some(builder) if !builder_is_invalid(&storage).await => {
            eprintln!("using stored credentials from {}", path.display());
            builder.build()
        }
        _ => {
            let credentials = authorize(&args, &secrets).await?;
            storage.put(&credentials).await?;
            eprintln!("stored credentials in {}", path.display());
            UserTokenSource::builder(credentials)
                .with_storage(storage)
                .build()
        }
    };
    let mut tasks = TasksService::new(gapi::Client::new(source.credentials())?);
    if let Some(root) = &args.root_url {
        tasks = tasks.with_root_url(root.as_str());
    }
    match args.command {
        Command::List => list(&tasks).await,
        Command::CreateList { title } => {
            let l = tasks
                .tasklists()
                .insert(schemas::TaskList {
                    title: Some(title),
                    ..Default::default()
                })
                .send()
                .await?;
            println!(
                "created {} {}",
                l.id.unwrap_or_default(),
                l.title.unwrap_or_default()
            );
            Ok(())
        }
        Command::Add { list, title } => {
            let t = tasks
                .tasks()
                .insert(
                    &list,
                    schemas::Task {
                        title: Some(title),
                        ..Default::default()
                    },
                )
                .send()
                .await?;
            println!(
                "added {} {}",
                t.id.unwrap_or_default(),
                t.title.unwrap_or_default()
            );
            Ok(())
        }
        Command::Complete { list, task } => {
            let t = tasks
                .tasks()
                .patch(
                    &list,
                    &task,
                    schemas::Task {
                        status: Some("completed".into()),
                        ..Default::default()
                    },
                )
                .send()
                .await?;
            println!(
                "completed {} {}",
                t.id.unwrap_or_default(),
                t.title.unwrap_or_default()
            );
            Ok(())
        }
        Command::Logout => {
            source.revoke().await?;
            println!("revoked; credentials deleted");
            Ok(())
        }
    }
}

async fn builder_is_invalid(storage: &FileStorage) -> bool {
    matches!(storage.get().await, Ok(Some(c)) if c.is_invalid())
}

async fn authorize(
    args: &Args,
    secrets: &ClientSecrets,
) -> Result<gapi::auth::UserCredentials, BoxError> {
    let mut client = OAuthClient::from_client_secrets(secrets).with_scopes([scopes::TASKS]);
    if let Some(uri) = &args.device_uri {
        client = client.with_device_uri(uri.as_str());
    }
    if args.device {
        let flow = DeviceFlow::new(client);
        let auth = flow.request_code().await?;
        print!("{}", device_prompt(&auth));
        return Ok(flow.poll(&auth).await?);
    }
    let mut flow = InstalledAppFlow::new(client);
    if args.no_browser {
        flow = flow.open_browser(false).on_url(|url| {
            println!("Open this URL in a browser to sign in:\n{url}");
        });
    }
    Ok(flow.run().await?)
}

/// What the user is asked to do: open the link with the code filled in
/// (`verification_uri_complete`) when the server gives one, else visit the
/// verification URL and type the code.
fn device_prompt(auth: &gapi::auth::DeviceAuthorization) -> String {
    match auth.verification_url_complete() {
        Some(complete) => format!(
            "To sign in, open {complete}\n(or visit {} and enter the code {})\n",
            auth.verification_url(),
            auth.user_code()
        ),
        None => format!(
            "To sign in, visit {} and enter the code {}\n",
            auth.verification_url(),
            auth.user_code()
        ),
    }
}

async fn list(tasks: &TasksService) -> Result<(), BoxError> {
    let mut lists = tasks.tasklists().list().items();
    while let Some(list) = lists.next().await {
        let list = list?;
        let id = list.id.clone().unwrap_or_default();
        println!("{} ({id})", list.title.as_deref().unwrap_or(""));
        let mut items = tasks
            .tasks()
            .list(&id)
            .show_completed(true)
            .show_hidden(true)
            .items();
        while let Some(t) = items.next().await {
            let t = t?;
            let mark = if t.status.as_deref() == Some("completed") {
                "x"
            } else {
                " "
            };
            println!(
                "  [{mark}] {} ({})",
                t.title.as_deref().unwrap_or(""),
                t.id.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}
