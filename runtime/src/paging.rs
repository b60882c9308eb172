//! Pagination: [`Call::pages`] yields every page of a list method,
//! [`Call::items`] every item of every page.
//!
//! The next page is requested with the token the last page returned, in the
//! query or the body as the method says; every other parameter (a caller-set
//! page size included) is kept. An empty or missing token ends the stream; a
//! token seen before is an error rather than an endless loop.

use std::collections::HashSet;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use serde::de::DeserializeOwned;

use crate::call::Call;
use crate::error::{Error, ErrorKind, Result};
use crate::method::TokenLocation;

/// A page of a list method's response: it knows its next page token.
pub trait Page {
    /// The token of the next page, if there is one.
    fn next_page_token(&self) -> Option<&str>;
}

/// A page whose one obvious repeated field holds the items.
pub trait PageItems: Page {
    /// The item type.
    type Item;
    /// Takes the items out of the page.
    fn into_items(self) -> Vec<Self::Item>;
}

/// A stream of pages (see [`Call::pages`]).
pub struct Pages<T> {
    inner: BoxStream<'static, Result<T>>,
}

/// A stream of items across pages (see [`Call::items`]).
pub struct Items<T: PageItems> {
    inner: BoxStream<'static, Result<T::Item>>,
}

impl<T> Stream for Pages<T> {
    type Item = Result<T>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T: PageItems> Stream for Items<T> {
    type Item = Result<T::Item>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> Pages<T> {
    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Option<Result<T>> {
        self.inner.next().await
    }
}

impl<T: PageItems> Items<T> {
    /// The next item, or `None` after the last.
    pub async fn next_item(&mut self) -> Option<Result<T::Item>> {
        self.inner.next().await
    }
}

struct State {
    call: Call,
    seen: HashSet<String>,
    done: bool,
    pending: Option<Error>,
}

impl Call {
    fn set_page_token(&mut self, token: &str) -> Result<()> {
        let info = self.method().pagination.ok_or_else(|| {
            Error::new(
                ErrorKind::Request,
                format!("{} does not page", self.method().id),
            )
        })?;
        match info.location {
            TokenLocation::Query => self.query(info.token_param, token.to_owned()),
            TokenLocation::Body => {
                let mut body = self
                    .body_json()
                    .cloned()
                    .unwrap_or_else(|| serde_json::Value::Object(Default::default()));
                if let Some(obj) = body.as_object_mut() {
                    obj.insert(info.token_param.to_owned(), token.into());
                }
                self.body(&body);
            }
        }
        Ok(())
    }

    /// Every page of a list method, as a stream.
    pub fn pages<T>(self) -> Pages<T>
    where
        T: Page + DeserializeOwned + Send + 'static,
    {
        let state = State {
            call: self,
            seen: HashSet::new(),
            done: false,
            pending: None,
        };
        let inner = stream::unfold(state, |mut st| async move {
            if let Some(e) = st.pending.take() {
                return Some((Err(e), st));
            }
            if st.done {
                return None;
            }
            let page: Result<T> = st.call.clone().send().await;
            match page {
                Err(e) => {
                    st.done = true;
                    Some((Err(e), st))
                }
                Ok(page) => {
                    match page.next_page_token().filter(|t| !t.is_empty()) {
                        None => st.done = true,
                        Some(tok) => {
                            if !st.seen.insert(tok.to_owned()) {
                                st.done = true;
                                st.pending = Some(Error::new(
                                    ErrorKind::Decode,
                                    format!(
                                        "{}: the server repeated a page token; stopping instead of looping",
                                        st.call.method().id
                                    ),
                                ));
                                return Some((Ok(page), st));
                            }
                            if let Err(e) = st.call.set_page_token(tok) {
                                st.done = true;
                                return Some((Err(e), st));
                            }
                        }
                    }
                    Some((Ok(page), st))
                }
            }
        });
        Pages {
            inner: inner.boxed(),
        }
    }

    /// Every item of every page, as a stream.
    pub fn items<T>(self) -> Items<T>
    where
        T: PageItems + DeserializeOwned + Send + 'static,
        T::Item: Send + 'static,
    {
        let pages = self.pages::<T>();
        let inner = pages
            .flat_map(|page| match page {
                Ok(p) => stream::iter(p.into_items().into_iter().map(Ok).collect::<Vec<_>>()),
                Err(e) => stream::iter(vec![Err(e)]),
            })
            .boxed();
        Items { inner }
    }
}
