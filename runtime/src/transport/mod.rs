//! The HTTP transport behind every request: hyper's pooled client
//! (HTTP/1.1 and HTTP/2) over hyper-util's connector, with rustls (ring,
//! this crate's own configuration), gzip, redirects, proxies and time
//! limits.
//!
//! - [`client`]: the client and the builder of one request;
//! - [`connect`]: connections, direct or through a proxy;
//! - [`redirect`]: which redirects are followed and what they keep;
//! - [`body`] and [`incoming`]: request bodies, and responses as received
//!   (gzip decoded as the body streams in);
//! - [`response`]: the bounded [`Response`] every read of a body goes
//!   through;
//! - [`error`]: the transport's errors and their mapping to ours;
//! - [`tls`]: the TLS configuration.
//!
//! Crate-private: no transport type is part of the public API.
//!
//! Why not reqwest (this crate's first transport): with the same settings,
//! reqwest 0.13 spends ~40k instructions per request over hyper-util's
//! client — its redirect and decompression layers re-parse every URL and
//! copy every header map, unconditionally — which was more than a whole
//! call of google-apis-rs minus decoding (bench/NOTES.md).

mod body;
mod client;
mod connect;
mod error;
mod incoming;
mod redirect;
mod response;
mod tls;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use body::Body;
pub(crate) use client::{HttpClient, RequestBuilder};
pub(crate) use error::{HttpError, map_err};
pub(crate) use incoming::HttpResponse;
pub(crate) use response::Response;

use crate::error::{Error, ErrorKind};
use crate::timeouts::Timeouts;

/// Where requests go through: the environment's `HTTPS_PROXY`/`HTTP_PROXY`
/// (and `NO_PROXY`), a given proxy, or none.
#[derive(Clone, Default)]
pub(crate) enum ProxyChoice {
    /// The environment's proxy variables, if set.
    #[default]
    Environment,
    /// This proxy for every request, with Basic credentials if any.
    Url {
        url: String,
        credentials: Option<(String, String)>,
    },
    /// No proxy at all.
    None,
}

impl std::fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyChoice::Environment => f.write_str("Environment"),
            ProxyChoice::None => f.write_str("None"),
            // The URL may carry a password; the credentials are one.
            ProxyChoice::Url { url, credentials } => f
                .debug_struct("Url")
                .field("url", &redact_userinfo(url))
                .field(
                    "credentials",
                    &credentials.as_ref().map(|(u, _)| (u, "[redacted]")),
                )
                .finish(),
        }
    }
}

/// A proxy URL without its user and password (`http://redacted@host:3128`).
pub(crate) fn redact_userinfo(u: &str) -> String {
    crate::href::redact_userinfo(u)
        .unwrap_or_else(|| "<a proxy URL that does not parse>".to_owned())
}

/// Settings of the HTTP transport.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub user_agent: String,
    pub proxy: ProxyChoice,
    /// Trusted besides the system's roots (PEM, as given).
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// A client certificate chain and its key (PEM), for mutual TLS.
    pub identity_pem: Option<(Vec<u8>, Arc<Vec<u8>>)>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Timeouts::DEFAULT.connect,
            pool_idle_timeout: Duration::from_secs(90),
            user_agent: crate::USER_AGENT.to_owned(),
            proxy: ProxyChoice::default(),
            extra_roots_pem: Vec::new(),
            identity_pem: None,
        }
    }
}

pub(crate) fn config_error(what: String) -> Error {
    Error::new(ErrorKind::Request, what)
}

/// Builds a client.
pub(crate) fn build(config: &TransportConfig) -> crate::Result<HttpClient> {
    let proxy = connect::Proxy::from_choice(&config.proxy)?.map(Arc::new);
    // The default one is static: cloning it into every request then
    // touches no shared counter.
    let user_agent = if config.user_agent == crate::USER_AGENT {
        http::HeaderValue::from_static(crate::USER_AGENT)
    } else {
        http::HeaderValue::from_str(&config.user_agent)
            .map_err(|_| config_error("the user agent is not a valid header value".into()))?
    };
    let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(config.connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls::tls_config(config)?)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(connect::Connector::new(tcp, proxy.clone()));
    let timer = hyper_util::rt::TokioTimer::new();
    let hyper = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(config.pool_idle_timeout)
        .pool_timer(timer.clone())
        .timer(timer)
        .build(https);
    Ok(HttpClient::new(hyper, user_agent, proxy))
}

/// A shared default client for auth endpoints (token, revoke, device).
pub(crate) fn shared() -> crate::Result<HttpClient> {
    static CLIENT: std::sync::OnceLock<HttpClient> = std::sync::OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let c = build(&TransportConfig::default())?;
    Ok(CLIENT.get_or_init(|| c).clone())
}
