//! The installed-app loopback flow: a one-shot HTTP server on
//! `127.0.0.1:<ephemeral port>` receives the redirect.

use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::web::check_callback;
use super::{AuthorizeOptions, CallbackParams, OAuthClient, PendingAuthorization, WebServerFlow};
use crate::auth::UserCredentials;
use crate::{Error, ErrorKind};

/// The default time to wait for the user to finish in the browser.
pub const DEFAULT_LOOPBACK_TIMEOUT: Duration = Duration::from_secs(5 * 60);

const MAX_REQUEST_HEAD: usize = 16 * 1024;
const CONNECTION_READ_TIMEOUT: Duration = Duration::from_secs(10);

type UrlCallback = Arc<dyn Fn(&str) + Send + Sync>;

/// The installed-app ("desktop") flow over a loopback redirect, with PKCE S256
/// and a verified `state` (RFC 8252). There is no out-of-band mode.
///
/// [`run`](Self::run) binds `127.0.0.1:0`, builds the redirect URI
/// `http://127.0.0.1:PORT/`, hands the authorization URL to the URL callback
/// (default: print it on stderr) and, unless disabled, opens the browser
/// (`xdg-open`, `open`, or `rundll32 url.dll,FileProtocolHandler` on Windows;
/// a failure to open is logged, not fatal). It then serves the one callback
/// whose `state` matches (other requests get 400/404 and are otherwise
/// ignored), exchanges the code, and answers with a small "you may close this
/// window" page. It gives up after the timeout (default 5 minutes).
#[derive(Clone)]
pub struct InstalledAppFlow {
    client: OAuthClient,
    options: AuthorizeOptions,
    timeout: Duration,
    open_browser: bool,
    port: u16,
    on_url: Option<UrlCallback>,
}

impl InstalledAppFlow {
    /// The flow of `client`.
    pub fn new(client: OAuthClient) -> Self {
        InstalledAppFlow {
            client,
            options: AuthorizeOptions::default(),
            timeout: DEFAULT_LOOPBACK_TIMEOUT,
            open_browser: true,
            port: 0,
            on_url: None,
        }
    }

    /// Options of the authorization request (`login_hint`, `prompt`, ...).
    pub fn with_options(mut self, options: AuthorizeOptions) -> Self {
        self.options = options;
        self
    }

    /// How long to wait for the callback (default 5 minutes).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether to open the browser (default true). `false` is the
    /// `--no-browser` case: the URL only goes to the URL callback.
    pub fn open_browser(mut self, open: bool) -> Self {
        self.open_browser = open;
        self
    }

    /// A fixed loopback port instead of an ephemeral one.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Called with the authorization URL (instead of printing it on stderr).
    pub fn on_url(mut self, callback: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_url = Some(Arc::new(callback));
        self
    }

    /// Runs the flow to the end.
    pub async fn run(&self) -> crate::Result<UserCredentials> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port))
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    "could not listen on 127.0.0.1 for the redirect",
                )
                .with_source(e)
            })?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Io, "no local address").with_source(e))?
            .port();
        let web = WebServerFlow::new(self.client.clone(), format!("http://127.0.0.1:{port}/"));
        let pending = web.authorize_url(&self.options)?;
        match &self.on_url {
            Some(f) => f(pending.url()),
            None => eprintln!(
                "Open this URL in your browser to authorize the application:\n\n    {}\n",
                pending.url()
            ),
        }
        if self.open_browser
            && let Err(e) = open_in_browser(pending.url())
        {
            tracing::warn!(error = %e, "could not open a browser; open the URL by hand");
        }
        tracing::info!(port, "waiting for the authorization callback");
        let deadline = self.client.clock().sleep(self.timeout);
        let (stream, params) = tokio::select! {
            r = accept_callback(&listener, &pending) => r?,
            () = deadline => {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("no authorization callback within {:?}", self.timeout),
                ));
            }
        };
        drop(listener);
        let result = match check_callback(&pending, &params) {
            Ok(code) => web.exchange_verified(&pending, code).await,
            Err(e) => Err(e),
        };
        let page = match &result {
            Ok(_) => (200, SUCCESS_PAGE),
            Err(_) => (400, FAILURE_PAGE),
        };
        respond(stream, page.0, page.1).await;
        result
    }
}

impl fmt::Debug for InstalledAppFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstalledAppFlow")
            .field("client", &self.client)
            .field("options", &self.options)
            .field("timeout", &self.timeout)
            .field("open_browser", &self.open_browser)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

const SUCCESS_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Signed in</title></head>\
<body style=\"font-family:sans-serif\"><h1>Signed in</h1>\
<p>The application has received your authorization. You may close this window.</p></body></html>";

const FAILURE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>\
<body style=\"font-family:sans-serif\"><h1>Sign-in failed</h1>\
<p>Return to the application for details. You may close this window.</p></body></html>";

const STRAY_PAGE: &str = "<!doctype html><html><body>This request does not belong to the sign-in in progress.</body></html>";

/// Accepts connections until one carries a callback with the right `state`.
async fn accept_callback(
    listener: &TcpListener,
    pending: &PendingAuthorization,
) -> crate::Result<(TcpStream, CallbackParams)> {
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| {
            Error::new(ErrorKind::Io, "the redirect listener failed").with_source(e)
        })?;
        if let Some(found) = read_callback(stream, pending).await {
            return Ok(found);
        }
    }
}

/// Reads one request. Returns it when it is `GET /?...` with the expected
/// state; answers and drops anything else.
async fn read_callback(
    mut stream: TcpStream,
    pending: &PendingAuthorization,
) -> Option<(TcpStream, CallbackParams)> {
    let head = match tokio::time::timeout(CONNECTION_READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Some(h)) => h,
        _ => return None,
    };
    let line = head.lines().next().unwrap_or("");
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        respond(stream, 405, STRAY_PAGE).await;
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/" {
        respond(stream, 404, STRAY_PAGE).await;
        return None;
    }
    let params = CallbackParams::from_query(query);
    let state_ok = params
        .state
        .as_deref()
        .is_some_and(|s| pending.state().matches(s));
    if !state_ok {
        tracing::warn!("ignored a loopback request without the expected state");
        respond(stream, 400, STRAY_PAGE).await;
        return None;
    }
    Some((stream, params))
}

async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return String::from_utf8(buf).ok();
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return None;
        }
    }
}

async fn respond(mut stream: TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(msg.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Opens `url` in the default browser without waiting for it.
fn open_in_browser(url: &str) -> std::io::Result<()> {
    use std::process::{Command, Stdio};
    #[cfg(target_os = "macos")]
    let mut cmd = {
        let mut c = Command::new("open");
        c.arg(url);
        c
    };
    #[cfg(windows)]
    let mut cmd = {
        let mut c = Command::new("rundll32");
        c.args(["url.dll,FileProtocolHandler", url]);
        c
    };
    #[cfg(all(not(target_os = "macos"), not(windows)))]
    let mut cmd = {
        let mut c = Command::new("xdg-open");
        c.arg(url);
        c
    };
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}
