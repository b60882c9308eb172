//! Configuration of a stand-in: the builder's options and the registered OAuth clients.

use std::net::SocketAddr;
use std::time::Duration;

/// The client id of the OAuth client every stand-in registers unless told not to.
pub const DEFAULT_CLIENT_ID: &str = "standin-client";
/// The client secret of the default OAuth client.
pub const DEFAULT_CLIENT_SECRET: &str = "standin-secret";
/// The user the stand-in signs in whenever an authorization asks for none in particular.
pub const DEFAULT_USER: &str = "test-user@example.com";

/// The scope that allows reading and writing tasks.
pub const TASKS_SCOPE: &str = "https://www.googleapis.com/auth/tasks";
/// The scope that allows reading tasks only.
pub const TASKS_READONLY_SCOPE: &str = "https://www.googleapis.com/auth/tasks.readonly";

/// Which of Google's two `client_secret.json` shapes to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// `{"installed": {...}}`: a desktop or command-line application.
    Installed,
    /// `{"web": {...}}`: a web server application.
    Web,
}

/// An OAuth client the stand-in knows: its id, its secret and where it may be redirected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredClient {
    /// The `client_id`.
    pub client_id: String,
    /// The `client_secret`; `None` makes a public client that authenticates with its id alone.
    pub client_secret: Option<String>,
    /// Redirect URIs accepted exactly as written.
    pub redirect_uris: Vec<String>,
    /// Whether any `http://127.0.0.1:*`, `http://localhost:*` or `http://[::1]:*` URI
    /// (any port, any path) is accepted as a redirect URI, as Google does for installed apps.
    pub allow_loopback_redirects: bool,
}

impl RegisteredClient {
    /// A confidential client with a secret that accepts loopback redirect URIs.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        RegisteredClient {
            client_id: client_id.into(),
            client_secret: Some(client_secret.into()),
            redirect_uris: Vec::new(),
            allow_loopback_redirects: true,
        }
    }

    /// A public client (no secret) that accepts loopback redirect URIs.
    pub fn public(client_id: impl Into<String>) -> Self {
        RegisteredClient {
            client_id: client_id.into(),
            client_secret: None,
            redirect_uris: Vec::new(),
            allow_loopback_redirects: true,
        }
    }

    /// Registers one more exact redirect URI.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Sets whether loopback redirect URIs are accepted.
    pub fn allow_loopback_redirects(mut self, allow: bool) -> Self {
        self.allow_loopback_redirects = allow;
        self
    }

    /// Whether `uri` is an acceptable redirect URI for this client.
    pub fn accepts_redirect(&self, uri: &str) -> bool {
        if self.redirect_uris.iter().any(|r| r == uri) {
            return true;
        }
        self.allow_loopback_redirects && is_loopback_uri(uri)
    }
}

/// Whether `uri` is an `http` URI on a loopback host, without a fragment.
fn is_loopback_uri(uri: &str) -> bool {
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if url.scheme() != "http" || url.fragment().is_some() {
        return false;
    }
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    matches!(
        url.host(),
        Some(url::Host::Domain("localhost"))
            | Some(url::Host::Ipv4(std::net::Ipv4Addr::LOCALHOST))
            | Some(url::Host::Ipv6(std::net::Ipv6Addr::LOCALHOST))
    )
}

/// Everything that decides how a stand-in behaves; made by [`StandInBuilder`].
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub addr: SocketAddr,
    pub access_token_lifetime: Duration,
    pub rotate_refresh_tokens: bool,
    pub max_page_size: Option<u32>,
    pub clients: Vec<RegisteredClient>,
    pub user: String,
    pub device_poll_interval: Duration,
    pub device_code_lifetime: Duration,
    pub auth_code_lifetime: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            access_token_lifetime: Duration::from_secs(3600),
            rotate_refresh_tokens: false,
            max_page_size: None,
            clients: vec![RegisteredClient::new(
                DEFAULT_CLIENT_ID,
                DEFAULT_CLIENT_SECRET,
            )],
            user: DEFAULT_USER.to_string(),
            device_poll_interval: Duration::from_secs(5),
            device_code_lifetime: Duration::from_secs(1800),
            auth_code_lifetime: Duration::from_secs(600),
        }
    }
}

impl Config {
    /// The client with this id, if registered.
    pub fn client(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }
}

/// Sets up a stand-in before it starts; made by [`crate::StandIn::builder`].
#[derive(Debug, Clone, Default)]
pub struct StandInBuilder {
    pub(crate) config: Config,
}

