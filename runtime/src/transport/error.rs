//! The transport's own error — what went wrong on the wire, in classes the
//! runtime's [`Error`](crate::Error) is made from — and that mapping.
//!
//! No message here carries a URL, a header or a body: a URL may hold an API
//! key (`key=`) and headers hold tokens.

use crate::error::ErrorKind;

/// A boxed cause.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The request could not be built (a bad URL, header name or value).
    Builder,
    /// No connection: DNS, TCP, the proxy's tunnel or the TLS handshake.
    Connect,
    /// The request's own time limit ([`RequestBuilder::timeout`](super::RequestBuilder::timeout)).
    Timeout,
    /// The exchange failed after connecting (the request or the response
    /// head could not be sent or read).
    Request,
    /// The response body broke off.
    Body,
    /// The response body is not valid gzip.
    Decode,
    /// A redirect that is not followed (a loop, a downgrade, too many).
    Redirect,
}

/// An error of the transport.
#[derive(Debug)]
pub(crate) struct HttpError {
    kind: Kind,
    /// Why, in words, when the kind alone does not say (redirects).
    reason: Option<String>,
    source: Option<BoxError>,
}

impl HttpError {
    pub(crate) fn new(kind: Kind, source: impl Into<BoxError>) -> Self {
        HttpError {
            kind,
            reason: None,
            source: Some(source.into()),
        }
    }

    /// An error of this kind with a reason and no cause.
    pub(crate) fn because(kind: Kind, reason: impl Into<String>) -> Self {
        HttpError {
            kind,
            reason: Some(reason.into()),
            source: None,
        }
    }

    /// From hyper-util's client: a failed connect or a failed exchange; a
    /// connect that ran out of time is a timeout.
    pub(crate) fn from_client(e: hyper_util::client::legacy::Error) -> Self {
        let kind = if e.is_connect() {
            if chain_has_io(&e, std::io::ErrorKind::TimedOut) {
                Kind::Timeout
            } else {
                Kind::Connect
            }
        } else {
            Kind::Request
        };
        HttpError::new(kind, e)
    }

    #[cfg(test)]
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether no connection was made (the request never left).
    pub(crate) fn is_connect(&self) -> bool {
        self.kind == Kind::Connect
    }

    /// Whether a time limit ran out.
    #[cfg(feature = "metadata")]
    pub(crate) fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(reason) = &self.reason {
            return f.write_str(reason);
        }
        f.write_str(match self.kind {
            Kind::Builder => "the request is not valid",
            Kind::Connect => "could not connect",
            Kind::Timeout => "timed out",
            Kind::Request => "the request failed",
            Kind::Body => "the response body broke off or could not be read",
            Kind::Decode => "the response body is not valid gzip",
            Kind::Redirect => "too many redirects",
        })
    }
}

impl std::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Whether an I/O error of `kind` is in the cause chain of `e`.
fn chain_has_io(e: &(dyn std::error::Error + 'static), kind: std::io::ErrorKind) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Maps a transport error to the runtime's error: `what` names the call.
pub(crate) fn map_err(e: HttpError, what: &str) -> crate::Error {
    let kind = match e.kind {
        Kind::Redirect => {
            return crate::Error::new(ErrorKind::Redirect, format!("{what}: not following {e}"));
        }
        Kind::Timeout => ErrorKind::Timeout,
        Kind::Builder => ErrorKind::Request,
        Kind::Decode => ErrorKind::Decode,
        Kind::Connect | Kind::Request | Kind::Body => ErrorKind::Transport,
    };
    crate::Error::new(kind, format!("{what}: {e}")).with_source(e)
}
