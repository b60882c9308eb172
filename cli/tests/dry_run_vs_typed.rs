//! `gapi --dry-run` prints what the generated typed client sends for the
//! same call: identical method, URL and body, for a sample of methods
//! across 12 APIs — path templates with `{var}` and `{+var}`, repeated and
//! enum parameters, int32/uint32/int64/uint64 and float values, bodies with
//! int64 members given as JSON numbers, base64 in the URL-safe alphabet,
//! `dataWrapper`, and a media upload.
//!
//! The typed side is captured by a recording server (what really arrived);
//! the CLI side is its `--dry-run` output (its own recorder, the same
//! runtime). The 8 committed generated crates always; pubsub, secretmanager,
//! iam and bigquery generated at build time from `../shared` (skipped with a
//! message without it; mandatory with `GAPI_REQUIRE_SHARED=1`).

mod support;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{Method, Uri};
use serde_json::{Value, json};
use support::{repo, run};

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    body: Vec<u8>,
}

async fn recorder() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push(Seen {
                method: method.to_string(),
                target: uri
                    .path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
                body: body.to_vec(),
            });
            ([("content-type", "application/json")], "{}")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let root = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (root, seen)
}

fn client() -> gapi::Client {
    gapi::Client::builder()
        .retry_policy(gapi::RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        })
        .build()
        .unwrap()
}

type Typed = Box<dyn FnOnce(String) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

struct Case {
    doc: PathBuf,
    cli: Vec<String>,
    typed: Typed,
}

fn committed(name: &str) -> PathBuf {
    repo().join("discovery-docs").join(format!("{name}.json"))
}

fn shared(name: &str) -> PathBuf {
    repo()
        .join("../shared/discovery-docs")
        .join(format!("{name}.json"))
}

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

macro_rules! case {
    ($doc:expr, [$($w:expr),* $(,)?], |$root:ident| $typed:expr) => {
        Case {
            doc: $doc,
            cli: vec![$($w.to_string()),*],
            typed: Box::new(move |$root: String| Box::pin(async move { $typed; })),
        }
    };
}

/// Sends a typed builder's call, ignoring the recorder's answer.
async fn send<B: gapi::CallBuilder>(b: B) {
    let _ = b.into_call().send::<Value>().await;
}

