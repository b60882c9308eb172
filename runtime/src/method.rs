//! Static descriptions of an API and its methods, emitted by the generator.
//!
//! Generated code declares one [`ServiceInfo`] per API and one [`MethodInfo`]
//! per method as `static`s; [`crate::Call`] reads them to build requests.

/// An HTTP method used by a discovery method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
    /// HEAD
    Head,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
        }
    }

    /// Whether repeating the request has the same effect as sending it once
    /// (RFC 9110 §9.2.2): GET, HEAD, PUT and DELETE.
    pub fn is_idempotent(self) -> bool {
        matches!(
            self,
            HttpMethod::Get | HttpMethod::Head | HttpMethod::Put | HttpMethod::Delete
        )
    }

    pub(crate) fn to_http(self) -> http::Method {
        match self {
            HttpMethod::Get => http::Method::GET,
            HttpMethod::Post => http::Method::POST,
            HttpMethod::Put => http::Method::PUT,
            HttpMethod::Patch => http::Method::PATCH,
            HttpMethod::Delete => http::Method::DELETE,
            HttpMethod::Head => http::Method::HEAD,
        }
    }
}

/// One API: its identity and default endpoint.
#[derive(Debug)]
pub struct ServiceInfo {
    /// The API's name, e.g. `tasks`.
    pub name: &'static str,
    /// The API's version, e.g. `v1`.
    pub version: &'static str,
    /// The discovery document's revision the code was generated from.
    pub revision: &'static str,
    /// The API's title.
    pub title: &'static str,
    /// The default root URL, ending in `/`, e.g. `https://tasks.googleapis.com/`.
    pub root_url: &'static str,
    /// The service path appended to the root URL, e.g. `tasks/v1/` or empty.
    pub service_path: &'static str,
    /// The batch endpoint path relative to the root URL, e.g. `batch`.
    pub batch_path: Option<&'static str>,
}

/// Where a pagination token travels in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLocation {
    /// A query parameter.
    Query,
    /// A top-level field of the JSON request body.
    Body,
}

/// How a list method pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaginationInfo {
    /// The request parameter or body field carrying the token (`pageToken`).
    pub token_param: &'static str,
    /// Where that token goes.
    pub location: TokenLocation,
}

/// A method's media upload capability (`mediaUpload` in the document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaUploadInfo {
    /// Accepted MIME ranges, e.g. `["image/*"]`; empty means anything.
    pub accept: &'static [&'static str],
    /// The largest accepted upload in bytes, if the document limits it.
    pub max_size: Option<u64>,
    /// The path for simple and multipart uploads (absolute from the root URL).
    pub simple_path: Option<&'static str>,
    /// The path for resumable uploads (absolute from the root URL).
    pub resumable_path: Option<&'static str>,
}

/// One API method.
#[derive(Debug)]
pub struct MethodInfo {
    /// The method id, e.g. `tasks.tasklists.list`.
    pub id: &'static str,
    /// The HTTP method.
    pub http_method: HttpMethod,
    /// The path template relative to the service path (RFC 6570 level 2:
    /// `{var}` and `{+var}`). A path starting with `/` is relative to the root URL.
    pub path: &'static str,
    /// The OAuth 2.0 scopes any of which authorizes the method.
    pub scopes: &'static [&'static str],
    /// Overrides idempotency derived from the HTTP method (for retries).
    pub idempotent: Option<bool>,
    /// Media upload capability.
    pub media_upload: Option<&'static MediaUploadInfo>,
    /// Whether `alt=media` downloads are supported.
    pub supports_media_download: bool,
    /// Pagination shape, for list methods.
    pub pagination: Option<PaginationInfo>,
    /// Request and response bodies are wrapped in `{"data": …}` (the
    /// document's `dataWrapper` feature, e.g. translate v2).
    pub data_wrapper: bool,
}

impl MethodInfo {
    /// A base value to fill with `..MethodInfo::DEFAULT`.
    pub const DEFAULT: MethodInfo = MethodInfo {
        id: "",
        http_method: HttpMethod::Get,
        path: "",
        scopes: &[],
        idempotent: None,
        media_upload: None,
        supports_media_download: false,
        pagination: None,
        data_wrapper: false,
    };

    /// Whether the method may be retried after a failure the server may have
    /// seen.
    pub fn is_idempotent(&self) -> bool {
        self.idempotent
            .unwrap_or_else(|| self.http_method.is_idempotent())
    }
}
