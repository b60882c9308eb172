//! [`Call`]: one request being built, and the [`CallBuilder`] trait every
//! generated method builder implements (for batches).
//!
//! Generated builders only fill a `Call` (path parameters, query parameters,
//! body) and call one of its terminal methods: [`Call::send`],
//! [`Call::send_empty`], [`Call::pages`], [`Call::download`] or
//! [`Call::upload`].

use std::borrow::Cow;
use std::future::Future;
use std::time::Duration;

use futures_util::FutureExt as _;
use futures_util::future::Either;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Prepared, Service};
use crate::error::{Error, ErrorKind, Result};
use crate::method::MethodInfo;
use crate::retry::RetryPolicy;
use crate::timeouts::CallTimeouts;
use crate::url;

/// A value that can be a query parameter: strings as they are, booleans as
/// `true`/`false`, numbers in decimal (int64 included), enums by wire value.
pub trait QueryValue {
    /// The value as it goes in the query string (before percent-encoding).
    fn to_query(&self) -> String;
}

macro_rules! query_display {
    ($($t:ty),*) => {$(
        impl QueryValue for $t {
            fn to_query(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
query_display!(bool, i32, u32, i64, u64, f32, f64, String, str);

impl<T: QueryValue + ?Sized> QueryValue for &T {
    fn to_query(&self) -> String {
        (**self).to_query()
    }
}

/// One request being built: the method, its parameters and body, and per-call
/// options.
#[derive(Debug, Clone)]
pub struct Call {
    svc: Service,
    method: &'static MethodInfo,
    path_params: Vec<(&'static str, String)>,
    query: Vec<(Cow<'static, str>, String)>,
    body: Option<serde_json::Value>,
    body_error: Option<String>,
    null_fields: Vec<String>,
    headers: Vec<(String, String)>,
    timeouts: CallTimeouts,
    retry: Option<RetryPolicy>,
    idempotent: Option<bool>,
}

impl Call {
    /// Starts a call of `method` on `svc`.
    pub fn new(svc: &Service, method: &'static MethodInfo) -> Self {
        Call {
            svc: svc.clone(),
            method,
            path_params: Vec::new(),
            query: Vec::new(),
            body: None,
            body_error: None,
            null_fields: Vec::new(),
            headers: Vec::new(),
            timeouts: CallTimeouts::default(),
            retry: None,
            idempotent: None,
        }
    }

    /// The method being called.
    pub fn method(&self) -> &'static MethodInfo {
        self.method
    }

    /// The service the call goes to.
    pub fn service(&self) -> &Service {
        &self.svc
    }

    /// Sets a path parameter (a `{name}` or `{+name}` of the path template).
    pub fn path_param(&mut self, name: &'static str, value: impl QueryValue) {
        let v = value.to_query();
        match self.path_params.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = v,
            None => self.path_params.push((name, v)),
        }
    }

    /// Sets a query parameter, replacing an earlier value of the same name.
    pub fn query(&mut self, name: impl Into<Cow<'static, str>>, value: impl QueryValue) {
        let name = name.into();
        self.query.retain(|(k, _)| *k != name);
        self.query.push((name, value.to_query()));
    }

    /// Adds one value of a repeated query parameter (`a=1&a=2`).
    pub fn query_append(&mut self, name: impl Into<Cow<'static, str>>, value: impl QueryValue) {
        self.query.push((name.into(), value.to_query()));
    }

    /// The current value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Sets the JSON request body.
    pub fn body<T: Serialize + ?Sized>(&mut self, body: &T) {
        match serde_json::to_value(body) {
            Ok(v) => {
                self.body = Some(v);
                self.body_error = None;
            }
            Err(e) => self.body_error = Some(e.to_string()),
        }
    }

    /// The JSON request body, if set.
    pub fn body_json(&self) -> Option<&serde_json::Value> {
        self.body.as_ref()
    }

    /// Sends `"field": null` for this dotted field path of the body (to clear a
    /// field in a PATCH). Absent fields are never sent; `Some(false)` or
    /// `Some(0)` are sent as such.
    pub fn null_field(&mut self, path: impl Into<String>) {
        self.null_fields.push(path.into());
    }

    /// Adds a request header.
    pub fn header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.headers.push((name.into(), value.into()));
    }

    /// The deadline of this call: every attempt, the backoff between them
    /// and the response body (media included) end within it.
    pub fn set_timeout(&mut self, total: Duration) {
        self.timeouts.total = Some(total);
    }

    /// The longest wait for response headers once the request is sent, per
    /// attempt of this call (instead of the client's).
    pub fn set_response_timeout(&mut self, timeout: Duration) {
        self.timeouts.response = Some(timeout);
    }

    /// The longest pause while sending or receiving a body, for this call
    /// (instead of the client's).
    pub fn set_idle_timeout(&mut self, timeout: Duration) {
        self.timeouts.idle = Some(timeout);
    }

    /// A retry policy for this call instead of the client's.
    pub fn set_retry_policy(&mut self, policy: RetryPolicy) {
        self.retry = Some(policy);
    }

    /// Declares whether this call may be retried after the server may have
    /// seen it (default: by HTTP method).
    pub fn set_idempotent(&mut self, idempotent: bool) {
        self.idempotent = Some(idempotent);
    }

    /// Builds the full URL for a path template, with the query string.
    pub(crate) fn url_for(&self, path: &str, extra: &[(&str, &str)]) -> Result<String> {
        let (mut out, path) = url::base_for(self.svc.root_url(), self.svc.service_path(), path);
        url::expand_path(&mut out, path, &self.path_params)
            .map_err(|e| Error::new(ErrorKind::Request, format!("{}: {e}", self.method.id)))?;
        url::append_query(
            &mut out,
            self.query
                .iter()
                .map(|(k, v)| (k.as_ref(), v.as_str()))
                .chain(extra.iter().copied()),
        );
        Ok(out)
    }

    /// The serialized JSON body with explicit nulls applied.
    pub(crate) fn body_bytes(&self) -> Result<Option<bytes::Bytes>> {
        if let Some(e) = &self.body_error {
            return Err(Error::new(
                ErrorKind::Request,
                format!(
                    "{}: the request body does not serialize: {e}",
                    self.method.id
                ),
            ));
        }
        let wrap = self.method.data_wrapper
            && self
                .body
                .as_ref()
                .is_some_and(|b| b.as_object().is_some_and(|o| !o.contains_key("data")));
        let mut body = match (&self.body, self.null_fields.is_empty() && !wrap) {
            (None, true) => return Ok(None),
            (Some(b), true) => return Ok(Some(serde_json::to_vec(b).unwrap_or_default().into())),
            (Some(b), false) => b.clone(),
            (None, false) => serde_json::Value::Object(Default::default()),
        };
        for path in &self.null_fields {
            set_null(&mut body, path).map_err(|why| {
                Error::new(
                    ErrorKind::Request,
                    format!("{}: null_field({path:?}): {why}", self.method.id),
                )
            })?;
        }
        if wrap {
            // `dataWrapper` APIs (translate v2): as google-api-python-client
            // does, an object body without a `data` member is wrapped.
            body = serde_json::json!({ "data": body });
        }
        Ok(Some(serde_json::to_vec(&body).unwrap_or_default().into()))
    }

    pub(crate) fn prepare(&self, path: &str, extra: &[(&str, &str)]) -> Result<Prepared> {
        let body = self
            .body_bytes()?
            .map(|b| (b, "application/json".to_owned()));
        Ok(Prepared {
            method: self.method.http_method.to_http(),
            url: self.url_for(path, extra)?,
            headers: self.headers.clone(),
            body,
            idempotent: self
                .idempotent
                .unwrap_or_else(|| self.method.is_idempotent()),
            timeouts: self.timeouts,
            retry: self.retry.clone(),
            what: self.method.id,
            stream: None,
            media: false,
        })
    }

    /// Sends the call and decodes the JSON response (`()`: whatever the body,
    /// for methods without a response).
    ///
    /// The request is made when `send` is called and sent when the future
    /// is awaited; the future holds the request, not the builder.
    pub fn send<T: DeserializeOwned + 'static>(self) -> impl Future<Output = Result<T>> {
        let method = self.method;
        match self.prepare(method.path, &[]) {
            // The error alone, not a `Result<T>`: the future is `Send`
            // whatever `T` is, as an `async fn`'s would be.
            Err(e) => Either::Left(std::future::ready(e).map(Err)),
            Ok(prepared) => {
                let svc = self.svc;
                Either::Right(async move {
                    let body = svc.client().execute_read(&prepared).await?;
                    decode_for(method, &body)
                })
            }
        }
    }

    /// Sends the call and discards the response body (methods without a
    /// response schema).
    pub fn send_empty(self) -> impl Future<Output = Result<()>> {
        // `decode_for` answers `()` whatever the body is.
        self.send::<()>()
    }
}

/// Decodes a JSON response body, naming the JSON path on failure.
///
/// One plain `serde_json` pass: each response type is instantiated once (the
/// generated crates' compile time is mostly deserializers). On failure the
/// JSON path is recovered from the error's position by [`json_path_at`], a
/// non-generic scan, so it costs nothing on success.
#[cfg(feature = "media")]
pub(crate) fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    decode_at(what, body, "")
}

/// [`decode`] for a method's response: the `data` member of a
/// `{"data": …}` body when the method's API wraps its bodies (`dataWrapper`,
/// e.g. translate v2; as in google-api-python-client, a body without `data`
/// decodes as it is).
pub(crate) fn decode_for<T: DeserializeOwned + 'static>(
    method: &MethodInfo,
    body: &[u8],
) -> Result<T> {
    // `()`: a method without a response schema; its body (`{}`, nothing)
    // means nothing.
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<()>() {
        let unit: Box<dyn std::any::Any> = Box::new(());
        if let Ok(t) = unit.downcast::<T>() {
            return Ok(*t);
        }
    }
    if method.data_wrapper
        && let Some(inner) = data_member(body)
    {
        return decode_at(method.id, inner, "data");
    }
    decode_at(method.id, body, "")
}

/// The raw text of the top-level `data` member, if `body` is an object with one.
fn data_member(body: &[u8]) -> Option<&[u8]> {
    #[derive(serde::Deserialize)]
    struct Wrapped<'a> {
        #[serde(borrow)]
        data: Option<&'a serde_json::value::RawValue>,
    }
    let w: Wrapped<'_> = serde_json::from_slice(body).ok()?;
    w.data.map(|raw| raw.get().as_bytes())
}

