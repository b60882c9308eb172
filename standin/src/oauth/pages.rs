//! The few HTML pages a person may see: error pages of the authorization endpoint and
//! the device flow's code entry page.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page around a body fragment (already HTML).
fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title></head>\n<body>\n{body}\n</body></html>\n",
        escape(title)
    )
}

/// An error page: `Error 400: redirect_uri_mismatch` and a sentence saying why.
pub(crate) fn error_page(status: StatusCode, error: &str, detail: &str) -> Response {
    let heading = format!("Error {}: {}", status.as_u16(), error);
    let body = format!(
        "<h1>Access blocked: this app's request is invalid</h1>\n<h2>{}</h2>\n<p>{}</p>",
        escape(&heading),
        escape(detail)
    );
    (status, Html(page(&heading, &body))).into_response()
}

/// The device flow's page: a form to enter a user code, and a line saying what happened
/// to the last one.
pub(crate) fn device_page(message: Option<&str>) -> Response {
    let note = message
        .map(|m| format!("<p id=\"result\">{}</p>\n", escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Connect a device</h1>\n{note}<form method=\"post\" action=\"/device\">\n\
         <label>Code <input name=\"user_code\" autocomplete=\"off\"></label>\n\
         <button name=\"action\" value=\"approve\">Allow</button>\n\
         <button name=\"action\" value=\"deny\">Deny</button>\n</form>"
    );
    Html(page("Connect a device", &body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn error_page_status() {
        let r = error_page(StatusCode::BAD_REQUEST, "invalid_client", "<x>");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}
