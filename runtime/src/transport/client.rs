//! The HTTP client every request of the runtime goes through, and the
//! builder of one request: default headers (`User-Agent`, `Accept-Encoding:
//! gzip`, the proxy's credentials for plain `http` through a proxy),
//! redirects ([`redirect`](super::redirect)), and an optional time limit
//! that covers the body too.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::Either;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use hyper_util::client::legacy;
use tokio::time::Instant;

use super::body::Body;
use super::connect::{Connector, Proxy};
use super::error::{HttpError, Kind};
use super::incoming::HttpResponse;
use super::redirect;

type Hyper = legacy::Client<hyper_rustls::HttpsConnector<Connector>, Body>;

/// A pooled HTTP/1.1 and HTTP/2 client; cheap to clone.
#[derive(Clone)]
pub(crate) struct HttpClient {
    shared: Arc<Shared>,
}

struct Shared {
    hyper: Hyper,
    user_agent: HeaderValue,
    proxy: Option<Arc<Proxy>>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    pub(crate) fn new(hyper: Hyper, user_agent: HeaderValue, proxy: Option<Arc<Proxy>>) -> Self {
        HttpClient {
            shared: Arc::new(Shared {
                hyper,
                user_agent,
                proxy,
            }),
        }
    }

    /// A request to `url`.
    pub(crate) fn request(&self, method: Method, url: impl IntoUri) -> RequestBuilder<'_> {
        RequestBuilder {
            client: self,
            method,
            uri: url.into_uri(),
            headers: HeaderMap::new(),
            body: Body::empty(),
            timeout: None,
        }
    }

    /// A `GET` of `url`.
    #[cfg(any(
        feature = "metadata",
        feature = "external-account",
        feature = "id-token"
    ))]
    pub(crate) fn get(&self, url: impl IntoUri) -> RequestBuilder<'_> {
        self.request(Method::GET, url)
    }

    /// A `POST` to `url`.
    pub(crate) fn post(&self, url: impl IntoUri) -> RequestBuilder<'_> {
        self.request(Method::POST, url)
    }
}

/// What a request can be addressed with.
pub(crate) trait IntoUri {
    /// The URI, or why it is not one.
    fn into_uri(self) -> Result<Uri, HttpError>;
}

impl IntoUri for &str {
    fn into_uri(self) -> Result<Uri, HttpError> {
        match self.parse::<Uri>() {
            Ok(u) if u.scheme().is_some() && u.host().is_some() => Ok(u),
            // Not in the strict form: as a browser reads it (e.g. a space
            // or a non-ASCII host), then strictly.
            _ => {
                let u =
                    crate::href::absolute(self).map_err(|e| HttpError::new(Kind::Builder, e))?;
                if !crate::href::is_web(&u) {
                    return Err(HttpError::because(
                        Kind::Builder,
                        "the URL's scheme is neither http nor https",
                    ));
                }
                u.parse::<Uri>()
                    .map_err(|e| HttpError::new(Kind::Builder, e))
            }
        }
    }
}

impl IntoUri for String {
    fn into_uri(self) -> Result<Uri, HttpError> {
        self.as_str().into_uri()
    }
}

impl IntoUri for &String {
    fn into_uri(self) -> Result<Uri, HttpError> {
        self.as_str().into_uri()
    }
}

/// One request being put together; nothing is sent before [`send`](Self::send).
pub(crate) struct RequestBuilder<'c> {
    /// Borrowed, not cloned: no shared counter is touched per request.
    client: &'c HttpClient,
    method: Method,
    uri: Result<Uri, HttpError>,
    headers: HeaderMap,
    body: Body,
    timeout: Option<Duration>,
}

impl<'c> RequestBuilder<'c> {
    /// Adds a header (after any of the same name). An invalid name or
    /// value fails the request when it is sent.
    pub(crate) fn header<K, V>(mut self, name: K, value: V) -> Self
    where
        HeaderName: TryFrom<K>,
        <HeaderName as TryFrom<K>>::Error: Into<http::Error>,
        HeaderValue: TryFrom<V>,
        <HeaderValue as TryFrom<V>>::Error: Into<http::Error>,
    {
        if self.uri.is_err() {
            return self;
        }
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(n), Ok(v)) => {
                self.headers.append(n, v);
            }
            (Err(e), _) => self.uri = Err(HttpError::new(Kind::Builder, e.into())),
            (_, Err(e)) => self.uri = Err(HttpError::new(Kind::Builder, e.into())),
        }
        self
    }

    /// The body.
    pub(crate) fn body(mut self, body: impl Into<Body>) -> Self {
        self.body = body.into();
        self
    }

    /// A limit on the whole exchange, body included.
    pub(crate) fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Sends the request, following redirects; the response's body is
    /// still to be read.
    pub(crate) fn send(self) -> impl Future<Output = Result<HttpResponse, HttpError>> + 'c {
        // Not an `async fn`, and one future whichever the branch: either
        // way would lay the exchange out twice.
        let deadline = self.timeout.map(|limit| Instant::now() + limit);
        let exchange = self.exchange(deadline);
        match deadline {
            None => Either::Left(exchange),
            Some(d) => Either::Right(tokio::time::timeout_at(d, exchange).map(|out| {
                out.unwrap_or_else(|_| Err(HttpError::because(Kind::Timeout, "timed out")))
            })),
        }
    }

    async fn exchange(self, deadline: Option<Instant>) -> Result<HttpResponse, HttpError> {
        let RequestBuilder {
            client,
            mut method,
            uri,
            mut headers,
            mut body,
            ..
        } = self;
        let shared = &*client.shared;
        let mut uri = uri?;
        if !headers.contains_key(header::USER_AGENT) {
            headers.insert(header::USER_AGENT, shared.user_agent.clone());
        }
        if !headers.contains_key(header::ACCEPT_ENCODING) && !headers.contains_key(header::RANGE) {
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        }
        let mut visited: Vec<Uri> = Vec::new();
        loop {
            if let Some(proxy) = &shared.proxy
                && uri.scheme() == Some(&http::uri::Scheme::HTTP)
            {
                // Plain http goes to the proxy itself, which reads this.
                match proxy.intercept(&uri).and_then(|(_, auth)| auth) {
                    Some(auth) => headers.insert(header::PROXY_AUTHORIZATION, auth),
                    None => headers.remove(header::PROXY_AUTHORIZATION),
                };
            }
            let again = body.try_clone();
            let mut req = http::Request::new(std::mem::replace(&mut body, Body::empty()));
            *req.method_mut() = method.clone();
            *req.uri_mut() = uri.clone();
            // Kept for a redirect; sent as they are otherwise.
            *req.headers_mut() = headers.clone();
            let resp = shared
                .hyper
                .request(req)
                .await
                .map_err(HttpError::from_client)?;
            visited.push(uri);
            let hop = redirect::next(
                resp.status(),
                resp.headers().get(header::LOCATION),
                &method,
                again.is_some(),
                &visited,
            )?;
            let (Some(hop), Some(again)) = (hop, again) else {
                return Ok(HttpResponse::new(resp, method == Method::HEAD, deadline));
            };
            let from = visited.last().cloned().unwrap_or_default();
            redirect::adjust(&mut headers, &from, &hop);
            if hop.to_get {
                method = Method::GET;
            } else {
                body = again;
            }
            uri = hop.uri;
        }
    }
}