/// [`decode`] of `body`, which sits at JSON path `prefix` of the response.
fn decode_at<T: DeserializeOwned>(what: &str, body: &[u8], prefix: &str) -> Result<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    let parsed = match std::str::from_utf8(body) {
        // Every JSON text is UTF-8: checked once for the whole body, it is
        // parsed as text, and no string in it is checked again.
        Ok(text) => serde_json::from_str(text),
        // Not UTF-8: the byte parser finds the bad byte and says where.
        Err(_) => serde_json::from_slice(body),
    };
    parsed.map_err(|e| decode_error(what, &e, body, prefix))
}

/// Decodes JSON into a generated type (or any `DeserializeOwned` type)
/// exactly as responses are decoded: one pass, and on failure a
/// [decode error](crate::Error::is_decode) that names the JSON path of the
/// value that did not fit. For bodies kept from earlier calls, push
/// payloads, fixtures.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    decode_at("JSON", body, "")
}

fn decode_error(what: &str, e: &serde_json::Error, body: &[u8], prefix: &str) -> Error {
    let path = json_path_at(body, e.line(), e.column());
    let path = match (prefix, path.as_str()) {
        ("", _) => path,
        (p, ".") => p.to_owned(),
        (p, rest) if rest.starts_with('[') => format!("{p}{rest}"),
        (p, rest) => format!("{p}.{rest}"),
    };
    Error::decode_at(&format!("the {what} response"), e, body, Some(&path))
}