fn cases() -> Vec<Case> {
    use gapi_calendar_v3::CalendarService as Calendar;
    use gapi_drive_v3::DriveService as Drive;
    use gapi_gmail_v1::GmailService as Gmail;
    use gapi_sheets_v4::SheetsService as Sheets;
    use gapi_storage_v1::StorageService as Storage;
    use gapi_tasks_v1::TasksService as Tasks;
    use gapi_translate_v2::TranslateService as Translate;
    use gapi_youtube_v3::YoutubeService as Youtube;
    let mut v = vec![
        case!(
            committed("tasks.v1"),
            [
                "tasks",
                "tasks",
                "list",
                "-p",
                "tasklist=@default",
                "-p",
                "maxResults=010",
                "-p",
                "showCompleted=true",
                "-p",
                "dueMin=2026-01-01T00:00:00Z"
            ],
            |root| {
                let t = Tasks::new(client()).with_root_url(root);
                send(
                    t.tasks()
                        .list("@default")
                        .max_results(10)
                        .show_completed(true)
                        .due_min("2026-01-01T00:00:00Z"),
                )
                .await
            }
        ),
        case!(
            committed("tasks.v1"),
            [
                "tasks",
                "tasks",
                "patch",
                "-p",
                "tasklist=L 1",
                "-p",
                "task=t/2",
                "--body",
                r#"{"title":"x","status":"completed","notes":null}"#
            ],
            |root| {
                let t = Tasks::new(client()).with_root_url(root);
                send(
                    t.tasks()
                        .patch(
                            "L 1",
                            "t/2",
                            from(json!({"title": "x", "status": "completed"})),
                        )
                        .with_null_field("notes"),
                )
                .await
            }
        ),
        case!(
            committed("drive.v3"),
            [
                "drive",
                "files",
                "list",
                "-p",
                "q=name contains 'a b' and trashed=false",
                "-p",
                "pageSize=10",
                "-p",
                "corpora=user",
                "--fields",
                "files(id,name),nextPageToken"
            ],
            |root| {
                let d = Drive::new(client()).with_root_url(root);
                send(
                    d.files()
                        .list()
                        .q("name contains 'a b' and trashed=false")
                        .page_size(10)
                        .corpora("user")
                        .fields("files(id,name),nextPageToken"),
                )
                .await
            }
        ),
        case!(
            committed("drive.v3"),
            [
                "drive",
                "comments",
                "create",
                "-p",
                "fileId=f1",
                "--body",
                r#"{"content":"hi","anchor":"{\"r\":1}"}"#
            ],
            |root| {
                let d = Drive::new(client()).with_root_url(root);
                send(
                    d.comments()
                        .create("f1", from(json!({"content": "hi", "anchor": "{\"r\":1}"}))),
                )
                .await
            }
        ),
        case!(
            committed("gmail.v1"),
            [
                "gmail",
                "users",
                "messages",
                "list",
                "-p",
                "userId=me",
                "-p",
                "maxResults=5",
                "-p",
                "includeSpamTrash=false",
                "-p",
                "labelIds=INBOX",
                "-p",
                "labelIds=UNREAD"
            ],
            |root| {
                // Repeated values through `Call::query_append`, the call
                // every generated repeated setter makes, whatever its shape.
                let g = Gmail::new(client()).with_root_url(root);
                let mut call = g
                    .users()
                    .messages()
                    .list("me")
                    .max_results(5)
                    .include_spam_trash(false)
                    .into_call();
                call.query_append("labelIds", "INBOX");
                call.query_append("labelIds", "UNREAD");
                let _ = call.send::<Value>().await;
            }
        ),
        case!(
            committed("calendar.v3"),
            [
                "calendar",
                "events",
                "list",
                "-p",
                "calendarId=team#room@group.calendar.google.com",
                "-p",
                "orderBy=startTime",
                "-p",
                "singleEvents=true",
                "-p",
                "timeMin=2026-01-01T00:00:00Z",
                "-p",
                "maxResults=3"
            ],
            |root| {
                let c = Calendar::new(client()).with_root_url(root);
                send(
                    c.events()
                        .list("team#room@group.calendar.google.com")
                        .order_by("startTime")
                        .single_events(true)
                        .time_min(gapi::types::DateTime::from_wire("2026-01-01T00:00:00Z"))
                        .max_results(3),
                )
                .await
            }
        ),
        case!(
            committed("sheets.v4"),
            [
                "sheets",
                "spreadsheets",
                "values",
                "get",
                "-p",
                "spreadsheetId=s1",
                "-p",
                "range=Sheet 1!A1:B2",
                "-p",
                "valueRenderOption=FORMULA"
            ],
            |root| {
                let s = Sheets::new(client()).with_root_url(root);
                send(
                    s.spreadsheets()
                        .values()
                        .get("s1", "Sheet 1!A1:B2")
                        .value_render_option("FORMULA"),
                )
                .await
            }
        ),
        case!(
            committed("sheets.v4"),
            [
                "sheets",
                "spreadsheets",
                "values",
                "update",
                "-p",
                "spreadsheetId=s1",
                "-p",
                "range=A1",
                "-p",
                "valueInputOption=RAW",
                "--body",
                r#"{"majorDimension":"ROWS","values":[["a",1,2.5,true]]}"#
            ],
            |root| {
                let s = Sheets::new(client()).with_root_url(root);
                send(
                    s.spreadsheets()
                        .values()
                        .update(
                            "s1",
                            "A1",
                            from(
                                json!({"majorDimension": "ROWS", "values": [["a", 1, 2.5, true]]}),
                            ),
                        )
                        .value_input_option("RAW"),
                )
                .await
            }
        ),
        case!(
            committed("storage.v1"),
            [
                "storage",
                "objects",
                "get",
                "-p",
                "bucket=b",
                "-p",
                "object=dir/a b.txt",
                "-p",
                "ifGenerationMatch=42",
                "-p",
                "projection=noAcl"
            ],
            |root| {
                let s = Storage::new(client()).with_root_url(root);
                send(
                    s.objects()
                        .get("b", "dir/a b.txt")
                        .if_generation_match(42)
                        .projection("noAcl"),
                )
                .await
            }
        ),
        case!(
            committed("storage.v1"),
            [
                "storage",
                "buckets",
                "insert",
                "-p",
                "project=p",
                "--body",
                r#"{"name":"b","retentionPolicy":{"retentionPeriod":86400},"labels":{"k":"v"}}"#
            ],
            |root| {
                let s = Storage::new(client()).with_root_url(root);
                send(s.buckets().insert("p", from(json!({"name": "b", "retentionPolicy": {"retentionPeriod": "86400"}, "labels": {"k": "v"}})))).await
            }
        ),
        case!(
            committed("youtube.v3"),
            [
                "youtube",
                "videos",
                "list",
                "-p",
                "part=snippet",
                "-p",
                "part=statistics",
                "-p",
                "id=abc",
                "-p",
                "maxResults=3"
            ],
            |root| {
                let y = Youtube::new(client()).with_root_url(root);
                send(
                    y.videos()
                        .list(["snippet", "statistics"])
                        .add_id("abc")
                        .max_results(3),
                )
                .await
            }
        ),
        case!(
            committed("translate.v2"),
            [
                "translate",
                "translations",
                "translate",
                "--body",
                r#"{"q":["hello","world"],"target":"de","format":"text"}"#
            ],
            |root| {
                let t = Translate::new(client()).with_root_url(root);
                send(t.translations().translate(from(
                    json!({"q": ["hello", "world"], "target": "de", "format": "text"}),
                )))
                .await
            }
        ),
    ];
    v.extend(shared_cases());
    v
}

