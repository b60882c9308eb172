//! The method builders of generated code: one generic type per generated
//! module, [`method_builder!`](crate::method_builder), whose inherent methods
//! are the API's parameters (plain names, from the document) and the call
//! options (always `with_*`), so that nothing but the service type needs
//! importing and no API name can collide with an option.
//!
//! A generated method is a zero-sized marker type implementing
//! [`MethodSpec`] (its [`MethodInfo`] and response type), plus
//! [`UploadSpec`] / [`DownloadSpec`] when it takes media; its builder is
//! `Call<ThatMarker>`, with its own parameters as an inherent impl of that
//! instantiation. Everything that is the same for every method — `send`,
//! `pages`, `items`, the media methods, the options — is written once, here,
//! and generic: compiled for the methods a program calls.

#[cfg(feature = "media")]
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

#[cfg(feature = "media")]
use crate::error::Result;
#[cfg(feature = "media")]
use crate::media::{ResumableSession, ResumableUpload, UploadProgress};
use crate::method::MethodInfo;

/// A generated method: its description and the type its response decodes
/// into (`()` for methods without a response body).
pub trait MethodSpec: 'static {
    /// The decoded response.
    type Response: DeserializeOwned + Send + 'static;
    /// The method's description.
    const METHOD: &'static MethodInfo;
}

/// A method that takes media uploads (`supportsMediaUpload`).
pub trait UploadSpec: MethodSpec {}

/// A method whose response can be media (`supportsMediaDownload`).
pub trait DownloadSpec: MethodSpec {}

/// A resumable upload whose completed response decodes as `T`: what a
/// builder's `upload_resumable` returns. See [`ResumableUpload`] for the
/// protocol; this adds only the type.
#[cfg(feature = "media")]
pub struct TypedResumableUpload<T> {
    inner: ResumableUpload,
    _t: PhantomData<fn() -> T>,
}

#[cfg(feature = "media")]
impl<T> std::fmt::Debug for TypedResumableUpload<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

#[cfg(feature = "media")]
impl<T: DeserializeOwned> TypedResumableUpload<T> {
    /// Wraps an untyped upload.
    pub fn new(inner: ResumableUpload) -> Self {
        TypedResumableUpload {
            inner,
            _t: PhantomData,
        }
    }

    /// The chunk size (see [`ResumableUpload::chunk_size`]).
    pub fn chunk_size(self, bytes: usize) -> Self {
        Self::new(self.inner.chunk_size(bytes))
    }

    /// Calls `f` after every confirmed chunk (see [`ResumableUpload::on_progress`]).
    pub fn on_progress(self, f: impl FnMut(UploadProgress) + Send + 'static) -> Self {
        Self::new(self.inner.on_progress(f))
    }

    /// Opens the session and returns it, e.g. to save it first.
    pub async fn start(&mut self) -> Result<&ResumableSession> {
        self.inner.start().await
    }

    /// Sends the whole media and decodes the resource.
    pub async fn send(&mut self) -> Result<T> {
        self.inner.send().await
    }

    /// One chunk; `Ok(Some(resource))` when the upload is complete.
    pub async fn next_chunk(&mut self) -> Result<Option<T>> {
        self.inner.next_chunk().await
    }

    /// The session, once opened.
    pub fn session(&self) -> Option<&ResumableSession> {
        self.inner.session()
    }

    /// Bytes the server has confirmed.
    pub fn bytes_sent(&self) -> u64 {
        self.inner.bytes_sent()
    }

    /// The untyped upload.
    pub fn into_inner(self) -> ResumableUpload {
        self.inner
    }
}