/// The JSON path (`items[1].n`, `.` for the root) of the value being read at
/// `line`/`column` (1-based, as serde_json reports positions).
pub(crate) fn json_path_at(body: &[u8], line: usize, column: usize) -> String {
    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    let mut offset = body.len();
    let mut l = 1;
    for (i, &b) in body.iter().enumerate() {
        if l == line {
            offset = (i + column).min(body.len());
            break;
        }
        if b == b'\n' {
            l += 1;
        }
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut expecting_key = false;
    let mut i = 0;
    while i < offset {
        match body[i] {
            b'{' => {
                stack.push(Frame::Object(None));
                expecting_key = true;
            }
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(n)) => *n += 1,
                Some(Frame::Object(_)) => expecting_key = true,
                None => {}
            },
            b'"' => {
                let start = i;
                i += 1;
                while i < body.len() && body[i] != b'"' {
                    i += if body[i] == b'\\' { 2 } else { 1 };
                }
                if expecting_key {
                    let key = body
                        .get(start..=i)
                        .and_then(|k| serde_json::from_slice(k).ok());
                    if let Some(Frame::Object(slot)) = stack.last_mut() {
                        *slot = key;
                    }
                    expecting_key = false;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut out = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(k)) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Frame::Object(None) => {}
            Frame::Array(n) => out.push_str(&format!("[{n}]")),
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

fn set_null(body: &mut serde_json::Value, path: &str) -> std::result::Result<(), &'static str> {
    let mut cur = body;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let obj = cur
            .as_object_mut()
            .ok_or("a parent of the field is not an object")?;
        if parts.peek().is_none() {
            obj.insert(part.to_owned(), serde_json::Value::Null);
            return Ok(());
        }
        cur = obj
            .entry(part.to_owned())
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
    }
    Err("empty path")
}

/// Implemented by every generated method builder (the `Call<M>` of
/// [`method_builder!`](crate::method_builder)): its response type and the
/// underlying [`Call`], which is what `Batch::add` (feature `batch`)
/// takes. Parameters and call options are the builder's own methods (the
/// options all `with_*`), so this trait never needs importing.
pub trait CallBuilder: Sized {
    /// The decoded response type (`()` for methods without one).
    type Response;

    /// The call being built.
    fn call_mut(&mut self) -> &mut Call;

    /// Gives up the builder for its call (e.g. to add it to a batch).
    fn into_call(self) -> Call;
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::method::{HttpMethod, ServiceInfo};

    static SVC: ServiceInfo = ServiceInfo {
        name: "x",
        version: "v1",
        revision: "1",
        title: "X",
        root_url: "https://x.googleapis.com/",
        service_path: "x/v1/",
        batch_path: Some("batch"),
    };
    static M: MethodInfo = MethodInfo {
        id: "x.things.patch",
        http_method: HttpMethod::Patch,
        path: "things/{+name}",
        ..MethodInfo::DEFAULT
    };

    /// A call of a PATCH method on a service nothing answers.
    pub(crate) fn call() -> Call {
        let client = crate::Client::new(crate::Credentials::anonymous()).unwrap();
        Call::new(&crate::Service::new(client, &SVC), &M)
    }

    #[test]
    fn url_has_params_and_repeated_keys() {
        let mut c = call();
        c.path_param("name", "a/b c");
        c.query("updateMask", "x,y");
        c.query("updateMask", "z");
        c.query_append("tag", "1");
        c.query_append("tag", "2");
        c.query("flag", false);
        c.query("big", 9007199254740993i64);
        let u = c.url_for(M.path, &[]).unwrap();
        assert_eq!(
            u,
            "https://x.googleapis.com/x/v1/things/a/b%20c?updateMask=z&tag=1&tag=2&flag=false&big=9007199254740993"
        );
    }

    #[test]
    fn null_false_absent_are_distinct() {
        #[derive(Serialize)]
        struct B {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<bool>,
            #[serde(skip_serializing_if = "Option::is_none")]
            b: Option<String>,
        }
        let mut c = call();
        c.body(&B {
            a: Some(false),
            b: None,
        });
        c.null_field("c.d");
        let body = c.body_bytes().unwrap().unwrap();
        assert_eq!(&body[..], br#"{"a":false,"c":{"d":null}}"#);
    }

    #[test]
    fn json_paths_from_positions() {
        let body = br#"{"a": {"b": [1, {"c": "x"}], "d\"e": true}}"#;
        let at = |needle: &str| {
            let pos = String::from_utf8_lossy(body).find(needle).unwrap() + needle.len();
            json_path_at(body, 1, pos)
        };
        assert_eq!(at("\"x"), "a.b[1].c");
        assert_eq!(at("tru"), "a.d\"e");
        assert_eq!(at("[1"), "a.b[0]");
        assert_eq!(json_path_at(br#""x""#, 1, 3), ".");
        let multi = b"{\n  \"k\": [\n    1,\n    \"no\"\n  ]\n}";
        assert_eq!(json_path_at(multi, 4, 8), "k[1]");
    }

    #[test]
    fn decode_names_json_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct R {
            items: Vec<I>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct I {
            n: u32,
        }
        let err = decode::<R>("x.list", br#"{"items":[{"n":1},{"n":"two"}]}"#).unwrap_err();
        assert!(err.is_decode());
        assert!(err.to_string().contains("items[1].n"), "{err}");
    }

    #[test]
    fn from_json_checks_utf8_once_and_names_the_bad_string() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct R {
            items: Vec<String>,
        }
        let ok: R = from_json(r#"{"items":["a","é"]}"#.as_bytes()).unwrap();
        assert_eq!(ok.items, ["a", "é"]);
        // a stray Latin-1 byte inside the second string
        let err = from_json::<R>(b"{\"items\":[\"a\",\"\xe9t\xe9\"]}").unwrap_err();
        assert!(err.is_decode());
        assert!(err.to_string().contains("items[1]"), "{err}");
        // and a type error in valid UTF-8 keeps its path
        let err = from_json::<R>(r#"{"items":["a",2]}"#.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("items[1]"), "{err}");
    }

    static WRAPPED: MethodInfo = MethodInfo {
        id: "language.translations.translate",
        http_method: HttpMethod::Post,
        path: "v2",
        data_wrapper: true,
        ..MethodInfo::DEFAULT
    };

    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Translations {
        translations: Vec<Translation>,
    }
    #[derive(serde::Deserialize, serde::Serialize, Debug, PartialEq)]
    struct Translation {
        #[serde(rename = "translatedText")]
        translated_text: String,
    }

    #[test]
    fn data_wrapper_bodies_are_unwrapped_and_wrapped() {
        // response: {"data": …} unwrapped; a body without `data` as it is
        let body = br#"{"data":{"translations":[{"translatedText":"Hallo"}]}}"#;
        let t: Translations = decode_for(&WRAPPED, body).unwrap();
        assert_eq!(t.translations[0].translated_text, "Hallo");
        let plain = br#"{"translations":[]}"#;
        assert!(
            decode_for::<Translations>(&WRAPPED, plain)
                .unwrap()
                .translations
                .is_empty()
        );
        // not unwrapped for other APIs: the wrapper is not the type
        assert!(decode_for::<Translations>(&M, body).is_err());
        // errors name the path inside the wrapper
        let bad = br#"{"data":{"translations":[{"translatedText":7}]}}"#;
        let err = decode_for::<Translations>(&WRAPPED, bad).unwrap_err();
        assert!(
            err.to_string()
                .contains("data.translations[0].translatedText"),
            "{err}"
        );
        // request: an object body gets wrapped, once
        let client = crate::Client::new(crate::Credentials::anonymous()).unwrap();
        let mut c = Call::new(&crate::Service::new(client, &SVC), &WRAPPED);
        c.body(&serde_json::json!({"q": ["hi"], "target": "de"}));
        let sent: serde_json::Value =
            serde_json::from_slice(&c.body_bytes().unwrap().unwrap()).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"data": {"q": ["hi"], "target": "de"}})
        );
        c.body(&serde_json::json!({"data": {"q": ["hi"]}}));
        let sent: serde_json::Value =
            serde_json::from_slice(&c.body_bytes().unwrap().unwrap()).unwrap();
        assert_eq!(sent, serde_json::json!({"data": {"q": ["hi"]}}));
        // other APIs' bodies are sent as they are
        let mut c = call();
        c.body(&serde_json::json!({"q": 1}));
        let sent: serde_json::Value =
            serde_json::from_slice(&c.body_bytes().unwrap().unwrap()).unwrap();
        assert_eq!(sent, serde_json::json!({"q": 1}));
    }
}
#[cfg(test)]
mod future_size {
    /// A caller's future holds `send`'s inline: the attempt's state (the
    /// connection's futures, timers, the response being read) is boxed
    /// once, and the future holds the request, not the builder beside it
    /// twice (968 bytes as an `async fn`), so moving the caller's future
    /// copies under half a kilobyte.
    #[test]
    fn the_future_of_send_stays_small() {
        let send = super::tests::call().send::<serde_json::Value>();
        let size = std::mem::size_of_val(&send);
        assert!(size <= 512, "Call::send's future is {size} bytes");
        fn spawnable<F: Send + 'static>(_: &F) {}
        spawnable(&send);
    }
}
