//! URL building: RFC 6570 path templates (`{var}`, `{+var}`) and query strings.
//!
//! Exactly RFC 6570, level 2: `{var}` (simple expansion) percent-encodes
//! everything outside the unreserved set (`A-Z a-z 0-9 - . _ ~`), so `/`
//! becomes `%2F`; `{+var}` (reserved expansion) also keeps the reserved set
//! `: / ? # [ ] @ ! $ & ' ( ) * + , ; =` and passes percent-encoded
//! triplets (`%2F`) through as they are, so
//! `projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com` goes out
//! unchanged. (google-api-python-client keeps the same set, but encodes a
//! `%` of the value: the only difference, for values that are already
//! percent-encoded.) Literal template text (`users/@me/lists`,
//! `:batchGet`) is copied as is.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{Error, ErrorKind, Result};

/// Everything but the RFC 3986 unreserved characters.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// As [`COMPONENT`] but keeping RFC 3986's reserved characters (RFC 6570's
/// reserved expansion); `%` is handled apart (triplets pass through).
const RESERVED: &AsciiSet = &COMPONENT
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'#')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// Reserved expansion of `value`: [`RESERVED`] kept, `%XX` triplets kept,
/// any other `%` encoded.
fn push_reserved(out: &mut String, value: &str) {
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        out.extend(utf8_percent_encode(&rest[..i], RESERVED));
        let triplet = rest
            .get(i + 1..i + 3)
            .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        if triplet {
            out.push_str(&rest[i..i + 3]);
            rest = &rest[i + 3..];
        } else {
            out.push_str("%25");
            rest = &rest[i + 1..];
        }
    }
    out.extend(utf8_percent_encode(rest, RESERVED));
}

/// Expands a path template with the given parameters, appending to `out`.
///
/// Every `{name}` must have a value; an unterminated `{` or an unsupported
/// operator is an error naming the template.
pub(crate) fn expand_path(
    out: &mut String,
    template: &str,
    params: &[(&'static str, String)],
) -> Result<()> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| {
            Error::new(
                ErrorKind::Request,
                format!("path template {template:?}: unterminated '{{'"),
            )
        })?;
        let expr = &after[..close];
        let (reserved, name) = match expr.strip_prefix('+') {
            Some(n) => (true, n),
            None => (false, expr),
        };
        let name = name.strip_suffix('*').unwrap_or(name);
        if name.is_empty() || name.contains(|c: char| "#./;?&=,!@|".contains(c)) {
            return Err(Error::new(
                ErrorKind::Request,
                format!("path template {template:?}: unsupported expression {{{expr}}}"),
            ));
        }
        let value = params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Request,
                    format!("path template {template:?}: no value for {{{expr}}}"),
                )
            })?;
        if reserved {
            push_reserved(out, value);
        } else {
            out.extend(utf8_percent_encode(value, COMPONENT));
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(Error::new(
            ErrorKind::Request,
            format!("path template {template:?}: unmatched '}}'"),
        ));
    }
    out.push_str(rest);
    Ok(())
}

/// Appends `name=value` pairs as a query string (`?` first, then `&`).
pub(crate) fn append_query<'a>(
    out: &mut String,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) {
    let mut first = !out.contains('?');
    for (k, v) in pairs {
        out.push(if first { '?' } else { '&' });
        first = false;
        out.extend(utf8_percent_encode(k, COMPONENT));
        out.push('=');
        out.extend(utf8_percent_encode(v, COMPONENT));
    }
}

