//! translate v2 (`features: ["dataWrapper"]`) through its generated client
//! against a local server that speaks like the real one: request bodies go
//! out as `{"data": …}` and responses come back wrapped the same way.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::routing::post;
use gapi_translate_v2::TranslateService;
use gapi_translate_v2::schemas::TranslateTextRequest;
use serde_json::{Value, json};

#[derive(Default)]
struct Seen {
    bodies: Vec<Value>,
    queries: Vec<String>,
}

type Shared = Arc<Mutex<Seen>>;

async fn translate(State(seen): State<Shared>, body: Bytes) -> axum::Json<Value> {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let texts: Vec<String> = body["data"]["q"]
        .as_array()
        .map(|q| {
            q.iter()
                .filter_map(|t| t.as_str())
                .map(|t| format!("<{t}>"))
                .collect()
        })
        .unwrap_or_default();
    seen.lock().unwrap().bodies.push(body);
    axum::Json(json!({"data": {"translations": texts
        .iter()
        .map(|t| json!({"translatedText": t, "detectedSourceLanguage": "en"}))
        .collect::<Vec<_>>()}}))
}

async fn list(State(seen): State<Shared>, RawQuery(q): RawQuery) -> axum::Json<Value> {
    seen.lock().unwrap().queries.push(q.unwrap_or_default());
    axum::Json(json!({"data": {"translations": [{"translatedText": "Hallo"}]}}))
}

async fn server() -> (String, Shared) {
    let seen = Shared::default();
    let app = Router::new()
        .route("/language/translate/v2", post(translate).get(list))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/"), seen)
}

#[tokio::test]
async fn bodies_travel_wrapped_in_data_both_ways() {
    let (url, seen) = server().await;
    let client = gapi::Client::new(gapi::Credentials::anonymous()).unwrap();
    let api = TranslateService::new(client).with_root_url(url);

    let out = api
        .translations()
        .translate(TranslateTextRequest {
            q: Some(vec!["hello".into(), "world".into()]),
            target: Some("de".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let got: Vec<_> = out
        .translations
        .unwrap()
        .into_iter()
        .map(|t| {
            (
                t.translated_text.unwrap(),
                t.detected_source_language.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("<hello>".to_string(), "en".to_string()),
            ("<world>".into(), "en".into())
        ]
    );
    assert_eq!(
        seen.lock().unwrap().bodies,
        [json!({"data": {"q": ["hello", "world"], "target": "de"}})]
    );

    let listed = api
        .translations()
        .list(["a", "b"], "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed.translations.unwrap()[0].translated_text.as_deref(),
        Some("Hallo")
    );
    assert_eq!(seen.lock().unwrap().queries, ["q=a&q=b&target=fr"]);
}
