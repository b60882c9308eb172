//! Rust names for discovery names: snake_case, UpperCamelCase and SHOUTY
//! forms that are always valid identifiers, and per-scope allocators that make
//! them collision-free deterministically.
//!
//! Rules:
//! - every character that is not ASCII alphanumeric becomes a word break
//!   (`@type` → `type`, `endDate.day` → `end_date_day`, `end-date` → `end_date`);
//! - a name that starts with a digit gets a prefix (`_` for snake case, `V`
//!   for camel case, `N` for SHOUTY constants);
//! - an empty result becomes `value` / `Value` / `VALUE`;
//! - Rust keywords become raw identifiers (`r#type`), except those that cannot
//!   be raw (`self`, `Self`, `super`, `crate`), which get a trailing `_`.

use std::collections::HashSet;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

/// Strict and reserved keywords of Rust 2024 (not counting `_`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be written as raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];

/// Replaces every character that is not ASCII alphanumeric with `_`.
fn clean(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Makes a keyword usable: raw identifier, or a `_` suffix where raw is impossible.
fn unkeyword(s: String) -> String {
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// A snake_case identifier for `name` (fields, parameters, methods, modules).
pub fn snake(name: &str) -> String {
    let mut s = clean(name).to_snake_case();
    if s.is_empty() {
        s = "value".to_string();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    unkeyword(s)
}

/// An UpperCamelCase identifier for `name` (types, enum variants).
pub fn camel(name: &str) -> String {
    let mut s = clean(name).to_upper_camel_case();
    if s.is_empty() {
        s = "Value".to_string();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    unkeyword(s)
}

/// A SHOUTY_SNAKE_CASE identifier for `name` (constants and statics).
pub fn shouty(name: &str) -> String {
    let mut s = clean(name).to_shouty_snake_case();
    if s.is_empty() {
        s = "VALUE".to_string();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'N');
    }
    s
}

/// Makes a composed UpperCamelCase name (e.g. `format!("{ctx}{part}Call")`,
/// built from [`camel_part`] pieces) a valid identifier: `Value` when empty,
/// a `V` prefix before a leading digit (`2faCall` → `V2faCall`), a keyword
/// suffixed (`Self` → `Self_`).
pub fn camel_ident(name: &str) -> String {
    let mut s = clean(name);
    if s.is_empty() {
        s = "Value".to_string();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    unkeyword(s)
}

/// A camel-case word for concatenation into a longer type name: no keyword
/// or digit handling, so the composed name must go through [`camel_ident`].
pub fn camel_part(name: &str) -> String {
    clean(name).to_upper_camel_case()
}

/// Whether `name` is what `emit::ident` accepts: an identifier or
/// a raw identifier (`r#type`) that the lexer takes, not `_`, not a keyword
/// unless raw, and never a raw `self`/`Self`/`super`/`crate`.
pub fn is_ident(name: &str) -> bool {
    let (raw, body) = match name.strip_prefix("r#") {
        Some(b) => (true, b),
        None => (false, name),
    };
    let mut chars = body.chars();
    let start_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    start_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && body != "_"
        && if raw {
            !NOT_RAW.contains(&body)
        } else {
            !KEYWORDS.contains(&body)
        }
}

/// Strips the `r#` of a raw identifier.
pub fn unraw(s: &str) -> &str {
    s.strip_prefix("r#").unwrap_or(s)
}

/// The names taken in one scope. Claims are deterministic: the first claim of
/// a name gets it as is, later claims get `2`, `3`, … appended (with a `_`
/// separator for snake/SHOUTY names).
#[derive(Debug, Default, Clone)]
pub struct Namespace {
    used: HashSet<String>,
}

impl Namespace {
    /// An empty namespace.
    pub fn new() -> Self {
        Self::default()
    }

    /// A namespace where `names` are already taken.
    pub fn with_reserved(names: &[&str]) -> Self {
        let mut ns = Self::new();
        for n in names {
            ns.used.insert(n.to_string());
        }
        ns
    }

    /// Marks `name` as taken.
    pub fn reserve(&mut self, name: &str) {
        self.used.insert(unraw(name).to_string());
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.used.contains(unraw(name))
    }

    /// Claims `base`, or the first free `base2`, `base3`, … (camel case).
    pub fn claim_camel(&mut self, base: &str) -> String {
        self.claim(base, "")
    }

    /// Claims `base`, or the first free `base_2`, `base_3`, … (snake/SHOUTY case).
    pub fn claim_snake(&mut self, base: &str) -> String {
        self.claim(base, "_")
    }

    fn claim(&mut self, base: &str, sep: &str) -> String {
        if self.used.insert(unraw(base).to_string()) {
            return base.to_string();
        }
        let stem = unraw(base).trim_end_matches('_');
        let sep = if stem.ends_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            sep
        };
        for i in 2.. {
            let candidate = format!("{stem}{sep}{i}");
            if self.used.insert(candidate.clone()) {
                return candidate;
            }
        }
        unreachable!("an unbounded range always finds a free name")
    }
}

/// Assigns camel-case names to `wire` names in one namespace so that a name
/// which is already its own camel form keeps it (`HttpHealthCheck` stays,
/// `HTTPHealthCheck` becomes `HttpHealthCheck2`). Input order is the claim
/// order for the rest; the result is in input order.
pub fn claim_camel_exact_first(ns: &mut Namespace, wire: &[&str]) -> Vec<String> {
    let bases: Vec<String> = wire.iter().map(|w| camel(w)).collect();
    let mut out: Vec<Option<String>> = vec![None; wire.len()];
    for (i, w) in wire.iter().enumerate() {
        if bases[i] == *w && !ns.contains(&bases[i]) {
            out[i] = Some(ns.claim_camel(&bases[i]));
        }
    }
    for (i, slot) in out.iter_mut().enumerate() {
        if slot.is_none() {
            *slot = Some(ns.claim_camel(&bases[i]));
        }
    }
    out.into_iter().map(|s| s.unwrap_or_default()).collect()
}

/// Assigns snake-case names to `wire` names in one namespace so that a name
/// which is already its own snake form keeps it (`type` gets `r#type`, then
/// `@type` and `_type` get suffixes). `fallback` names the suffix tried
/// before numbers when the natural name is taken (e.g. `send_param`).
/// The result is in input order.
pub fn claim_snake_exact_first(
    ns: &mut Namespace,
    wire: &[&str],
    fallback: Option<&str>,
) -> Vec<String> {
    claim_exact_first(ns, wire, fallback, snake)
}

/// The setter name of a parameter: its snake-case name, except that a name
/// starting with `with_` — the prefix of every call option — takes `set_`
/// before it (`withExtendedNotifications` → `set_with_extended_notifications`),
/// so no parameter can ever be taken for, or collide with, an option.
pub fn setter_name(wire: &str) -> String {
    let s = snake(wire);
    if unraw(&s).starts_with("with_") {
        format!("set_{}", unraw(&s))
    } else {
        s
    }
}

/// [`claim_snake_exact_first`] for setters: the names are
/// [`setter_name`]s, and a taken one (a builder method, a standard
/// parameter) gets `_param` before a number (`send` → `send_param`).
pub fn claim_setter_names(ns: &mut Namespace, wire: &[&str]) -> Vec<String> {
    claim_exact_first(ns, wire, Some("param"), setter_name)
}

fn claim_exact_first(
    ns: &mut Namespace,
    wire: &[&str],
    fallback: Option<&str>,
    base_of: fn(&str) -> String,
) -> Vec<String> {
    let bases: Vec<String> = wire.iter().map(|w| base_of(w)).collect();
    let mut out: Vec<Option<String>> = vec![None; wire.len()];
    for (i, w) in wire.iter().enumerate() {
        if clean(w).to_snake_case() == *w && bases[i] == snake(w) && !ns.contains(&bases[i]) {
            out[i] = Some(ns.claim_snake(&bases[i]));
        }
    }
    for (i, slot) in out.iter_mut().enumerate() {
        if slot.is_none() {
            let base = &bases[i];
            *slot = Some(match fallback {
                Some(suffix) if ns.contains(base) => {
                    ns.claim_snake(&format!("{}_{suffix}", unraw(base).trim_end_matches('_')))
                }
                _ => ns.claim_snake(base),
            });
        }
    }
    out.into_iter().map(|s| s.unwrap_or_default()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_names() {
        assert_eq!(snake("maxResults"), "max_results");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("@type"), "r#type");
        assert_eq!(snake("$ref"), "r#ref");
        assert_eq!(snake("end-date"), "end_date");
        assert_eq!(snake("endDate.day"), "end_date_day");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("super"), "super_");
        assert_eq!(snake("crate"), "crate_");
        assert_eq!(snake("move"), "r#move");
        assert_eq!(snake("30fps"), "_30fps");
        assert_eq!(snake("$"), "value");
        assert_eq!(snake("getOpenid-configuration"), "get_openid_configuration");
        assert_eq!(snake("_type"), "r#type");
        assert_eq!(snake("gen"), "r#gen");
        assert_eq!(snake("naïve"), "na_ve");
    }

    #[test]
    fn composed_camel_names() {
        assert_eq!(camel_ident("2faCall"), "V2faCall");
        assert_eq!(camel_ident(""), "Value");
        assert_eq!(camel_ident("Self"), "Self_");
        assert_eq!(camel_ident("GetCall"), "GetCall");
        assert_eq!(camel_part("2fa.get"), "2faGet");
    }

    #[test]
    fn identifiers_are_checked() {
        for ok in ["a", "_a", "r#type", "A1", "self_", "Self_"] {
            assert!(is_ident(ok), "{ok}");
        }
        for bad in ["", "_", "1a", "type", "r#self", "a-b", "ä", "r#", "self"] {
            assert!(!is_ident(bad), "{bad}");
        }
    }

    #[test]
    fn camel_names() {
        assert_eq!(camel("needsAction"), "NeedsAction");
        assert_eq!(camel("NOT_ACTIVATED"), "NotActivated");
        assert_eq!(camel("not_activated"), "NotActivated");
        assert_eq!(camel("SELF"), "Self_");
        assert_eq!(camel("1"), "V1");
        assert_eq!(camel("30fps"), "V30fps");
        assert_eq!(camel("AD_ID.ORG"), "AdIdOrg");
        assert_eq!(camel("us-central1"), "UsCentral1");
        assert_eq!(camel(""), "Value");
        assert_eq!(camel("HTTPHealthCheck"), "HttpHealthCheck");
        assert_eq!(
            camel("GoogleCloudOsconfigV1__OSPolicyAssignmentOperationMetadata"),
            "GoogleCloudOsconfigV1OsPolicyAssignmentOperationMetadata"
        );
    }

    #[test]
    fn shouty_names() {
        assert_eq!(shouty("tasks.readonly"), "TASKS_READONLY");
        assert_eq!(shouty("cloud-platform"), "CLOUD_PLATFORM");
        assert_eq!(shouty("3d"), "N3D");
    }

    #[test]
    fn namespace_suffixes() {
        let mut ns = Namespace::new();
        assert_eq!(ns.claim_snake("r#type"), "r#type");
        assert_eq!(ns.claim_snake("r#type"), "type_2");
        assert_eq!(ns.claim_snake("type_2"), "type_2_2");
        assert_eq!(ns.claim_camel("NotActivated"), "NotActivated");
        assert_eq!(ns.claim_camel("NotActivated"), "NotActivated2");
        assert_eq!(ns.claim_camel("V1"), "V1");
        assert_eq!(ns.claim_camel("V1"), "V1_2");
        assert_eq!(ns.claim_snake("self_"), "self_");
        assert_eq!(ns.claim_snake("self_"), "self_2");
    }

    #[test]
    fn exact_snake_name_wins() {
        let mut ns = Namespace::new();
        let names =
            claim_snake_exact_first(&mut ns, &["@type", "_type", "type", "self", "Self"], None);
        assert_eq!(names, ["type_2", "type_3", "r#type", "self_", "self_2"]);
        let names = claim_snake_exact_first(&mut Namespace::new(), &["Self", "self"], None);
        assert_eq!(names, ["self_2", "self_"]);
        let mut ns = Namespace::with_reserved(&["send"]);
        let names = claim_snake_exact_first(&mut ns, &["send", "maxResults"], Some("param"));
        assert_eq!(names, ["send_param", "max_results"]);
    }

    #[test]
    fn setters_never_start_with_the_options_prefix() {
        assert_eq!(
            setter_name("withExtendedNotifications"),
            "set_with_extended_notifications"
        );
        assert_eq!(setter_name("with_x"), "set_with_x");
        assert_eq!(setter_name("with"), "with");
        assert_eq!(setter_name("without"), "without");
        let mut ns = Namespace::with_reserved(&["send"]);
        let names = claim_setter_names(&mut ns, &["withX", "with_x", "send", "maxResults"]);
        assert_eq!(
            names,
            [
                "set_with_x",
                "set_with_x_param",
                "send_param",
                "max_results"
            ]
        );
    }

    #[test]
    fn exact_name_wins() {
        let mut ns = Namespace::new();
        let names = claim_camel_exact_first(&mut ns, &["HTTPHealthCheck", "HttpHealthCheck"]);
        assert_eq!(names, ["HttpHealthCheck2", "HttpHealthCheck"]);
        let mut ns = Namespace::with_reserved(&["UnknownValue"]);
        assert_eq!(ns.claim_camel(&camel("UNKNOWN_VALUE")), "UnknownValue2");
    }
}