/// The cases of the clients generated at build time from `../shared`;
/// each block is compiled only when its module exists.
fn shared_cases() -> Vec<Case> {
    let mut v: Vec<Case> = Vec::new();
    v.extend(gapi_cli_typed_fixtures::with_pubsub_v1!({
        use gapi_cli_typed_fixtures::pubsub_v1::PubsubService as Pubsub;
        vec![case!(shared("pubsub.v1"), ["pubsub", "projects", "topics", "publish", "-p", "topic=projects/p/topics/t", "--body", r#"{"messages":[{"data":"-_-_","attributes":{"k":"v"}}]}"#], |root| {
            let p = Pubsub::new(client()).with_root_url(root);
            send(p.projects().topics().publish("projects/p/topics/t", from(json!({"messages": [{"data": "-_-_", "attributes": {"k": "v"}}]})))).await
        })]
    } else {
        Vec::new()
    }));
    v.extend(gapi_cli_typed_fixtures::with_secretmanager_v1!({
        use gapi_cli_typed_fixtures::secretmanager_v1::SecretmanagerService as Secretmanager;
        vec![
            case!(shared("secretmanager.v1"), ["secretmanager", "projects", "secrets", "versions", "access", "-p", "name=projects/p/secrets/s/versions/latest"], |root| {
                let s = Secretmanager::new(client()).with_root_url(root);
                send(s.projects().secrets().versions().access("projects/p/secrets/s/versions/latest")).await
            }),
            case!(shared("secretmanager.v1"), ["secretmanager", "projects", "secrets", "list", "-p", "parent=projects/p", "-p", "pageSize=5", "-p", "filter=name:a b"], |root| {
                let s = Secretmanager::new(client()).with_root_url(root);
                send(s.projects().secrets().list("projects/p").page_size(5).filter("name:a b")).await
            }),
        ]
    } else {
        Vec::new()
    }));
    v.extend(gapi_cli_typed_fixtures::with_iam_v1!({
        use gapi_cli_typed_fixtures::iam_v1::IamService as Iam;
        vec![case!(shared("iam.v1"), ["iam", "projects", "serviceAccounts", "get", "-p", "name=projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com"], |root| {
            let i = Iam::new(client()).with_root_url(root);
            send(i.projects().service_accounts().get("projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com")).await
        })]
    } else {
        Vec::new()
    }));
    v.extend(gapi_cli_typed_fixtures::with_bigquery_v2!({
        use gapi_cli_typed_fixtures::bigquery_v2::BigqueryService as Bigquery;
        vec![
            case!(shared("bigquery.v2"), ["bigquery", "tabledata", "list", "-p", "projectId=p", "-p", "datasetId=d", "-p", "tableId=t", "-p", "maxResults=10", "-p", "startIndex=12345678901234"], |root| {
                let b = Bigquery::new(client()).with_root_url(root);
                send(b.tabledata().list("p", "d", "t").max_results(10).start_index(12345678901234)).await
            }),
            case!(shared("bigquery.v2"), ["bigquery", "jobs", "query", "-p", "projectId=my-project", "--body", r#"{"query":"SELECT 1","maximumBytesBilled":1000000000000,"maxResults":10,"useLegacySql":false}"#], |root| {
                let b = Bigquery::new(client()).with_root_url(root);
                send(b.jobs().query("my-project", from(json!({"query": "SELECT 1", "maximumBytesBilled": "1000000000000", "maxResults": 10, "useLegacySql": false})))).await
            }),
        ]
    } else {
        Vec::new()
    }));
    v
}

