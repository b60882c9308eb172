//! `gapi::method_builder!` as generated code uses it: a hand-written
//! module in the shape the generator emits (marker types, `Call<M>` with
//! the method's parameters as an inherent impl), driven against the
//! scripted server. The parameters and the `with_*` options never collide —
//! a method with its own `timeout` parameter keeps both — and nothing but
//! the module's types is imported to use them.

mod http_support;

use std::time::Duration;

use http_support::{RecordingClock, SVC, scripted_server};

/// What a generated module looks like (the parts that matter here).
mod things {
    use serde::Deserialize;

    ::gapi::method_builder!();

    #[derive(Deserialize, Debug, Default)]
    pub struct Operation {
        pub name: Option<String>,
    }

    #[derive(Deserialize, Debug, Default)]
    #[serde(rename_all = "camelCase")]
    pub struct ItemList {
        pub items: Option<Vec<Operation>>,
        pub next_page_token: Option<String>,
    }
    impl ::gapi::Page for ItemList {
        fn next_page_token(&self) -> Option<&str> {
            self.next_page_token.as_deref()
        }
    }
    impl ::gapi::PageItems for ItemList {
        type Item = Operation;
        fn into_items(self) -> Vec<Operation> {
            self.items.unwrap_or_default()
        }
    }

    static WAIT: ::gapi::MethodInfo = ::gapi::MethodInfo {
        id: "things.operations.wait",
        http_method: ::gapi::HttpMethod::Post,
        path: "operations/{+name}:wait",
        ..::gapi::MethodInfo::DEFAULT
    };
    /// `things.operations.wait`.
    pub struct Wait;
    impl ::gapi::MethodSpec for Wait {
        type Response = Operation;
        const METHOD: &'static ::gapi::MethodInfo = &WAIT;
    }
    pub type WaitCall = Call<Wait>;
    impl Call<Wait> {
        /// The API's own `timeout` parameter (a duration string).
        pub fn timeout(mut self, value: impl Into<String>) -> Self {
            self.call.query("timeout", value.into());
            self
        }
    }

    static LIST: ::gapi::MethodInfo = ::gapi::MethodInfo {
        id: "things.list",
        http_method: ::gapi::HttpMethod::Get,
        path: "items",
        pagination: Some(::gapi::PaginationInfo {
            token_param: "pageToken",
            location: ::gapi::TokenLocation::Query,
        }),
        ..::gapi::MethodInfo::DEFAULT
    };
    pub struct List;
    impl ::gapi::MethodSpec for List {
        type Response = ItemList;
        const METHOD: &'static ::gapi::MethodInfo = &LIST;
    }
    impl Call<List> {
        /// A repeated parameter: any iterator of values.
        pub fn tags<I>(mut self, values: I) -> Self
        where
            I: IntoIterator,
            I::Item: Into<String>,
        {
            for v in values {
                self.call.query_append("tags", v.into());
            }
            self
        }
    }

    static DELETE: ::gapi::MethodInfo = ::gapi::MethodInfo {
        id: "things.delete",
        http_method: ::gapi::HttpMethod::Delete,
        path: "items/{name}",
        ..::gapi::MethodInfo::DEFAULT
    };
    pub struct Delete;
    impl ::gapi::MethodSpec for Delete {
        type Response = ();
        const METHOD: &'static ::gapi::MethodInfo = &DELETE;
    }

    /// The resource, as the service hands it out.
    pub struct Things(pub ::gapi::Service);
    impl Things {
        pub fn wait(&self, name: &str) -> WaitCall {
            let mut call = ::gapi::Call::new(&self.0, &WAIT);
            call.path_param("name", name.to_owned());
            Call::from_call(call)
        }
        pub fn list(&self) -> Call<List> {
            Call::from_call(::gapi::Call::new(&self.0, &LIST))
        }
        pub fn delete(&self, name: &str) -> Call<Delete> {
            let mut call = ::gapi::Call::new(&self.0, &DELETE);
            call.path_param("name", name.to_owned());
            Call::from_call(call)
        }
    }
}

fn service(base: &str) -> things::Things {
    let client = gapi::Client::builder()
        .clock(std::sync::Arc::new(RecordingClock::default()))
        .build()
        .unwrap();
    things::Things(gapi::Service::new(client, &SVC).with_root_url(base))
}

#[tokio::test]
async fn an_api_timeout_parameter_and_the_call_deadline_side_by_side() {
    let (base, seen) = scripted_server(r#"{"name":"operations/op-1"}"#).await;
    let op = service(&base)
        .wait("operations/op-1")
        .timeout("30s")
        .with_timeout(Duration::from_secs(45))
        .with_header("x-trace", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(op.name.as_deref(), Some("operations/op-1"));
    let reqs = seen.requests.lock().unwrap();
    let (method, uri, headers, _) = &reqs[0];
    assert_eq!(method, "POST");
    assert_eq!(
        uri,
        "/things/v1/operations/operations/op-1:wait?timeout=30s"
    );
    assert_eq!(headers["x-trace"], "1");
}

#[tokio::test]
async fn repeated_parameters_pages_items_and_an_empty_response() {
    use futures_util::TryStreamExt as _;
    let (base, seen) = scripted_server("{}").await;
    seen.script.lock().unwrap().extend([
        (
            200,
            vec![],
            r#"{"items":[{"name":"a"}],"nextPageToken":"p2"}"#.to_owned(),
        ),
        (200, vec![], r#"{"items":[{"name":"b"}]}"#.to_owned()),
    ]);
    let svc = service(&base);
    let names: Vec<String> = svc
        .list()
        .tags(["x", "y"])
        .tags(vec!["z".to_owned()])
        .tags(Some("w"))
        .items()
        .map_ok(|o| o.name.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names, ["a", "b"]);
    {
        let reqs = seen.requests.lock().unwrap();
        assert_eq!(reqs[0].1, "/things/v1/items?tags=x&tags=y&tags=z&tags=w");
        assert_eq!(
            reqs[1].1,
            "/things/v1/items?tags=x&tags=y&tags=z&tags=w&pageToken=p2"
        );
    }
    // `()`: the body of a method without a response means nothing.
    svc.delete("a").send().await.unwrap();
    // and the builder goes into a batch like any other
    let mut batch = gapi::Batch::new(&svc.0);
    let _ = batch.add(svc.delete("b"));
    assert_eq!(batch.len(), 1);
}
