//! Pages of a list method as JSON: the runtime's [`gapi::Pages`] over a
//! page type that knows which member holds the next token.

use serde::Deserialize;
use serde_json::Value;

use crate::MethodRef;
use crate::error::{Error, Result};

/// A page whose next token is `nextPageToken`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct NextPageToken(Value);

impl gapi::Page for NextPageToken {
    fn next_page_token(&self) -> Option<&str> {
        self.0.get("nextPageToken")?.as_str()
    }
}

/// A page whose next token is `pageToken` (BigQuery's shape).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct PageToken(Value);

impl gapi::Page for PageToken {
    fn next_page_token(&self) -> Option<&str> {
        self.0.get("pageToken")?.as_str()
    }
}

/// A stream of pages, each the JSON response.
pub type JsonPages = std::pin::Pin<Box<dyn gapi::Stream<Item = gapi::Result<Value>> + Send>>;

impl MethodRef<'_> {
    /// Every page of `call` (a call of this method), following the token
    /// where the method puts it (query or body); a method that does not
    /// page is an error naming it.
    pub fn pages(&self, call: gapi::Call) -> Result<JsonPages> {
        use gapi::StreamExt as _;
        Ok(match self.page_token_field() {
            Some("pageToken") => Box::pin(call.pages::<PageToken>().map(|p| p.map(|p| p.0))),
            Some(_) => Box::pin(call.pages::<NextPageToken>().map(|p| p.map(|p| p.0))),
            None => {
                return Err(Error::Parameter {
                    method: self.id(),
                    name: "pageToken".into(),
                    message: "the method does not page (no page token in the document)".into(),
                });
            }
        })
    }
}
