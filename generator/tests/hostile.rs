//! The generator is total on input: each hostile case either generates code
//! (`tests/docs/hostile.json`, whose output is the `hostile` golden, compiled
//! and exercised by the `gapi-golden` crate) or is refused with an error
//! naming the file and the JSON path. `tests/fuzz/` looks for more.

use std::path::PathBuf;

use gapi_gen::{CrateOptions, Error, Generator, Runtime};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hostile_source() -> String {
    Generator::new()
        .generate_module(root().join("tests/docs/hostile.json").as_path())
        .unwrap()
}

/// A minimal document with `schemas` and `resources` spliced in.
fn doc(schemas: &str, resources: &str) -> String {
    format!(
        r#"{{"kind": "discovery#restDescription", "name": "t", "version": "v1",
            "rootUrl": "https://t.googleapis.com/", "servicePath": "",
            "schemas": {schemas}, "resources": {resources}}}"#
    )
}

/// The JSON path of the error a document is refused with.
fn refused(json: &str) -> String {
    match Generator::new().load_bytes("t.json", json.as_bytes()) {
        Err(Error::Invalid {
            file, json_path, ..
        }) => {
            assert_eq!(file, "t.json");
            json_path
        }
        Err(other) => panic!("expected an Invalid error, got {other}"),
        Ok(_) => panic!("expected the document to be refused"),
    }
}

fn is_unsafe(c: char) -> bool {
    c != '\n' && gapi_gen::emit::docs::is_unsafe_char(c)
}

#[test]
fn digit_led_resource_and_method_names_generate() {
    let json = doc(
        "{}",
        r#"{"2fa": {"methods": {"3d": {"path": "x"}, "": {"path": "y"}}},
            "": {"resources": {"9": {"methods": {"0": {"path": "z"}}}}}}"#,
    );
    let src = Generator::new().generate_module(json.as_str()).unwrap();
    for item in [
        "pub mod _2fa",
        "pub struct V2faResource",
        "pub fn _3d(&self)",
        "pub type V3dCall = super::Call<V3dMethod>;",
        "pub struct V3dMethod;",
        "pub type Call = super::Call<Method>;",
        "pub mod value",
        "pub mod _9",
        "pub type V0Call = super::super::Call<V0Method>;",
    ] {
        assert!(src.contains(item), "{item} missing");
    }
    // The same names in the hostile golden are compiled by gapi-golden.
    assert!(hostile_source().contains("pub fn _3d("));
}