/// Joins root URL, service path and a method path. A method path starting with
/// `/` is taken from the root URL (media upload paths are like that).
///
/// Returns the base, with room for the expanded path and a query, and the
/// template still to expand (borrowed from `path`).
pub(crate) fn base_for<'p>(root_url: &str, service_path: &str, path: &'p str) -> (String, &'p str) {
    let root = root_url.trim_end_matches('/');
    let (service_path, template) = match path.strip_prefix('/') {
        Some(abs) => ("", abs),
        None => (service_path.trim_start_matches('/'), path),
    };
    let mut out = String::with_capacity(root.len() + service_path.len() + template.len() + 64);
    out.push_str(root);
    out.push('/');
    out.push_str(service_path);
    (out, template)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(t: &str, params: &[(&'static str, &str)]) -> Result<String> {
        let owned: Vec<(&'static str, String)> =
            params.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let mut s = String::new();
        expand_path(&mut s, t, &owned)?;
        Ok(s)
    }

    #[test]
    fn simple_var_encodes_everything_reserved() {
        let got = expand(
            "b/{bucket}/o/{object}",
            &[("bucket", "my-b"), ("object", "a/b c?d#e@f:g")],
        )
        .unwrap();
        assert_eq!(got, "b/my-b/o/a%2Fb%20c%3Fd%23e%40f%3Ag");
    }

    #[test]
    fn reserved_var_keeps_the_reserved_set_and_triplets() {
        let got = expand(
            "v1/{+name}:run",
            &[("name", "projects/p 1/locations/l?x#y@z:w")],
        )
        .unwrap();
        assert_eq!(got, "v1/projects/p%201/locations/l?x#y@z:w:run");
        let got = expand(
            "v1/{+name}",
            &[(
                "name",
                "projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com",
            )],
        )
        .unwrap();
        assert_eq!(
            got,
            "v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com"
        );
        // every reserved character kept, others encoded, triplets as they are
        let got = expand("{+v}", &[("v", ":/?#[]@!$&'()*+,;= \"<>^`{|}%2F%zz%")]).unwrap();
        assert_eq!(
            got,
            ":/?#[]@!$&'()*+,;=%20%22%3C%3E%5E%60%7B%7C%7D%2F%25zz%25"
        );
        // simple expansion of the same value encodes all of it
        let got = expand("{v}", &[("v", ":/?#[]@!$&'()*+,;=%2F")]).unwrap();
        assert_eq!(
            got,
            "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%252F"
        );
    }

    #[test]
    fn rfc_6570_level_2_examples() {
        // RFC 6570 §1.2, level 1 and 2, var = "value", hello = "Hello World!",
        // path = "/foo/bar"
        let vars = [
            ("var", "value"),
            ("hello", "Hello World!"),
            ("path", "/foo/bar"),
        ];
        assert_eq!(expand("{var}", &vars).unwrap(), "value");
        assert_eq!(expand("{hello}", &vars).unwrap(), "Hello%20World%21");
        assert_eq!(expand("{+var}", &vars).unwrap(), "value");
        assert_eq!(expand("{+hello}", &vars).unwrap(), "Hello%20World!");
        assert_eq!(expand("{+path}/here", &vars).unwrap(), "/foo/bar/here");
        assert_eq!(
            expand("here?ref={+path}", &vars).unwrap(),
            "here?ref=/foo/bar"
        );
    }

    #[test]
    fn unicode_and_unreserved() {
        let got = expand("{a}", &[("a", "é-._~Z9")]).unwrap();
        assert_eq!(got, "%C3%A9-._~Z9");
    }

    #[test]
    fn verb_suffix_and_literals_kept() {
        let got = expand(
            "tasks/v1/users/@me/lists/{tasklist}:move",
            &[("tasklist", "x")],
        )
        .unwrap();
        assert_eq!(got, "tasks/v1/users/@me/lists/x:move");
    }

    #[test]
    fn missing_param_and_bad_template_are_errors() {
        assert!(
            expand("a/{b}", &[])
                .unwrap_err()
                .to_string()
                .contains("no value")
        );
        assert!(expand("a/{b", &[("b", "x")]).is_err());
        assert!(expand("a/{?b}", &[("b", "x")]).is_err());
        assert!(expand("a/b}", &[]).is_err());
    }

    #[test]
    fn query_repeats_keys_and_encodes() {
        let mut s = String::from("https://x/y");
        append_query(&mut s, [("a", "1"), ("a", "2"), ("q", "x y&z=/")]);
        assert_eq!(s, "https://x/y?a=1&a=2&q=x%20y%26z%3D%2F");
    }

    #[test]
    fn base_joins() {
        assert_eq!(
            base_for("https://s.googleapis.com/", "storage/v1/", "b/{bucket}"),
            ("https://s.googleapis.com/storage/v1/".into(), "b/{bucket}")
        );
        assert_eq!(
            base_for(
                "https://s.googleapis.com/",
                "storage/v1/",
                "/upload/storage/v1/b/{bucket}/o"
            ),
            (
                "https://s.googleapis.com/".into(),
                "upload/storage/v1/b/{bucket}/o"
            )
        );
        assert_eq!(
            base_for("http://127.0.0.1:9/", "", "tasks/v1/x"),
            ("http://127.0.0.1:9/".into(), "tasks/v1/x")
        );
    }
}
