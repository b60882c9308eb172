//! Connections: straight to the host, or through an HTTP proxy — a
//! `CONNECT` tunnel for `https` (TLS then runs end to end, over the tunnel),
//! absolute-form requests to the proxy itself for plain `http`. TLS is
//! added on top by hyper-rustls (see [`super::build`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Uri};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::error::BoxError;
use super::{ProxyChoice, config_error, redact_userinfo};

/// The proxy rules of a client: which destinations go through which proxy,
/// with which `Proxy-Authorization`.
pub(crate) struct Proxy {
    matcher: Matcher,
    /// Credentials given apart from the URL; they win over the URL's own.
    auth: Option<HeaderValue>,
}

impl Proxy {
    /// The rules `choice` asks for; `None` when no request uses a proxy.
    pub(crate) fn from_choice(choice: &ProxyChoice) -> crate::Result<Option<Proxy>> {
        let (matcher, auth) = match choice {
            ProxyChoice::None => return Ok(None),
            ProxyChoice::Environment => (Matcher::from_env(), None),
            ProxyChoice::Url { url, credentials } => {
                let invalid = |why: &str| {
                    config_error(format!(
                        "not a valid proxy URL {}: {why}",
                        redact_userinfo(url)
                    ))
                };
                let parsed: Uri = url.parse().map_err(|_| invalid("it does not parse"))?;
                match parsed.scheme_str() {
                    Some("http") | None => {}
                    Some(_) => return Err(invalid("only http:// proxies are supported")),
                }
                if parsed.host().is_none_or(str::is_empty) {
                    return Err(invalid("it names no host"));
                }
                let matcher = Matcher::builder().all(url.clone()).build();
                let auth = credentials
                    .as_ref()
                    .map(|(user, password)| basic(user, password));
                (matcher, auth)
            }
        };
        // An environment without proxy variables: no proxy at all.
        let probe = [
            Uri::from_static("http://example.invalid/"),
            Uri::from_static("https://example.invalid/"),
        ];
        if probe.iter().all(|u| matcher.intercept(u).is_none()) {
            return Ok(None);
        }
        Ok(Some(Proxy { matcher, auth }))
    }

    /// The proxy for `dst` and its credentials, when `dst` goes through one.
    pub(crate) fn intercept(&self, dst: &Uri) -> Option<(Uri, Option<HeaderValue>)> {
        let i = self.matcher.intercept(dst)?;
        let auth = self.auth.clone().or_else(|| i.basic_auth().cloned());
        Some((i.uri().clone(), auth))
    }
}

/// `Basic` credentials, marked sensitive (never logged by hyper).
fn basic(user: &str, password: &str) -> HeaderValue {
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let mut v = HeaderValue::from_str(&format!("Basic {token}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    v.set_sensitive(true);
    v
}

/// The connector under TLS: TCP to the host or to its proxy.
#[derive(Clone)]
pub(crate) struct Connector {
    http: HttpConnector,
    proxy: Option<Arc<Proxy>>,
}

impl Connector {
    pub(crate) fn new(http: HttpConnector, proxy: Option<Arc<Proxy>>) -> Self {
        Connector { http, proxy }
    }
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let via = self.proxy.as_ref().and_then(|p| p.intercept(&dst));
        Box::pin(async move {
            if let Some((proxy, _)) = &via
                && proxy.scheme() != Some(&http::uri::Scheme::HTTP)
            {
                // From the environment (`HTTPS_PROXY=https://…`, `socks5://…`):
                // speaking plain HTTP to it would fail obscurely, or worse.
                return Err(format!(
                    "the proxy {} is not an http:// proxy, the only kind supported",
                    redact_userinfo(&proxy.to_string())
                )
                .into());
            }
            let (io, proxied) = match via {
                None => (http.call(dst).await?, false),
                Some((proxy, auth)) if dst.scheme() == Some(&http::uri::Scheme::HTTPS) => {
                    let mut tunnel = Tunnel::new(proxy, http);
                    if let Some(auth) = auth {
                        tunnel = tunnel.with_auth(auth);
                    }
                    (tunnel.call(dst).await?, false)
                }
                Some((proxy, _)) => (http.call(proxy).await?, true),
            };
            Ok(Conn { io, proxied })
        })
    }
}

/// A TCP connection; `proxied` when it goes to a proxy that is sent
/// absolute-form requests.
pub(crate) struct Conn {
    io: TokioIo<TcpStream>,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_service::Service as _;

    fn via(proxy: &str) -> Connector {
        let rules = Proxy {
            matcher: Matcher::builder().all(proxy.to_owned()).build(),
            auth: None,
        };
        Connector::new(HttpConnector::new(), Some(Arc::new(rules)))
    }

    #[tokio::test]
    async fn a_proxy_that_is_not_http_is_refused_without_connecting() {
        for proxy in [
            "https://user:hunter2@127.0.0.1:9/",
            "socks5://user:hunter2@127.0.0.1:9/",
        ] {
            let Err(e) = via(proxy)
                .call(Uri::from_static("https://www.googleapis.com/"))
                .await
            else {
                panic!("{proxy}: connected");
            };
            let msg = e.to_string();
            assert!(msg.contains("not an http:// proxy"), "{msg}");
            assert!(!msg.contains("hunter2"), "{msg}");
        }
    }
}
