//! `gapi-standin`: runs the stand-in until killed and prints
//! `listening on http://127.0.0.1:PORT/` once it accepts connections.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use gapi_standin::StandIn;

/// A local stand-in for Google's OAuth 2.0 server and the Tasks v1 API.
#[derive(Debug, Parser)]
#[command(name = "gapi-standin", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_lifetime: u64,
    /// Replace the refresh token on every refresh.
    #[arg(long)]
    rotate_refresh_tokens: bool,
    /// Cap on the number of items in one page of a list.
    #[arg(long)]
    max_page_size: Option<u32>,
    /// Device flow polling interval in seconds.
    #[arg(long, default_value_t = 5)]
    device_interval: u64,
    /// Extra redirect URI for the default client (repeatable).
    #[arg(long)]
    redirect_uri: Vec<String>,
    /// The user authorizations sign in.
    #[arg(long)]
    user: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = StandIn::builder()
        .addr(args.addr)
        .access_token_lifetime(Duration::from_secs(args.token_lifetime))
        .rotate_refresh_tokens(args.rotate_refresh_tokens)
        .device_poll_interval(Duration::from_secs(args.device_interval));
    if let Some(cap) = args.max_page_size {
        builder = builder.max_page_size(cap);
    }
    for uri in args.redirect_uri {
        builder = builder.redirect_uri(uri);
    }
    if let Some(user) = args.user {
        builder = builder.user(user);
    }
    let handle = match builder.start().await {
        Ok(handle) => handle,
        Err(e) => {
            eprintln!("gapi-standin: cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", handle.base_url());
    let _ = std::io::stdout().flush();
    eprintln!(
        "client_id {} client_secret {} user {}",
        handle.client_id(),
        handle.client_secret().unwrap_or(""),
        handle.user()
    );
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
