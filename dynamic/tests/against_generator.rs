//! The dynamic client decides what the generator decides: for every method
//! of every document, the runtime description (`MethodInfo`: HTTP method,
//! path, scopes, media upload, download, pagination, `dataWrapper`), the
//! next-page-token member, and each parameter's type, location and
//! repetition are compared with the generator's IR of the same document.
//!
//! The repository's documents always; all of `../shared/discovery-docs`
//! when it is there (mandatory with `GAPI_REQUIRE_SHARED=1`, as in CI).

use std::path::{Path, PathBuf};

use gapi_dynamic::kind::{ParamKind, param_kind};
use gapi_dynamic::{Discovery, Target};
use gapi_gen::resolve::ir::{self, Ty};

fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = vec![root.join("discovery-docs")];
    let shared = root.join("../shared/discovery-docs");
    if shared.is_dir() {
        dirs.push(shared);
    } else if std::env::var("GAPI_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("GAPI_REQUIRE_SHARED=1 but {} is missing", shared.display());
    } else {
        eprintln!("skipped ../shared/discovery-docs: not present");
    }
    let mut out = Vec::new();
    for dir in dirs {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".json") && name != "index.json" {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn http(m: ir::HttpMethod) -> gapi::HttpMethod {
    match m {
        ir::HttpMethod::Get => gapi::HttpMethod::Get,
        ir::HttpMethod::Post => gapi::HttpMethod::Post,
        ir::HttpMethod::Put => gapi::HttpMethod::Put,
        ir::HttpMethod::Patch => gapi::HttpMethod::Patch,
        ir::HttpMethod::Delete => gapi::HttpMethod::Delete,
        ir::HttpMethod::Head => gapi::HttpMethod::Head,
    }
}

/// Whether the dynamic parameter kind writes what the IR type writes.
fn same_param(kind: ParamKind<'_>, ty: &Ty, api: &ir::Api) -> bool {
    let ty = match ty {
        Ty::Local(name) => return matches!(kind, ParamKind::Enum(_)) || name.is_empty(),
        t => t,
    };
    let _ = api;
    match kind {
        ParamKind::Str => matches!(
            ty,
            Ty::String | Ty::DateTime | Ty::Date | Ty::Duration | Ty::FieldMask
        ),
        ParamKind::Enum(_) => false,
        ParamKind::Int { name, .. } => matches!(
            (name, ty),
            ("int32", Ty::I32)
                | ("uint32", Ty::U32)
                | ("int64", Ty::I64 | Ty::I64Number)
                | ("uint64", Ty::U64)
        ),
        ParamKind::F32 => *ty == Ty::F32,
        ParamKind::F64 => *ty == Ty::F64,
        ParamKind::Bool => *ty == Ty::Bool,
    }
}

fn token_wire(api: &ir::Api, m: &ir::Method) -> Option<String> {
    m.pagination.as_ref()?;
    let mut ty = m.response.as_ref()?;
    for _ in 0..64 {
        let Ty::Schema(name) = ty else { return None };
        match api.types.iter().find(|t| t.name() == name)? {
            ir::TypeDef::Alias(a) => ty = &a.ty,
            ir::TypeDef::Struct(s) => {
                let page = s.page.as_ref()?;
                return s
                    .fields
                    .iter()
                    .find(|f| f.rust == page.token_field)
                    .map(|f| f.wire.clone());
            }
            ir::TypeDef::Enum(_) => return None,
        }
    }
    None
}

fn check_resource(
    d: &Discovery,
    api: &ir::Api,
    r: &ir::Resource,
    prefix: &[String],
    failures: &mut Vec<String>,
    count: &mut usize,
) {
    for m in &r.methods {
        *count += 1;
        let mut words = prefix.to_vec();
        words.push(m.wire.clone());
        let where_ = format!("{} {}", d.id(), words.join("."));
        let mr = match d.resolve(&words) {
            Ok(Target::Method(mr)) => mr,
            other => {
                failures.push(format!("{where_}: resolves to {other:?}"));
                continue;
            }
        };
        let info = mr.info();
        let mut diff = |what: &str, ok: bool| {
            if !ok {
                failures.push(format!("{where_}: {what} differs"));
            }
        };
        diff("id", info.id == m.id);
        diff("http method", info.http_method == http(m.http_method));
        diff("path", info.path == m.path);
        diff("scopes", info.scopes == m.scopes.as_slice());
        diff("download", info.supports_media_download == m.download);
        diff("data wrapper", info.data_wrapper == m.data_wrapper);
        diff("api version", mr.method().api_version == m.api_version);
        match (&info.media_upload, &m.media_upload) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                diff("media accept", a.accept == b.accept.as_slice());
                diff("media max size", a.max_size == b.max_size);
                diff(
                    "media simple path",
                    a.simple_path == b.simple_path.as_deref(),
                );
                diff(
                    "media resumable path",
                    a.resumable_path == b.resumable_path.as_deref(),
                );
            }
            _ => diff("media upload", false),
        }
        match (&info.pagination, &m.pagination) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                let loc = match b.location {
                    ir::TokenLocation::Query => gapi::TokenLocation::Query,
                    ir::TokenLocation::Body => gapi::TokenLocation::Body,
                };
                diff("token location", a.location == loc);
                diff("token param", a.token_param == b.request_token);
                diff(
                    "next token member",
                    mr.page_token_field().map(str::to_owned) == token_wire(api, m),
                );
            }
            _ => diff("pagination", false),
        }
        for p in m.args.iter().chain(&m.setters) {
            let Some((dp, _)) = mr.parameter(&p.wire) else {
                failures.push(format!("{where_}: parameter {} missing", p.wire));
                continue;
            };
            let kind = param_kind(dp);
            if !same_param(kind, &p.ty, api) {
                failures.push(format!(
                    "{where_}: parameter {}: {kind:?} vs {:?}",
                    p.wire, p.ty
                ));
            }
            let in_path = dp.location.as_deref() == Some("path");
            if in_path != (p.location == ir::Location::Path) {
                failures.push(format!("{where_}: parameter {} location", p.wire));
            }
            if p.repeated != (dp.repeated == Some(true) && !in_path) {
                failures.push(format!("{where_}: parameter {} repetition", p.wire));
            }
        }
        for a in &m.args {
            if !mr.is_required(&a.wire) {
                failures.push(format!("{where_}: positional {} not required", a.wire));
            }
        }
    }
    for sub in &r.resources {
        let mut p = prefix.to_vec();
        p.push(sub.wire.clone());
        check_resource(d, api, sub, &p, failures, count);
    }
}

#[test]
fn method_descriptions_match_the_generator_for_every_document() {
    let generator = gapi_gen::Generator::new();
    let mut failures = Vec::new();
    let (mut docs, mut methods, mut refused) = (0, 0, 0);
    for path in documents() {
        let Ok(api) = generator.load(&path) else {
            // Documents the generator refuses are not compared.
            refused += 1;
            continue;
        };
        let d = Discovery::from_file(&path).unwrap();
        docs += 1;
        check_resource(&d, &api, &api.root, &[], &mut failures, &mut methods);
    }
    println!("{docs} documents, {methods} methods compared ({refused} refused by the generator)");
    assert!(methods > 500, "too few methods compared: {methods}");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}
