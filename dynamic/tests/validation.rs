//! What a dynamic call refuses before sending, and how it writes what it
//! accepts: one line naming the method and parameter or JSON path.

use gapi_dynamic::{Args, Discovery, Error, ParamValue, params_from_json};

fn doc(name: &str) -> Discovery {
    Discovery::from_file(format!(
        "{}/../discovery-docs/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn service(d: &Discovery) -> gapi::Service {
    let client = gapi::Client::new(gapi::Credentials::anonymous()).unwrap();
    d.service(client).with_root_url("http://127.0.0.1:9/")
}

fn text(v: &str) -> ParamValue {
    ParamValue::Text(v.into())
}

fn call_err(d: &Discovery, method: &str, args: Args) -> String {
    let m = d.method(method).unwrap();
    let e = m.call(&service(d), &args).unwrap_err();
    assert!(e.is_input(), "{e}");
    let s = e.to_string();
    assert!(!s.contains('\n'), "one line: {s}");
    s
}

#[test]
fn unknown_names_get_suggestions() {
    let d = doc("tasks.v1");
    let e = d.resolve(&["tasklists", "lst"]).unwrap_err().to_string();
    assert_eq!(
        e,
        "tasks.v1 resource tasklists: no resource or method `lst` (did you mean `list`?)"
    );
    let e = d.resolve(&["taks"]).unwrap_err().to_string();
    assert!(e.contains("did you mean `tasks`?"), "{e}");
    let e = d.schema("Taks").unwrap_err().to_string();
    assert!(e.contains("did you mean `Task`?"), "{e}");
    assert!(matches!(
        d.method("tasks.tasks.list").unwrap().id().as_str(),
        "tasks.tasks.list"
    ));
    assert_eq!(
        d.method("tasklists.list").unwrap().id(),
        "tasks.tasklists.list"
    );
}

#[test]
fn parameters_are_checked() {
    let d = doc("tasks.v1");
    let e = call_err(&d, "tasks.list", Args::default());
    assert_eq!(
        e,
        "tasks.tasks.list: parameter `tasklist`: is required (path, string) and was not given"
    );
    let e = call_err(
        &d,
        "tasks.list",
        Args::default()
            .param("tasklist", text("x"))
            .param("maxResult", text("3")),
    );
    assert!(e.contains("did you mean `maxResults`?"), "{e}");
    let e = call_err(
        &d,
        "tasks.list",
        Args::default()
            .param("tasklist", text("x"))
            .param("maxResults", text("three")),
    );
    assert_eq!(
        e,
        "tasks.tasks.list: parameter `maxResults`: expected an integer (int32), got \"three\""
    );
    let e = call_err(
        &d,
        "tasks.list",
        Args::default()
            .param("tasklist", text("x"))
            .param("showCompleted", text("yes")),
    );
    assert!(e.contains("expected `true` or `false`"), "{e}");
    let e = call_err(
        &d,
        "tasks.list",
        Args::default()
            .param("tasklist", text("x"))
            .param("tasklist", text("y")),
    );
    assert!(
        e.contains("is not repeated, but 2 values were given"),
        "{e}"
    );
    let s = doc("storage.v1");
    let e = call_err(
        &s,
        "objects.list",
        Args::default()
            .param("bucket", text("b"))
            .param("projection", text("ful")),
    );
    assert!(
        e.contains("is not one of `full`, `noAcl` (did you mean `full`?)"),
        "{e}"
    );
    let e = call_err(
        &s,
        "objects.list",
        Args::default()
            .param("bucket", text("b"))
            .param("maxResults", text("-1")),
    );
    assert!(
        e.contains("expected an integer in 0..=4294967295 (uint32)"),
        "{e}"
    );
}

#[test]
fn bodies_are_checked_with_json_paths() {
    let d = doc("tasks.v1");
    let e = call_err(
        &d,
        "tasks.insert",
        Args {
            body: Some(serde_json::json!({"title": 5})),
            ..Args::default()
        }
        .param("tasklist", text("x")),
    );
    assert_eq!(
        e,
        "tasks.tasks.insert: request body at $.title: expected a string, got the number 5"
    );
    let e = call_err(
        &d,
        "tasks.insert",
        Args {
            body: Some(serde_json::json!({"titel": "a"})),
            ..Args::default()
        }
        .param("tasklist", text("x")),
    );
    assert!(
        e.contains("Task has no member `titel` (did you mean `title`?)"),
        "{e}"
    );
    let e = call_err(
        &d,
        "tasks.list",
        Args {
            body: Some(serde_json::json!({})),
            ..Args::default()
        }
        .param("tasklist", text("x")),
    );
    assert!(e.contains("takes no request body"), "{e}");
    // lenient: unknown members pass, wrong types still do not
    let m = d.method("tasks.insert").unwrap();
    let lenient = Args {
        body: Some(serde_json::json!({"titel": "a"})),
        lenient: true,
        ..Args::default()
    }
    .param("tasklist", text("x"));
    assert!(m.call(&service(&d), &lenient).is_ok());
}

#[test]
fn values_are_written_as_the_typed_client_writes_them() {
    let s = doc("storage.v1");
    let m = s.method("objects.insert").unwrap();
    let args = Args {
        body: Some(serde_json::json!({"name": "a", "size": 12, "metadata": {"k": "v"}})),
        ..Args::default()
    }
    .param("bucket", text("b"))
    .param("ifGenerationMatch", text("0012"));
    let call = m.call(&service(&s), &args).unwrap();
    assert_eq!(
        call.body_json().unwrap(),
        &serde_json::json!({"name": "a", "size": "12", "metadata": {"k": "v"}})
    );
    assert_eq!(call.query_value("ifGenerationMatch"), Some("12"));
    let params =
        params_from_json(r#"{"prefix": "p/", "maxResults": 5, "versions": true}"#).unwrap();
    let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["prefix", "maxResults", "versions"], "order kept");
    let e = params_from_json("[1]").unwrap_err();
    assert!(e.contains("a JSON object of parameters"), "{e}");
}

#[test]
fn unreadable_documents_say_where() {
    let e =
        Discovery::from_bytes("bad.json", br#"{"name": "x", "resources": {"r": 5}}"#).unwrap_err();
    assert!(matches!(e, Error::Document(_)));
    let s = e.to_string();
    assert!(
        s.starts_with("discovery document bad.json: $.resources.r:"),
        "{s}"
    );
    let e = Discovery::from_file("/nonexistent/x.json")
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/x.json"), "{e}");
}
