//! Help made from the document: for an API (its resources and methods), a
//! resource, a method (parameters with their types, what is required, enum
//! values, the body and response schemas, media, paging, scopes), and the
//! list of bundled APIs.

use std::fmt::Write as _;

use gapi_dynamic::kind::param_kind;
use gapi_dynamic::parse::{Method, Resource};
use gapi_dynamic::{Discovery, MethodRef, Target};
use serde_json::{Value, json};

use crate::bundle;

/// The first sentence or line of a description, made one line.
pub fn summary(text: Option<&str>) -> String {
    let t = text.unwrap_or("").trim();
    let line = t.lines().next().unwrap_or("");
    // One sentence; two when the first is a bare "Optional." or the like.
    let cut = match line.find(". ") {
        Some(i) if i < 24 => match line[i + 2..].find(". ") {
            Some(j) => &line[..=i + 2 + j],
            None => line,
        },
        Some(i) if i < 160 => &line[..=i],
        _ => line,
    };
    let mut s: String = cut.chars().filter(|c| !c.is_control()).collect();
    if s.chars().count() > 160 {
        s = s.chars().take(159).collect::<String>() + "…";
    }
    s
}

fn list_members(
    out: &mut String,
    prefix: &str,
    resources: &std::collections::BTreeMap<String, Resource>,
    methods: &std::collections::BTreeMap<String, Method>,
) {
    if !resources.is_empty() {
        out.push_str("\nResources:\n");
        for (name, r) in resources {
            let n = r.methods.len();
            let subs = r.resources.len();
            let mut what = format!("{n} method{}", if n == 1 { "" } else { "s" });
            if subs > 0 {
                let _ = write!(
                    what,
                    ", {subs} sub-resource{}",
                    if subs == 1 { "" } else { "s" }
                );
            }
            let _ = writeln!(out, "  {name:<28} {what}");
        }
    }
    if !methods.is_empty() {
        out.push_str("\nMethods:\n");
        for (name, m) in methods {
            let _ = writeln!(out, "  {name:<28} {}", summary(m.description.as_deref()));
        }
    }
    let _ = writeln!(out, "\nRun `gapi {prefix} <name> --help` for more.");
}

/// Help for an API or a resource.
pub fn target(d: &Discovery, api_word: &str, t: &Target<'_>) -> String {
    let doc = d.document();
    let mut out = String::new();
    match t {
        Target::Api | Target::Method(_) => {
            let _ = writeln!(
                out,
                "{} ({}, revision {})",
                doc.title.as_deref().unwrap_or(d.name()),
                d.id(),
                doc.revision.as_deref().unwrap_or("?")
            );
            let desc = summary(doc.description.as_deref());
            if !desc.is_empty() {
                let _ = writeln!(out, "{desc}");
            }
            if let Some(link) = &doc.documentation_link {
                let _ = writeln!(out, "Documentation: {link}");
            }
            let _ = writeln!(
                out,
                "\nUsage: gapi {api_word} <resource>… <method> [options]"
            );
            list_members(&mut out, api_word, &doc.resources, &doc.methods);
        }
        Target::Resource(path, r) => {
            let _ = writeln!(out, "{} resource {}", d.id(), path.join("."));
            let prefix = format!("{api_word} {}", path.join(" "));
            let _ = writeln!(out, "\nUsage: gapi {prefix} <method> [options]");
            list_members(&mut out, &prefix, &r.resources, &r.methods);
        }
    }
    out
}

/// Help for a method.
pub fn method(m: &MethodRef<'_>) -> String {
    let method = m.method();
    let info = m.info();
    let d = m.discovery();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} — {} {}",
        m.id(),
        info.http_method.as_str(),
        method.path
    );
    if let Some(desc) = &method.description {
        let text: String = desc
            .chars()
            .filter(|c| *c == '\n' || !c.is_control())
            .collect();
        let _ = writeln!(out, "\n{}", text.trim());
    }
    let words = m.path().join(" ");
    let _ = writeln!(out, "\nUsage: gapi {} {words} [options]", d.name());
    let mut names: Vec<&String> = method.parameters.keys().collect();
    names.sort_by_key(|n| (!m.is_required(n), n.to_string()));
    if !names.is_empty() {
        out.push_str("\nParameters (--param NAME=VALUE, or --params JSON):\n");
        for name in names {
            let p = &method.parameters[name];
            let mut tags = vec![param_kind(p).describe()];
            tags.push(if p.location.as_deref() == Some("path") {
                "path".into()
            } else {
                "query".into()
            });
            if m.is_required(name) {
                tags.push("required".into());
            }
            if p.repeated == Some(true) {
                tags.push("repeated".into());
            }
            if p.deprecated == Some(true) {
                tags.push("deprecated".into());
            }
            let _ = writeln!(out, "  {name} ({})", tags.join(", "));
            let s = summary(p.description.as_deref());
            if !s.is_empty() {
                let _ = writeln!(out, "      {s}");
            }
            if let Some(values) = &p.enum_ {
                let _ = writeln!(out, "      one of: {}", values.join(", "));
            }
        }
    }
    let schema_name = |s: &gapi_dynamic::parse::Schema| {
        s.ref_.clone().unwrap_or_else(|| "an inline object".into())
    };
    out.push('\n');
    if let Some(r) = &method.request {
        let _ = writeln!(
            out,
            "Request body: {} (--body JSON|@FILE|-; `gapi schema {} {}` shows it)",
            schema_name(r),
            d.name(),
            r.ref_.as_deref().unwrap_or(&m.path().join("."))
        );
    }
    if let Some(r) = &method.response {
        let _ = writeln!(out, "Response: {}", schema_name(r));
    }
    if let Some(mu) = info.media_upload {
        let _ = writeln!(
            out,
            "Media upload: --upload FILE (accepts {}{})",
            if mu.accept.is_empty() {
                "anything".to_owned()
            } else {
                mu.accept.join(", ")
            },
            mu.max_size
                .map(|n| format!(", at most {n} bytes"))
                .unwrap_or_default()
        );
    }
    if info.supports_media_download {
        out.push_str("Media download: --download FILE\n");
    }
    if m.page_token_field().is_some() {
        out.push_str("Pages: --page-all prints every page (NDJSON)\n");
    }
    if !info.scopes.is_empty() {
        let _ = writeln!(out, "Scopes (any of): {}", info.scopes.join(" "));
    }
    out.push_str(
        "Standard parameters: --fields, and the document's (`alt`, `quotaUser`, …) with --param.\n",
    );
    out
}

/// `gapi apis list`: every bundled API and version.
pub fn apis_list() -> Value {
    let items: Vec<Value> = bundle::DOCS
        .iter()
        .map(|d| {
            let preferred = bundle::default_version(d.name).is_some_and(|p| p.version == d.version);
            json!({
                "id": d.id(),
                "name": d.name,
                "version": d.version,
                "title": d.title,
                "revision": d.revision,
                "default": preferred,
            })
        })
        .collect();
    json!({ "source": bundle::source(), "count": items.len(), "items": items })
}