#[test]
fn a_schema_that_is_its_own_ref_is_refused() {
    let path = refused(&doc(r#"{"A": {"$ref": "A"}}"#, "{}"));
    assert_eq!(path, "$.schemas.A.$ref");
}

#[test]
fn alias_cycles_through_refs_are_refused() {
    let path = refused(&doc(r#"{"A": {"$ref": "B"}, "B": {"$ref": "A"}}"#, "{}"));
    assert_eq!(path, "$.schemas.A.$ref");
    let path = refused(&doc(
        r#"{"B": {"$ref": "C"}, "C": {"type": "array", "items": {"$ref": "B"}}, "A": {"$ref": "B"}}"#,
        "{}",
    ));
    assert_eq!(path, "$.schemas.B.$ref");
    let path = refused(&doc(
        r#"{"L": {"type": "array", "items": {"type": "array", "items": {"$ref": "L"}}}}"#,
        "{}",
    ));
    assert_eq!(path, "$.schemas.L.items.items.$ref");
    let path = refused(&doc(
        r#"{"M": {"type": "object", "additionalProperties": {"$ref": "M"}}}"#,
        "{}",
    ));
    assert_eq!(path, "$.schemas.M.additionalProperties.$ref");
    // Odd keys are bracketed and escaped in the path.
    let path = refused(&doc(r#"{"a\nb\u202e": {"$ref": "a\nb\u202e"}}"#, "{}"));
    assert_eq!(path, r#"$.schemas["a\u000ab\u202e"].$ref"#);
    let message = Generator::new()
        .load_bytes(
            "t.json",
            doc(r#"{"x\u2066": {"$ref": "x\u2066"}}"#, "{}").as_bytes(),
        )
        .unwrap_err()
        .to_string();
    assert!(!message.chars().any(is_unsafe), "{message:?}");
}

#[test]
fn a_cycle_through_an_object_is_accepted() {
    let json = doc(
        r#"{"Node": {"type": "object", "properties": {"next": {"$ref": "NodeRef"}}},
            "NodeRef": {"$ref": "Node"}}"#,
        "{}",
    );
    let src = Generator::new().generate_module(json.as_str()).unwrap();
    assert!(src.contains("pub type NodeRef = Node;"), "{src}");
    assert!(src.contains("pub next: Option<Box<NodeRef>>"), "{src}");
}

#[test]
fn a_resource_named_gapi_does_not_shadow_the_runtime() {
    let src = hostile_source();
    assert!(src.contains("pub mod gapi {"));
    // Every path into the runtime is absolute; a relative `gapi::` only
    // names the generated `gapi` sub-resource.
    for line in src.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("gapi::") {
            let absolute = line[..i].ends_with("::");
            assert!(
                absolute || line[i..].starts_with("gapi::GapiResource"),
                "relative runtime path: {line}"
            );
        }
    }
}

#[test]
fn newlines_in_name_version_and_revision_stay_in_string_literals() {
    let src = hostile_source();
    let header = src.lines().next().unwrap();
    assert_eq!(
        header,
        "// @generated by gapi-gen from the `call Builder` v1 discovery document (revision 2026 0105). Do not edit."
    );
    assert!(src.contains(r#"name: "call\nBuilder","#));
    assert!(src.contains(r#"version: "v1\u{202e}","#));
    assert!(src.contains(r#"pub const REVISION: &str = "2026\n0105\u{2066}";"#));
    // The service type is the API's name and `Service`.
    assert!(src.contains("pub struct CallBuilderService {"));
}

#[test]
fn bidi_and_control_characters_never_reach_the_output() {
    let src = hostile_source();
    assert!(!src.chars().any(is_unsafe));
    // The description's Trojan Source line is there, without its controls.
    assert!(src.contains("/// The data types of this API."));
    let dir = std::env::temp_dir().join(format!("gapi-gen-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let krate = Generator::new()
        .generate_crate(
            root().join("tests/docs/hostile.json").as_path(),
            &dir,
            &CrateOptions {
                runtime: Runtime::Path(root().join("../runtime")),
                standalone_workspace: true,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(krate.package, "gapi-call-builder-v1");
    for f in ["Cargo.toml", "README.md", "src/lib.rs", "src/api.rs"] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        let bad: Vec<char> = text.chars().filter(|c| is_unsafe(*c)).collect();
        assert!(bad.is_empty(), "{f} holds {bad:?}");
    }
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains(r"//! A Trojan Source line: access  // check admin  and controls \[31m end.")
    );
    let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(cargo.contains(r#"api = "call\nBuilder""#), "{cargo}");
    assert!(cargo.contains(r#"version = "v1\u202E""#), "{cargo}");
    assert!(
        cargo.contains(r#"description = "Hostile Test API (call Builder v1): "#),
        "{cargo}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_repeated_path_parameter_takes_one_value() {
    let src = hostile_source();
    assert!(src.contains("ids: impl Into<String>,"));
    assert!(src.contains(r#"call.path_param("ids", ids.into());"#));
    // `call` is the builder's local: the argument is renamed.
    assert!(src.contains(r#"call.path_param("call", call_2.into());"#));
}

#[test]
fn errors_name_the_file_and_path_of_odd_members() {
    let json = doc(
        "{}",
        r#"{"r\u202e": {"methods": {"m\n": {"path": "p", "httpMethod": "BREW\u2066"}}}}"#,
    );
    let e = Generator::new()
        .load_bytes("odd.json", json.as_bytes())
        .unwrap_err();
    match &e {
        Error::Invalid {
            file, json_path, ..
        } => {
            assert_eq!(file, "odd.json");
            assert_eq!(
                json_path,
                r#"$.resources["r\u202e"].methods["m\u000a"].httpMethod"#
            );
        }
        other => panic!("{other}"),
    }
    assert!(!e.to_string().chars().any(is_unsafe), "{e}");
}

#[test]
fn the_deepest_documents_fit_a_small_thread_stack() {
    // serde_json stops at 128 levels; up to there the whole pipeline runs
    // on a 2 MiB stack (a test thread's, smaller than a main thread's).
    let mut schema = r#"{"type": "string", "format": "int64"}"#.to_string();
    for _ in 0..121 {
        schema = format!(r#"{{"type": "array", "items": {schema}}}"#);
    }
    let json = doc(
        &format!(r#"{{"A": {{"type": "object", "properties": {{"x": {schema}}}}}}}"#),
        r#"{"r": {"methods": {"get": {"path": "p", "response": {"$ref": "A"}}}}}"#,
    );
    let mut resources = r#"{"methods": {"get": {"path": "p"}}}"#.to_string();
    for _ in 0..61 {
        resources = format!(r#"{{"resources": {{"r": {resources}}}}}"#);
    }
    let nested = doc("{}", &format!(r#"{{"r": {resources}}}"#));
    let outcome = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let g = Generator::new();
            (
                g.generate_module(json.as_str()),
                g.generate_module(nested.as_str()),
            )
        })
        .unwrap()
        .join()
        .unwrap();
    let src = outcome.0.unwrap();
    // Cut at 16 levels, the rest a JSON value.
    let flat: String = src.split_whitespace().collect();
    let field = &flat[flat.find("pubx:").unwrap()..];
    let field = &field[..field.find(">>,").unwrap()];
    assert_eq!(field.matches("Vec<").count(), 16, "{field}");
    assert!(field.contains("Vec<::gapi::serde_json::Value>"), "{field}");
    assert!(outcome.1.unwrap().contains("pub mod r {"));
}

#[test]
fn types_deeper_than_rustc_follows_are_refused() {
    // A chain of schemas each holding 15 nested arrays of the next.
    let mut schemas = Vec::new();
    for i in 0..8 {
        let mut inner = format!(r#"{{"$ref": "S{}"}}"#, i + 1);
        if i == 7 {
            inner = r#"{"type": "string"}"#.to_string();
        }
        for _ in 0..15 {
            inner = format!(r#"{{"type": "array", "items": {inner}}}"#);
        }
        schemas.push(format!(
            r#""S{i}": {{"type": "object", "properties": {{"x": {inner}}}}}"#
        ));
    }
    let path = refused(&doc(&format!("{{{}}}", schemas.join(", ")), "{}"));
    assert_eq!(path, "$.schemas.S0");
}
