//! `web-tasks`: the example web app. See the library docs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use gapi_storage::EncryptionKey;
use web_tasks::{Config, Google, SessionKey, StorageChoice};

/// An example web app: sign in, connect Google Tasks, see your tasks.
#[derive(Parser, Debug)]
#[command(name = "web-tasks")]
struct Args {
    /// Run against a local stand-in of Google started in-process (with a few
    /// tasks), instead of Google.
    #[arg(
        long,
        conflicts_with = "client_secret",
        required_unless_present = "client_secret"
    )]
    standin: bool,

    /// The `client_secret.json` of a Google OAuth "web application" client
    /// whose authorized redirect URIs include this app's callback.
    #[arg(long, value_name = "FILE")]
    client_secret: Option<PathBuf>,

    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,

    /// The redirect URI registered for the client (default
    /// http://<addr>/oauth2callback; Google accepts http only for localhost).
    #[arg(long)]
    redirect_uri: Option<String>,

    /// Where credentials and sign-ins in progress are stored: `sqlite:PATH`
    /// (or a path), `postgres://…`, `redis://…` (default:
    /// `web-tasks.sqlite`; with `--standin`, a new file in the temporary
    /// directory, since a new stand-in does not know the grants of an old
    /// one). Processes serving one site share it.
    #[arg(long)]
    storage: Option<StorageChoice>,

    /// The table (SQLite, PostgreSQL) or key prefix (Redis) in the storage
    /// (default `web_tasks_credentials` / `web-tasks`).
    #[arg(long, value_name = "NAME")]
    storage_namespace: Option<String>,

    /// The Tasks API's root URL (default: the stand-in's, or Google's).
    #[arg(long, value_name = "URL")]
    root_url: Option<String>,

    /// The base64 32-byte key that signs the login's session cookies (or
    /// set WEB_TASKS_SESSION_KEY); processes serving one site share it.
    /// Default: a random key, so sessions end with the process.
    #[arg(long)]
    session_key: Option<String>,

    /// Also ask for `openid email` and show the Google account verified
    /// from the ID token (Google, or a provider that issues ID tokens).
    #[arg(long)]
    openid: bool,

    /// Testing only: this process's clock runs SECS seconds ahead.
    #[arg(long, hide = true, default_value_t = 0, value_name = "SECS")]
    clock_skew_secs: u64,

    /// Encrypt stored credentials with this base64 32-byte key (or set
    /// WEB_TASKS_ENCRYPTION_KEY).
    #[arg(long)]
    encryption_key: Option<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let key_text = args
        .encryption_key
        .or_else(|| std::env::var("WEB_TASKS_ENCRYPTION_KEY").ok());
    let encryption_key = match key_text.as_deref().map(EncryptionKey::from_base64) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => {
            eprintln!("web-tasks: {e}");
            std::process::exit(2);
        }
    };
    let session_text = args
        .session_key
        .or_else(|| std::env::var("WEB_TASKS_SESSION_KEY").ok());
    let session_key = match session_text.as_deref().map(SessionKey::from_base64) {
        None => None,
        Some(Ok(k)) => Some(k),
        Some(Err(e)) => {
            eprintln!("web-tasks: {e}");
            std::process::exit(2);
        }
    };
    let (google, default_db) = match args.client_secret {
        Some(path) => (
            Google::ClientSecret(path),
            PathBuf::from("web-tasks.sqlite"),
        ),
        None => (
            Google::StandIn,
            std::env::temp_dir().join(format!("web-tasks-standin-{}.sqlite", std::process::id())),
        ),
    };
    let storage = args.storage.unwrap_or(StorageChoice::Sqlite(default_db));
    if let StorageChoice::Sqlite(path) = &storage {
        println!("web-tasks: credentials in {}", path.display());
    }
    let config = Config {
        encryption_key,
        redirect_uri: args.redirect_uri,
        root_url: args.root_url,
        storage_namespace: args.storage_namespace,
        session_key,
        openid: args.openid,
        clock_skew: Duration::from_secs(args.clock_skew_secs),
        ..Config::new(args.addr, google, storage)
    };
    let running = match web_tasks::start(config).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("web-tasks: {e}");
            std::process::exit(1);
        }
    };
    if let Some(s) = &running.standin {
        println!("web-tasks: Google stand-in at {}", s.base_url());
    }
    println!("web-tasks: open {}", running.url);
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = running.wait() => {}
    }
}