/// Defines, in a generated module, `Call<M>`: the builder of every method
/// of the module's API. Generated code invokes it once per module; it is
/// not meant to be used by hand.
///
/// `Call<M>` has, for every method `M`:
/// - the call options, all named `with_*`: `with_timeout` (the call's
///   deadline), `with_response_timeout`, `with_idle_timeout`,
///   `with_retry_policy`, `with_idempotent`, `with_header`, `with_param`
///   (any query parameter by wire name) and `with_null_field` (send
///   `"field": null`);
/// - `send()`, and where the method's response is a page, `pages()` and
///   `items()`; with the `media` feature, where it takes media,
///   `upload(media)`, `upload_with(media, protocol)` and
///   `upload_resumable(media)`, all typed, and where its response can be
///   media, `download()`;
/// - `into_call()` for the untyped [`Call`](crate::Call), and
///   [`CallBuilder`](crate::CallBuilder) for `Batch::add` (feature `batch`).
#[macro_export]
macro_rules! method_builder {
    () => {
        /// One call of this API being built: the method's parameters are its
        /// setters (named after the API's own), call options are the
        /// `with_*` methods; finish with `send()` (or `pages()`, `items()`,
        /// `upload(…)`, `download()`).
        pub struct Call<M> {
            call: ::gapi::Call,
            _method: ::core::marker::PhantomData<fn() -> M>,
        }

        impl<M> ::core::clone::Clone for Call<M> {
            #[inline]
            fn clone(&self) -> Self {
                Call {
                    call: self.call.clone(),
                    _method: ::core::marker::PhantomData,
                }
            }
        }

        impl<M> ::core::fmt::Debug for Call<M> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(&self.call, f)
            }
        }

        impl<M: ::gapi::MethodSpec> Call<M> {
            #[doc(hidden)]
            #[inline]
            pub fn from_call(call: ::gapi::Call) -> Self {
                Call {
                    call,
                    _method: ::core::marker::PhantomData,
                }
            }

            /// The deadline of this call: all attempts, backoff and the
            /// response body end within it.
            #[inline]
            pub fn with_timeout(mut self, total: ::std::time::Duration) -> Self {
                self.call.set_timeout(total);
                self
            }

            /// The longest wait for response headers once the request is
            /// sent, per attempt.
            #[inline]
            pub fn with_response_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.call.set_response_timeout(timeout);
                self
            }

            /// The longest pause while sending or receiving a body.
            #[inline]
            pub fn with_idle_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.call.set_idle_timeout(timeout);
                self
            }

            /// The retry policy of this call instead of the client's.
            #[inline]
            pub fn with_retry_policy(mut self, policy: ::gapi::RetryPolicy) -> Self {
                self.call.set_retry_policy(policy);
                self
            }

            /// Whether this call may be sent again after the server may have
            /// seen it (default: by HTTP method).
            #[inline]
            pub fn with_idempotent(mut self, idempotent: bool) -> Self {
                self.call.set_idempotent(idempotent);
                self
            }

            /// Adds a request header.
            #[inline]
            pub fn with_header(
                mut self,
                name: impl ::core::convert::Into<::std::string::String>,
                value: impl ::core::convert::Into<::std::string::String>,
            ) -> Self {
                self.call.header(name, value);
                self
            }

            /// Sets any query parameter by its wire name.
            #[inline]
            pub fn with_param(
                mut self,
                name: impl ::core::convert::Into<::std::string::String>,
                value: impl ::core::convert::Into<::std::string::String>,
            ) -> Self {
                self.call.query(name.into(), value.into());
                self
            }

            /// Sends `null` for this (dotted) body field, to clear it.
            #[inline]
            pub fn with_null_field(
                mut self,
                path: impl ::core::convert::Into<::std::string::String>,
            ) -> Self {
                self.call.null_field(path);
                self
            }

            /// Sends the request and decodes the response.
            #[inline]
            pub fn send(self) -> impl ::core::future::Future<Output = ::gapi::Result<M::Response>> {
                self.call.send()
            }

            /// The untyped call (e.g. for a lower-level media or batch API).
            #[inline]
            pub fn into_call(self) -> ::gapi::Call {
                self.call
            }
        }

        impl<M> Call<M>
        where
            M: ::gapi::MethodSpec,
            M::Response: ::gapi::Page,
        {
            /// Every page, as a stream (follows the page token).
            #[inline]
            pub fn pages(self) -> ::gapi::Pages<M::Response> {
                self.call.pages()
            }
        }

        impl<M> Call<M>
        where
            M: ::gapi::MethodSpec,
            M::Response: ::gapi::PageItems,
            <M::Response as ::gapi::PageItems>::Item: ::core::marker::Send + 'static,
        {
            /// Every item of every page, as a stream.
            #[inline]
            pub fn items(self) -> ::gapi::Items<M::Response> {
                self.call.items()
            }
        }

        $crate::__media_methods!();

        impl<M: ::gapi::MethodSpec> ::gapi::CallBuilder for Call<M> {
            type Response = M::Response;
            #[inline]
            fn call_mut(&mut self) -> &mut ::gapi::Call {
                &mut self.call
            }
            #[inline]
            fn into_call(self) -> ::gapi::Call {
                self.call
            }
        }
    };
}

/// The media methods of [`method_builder!`](crate::method_builder)'s
/// `Call<M>` (`upload`, `upload_with`, `upload_resumable`, `download`):
/// expanded where the `media` feature is on, nothing where it is off, so
/// that a generated crate compiles either way and a program that names no
/// media feature builds none of the media code.
#[cfg(feature = "media")]
#[doc(hidden)]
#[macro_export]
macro_rules! __media_methods {
    () => {
        impl<M: ::gapi::UploadSpec> Call<M> {
            /// Uploads `media` with the call's body (if any) as metadata; the
            /// protocol is chosen by size (resumable above 5 MiB).
            #[inline]
            pub fn upload(
                self,
                media: ::gapi::Media,
            ) -> impl ::core::future::Future<Output = ::gapi::Result<M::Response>> {
                self.call.upload(media)
            }

            /// Uploads `media` with this protocol.
            #[inline]
            pub fn upload_with(
                self,
                media: ::gapi::Media,
                protocol: ::gapi::UploadProtocol,
            ) -> impl ::core::future::Future<Output = ::gapi::Result<M::Response>> {
                self.call.upload_with(media, protocol)
            }

            /// A resumable upload of `media` (nothing is sent yet): chunked,
            /// resumable after a failure or from another process.
            #[inline]
            pub fn upload_resumable(
                self,
                media: ::gapi::Media,
            ) -> ::gapi::TypedResumableUpload<M::Response> {
                ::gapi::TypedResumableUpload::new(self.call.upload_resumable(media))
            }
        }

        impl<M: ::gapi::DownloadSpec> Call<M> {
            /// Downloads the media (`alt=media`), resumed with `Range` after a
            /// broken connection.
            #[inline]
            pub fn download(
                self,
            ) -> impl ::core::future::Future<Output = ::gapi::Result<::gapi::Download>> {
                self.call.download()
            }
        }
    };
}

/// Without the `media` feature, `Call<M>` has no media methods.
#[cfg(not(feature = "media"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __media_methods {
    () => {};
}