impl StandInBuilder {
    /// The address to bind; default `127.0.0.1:0` (any free port).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.config.addr = addr;
        self
    }

    /// How long access tokens live; default one hour. Zero makes every token expire at once.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.access_token_lifetime = lifetime;
        self
    }

    /// Whether a refresh grant replaces the refresh token with a new one (the old one
    /// stops working); default no, as at Google.
    pub fn rotate_refresh_tokens(mut self, rotate: bool) -> Self {
        self.config.rotate_refresh_tokens = rotate;
        self
    }

    /// The most items one page of a list may hold, below the API's own caps (100 tasks,
    /// 1000 task lists) and applied to the defaults too: a small cap makes paging easy to test.
    pub fn max_page_size(mut self, cap: u32) -> Self {
        self.config.max_page_size = Some(cap.max(1));
        self
    }

    /// Registers an extra exact redirect URI on the default client (`standin-client`).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        let uri = uri.into();
        if let Some(client) = self
            .config
            .clients
            .iter_mut()
            .find(|c| c.client_id == DEFAULT_CLIENT_ID)
        {
            client.redirect_uris.push(uri);
        }
        self
    }

    /// Registers another OAuth client (replacing any with the same id).
    pub fn client(mut self, client: RegisteredClient) -> Self {
        self.config
            .clients
            .retain(|c| c.client_id != client.client_id);
        self.config.clients.push(client);
        self
    }

    /// Removes the default client, leaving only those added with [`Self::client`].
    pub fn without_default_client(mut self) -> Self {
        self.config
            .clients
            .retain(|c| c.client_id != DEFAULT_CLIENT_ID);
        self
    }

    /// The user signed in by authorizations that give no `login_hint`, and by device
    /// approvals; default `test-user@example.com`.
    pub fn user(mut self, email: impl Into<String>) -> Self {
        self.config.user = email.into();
        self
    }

    /// The polling interval the device flow asks for; default 5 s. Polls arriving much
    /// sooner than this after the previous one get `slow_down`; zero turns that off.
    pub fn device_poll_interval(mut self, interval: Duration) -> Self {
        self.config.device_poll_interval = interval;
        self
    }

    /// How long a device code stays usable; default 30 minutes.
    pub fn device_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.device_code_lifetime = lifetime;
        self
    }

    /// How long an authorization code stays exchangeable; default 10 minutes.
    pub fn auth_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.auth_code_lifetime = lifetime;
        self
    }

    /// Finishes the setup without starting anything.
    pub fn build(self) -> crate::StandIn {
        crate::StandIn {
            config: self.config,
        }
    }

    /// Binds the address and serves in a tokio task; see [`crate::StandIn::start`].
    pub async fn start(self) -> std::io::Result<crate::StandInHandle> {
        self.build().start().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_any_port_and_path() {
        let c = RegisteredClient::new("a", "b");
        assert!(c.accepts_redirect("http://127.0.0.1:8080/callback"));
        assert!(c.accepts_redirect("http://localhost:1/"));
        assert!(c.accepts_redirect("http://localhost"));
        assert!(c.accepts_redirect("http://[::1]:9/x?y=1"));
        assert!(!c.accepts_redirect("https://127.0.0.1:8080/"));
        assert!(!c.accepts_redirect("http://127.0.0.2:8080/"));
        assert!(!c.accepts_redirect("http://example.com/"));
        assert!(!c.accepts_redirect("http://localhost/#frag"));
        assert!(!c.accepts_redirect("not a uri"));
    }

    #[test]
    fn exact_redirects() {
        let c = RegisteredClient::new("a", "b")
            .allow_loopback_redirects(false)
            .redirect_uri("https://app.example/cb");
        assert!(c.accepts_redirect("https://app.example/cb"));
        assert!(!c.accepts_redirect("https://app.example/cb2"));
        assert!(!c.accepts_redirect("http://127.0.0.1:8080/"));
    }

    #[test]
    fn builder_edits_clients() {
        let b = StandInBuilder::default()
            .redirect_uri("https://x.example/cb")
            .client(RegisteredClient::public("pub"));
        assert_eq!(b.config.clients.len(), 2);
        assert_eq!(
            b.config.client(DEFAULT_CLIENT_ID).unwrap().redirect_uris,
            vec!["https://x.example/cb".to_string()]
        );
        let b = b.without_default_client();
        assert!(b.config.client(DEFAULT_CLIENT_ID).is_none());
        assert!(b.config.client("pub").is_some());
    }
}
