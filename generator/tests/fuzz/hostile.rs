//! Hostile names and texts, and the proptest strategies that draw them.

use std::fmt;

use proptest::prelude::*;

/// Names and texts a generator has to survive: leading digits, empty,
/// keywords (strict, reserved, weak, the four that cannot be raw), the
/// runtime's and std's crate names, prelude and primitive type names,
/// names the generated code itself uses, odd characters, Unicode, bidi and
/// control characters, newlines, comment and doc syntax, the generator's own
/// placeholders.
pub const NAMES: &[&str] = &[
    "",
    "2fa",
    "0",
    "123abc",
    "3d",
    "_",
    "__",
    "_1",
    "gapi",
    "Gapi",
    "self",
    "Self",
    "SELF",
    "crate",
    "super",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "type",
    "fn",
    "r#type",
    "async",
    "await",
    "dyn",
    "gen",
    "try",
    "union",
    "macro_rules",
    "static",
    "mod",
    "impl",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Into",
    "From",
    "Default",
    "Clone",
    "Debug",
    "Send",
    "Sized",
    "str",
    "bool",
    "u8",
    "i64",
    "f32",
    "usize",
    "char",
    "schemas",
    "scopes",
    "SERVICE",
    "REVISION",
    "CallBuilder",
    "Call",
    "Method",
    "ListMethod",
    "MethodSpec",
    "M",
    "params",
    "with_timeout",
    "withTimeout",
    "with_",
    "add_tags",
    "addTags",
    "upload_with",
    "upload_resumable",
    "from_call",
    "fields",
    "quotaUser",
    "_method",
    "Service",
    "Client",
    "MethodInfo",
    "new",
    "send",
    "call",
    "call_mut",
    "into_call",
    "request",
    "response",
    "svc",
    "value",
    "v",
    "index",
    "media",
    "pages",
    "items",
    "upload",
    "download",
    "with_root_url",
    "service",
    "UnknownValue",
    "unknown_value",
    "__TABLE",
    "as_str",
    "nextPageToken",
    "pageToken",
    "@type",
    "$ref",
    "a.b",
    "a-b",
    "a b",
    "a/b",
    "{+name}",
    "{x}",
    "#",
    "ü",
    "naïve",
    "日本語",
    "Ωmega",
    "🦀",
    "e\u{301}",
    "\u{202E}evil",
    "a\u{2066}b\u{2069}",
    "\u{200F}",
    "\u{061C}x",
    "\u{200E}\u{202A}\u{202B}\u{202C}\u{202D}\u{2067}\u{2068}",
    "a\nb",
    "a\r\nb",
    "line\u{2028}sep",
    "\u{85}",
    "\t",
    "\0",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{feff}",
    "\u{200b}",
    "\"quoted\"",
    "back\\slash",
    "trailing\\",
    "*/",
    "/*",
    "//",
    "/// doc",
    "//! inner",
    "\"#",
    "r#\"",
    "}",
    "{",
    "@gapi-doc:0",
    "#[gapi_open_enum]",
    "<script>",
    "[link]",
    "```rust\nfn main() { panic!() }\n```",
    "```",
    "\n    fn indented() {}",
    "# heading",
    "`",
];

/// A string chosen by a strategy. Its `Debug` shows the string escaped and
/// long ones shortened, so a mutation plan prints readably.
#[derive(Clone, PartialEq, Eq)]
pub struct Hostile(pub String);

impl fmt::Debug for Hostile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.chars().count();
        if n > 40 {
            let head: String = self.0.chars().take(16).collect();
            write!(f, "{head:?}… ({n} chars)")
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

/// Any hostile name: mostly from [`NAMES`], else a digit-led name, any
/// Unicode scalar values (control and bidi characters included), a name
/// with a suffix that collides after case conversion, or a very long one.
pub fn name() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        12 => proptest::sample::select(NAMES).prop_map(|s| Hostile(s.to_string())),
        2 => "[0-9][a-zA-Z0-9_]{0,6}".prop_map(Hostile),
        2 => proptest::collection::vec(any::<char>(), 0..10)
            .prop_map(|c| Hostile(c.into_iter().collect())),
        1 => "[a-z]{1,3}[A-Z_.-]{0,2}[a-z0-9]{0,2}".prop_map(Hostile),
        1 => (proptest::sample::select(NAMES), 50usize..3000)
            .prop_map(|(s, n)| Hostile(format!("{s}{}", "x".repeat(n)))),
    ]
}

/// A hostile description: a hostile name inside ordinary prose, or a
/// Trojan Source line, or markdown that could become a doctest.
pub fn text() -> impl Strategy<Value = Hostile> {
    prop_oneof![
        3 => name().prop_map(|h| Hostile(format!("Text {} more.", h.0))),
        1 => name(),
        1 => Just(Hostile(
            "access \u{202E} \u{2066}// check admin\u{2069} \u{2066}{\n/* \u{202E} } \u{2066}if (isAdmin)\u{2069} \u{2066} begin admins only */"
                .to_string()
        )),
        1 => Just(Hostile("Example:\n\n    fn main() { compile_error!(\"doctest\") }\n\nand\n```\nlet x = [1];\n".to_string())),
    ]
}
