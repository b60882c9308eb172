//! The runtime's descriptions of an API and a method — [`gapi::ServiceInfo`]
//! and [`gapi::MethodInfo`] — made from a document at run time.
//!
//! The runtime takes them as `&'static` (generated code declares them as
//! statics). Here each is made once per document or per method actually
//! called and leaked: a bounded cost (a command line calls one method; a
//! long-running program the methods it uses, each once per loaded
//! document), and the runtime stays as it is. The rules are the
//! generator's (`resolve/resources.rs`), written again over the same parse
//! model; `tests/against_generator.rs` holds them equal for every method of
//! every document.

use gapi::{HttpMethod, MediaUploadInfo, MethodInfo, PaginationInfo, ServiceInfo, TokenLocation};
use gapi_gen::parse::{Document, Method, Parameter};

use crate::kind::{Kind, kind};

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

/// The service description of a document.
pub(crate) fn service_info(doc: &Document) -> &'static ServiceInfo {
    let title = doc
        .title
        .clone()
        .unwrap_or_else(|| format!("{} {}", doc.name, doc.version));
    Box::leak(Box::new(ServiceInfo {
        name: leak(&doc.name),
        version: leak(&doc.version),
        revision: leak(doc.revision.as_deref().unwrap_or("")),
        title: leak(&title),
        root_url: leak(&doc.root_url),
        service_path: leak(&doc.service_path),
        batch_path: doc.batch_path.as_deref().map(leak),
    }))
}

/// The HTTP method of a discovery method (`GET` when absent), `None` for one
/// the runtime does not send.
pub(crate) fn http_method(m: &Method) -> Option<HttpMethod> {
    Some(
        match m
            .http_method
            .as_deref()
            .unwrap_or("GET")
            .to_ascii_uppercase()
            .as_str()
        {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            "HEAD" => HttpMethod::Head,
            _ => return None,
        },
    )
}

/// Whether a parameter goes in the path (else the query).
pub(crate) fn in_path(p: &Parameter) -> bool {
    p.location.as_deref() == Some("path")
}

/// The method description. An HTTP method the runtime cannot send is
/// refused earlier ([`crate::MethodRef::check`]); here it falls back to GET.
pub(crate) fn method_info(doc: &Document, m: &Method, id: &str) -> &'static MethodInfo {
    let media_upload = m.media_upload.as_ref().map(|mu| {
        let accept: Vec<&'static str> = mu.accept.iter().map(|a| leak(a)).collect();
        &*Box::leak(Box::new(MediaUploadInfo {
            accept: Box::leak(accept.into_boxed_slice()),
            max_size: mu
                .max_size
                .as_deref()
                .and_then(gapi_gen::resolve::parse_max_size),
            simple_path: mu.protocols.simple.as_ref().map(|p| leak(&p.path)),
            resumable_path: mu.protocols.resumable.as_ref().map(|p| leak(&p.path)),
        }))
    });
    let scopes: Vec<&'static str> = m.scopes.iter().map(|s| leak(s)).collect();
    let pagination = pagination(doc, m).map(|(location, _)| PaginationInfo {
        token_param: "pageToken",
        location,
    });
    Box::leak(Box::new(MethodInfo {
        id: leak(id),
        http_method: http_method(m).unwrap_or(HttpMethod::Get),
        path: leak(&m.path),
        scopes: Box::leak(scopes.into_boxed_slice()),
        idempotent: None,
        media_upload,
        supports_media_download: m.supports_media_download == Some(true),
        pagination,
        data_wrapper: doc.data_wrapper(),
    }))
}

/// How a method pages, as the generator detects it: a `pageToken` query
/// parameter that is not positional (or a `pageToken` string field of the
/// request body), and a `nextPageToken` string field in the response (or,
/// for a query token, a `pageToken` one, as in BigQuery). Gives the token's
/// location and the response field holding the next token.
pub(crate) fn pagination(doc: &Document, m: &Method) -> Option<(TokenLocation, &'static str)> {
    let response = m.response.as_ref()?;
    let Kind::Struct(resp) = kind(doc, response) else {
        return None;
    };
    let string_field = |s: &gapi_gen::parse::Schema, wire: &str| {
        s.properties
            .as_ref()
            .and_then(|p| p.get(wire))
            .is_some_and(|f| matches!(kind(doc, f), Kind::Str))
    };
    let query_token = m
        .parameters
        .get("pageToken")
        .is_some_and(|p| !in_path(p) && !m.parameter_order.iter().any(|n| n == "pageToken"));
    let body_token = !query_token
        && m.request.as_ref().is_some_and(
            |r| matches!(kind(doc, r), Kind::Struct(s) if string_field(s, "pageToken")),
        );
    let location = if query_token {
        TokenLocation::Query
    } else if body_token {
        TokenLocation::Body
    } else {
        return None;
    };
    if string_field(resp, "nextPageToken") {
        Some((location, "nextPageToken"))
    } else if location == TokenLocation::Query && string_field(resp, "pageToken") {
        Some((location, "pageToken"))
    } else {
        None
    }
}
