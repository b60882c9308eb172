//! The reqwest client behind every request, built with rustls (ring) and gzip.
//!
//! Crate-private: no reqwest type is part of the public API, so a transport
//! upgrade never breaks users.

use std::time::Duration;

/// Settings of the HTTP transport.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub user_agent: String,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Duration::from_secs(10),
            pool_idle_timeout: Duration::from_secs(90),
            user_agent: crate::USER_AGENT.to_owned(),
        }
    }
}

/// Installs ring as the process-wide rustls provider when none is installed.
pub(crate) fn ensure_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds a reqwest client.
pub(crate) fn build(config: &TransportConfig) -> crate::Result<reqwest::Client> {
    ensure_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(config.pool_idle_timeout)
        .user_agent(config.user_agent.clone())
        .gzip(true)
        .build()
        .map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Transport,
                "could not build the HTTP client",
            )
            .with_source(e)
        })
}

/// A shared default client for auth endpoints (token, revoke, device).
pub(crate) fn shared() -> crate::Result<reqwest::Client> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let c = build(&TransportConfig::default())?;
    Ok(CLIENT.get_or_init(|| c).clone())
}

/// Maps a reqwest error to the runtime's error without exposing reqwest.
///
/// A body that cannot be read is a transport failure (the connection broke),
/// even when reqwest's gzip layer reports it as a decode error — unless the
/// cause is corrupt data (`InvalidData`), which is a decode error.
pub(crate) fn map_err(e: reqwest::Error, what: &str) -> crate::Error {
    let kind = if e.is_timeout() {
        crate::ErrorKind::Timeout
    } else if e.is_builder() {
        crate::ErrorKind::Request
    } else if (e.is_decode() || e.is_body()) && is_corrupt(&e) {
        crate::ErrorKind::Decode
    } else {
        crate::ErrorKind::Transport
    };
    // reqwest's Display can include the URL; URLs never carry tokens here
    // (API keys travel as `key=` only when the user chose an API key, and we
    // strip the query below).
    let e = e.without_url();
    crate::Error::new(kind, format!("{what}: {}", describe(&e))).with_source(e)
}

/// Whether an I/O error in the cause chain says the data itself was bad.
fn is_corrupt(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "could not connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the response body broke off or could not be read"
    } else if e.is_request() {
        "the request failed"
    } else {
        "HTTP transport error"
    }
}
