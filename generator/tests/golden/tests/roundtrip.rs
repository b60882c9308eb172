//! Serde round trips of generated types with real-shaped JSON, and the
//! generated builders filling a `gapi::Call` (no network).

use gapi_golden::{enums, hostile, methods, names, tasks_v1, types};
use serde_json::{Value, json};

fn roundtrip<T>(input: Value) -> (T, Value)
where
    T: gapi::serde::Serialize + gapi::serde::de::DeserializeOwned,
{
    let t: T = serde_json::from_value(input).expect("deserialize");
    let back = serde_json::to_value(&t).expect("serialize");
    (t, back)
}

#[test]
fn tasks_task_real_shape() {
    let input = json!({
        "kind": "tasks#task",
        "id": "MTIzNDU2Nzg5",
        "etag": "\"LTEyMzQ1Njc4OQ\"",
        "title": "Buy milk",
        "updated": "2025-12-16T10:11:12.345Z",
        "selfLink": "https://www.googleapis.com/tasks/v1/lists/abc/tasks/MTIzNDU2Nzg5",
        "position": "00000000000000000001",
        "status": "needsAction",
        "due": "2025-12-20T00:00:00.000Z",
        "links": [{"type": "email", "description": "mail", "link": "https://mail.google.com/x"}],
        "webViewLink": "https://tasks.google.com/task/abc",
        "deleted": false
    });
    let (task, back) = roundtrip::<tasks_v1::schemas::Task>(input.clone());
    assert_eq!(task.title.as_deref(), Some("Buy milk"));
    assert_eq!(task.updated.as_deref(), Some("2025-12-16T10:11:12.345Z"));
    assert_eq!(task.deleted, Some(false));
    let links = task.links.as_ref().unwrap();
    assert_eq!(links[0].r#type.as_deref(), Some("email"));
    // Everything that came in goes back out, byte for byte.
    assert_eq!(back, input);
}

#[test]
fn int64_strings_both_ways() {
    let input = json!({
        "one": "9007199254740993",
        "list": ["1", "-2"],
        "map": {"a": "-9223372036854775808"},
        "mapOfLists": {"x": ["18446744073709551615", "0"]},
        "listOfLists": [["1", "2"], []],
        "aliased": ["5"]
    });
    let (v, back) = roundtrip::<types::schemas::Int64s>(input.clone());
    assert_eq!(v.one, Some(9007199254740993));
    assert_eq!(v.list, Some(vec![1, -2]));
    assert_eq!(v.map.as_ref().unwrap()["a"], i64::MIN);
    assert_eq!(v.map_of_lists.as_ref().unwrap()["x"], vec![u64::MAX, 0]);
    assert_eq!(v.list_of_lists, Some(vec![vec![1, 2], vec![]]));
    assert_eq!(v.aliased, Some(vec![5]));
    assert_eq!(back, input);
    // JSON numbers are accepted too, and sent back as strings.
    let (v, back) = roundtrip::<types::schemas::Int64s>(json!({"one": 42, "list": [7]}));
    assert_eq!(v.one, Some(42));
    assert_eq!(back, json!({"one": "42", "list": ["7"]}));
    // Scalars: int64 and uint64 as strings, plain integers as numbers.
    let (s, back) = roundtrip::<types::schemas::Scalars>(
        json!({"i64": "-5", "u64": "18446744073709551615", "plainInt": 3, "i32": -1, "u32": 4000000000u32}),
    );
    assert_eq!(s.i64, Some(-5));
    assert_eq!(s.u64, Some(u64::MAX));
    assert_eq!(s.plain_int, Some(3));
    assert_eq!(s.u32, Some(4_000_000_000));
    assert_eq!(back["plainInt"], json!(3));
    assert_eq!(back["i64"], json!("-5"));
}

#[test]
fn unknown_enum_value_round_trips() {
    use enums::schemas::{ActivationStatus, ActivationStatusState};
    let (v, back) = roundtrip::<ActivationStatus>(json!({"state": "SOMETHING_NEW"}));
    assert_eq!(
        v.state,
        Some(ActivationStatusState::UnknownValue("SOMETHING_NEW".into()))
    );
    assert_eq!(back, json!({"state": "SOMETHING_NEW"}));
    // Values that collide after case conversion stay distinct.
    let (v, back) = roundtrip::<ActivationStatus>(json!({"state": "not_activated"}));
    assert_eq!(v.state, Some(ActivationStatusState::NotActivated2));
    assert_eq!(back, json!({"state": "not_activated"}));
    let (v, _) = roundtrip::<ActivationStatus>(json!({"state": "NOT_ACTIVATED"}));
    assert_eq!(v.state, Some(ActivationStatusState::NotActivated));
    // `SELF`, digits, the catch-all look-alikes.
    assert_eq!(
        enums::schemas::CallerAgentAuthority::from("SELF"),
        enums::schemas::CallerAgentAuthority::Self_
    );
    assert_eq!(
        enums::schemas::CdnSettingsFrameRate::V30fps.as_str(),
        "30fps"
    );
    assert_eq!(
        enums::schemas::CatchallKind::from("UNKNOWN_VALUE"),
        enums::schemas::CatchallKind::UnknownValue2
    );
    // Arrays and maps of enums.
    let (v, back) = roundtrip::<enums::schemas::Lists>(
        json!({"regions": ["EUROPE", "MARS"], "levels": {"a": "INFO"}, "matrix": [["X", "O"]]}),
    );
    assert_eq!(
        v.regions.as_ref().unwrap()[1],
        enums::schemas::ListsRegions::UnknownValue("MARS".into())
    );
    assert_eq!(back["regions"], json!(["EUROPE", "MARS"]));
}

#[test]
fn identical_schemas_merge_into_aliases_that_keep_every_name() {
    use enums::schemas::{
        DiskList, InstanceList, InstanceListWarning, InstanceListWarningCode,
        InstanceListWarningData,
    };
    // InstanceList and its inline types are aliases of DiskList's: same type.
    let disks: DiskList = serde_json::from_value(json!({"id": "d"})).unwrap();
    let instances: InstanceList = disks.clone();
    assert_eq!(instances, disks);
    // Struct literals, variant paths and patterns through the aliases.
    let list = InstanceList {
        id: Some("i".into()),
        warning: Some(InstanceListWarning {
            code: Some(InstanceListWarningCode::Unreachable),
            data: Some(vec![InstanceListWarningData {
                key: Some("zone".into()),
                value: Some("us-east1-b".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let (back, wire) = roundtrip::<InstanceList>(serde_json::to_value(&list).unwrap());
    assert_eq!(back, list);
    assert_eq!(
        wire,
        json!({"id": "i", "warning": {"code": "UNREACHABLE", "data": [{"key": "zone", "value": "us-east1-b"}]}})
    );
    match back.warning.and_then(|w| w.code) {
        Some(InstanceListWarningCode::Unreachable) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_fields_are_kept_and_sent_back() {
    let (task, back) = roundtrip::<tasks_v1::schemas::Task>(json!({
        "title": "x",
        "brandNewField": {"nested": [1, 2, 3]},
        "anotherOne": null,
        "links": [{"type": "email", "newerLinkField": "kept too"}]
    }));
    assert_eq!(task.title.as_deref(), Some("x"));
    assert_eq!(
        task._unknown_fields.get("brandNewField"),
        Some(&json!({"nested": [1, 2, 3]}))
    );
    assert_eq!(
        back,
        json!({
            "title": "x",
            "links": [{"type": "email", "newerLinkField": "kept too"}],
            "brandNewField": {"nested": [1, 2, 3]},
            "anotherOne": null
        })
    );
    // An empty schema keeps whatever comes.
    let (_, back) = roundtrip::<types::schemas::Empty>(json!({"surprise": true}));
    assert_eq!(back, json!({"surprise": true}));
}

#[test]
fn null_absent_and_false_are_distinct() {
    use types::schemas::Scalars;
    let (absent, back) = roundtrip::<Scalars>(json!({}));
    assert_eq!(absent.flag, None);
    assert_eq!(back, json!({}));
    let (null, back) = roundtrip::<Scalars>(json!({"flag": null, "i64": null}));
    assert_eq!(null.flag, None);
    assert_eq!(null.i64, None);
    assert_eq!(back, json!({}));
    let (f, back) = roundtrip::<Scalars>(json!({"flag": false, "i32": 0, "str": ""}));
    assert_eq!(f.flag, Some(false));
    assert_eq!(back, json!({"flag": false, "i32": 0, "str": ""}));

    // A body with Some(false) sends false; an explicit null goes through null_field.
    let api = types::TypesService::new(gapi::Client::new(gapi::Credentials::anonymous()).unwrap());
    let request = types::schemas::Int64s {
        one: Some(0),
        ..Default::default()
    };
    let call = api
        .things()
        .put(request)
        .update_mask("one,list")
        .with_null_field("list")
        .into_call();
    assert_eq!(call.body_json(), Some(&json!({"one": "0"})));
    assert_eq!(call.query_value("updateMask"), Some("one,list"));
}

#[test]
fn both_base64_alphabets() {
    use types::schemas::Scalars;
    let (std, _) = roundtrip::<Scalars>(json!({"bytes": "+/+/"}));
    let (url, _) = roundtrip::<Scalars>(json!({"bytes": "-_-_"}));
    assert_eq!(std.bytes.as_ref().unwrap().as_slice(), &[0xfb, 0xff, 0xbf]);
    assert_eq!(std.bytes, url.bytes);
    // Unpadded and padded forms both decode.
    let (a, _) = roundtrip::<Scalars>(json!({"bytes": "aGk"}));
    let (b, back) = roundtrip::<Scalars>(json!({"bytes": "aGk="}));
    assert_eq!(a.bytes.as_ref().unwrap().as_slice(), b"hi");
    assert_eq!(a.bytes, b.bytes);
    // What we send decodes back to the same bytes.
    let (c, _) = roundtrip::<Scalars>(back);
    assert_eq!(c.bytes.as_ref().unwrap().as_slice(), b"hi");
    // Maps of bytes too.
    let (m, _) = roundtrip::<types::schemas::Containers>(json!({"bytesMap": {"k": "_w"}}));
    assert_eq!(m.bytes_map.as_ref().unwrap()["k"].as_slice(), &[0xff]);
}

#[test]
fn string_formats_keep_the_wire_string() {
    let input = json!({
        "dateTime": "2024-05-01T12:00:00Z",
        "googleDatetime": "2024-05-01T12:00:00.123456789+02:00",
        "date": "2024-02-29",
        "duration": "3.500s",
        "mask": "a.b,c",
        "f32": 1.5,
        "f64": 0.1,
        "anything": {"x": [1, "two", null]},
        "proto": {"@type": "type.googleapis.com/x.Y", "v": 1}
    });
    let (s, back) = roundtrip::<types::schemas::Scalars>(input.clone());
    assert_eq!(s.duration.as_ref().unwrap().as_str(), "3.500s");
    assert_eq!(s.mask.as_ref().unwrap().as_str(), "a.b,c");
    assert_eq!(back, input);
}

#[test]
fn recursive_and_inline_types() {
    let input = json!({
        "type": "object",
        "items": {"type": "string"},
        "properties": {"a": {"type": "integer", "items": {"type": "x"}}}
    });
    let (s, back) = roundtrip::<types::schemas::JsonSchema>(input.clone());
    assert_eq!(s.items.as_ref().unwrap().r#type.as_deref(), Some("string"));
    assert_eq!(back, input);
    let (m, _) = roundtrip::<types::schemas::ListMatcher>(
        json!({"oneOf": {"listMatch": {"oneOf": {"exact": "x"}}}}),
    );
    let inner = m.one_of.unwrap().list_match.unwrap().one_of.unwrap();
    assert_eq!(inner.exact.as_deref(), Some("x"));
    let input = json!({
        "author": {"name": "n", "image": {"url": "u", "size": "12"}},
        "links": [{"href": "h", "type": "t"}],
        "scopes": {"s": {"description": "d"}}
    });
    let (i, back) = roundtrip::<types::schemas::Inline>(input.clone());
    assert_eq!(
        i.author.as_ref().unwrap().image.as_ref().unwrap().size,
        Some(12)
    );
    assert_eq!(back, input);
    let (c, back) = roundtrip::<types::schemas::Containers>(json!({
        "rows": [[1, "a"], [null]],
        "cube": [[[1.5]]],
        "mapOfMaps": {"a": {"b": "c"}}
    }));
    assert_eq!(c.map_of_maps.as_ref().unwrap()["a"]["b"], "c");
    assert_eq!(back["rows"], json!([[1, "a"], [null]]));
    let d: types::schemas::Detections =
        serde_json::from_value(json!([{"language": "en", "confidence": 0.5}])).unwrap();
    assert_eq!(d[0].language.as_deref(), Some("en"));
}

#[test]
fn keyword_and_odd_names_keep_wire_names() {
    let input = json!({
        "type": "a", "_type": "b", "@type": "c", "$ref": "d", "self": "e", "Self": "f",
        "end-date": "2024-01-01", "endDate.day": 3, "30days": "g", "match": true
    });
    let (k, back) = roundtrip::<names::schemas::Keywords>(input.clone());
    assert_eq!(k.r#type.as_deref(), Some("a"));
    assert_eq!(k.type_3.as_deref(), Some("b"));
    assert_eq!(k.type_2.as_deref(), Some("c"));
    assert_eq!(k.self_.as_deref(), Some("e"));
    assert_eq!(k.end_date_day, Some(3));
    assert_eq!(back, input);
    // Prelude-named schemas work as ordinary types.
    let (o, _) = roundtrip::<names::schemas::Option>(
        json!({"value": {"text": "t"}, "values": [{"items": ["i"]}]}),
    );
    assert_eq!(o.value.unwrap().text.as_deref(), Some("t"));
    let (b, _) = roundtrip::<names::schemas::Box>(json!({"inner": {"count": "7"}}));
    assert_eq!(b.inner.unwrap().count, Some(7));
}

#[test]
fn pages_and_items_impls() {
    use gapi::{Page, PageItems};
    let list: methods::schemas::ItemList = serde_json::from_value(json!({
        "items": [{"id": "a", "size": "1"}, {"id": "b"}],
        "nextPageToken": "t2"
    }))
    .unwrap();
    assert_eq!(list.next_page_token(), Some("t2"));
    let items = list.into_items();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].size, Some(1));
    // BigQuery style: the token field is `pageToken`.
    let t: methods::schemas::TableDataList =
        serde_json::from_value(json!({"pageToken": "p", "rows": [[1]]})).unwrap();
    assert_eq!(t.next_page_token(), Some("p"));
    // Several arrays: the array of objects is the items.
    let ops: methods::schemas::OperationList =
        serde_json::from_value(json!({"operations": [{"id": "o"}], "unreachable": ["x"]})).unwrap();
    assert_eq!(ops.into_items()[0].id.as_deref(), Some("o"));
}

#[test]
#[allow(deprecated)]
fn builders_fill_the_call() {
    let client = gapi::Client::new(gapi::Credentials::anonymous()).unwrap();
    let tasks = tasks_v1::TasksService::new(client.clone());
    let call = tasks
        .tasks()
        .list("@default")
        .max_results(10)
        .show_completed(false)
        .updated_min("2024-01-01T00:00:00Z")
        .fields("items(id)")
        .into_call();
    assert_eq!(call.method().id, "tasks.tasks.list");
    assert_eq!(call.query_value("maxResults"), Some("10"));
    assert_eq!(call.query_value("showCompleted"), Some("false"));
    assert_eq!(call.query_value("fields"), Some("items(id)"));

    let m = methods::MethodsService::new(client.clone());
    let call = m
        .items()
        .list()
        .tags(["a"])
        .add_tags("b")
        .max_results(5)
        .into_call();
    assert_eq!(call.query_value("tags"), Some("b"));
    assert!(format!("{call:?}").contains(r#"("tags", "a"), ("tags", "b")"#));
    assert!(call.method().pagination.is_some());
    assert!(!call.method().data_wrapper);
    // zoo.json has `features: ["dataWrapper"]`: its methods say so
    let zoo = gapi_golden::zoo::ZooService::new(client.clone());
    assert!(zoo.animals().delete("x").into_call().method().data_wrapper);
    assert!(zoo.query().into_call().method().data_wrapper);
    let call = m.items().detect(["x", "y"], "fr").into_call();
    assert_eq!(call.query_value("target"), Some("fr"));
    let info = m
        .objects()
        .insert("bkt", methods::schemas::Object::default())
        .into_call()
        .method();
    let media = info.media_upload.unwrap();
    assert_eq!(media.max_size, Some(5497558138880));
    assert!(media.resumable_path.is_some());
    let info = m.objects().upload_data("bkt").into_call().method();
    assert_eq!(info.media_upload.unwrap().max_size, Some(1 << 30));
    assert!(
        m.objects()
            .get("b", "o")
            .into_call()
            .method()
            .supports_media_download
    );
    let q = m
        .items()
        .query(methods::schemas::QueryRequest::default())
        .into_call();
    assert_eq!(
        q.method().pagination.map(|p| p.location),
        Some(gapi::TokenLocation::Body)
    );

    let e = enums::EnumsService::new(client.clone());
    let call = e
        .items()
        .list(enums::params::View::Full)
        .filter([enums::params::Filter::Active])
        .add_filter(enums::params::Filter::V30days)
        .range("all")
        .into_call();
    assert_eq!(call.query_value("range"), Some("all"));

    let t = types::TypesService::new(client.clone());
    let call = t.things().get(-5, 7).into_call();
    assert_eq!(call.method().path, "v1/things/{id}");

    let n = names::NamesService::new(client);
    let call = n
        .connections()
        .send("me", "req", names::schemas::String::default())
        .send_param("s")
        .items_param(true)
        .r#type("t")
        .end_date_day(3)
        .into_call();
    assert_eq!(call.query_value("send"), Some("s"));
    assert_eq!(call.query_value("endDate.day"), Some("3"));
    let _ = n.connections().tools("x");
    let _ = n.connections().tools_resource().list("p");
    let _ = n.connections().r#move("x", Default::default());
    let _ = n.schemas().get("x");
    let _ = n.service_resource().get();
    let _ = n.tokeninfo().access_token("t");
}

#[test]
fn options_parameters_media_and_enums_on_the_builder() {
    use std::time::Duration;
    let m =
        methods::MethodsService::new(gapi::Client::new(gapi::Credentials::anonymous()).unwrap());
    // The API's `timeout` and the call's deadline side by side; a parameter
    // named like an option is `set_with_…`; `fields` (restated by the
    // method) and the other standard parameters are every builder's.
    let call = m
        .items()
        .wait("operations/a@b:c")
        .timeout("30s")
        .with_timeout(Duration::from_secs(5))
        .set_with_extended_notifications(true)
        .fields("id")
        .quota_user("u")
        .pretty_print(false)
        .user_ip("10.0.0.1")
        .with_param("extra", "1")
        .into_call();
    assert_eq!(call.query_value("timeout"), Some("30s"));
    assert_eq!(call.query_value("withExtendedNotifications"), Some("true"));
    assert_eq!(call.query_value("fields"), Some("id"));
    assert_eq!(call.query_value("quotaUser"), Some("u"));
    assert_eq!(call.query_value("prettyPrint"), Some("false"));
    assert_eq!(call.query_value("userIp"), Some("10.0.0.1"));
    assert_eq!(call.query_value("extra"), Some("1"));
    // Repeated, required (an argument) and optional (a setter): any
    // iterator of values, and `add_*` for one.
    let call = m
        .items()
        .search(vec!["a".to_string(), "b".to_string()])
        .sizes((1..=2).map(|i: i32| i * 10))
        .add_sizes(30)
        .states([methods::params::States::Active])
        .add_states("DONE")
        .view(methods::params::View::Full)
        .add_ids("not the repeated one")
        .into_call();
    let text = format!("{call:?}");
    assert!(text.contains(r#"("ids", "a"), ("ids", "b")"#), "{text}");
    assert!(
        text.contains(r#"("sizes", "10"), ("sizes", "20"), ("sizes", "30")"#),
        "{text}"
    );
    assert!(
        text.contains(r#"("states", "ACTIVE"), ("states", "DONE")"#),
        "{text}"
    );
    assert_eq!(call.query_value("addIds"), Some("not the repeated one"));
    drop(m.items().search(["x"]).send());
    // One enum for `view` on both methods; `predefinedAcl` is the same
    // type as `destinationPredefinedAcl` (identical values).
    // (the `objects` resource is deprecated in the document)
    #[expect(deprecated)]
    let objects = m.objects();
    let view: methods::params::View = methods::params::View::Basic;
    let _ = m.items().get("i").view(view);
    let acl: methods::params::PredefinedAcl = methods::params::DestinationPredefinedAcl::Private;
    let _ = objects.get("b", "o").predefined_acl(acl);
    let _ = objects
        .get("b", "o")
        .projection(methods::params::ObjectsGetProjection::NoAcl);
    let _ = objects
        .insert("b", None)
        .projection(methods::params::ObjectsInsertProjection::Full);
    // Media alone: no body at all.
    let call = objects.insert("bkt", None).name("x.bin").into_call();
    assert_eq!(call.body_json(), None);
    let call = objects
        .insert("bkt", methods::schemas::Object::default())
        .into_call();
    assert_eq!(call.body_json(), Some(&json!({})));
    // Deprecated parameters are `#[deprecated]` (an unfulfilled `expect`
    // fails the build under `-D warnings`).
    #[expect(deprecated)]
    let call = m.items().search(["x"]).legacy_filter("old");
    assert_eq!(call.into_call().query_value("legacyFilter"), Some("old"));
    #[expect(deprecated)]
    let _ = m.items().legacy();
    #[expect(deprecated)]
    let item = methods::schemas::Item {
        old_name: Some("n".into()),
        ..Default::default()
    };
    let (back, json) = roundtrip::<methods::schemas::Item>(json!({"oldName": "n"}));
    assert_eq!(back, item);
    assert_eq!(json, json!({"oldName": "n"}));
}

#[test]
fn hostile_names_work() {
    // The service type is the API's name and `Service`, whatever the name.
    let api = hostile::CallBuilderService::new(
        gapi::Client::new(gapi::Credentials::anonymous()).unwrap(),
    );
    assert_eq!(hostile::SERVICE.name, "call\nBuilder");
    assert_eq!(hostile::SERVICE.version, "v1\u{202e}");
    // Digit-led resource and method; `call` as an argument; a repeated
    // path parameter taken as one value.
    let call = api._2fa()._3d("c", "id", vec![1, 2])._4k(true).into_call();
    assert_eq!(call.method().id, "hostile.2fa.3d");
    assert_eq!(call.query_value("v"), Some("2"));
    assert_eq!(call.query_value("4k"), Some("true"));
    // A resource named like the runtime crate, with one inside it.
    let call = api
        .gapi()
        .list()
        .mode(hostile::params::Mode::Slow)
        .into_call();
    assert_eq!(call.query_value("mode"), Some("SLOW"));
    assert!(call.method().pagination.is_some());
    assert!(
        api.gapi()
            .gapi()
            .get()
            .into_call()
            .method()
            .supports_media_download
    );
    let _ = api.gapi().insert(hostile::schemas::Gapi::default());
    // Empty names.
    let call = api.value().self_(hostile::params::Self_::B).into_call();
    assert_eq!(call.query_value("self"), Some("b"));
    assert_eq!(
        api.value_resource().value().into_call().method().id,
        "hostile.."
    );
    let _ = (
        api.std().get(),
        api.core().get(),
        api.self_().self_(),
        api.crate_().crate_(),
    );
    let _ = (api.super_().super_(), api.schemas().get());
    // Enum values that are empty, digits, keywords, bidi controls.
    let v: hostile::schemas::Value = serde_json::from_value(json!({"level": "\u{202e}"})).unwrap();
    assert_eq!(v.level, Some(hostile::schemas::ValueLevel::Value2));
    let (v, back) = roundtrip::<hostile::schemas::Value>(json!({"level": ""}));
    assert_eq!(v.level.unwrap().as_str(), "");
    assert_eq!(back, json!({"level": ""}));
    // Digit-led and empty property names keep their wire names; by-value
    // recursion is boxed, also through an alias (`NodeRef`).
    let input = json!({"2x": "a", "": "b", "gapi": "c", "std": "7", "self": {"2x": "d"}});
    let (t, back) = roundtrip::<hostile::schemas::V2fa>(input.clone());
    assert_eq!(t.std, Some(7));
    assert_eq!(t.self_.as_ref().and_then(|s| s._2x.as_deref()), Some("d"));
    assert_eq!(back, input);
    let input = json!({"next": {"next": {}}, "children": [{}]});
    let (n, back) = roundtrip::<hostile::schemas::NodeRef>(input.clone());
    assert!(n.next.unwrap().next.is_some());
    assert_eq!(back, input);
}
