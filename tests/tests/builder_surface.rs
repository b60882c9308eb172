//! The generated clients as a user writes against them, importing nothing
//! but the service types: standard parameters and `with_*` call options
//! straight on the builder, an API's own `timeout` parameter next to the
//! call's deadline, typed media (forced resumable, media alone), repeated
//! parameters from a `Vec`, an array and an iterator, parameter enums from
//! the crate's `params`, `#[deprecated]` parameters, reserved expansion —
//! against the stand-in (a read-modify-write through a client that does not
//! know every field the server holds) and a local recording server.

mod support;

use std::time::{Duration, Instant};

use gapi_e2e::colaboratory_v1::ColaboratoryService;
use gapi_e2e::drive_v3::DriveService;
use gapi_e2e::tasks_v1_older::TasksService as OlderTasksService;
use gapi_storage_v1::StorageService;
use support::{anonymous, recording_server};

#[tokio::test]
async fn read_modify_write_keeps_the_fields_an_older_document_does_not_know() {
    let w = gapi_e2e::world().await;
    let list = w
        .tasks
        .tasklists()
        .insert(gapi_tasks_v1::schemas::TaskList {
            title: Some("older".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    // Written with the current document: notes and a due date.
    let full = w
        .tasks
        .tasks()
        .insert(
            &list,
            gapi_tasks_v1::schemas::Task {
                title: Some("write the report".into()),
                notes: Some("with the figures of March".into()),
                due: Some("2026-04-01T00:00:00.000Z".into()),
                ..Default::default()
            },
        )
        .send()
        .await
        .unwrap();
    let id = full.id.clone().unwrap();

    // Read, modified and written back in full (`update` replaces the
    // resource) by a client whose `Task` has neither field.
    let older = OlderTasksService::new(w.tasks.service().client().clone())
        .with_root_url(w.standin.base_url());
    let mut task = older.tasks().get(&list, &id).send().await.unwrap();
    assert!(task._unknown_fields.get("notes").is_some(), "{task:?}");
    assert!(task._unknown_fields.get("due").is_some(), "{task:?}");
    task.title = Some("write the report today".into());
    let written = older
        .tasks()
        .update(&list, &id, task)
        .fields("id,title,notes,due")
        .send()
        .await
        .unwrap();
    assert_eq!(written.title.as_deref(), Some("write the report today"));
    assert_eq!(
        written._unknown_fields.get("notes"),
        Some(&serde_json::json!("with the figures of March"))
    );

    // The current client sees the change and the fields the older one
    // carried without knowing them.
    let after = w.tasks.tasks().get(&list, &id).send().await.unwrap();
    assert_eq!(after.title.as_deref(), Some("write the report today"));
    assert_eq!(after.notes.as_deref(), Some("with the figures of March"));
    assert_eq!(after.due, full.due);
}

#[tokio::test]
async fn an_api_timeout_parameter_and_the_call_deadline_are_both_there() {
    let (base, rec) = recording_server(|req| {
        let slow = req.uri.contains("slow");
        let name = req
            .uri
            .trim_start_matches("/v1/")
            .split(":wait")
            .next()
            .unwrap_or("")
            .to_owned();
        (
            slow.then_some(Duration::from_secs(10)),
            200,
            vec![],
            serde_json::json!({"name": name, "done": true}).to_string(),
        )
    })
    .await;
    let colab = ColaboratoryService::new(anonymous()).with_root_url(&base);

    // The API's own `timeout` (how long the server may wait) goes on the
    // wire; `with_timeout` is this call's deadline. A reserved expansion
    // (`{+name}`) keeps `@` and `:` as they are.
    let op = colab
        .operations()
        .wait("operations/user@example.com:op-1")
        .timeout("30s")
        .with_timeout(Duration::from_secs(20))
        .fields("name,done")
        .send()
        .await
        .unwrap();
    assert_eq!(op.name.as_deref(), Some("operations/user@example.com:op-1"));
    assert_eq!(op.done, Some(true));
    assert_eq!(
        rec.uri(0),
        "/v1/operations/user@example.com:op-1:wait?timeout=30s&fields=name%2Cdone"
    );

    // The server would wait 10 s; the call's deadline ends it at 300 ms,
    // with the API's `timeout` still sent.
    let started = Instant::now();
    let err = colab
        .operations()
        .wait("operations/slow")
        .timeout(gapi::types::Duration::from_std(Duration::from_secs(60)))
        .with_timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(rec.uri(1), "/v1/operations/slow:wait?timeout=60s");
}

#[tokio::test]
async fn typed_media_a_forced_resumable_upload_and_media_alone() {
    let (base, rec) = recording_server(support::storage_fake).await;
    let storage = StorageService::new(anonymous()).with_root_url(&base);
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();

    // Small media with metadata would go multipart; resumable is forced,
    // and the response is still the typed `Object`.
    let object = storage
        .objects()
        .insert(
            "bkt",
            gapi_storage_v1::schemas::Object {
                name: Some("forced.bin".into()),
                content_type: Some("application/octet-stream".into()),
                ..Default::default()
            },
        )
        .predefined_acl(gapi_storage_v1::params::ObjectsInsertPredefinedAcl::ProjectPrivate)
        .upload_with(
            gapi::Media::from_bytes(data.clone(), "application/octet-stream"),
            gapi::UploadProtocol::Resumable,
        )
        .await
        .unwrap();
    assert_eq!(object.name.as_deref(), Some("forced.bin"));
    assert_eq!(object.size, Some(100_000));
    let open = rec.request(0);
    assert_eq!(open.method, "POST");
    assert_eq!(
        open.uri,
        "/upload/storage/v1/b/bkt/o?predefinedAcl=projectPrivate&uploadType=resumable"
    );
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&open.body).unwrap(),
        serde_json::json!({"name": "forced.bin", "contentType": "application/octet-stream"})
    );
    assert_eq!(rec.request(1).method, "PUT");
    assert_eq!(rec.request(1).body, data);

    // The media alone: no metadata, no invented body. Simple by size…
    let simple = storage
        .objects()
        .insert("bkt", None)
        .name("alone.txt")
        .upload(gapi::Media::from_bytes(
            b"just the media".to_vec(),
            "text/plain",
        ))
        .await
        .unwrap();
    assert_eq!(simple.name.as_deref(), Some("alone.txt"));
    assert_eq!(simple.size, Some(14));
    let sent = rec.request(2);
    assert_eq!(
        sent.uri,
        "/upload/storage/v1/b/bkt/o?name=alone.txt&uploadType=media"
    );
    assert_eq!(sent.header("content-type"), Some("text/plain"));
    assert_eq!(sent.body, b"just the media");

    // …and a resumable session opened with no body at all, as the Python
    // client does, with the typed response at the end.
    let mut upload = storage
        .objects()
        .insert("bkt", None)
        .name("alone.bin")
        .upload_resumable(gapi::Media::from_bytes(
            data.clone(),
            "application/octet-stream",
        ));
    let resumed: gapi_storage_v1::schemas::Object = upload.send().await.unwrap();
    assert_eq!(resumed.name.as_deref(), Some("alone.bin"));
    assert_eq!(resumed.size, Some(100_000));
    let open = rec.request(3);
    assert_eq!(
        open.uri,
        "/upload/storage/v1/b/bkt/o?name=alone.bin&uploadType=resumable"
    );
    assert!(open.body.is_empty(), "{:?}", open.body);
    assert_eq!(open.header("content-type"), None);
    assert_eq!(
        open.header("x-upload-content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(rec.request(4).body, data);
}

#[tokio::test]
async fn repeated_parameters_from_a_vec_an_array_and_an_iterator() {
    let (base, rec) = recording_server(support::storage_fake).await;
    let storage = StorageService::new(anonymous()).with_root_url(&base);
    let buckets = storage.buckets();
    // Required: a positional argument taking any number of values.
    let granted = buckets
        .test_iam_permissions(
            "bkt",
            vec![
                "storage.buckets.get".to_string(),
                "storage.buckets.delete".to_string(),
            ],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(granted.permissions.unwrap().len(), 2);
    buckets
        .test_iam_permissions("bkt", ["storage.objects.list"])
        .send()
        .await
        .unwrap();
    buckets
        .test_iam_permissions("bkt", (1..=3).map(|i| format!("p{i}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        rec.uri(0),
        "/storage/v1/b/bkt/iam/testPermissions?permissions=storage.buckets.get&permissions=storage.buckets.delete"
    );
    assert_eq!(
        rec.uri(1),
        "/storage/v1/b/bkt/iam/testPermissions?permissions=storage.objects.list"
    );
    assert_eq!(
        rec.uri(2),
        "/storage/v1/b/bkt/iam/testPermissions?permissions=p1&permissions=p2&permissions=p3"
    );

    // Optional: the same shape as a setter, plus `add_*` for one value.
    storage
        .objects()
        .compose(
            "bkt",
            "joined",
            gapi_storage_v1::schemas::ComposeRequest::default(),
        )
        .drop_context_groups(vec!["a".to_string()])
        .drop_context_groups(["b", "c"])
        .drop_context_groups(Some("d"))
        .add_drop_context_groups("e")
        .send()
        .await
        .unwrap();
    assert_eq!(
        rec.uri(3),
        "/storage/v1/b/bkt/o/joined/compose?dropContextGroups=a&dropContextGroups=b&dropContextGroups=c&dropContextGroups=d&dropContextGroups=e"
    );
}

#[test]
fn parameter_enums_are_found_at_the_root_and_identical_ones_are_one_type() {
    use gapi_storage_v1::params;
    let storage = StorageService::new(anonymous());
    let objects = storage.objects();
    // An object's `predefinedAcl` and a copy's `destinationPredefinedAcl`
    // take the same values: one type, whatever the parameter is called.
    let acl = params::DestinationPredefinedAcl::ProjectPrivate;
    let insert = objects
        .insert("bkt", None)
        .predefined_acl(acl.clone())
        .into_call();
    let copy = objects
        .copy(
            "a",
            "o",
            "b",
            "o2",
            gapi_storage_v1::schemas::Object::default(),
        )
        .destination_predefined_acl(acl)
        .into_call();
    assert_eq!(insert.query_value("predefinedAcl"), Some("projectPrivate"));
    assert_eq!(
        copy.query_value("destinationPredefinedAcl"),
        Some("projectPrivate")
    );
    // A bucket's `predefinedAcl` takes other values (no `bucketOwnerRead`):
    // its own type, named after the first method that takes it.
    let bucket = storage
        .buckets()
        .insert("my-project", gapi_storage_v1::schemas::Bucket::default())
        .predefined_acl(params::BucketsInsertPredefinedAcl::PublicRead)
        .into_call();
    assert_eq!(bucket.query_value("predefinedAcl"), Some("publicRead"));
    // A value this document does not list still goes through.
    let call = storage
        .buckets()
        .get("bkt")
        .projection("brandNew")
        .into_call();
    assert_eq!(call.query_value("projection"), Some("brandNew"));
    let call = storage
        .buckets()
        .list("p")
        .projection(params::BucketsGetProjection::NoAcl)
        .into_call();
    assert_eq!(call.query_value("projection"), Some("noAcl"));
}

#[test]
fn deprecated_parameters_are_deprecated_and_still_sent() {
    let drive = DriveService::new(anonymous());
    #[expect(
        deprecated,
        reason = "`supportsTeamDrives` is deprecated in the document"
    )]
    let call = drive.files().list().supports_team_drives(true);
    let call = call.corpora("user").into_call();
    assert_eq!(call.query_value("supportsTeamDrives"), Some("true"));
    assert_eq!(call.query_value("corpora"), Some("user"));
}