fn compare(cli: &Value, typed: &Seen, root: &str, what: &str) {
    assert_eq!(cli["method"], typed.method, "{what}: method");
    let url = format!("{}{}", root.trim_end_matches('/'), typed.target);
    assert_eq!(cli["url"], url, "{what}: URL");
    if typed.body.is_empty() {
        assert!(cli.get("body").is_none(), "{what}: no body: {cli}");
        return;
    }
    let typed_body = match serde_json::from_slice::<Value>(&typed.body) {
        Ok(v) => v,
        Err(_) => Value::String(String::from_utf8_lossy(&typed.body).into_owned()),
    };
    assert_eq!(cli["body"], typed_body, "{what}: body");
    assert_eq!(cli["body_length"], typed.body.len(), "{what}: body bytes");
}

#[tokio::test]
async fn dry_run_matches_the_typed_client() {
    let (root, seen) = recorder().await;
    let dir = tempfile::tempdir().unwrap();
    let mut apis = std::collections::BTreeSet::new();
    let missing: Vec<&str> = ["pubsub_v1", "secretmanager_v1", "iam_v1", "bigquery_v2"]
        .into_iter()
        .filter(|m| !gapi_cli_typed_fixtures::PRESENT.contains(m))
        .collect();
    if !missing.is_empty() {
        assert!(
            std::env::var("GAPI_REQUIRE_SHARED").as_deref() != Ok("1"),
            "GAPI_REQUIRE_SHARED=1 but the typed fixtures lack {missing:?} (no ../shared)"
        );
        eprintln!("skipped {missing:?}: ../shared/discovery-docs is not present");
    }
    let cases = cases();
    let n = cases.len();
    for case in cases {
        let what = case.cli.join(" ");
        seen.lock().unwrap().clear();
        (case.typed)(root.clone()).await;
        let typed = seen.lock().unwrap().clone();
        assert_eq!(typed.len(), 1, "{what}: the typed client sent one request");
        let doc = case.doc.display().to_string();
        let mut args: Vec<&str> = case.cli.iter().map(String::as_str).collect();
        args.extend([
            "--dry-run",
            "--anonymous",
            "--root-url",
            &root,
            "--discovery-file",
            &doc,
        ]);
        let out = run(dir.path(), &args).await;
        let cli = out.ok().json();
        compare(&cli, &typed[0], &root, &what);
        assert!(
            seen.lock().unwrap().len() == 1,
            "{what}: the dry run sent nothing"
        );
        apis.insert(case.cli[0].clone());
    }
    println!("{n} methods across {} APIs: identical", apis.len());
    if missing.is_empty() {
        assert!(apis.len() >= 12, "{apis:?}");
    }
}

#[tokio::test]
async fn a_media_upload_matches_the_typed_client() {
    let (root, seen) = recorder().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("up.txt");
    std::fs::write(&file, "hello media\n").unwrap();
    let s = gapi_storage_v1::StorageService::new(client()).with_root_url(&root);
    let _ = s
        .objects()
        .insert("b", gapi_storage_v1::schemas::Object::default())
        .name("dir/up.txt")
        .if_generation_match(0)
        .into_call()
        .upload_with::<Value>(
            gapi::Media::from_bytes(&b"hello media\n"[..], "text/plain"),
            gapi::UploadProtocol::Simple,
        )
        .await;
    let typed = seen.lock().unwrap().clone();
    assert_eq!(typed.len(), 1);
    let doc = committed("storage.v1").display().to_string();
    let f = file.display().to_string();
    let out = run(
        dir.path(),
        &[
            "storage",
            "objects",
            "insert",
            "-p",
            "bucket=b",
            "-p",
            "name=dir/up.txt",
            "-p",
            "ifGenerationMatch=0",
            "--upload",
            &f,
            "--upload-content-type",
            "text/plain",
            "--upload-protocol",
            "simple",
            "--dry-run",
            "--anonymous",
            "--root-url",
            &root,
            "--discovery-file",
            &doc,
        ],
    )
    .await;
    let cli = out.ok().json();
    compare(&cli, &typed[0], &root, "simple upload");
    assert_eq!(cli["headers"]["content-type"], "text/plain");
}
