//! Absolute URLs as this crate meets them — in configuration (token and
//! authorization endpoints, callback URLs) and from servers (`Location` of
//! redirects and upload sessions) — read as a browser reads them, without
//! the `url` crate.
//!
//! - [`split`]: the five parts of RFC 3986 Appendix B; it never fails.
//! - [`join`]: reference resolution (RFC 3986 §5.2.2, dot segments removed
//!   as in §5.2.4).
//! - [`absolute`]: the lenient reading: spaces and control characters
//!   trimmed from the ends, tabs and newlines dropped (as the WHATWG URL
//!   standard does), the scheme and host lower-cased, an http(s) URL's
//!   default port dropped, its empty path written `/` and its `.` and `..`
//!   segments removed, and every
//!   character a URI cannot hold (a space, `"`, `<`, non-ASCII text, …)
//!   percent-encoded, so what it returns parses as an `http::Uri`.
//!
//! A host name that is not ASCII is refused with a message asking for its
//! punycode form: the `url` crate's IDNA tables (`idna` and the ICU4X crates
//! under it) were ~9 s of the CPU of a first build of a gapi program
//! (bench/NOTES.md, First build), and no Google endpoint needs them.

use std::fmt;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Why a string is not an absolute URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HrefError(&'static str);

impl fmt::Display for HrefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for HrefError {}

/// A URI reference split into its parts (RFC 3986 Appendix B), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts<'a> {
    /// Without its `:`.
    pub scheme: Option<&'a str>,
    /// Without its `//`.
    pub authority: Option<&'a str>,
    pub path: &'a str,
    /// Without its `?`.
    pub query: Option<&'a str>,
    /// Without its `#`.
    pub fragment: Option<&'a str>,
}

/// `s` split into its parts; any string is a (relative) reference.
pub(crate) fn split(s: &str) -> Parts<'_> {
    let (rest, fragment) = match s.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (s, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (scheme, rest) = match rest.split_once(':') {
        Some((s, r)) if is_scheme(s) => (Some(s), r),
        _ => (None, rest),
    };
    let (authority, path) = match rest.strip_prefix("//") {
        Some(r) => {
            let end = r.find('/').unwrap_or(r.len());
            (Some(&r[..end]), &r[end..])
        }
        None => (None, rest),
    };
    Parts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

impl Parts<'_> {
    /// The parts written back as one string.
    fn compose(&self) -> String {
        let mut out = String::with_capacity(self.path.len() + 32);
        if let Some(s) = self.scheme {
            out.push_str(s);
            out.push(':');
        }
        if let Some(a) = self.authority {
            out.push_str("//");
            out.push_str(a);
        }
        out.push_str(self.path);
        if let Some(q) = self.query {
            out.push('?');
            out.push_str(q);
        }
        if let Some(f) = self.fragment {
            out.push('#');
            out.push_str(f);
        }
        out
    }
}

/// Characters no part of a URI may hold as they are (percent-encoded here):
/// controls, space, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`;
/// non-ASCII text is always encoded (as UTF-8).
const FOREIGN: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// [`FOREIGN`], `@` and `/`, for the user information.
const FOREIGN_IN_USERINFO: &AsciiSet = &FOREIGN.add(b'@').add(b'/');

/// `s` as an absolute URL, read leniently (see the module's documentation).
pub(crate) fn absolute(s: &str) -> Result<String, HrefError> {
    let cleaned = clean(s);
    let parts = split(&cleaned);
    let scheme = parts
        .scheme
        .ok_or(HrefError("it is not an absolute URL (no scheme)"))?
        .to_ascii_lowercase();
    let web = matches!(scheme.as_str(), "http" | "https");
    let authority = match parts.authority {
        Some(a) => Some(authority(a, &scheme)?),
        None if web => return Err(HrefError("it names no host")),
        None => None,
    };
    let path = match parts.path {
        "" if web => "/".to_owned(),
        // RFC 3986 §6.2.2.3: an absolute path without `.` and `..`.
        p if parts.authority.is_some() => {
            utf8_percent_encode(&remove_dot_segments(p), FOREIGN).to_string()
        }
        p => utf8_percent_encode(p, FOREIGN).to_string(),
    };
    let query = parts
        .query
        .map(|q| utf8_percent_encode(q, FOREIGN).to_string());
    let fragment = parts
        .fragment
        .map(|f| utf8_percent_encode(f, FOREIGN).to_string());
    Ok(Parts {
        scheme: Some(&scheme),
        authority: authority.as_deref(),
        path: &path,
        query: query.as_deref(),
        fragment: fragment.as_deref(),
    }
    .compose())
}

/// Leading and trailing spaces and controls trimmed; tabs and newlines
/// anywhere dropped.
fn clean(s: &str) -> String {
    s.trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// The authority checked and normalised: user information kept (encoded),
/// the host lower-cased and checked, an http(s) default port dropped.
fn authority(a: &str, scheme: &str) -> Result<String, HrefError> {
    let (userinfo, hostport) = match a.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, a),
    };
    let (host, port) = if hostport.starts_with('[') {
        let end = hostport
            .find(']')
            .ok_or(HrefError("its IPv6 host has no closing `]`"))?;
        let inside = &hostport[1..end];
        if inside.is_empty()
            || !inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(HrefError("its IPv6 host is not an address"));
        }
        match &hostport[end + 1..] {
            "" => (&hostport[..=end], None),
            rest => (
                &hostport[..=end],
                Some(rest.strip_prefix(':').ok_or(HrefError(
                    "its host is followed by something other than a port",
                ))?),
            ),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(HrefError("it names no host"));
    }
    if !host.is_ascii() {
        return Err(HrefError(
            "its host name is not ASCII (give the punycode form, `xn--…`)",
        ));
    }
    if !host.starts_with('[') {
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        {
            return Err(HrefError(
                "its host name holds a character no host name may",
            ));
        }
        check_numeric_host(host)?;
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => {
            let n: u16 = p
                .parse()
                .ok()
                .filter(|_| p.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(HrefError("its port is not a number from 0 to 65535"))?;
            match (scheme, n) {
                ("http", 80) | ("https", 443) => None,
                _ => Some(n),
            }
        }
    };
    let mut out = String::with_capacity(a.len());
    if let Some(u) = userinfo {
        out.extend(utf8_percent_encode(u, FOREIGN_IN_USERINFO));
        out.push('@');
    }
    out.push_str(&host.to_ascii_lowercase());
    if let Some(n) = port {
        out.push(':');
        out.push_str(&n.to_string());
    }
    Ok(out)
}

/// A host whose last label is a number must be a dotted-quad IPv4 address
/// (`192.168.0.1`): browsers read `1.2`, `0x7f.1` or `010.0.0.1` as other
/// addresses than they spell, so they are refused rather than guessed.
fn check_numeric_host(host: &str) -> Result<(), HrefError> {
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    let last = trimmed.rsplit('.').next().unwrap_or_default();
    let numeric = !last.is_empty()
        && (last.bytes().all(|b| b.is_ascii_digit())
            || last
                .strip_prefix("0x")
                .or_else(|| last.strip_prefix("0X"))
                .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
    if !numeric {
        return Ok(());
    }
    let parts: Vec<&str> = host.split('.').collect();
    let quad = parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u8>().is_ok()
        });
    if quad {
        Ok(())
    } else {
        Err(HrefError(
            "its host ends in a number but is no IPv4 address of four decimal parts",
        ))
    }
}

/// `reference` resolved against the absolute URL `base` (RFC 3986
/// §5.2.2), then read as [`absolute`] reads a URL.
pub(crate) fn join(base: &str, reference: &str) -> Result<String, HrefError> {
    let base = absolute(base)?;
    let b = split(&base);
    let reference = clean(reference);
    let r = split(&reference);
    let resolved = if r.scheme.is_some() || r.authority.is_some() {
        Parts {
            scheme: r.scheme.or(b.scheme),
            path: &remove_dot_segments(r.path),
            ..r
        }
        .compose()
    } else if r.path.is_empty() {
        Parts {
            query: r.query.or(b.query),
            fragment: r.fragment,
            ..b
        }
        .compose()
    } else {
        let path = if r.path.starts_with('/') {
            remove_dot_segments(r.path)
        } else {
            remove_dot_segments(&merge(&b, r.path))
        };
        Parts {
            scheme: b.scheme,
            authority: b.authority,
            path: &path,
            ..r
        }
        .compose()
    };
    absolute(&resolved)
}

/// RFC 3986 §5.2.3: a relative path appended to the base's directory.
fn merge(base: &Parts<'_>, path: &str) -> String {
    if base.authority.is_some() && base.path.is_empty() {
        return format!("/{path}");
    }
    let dir = base.path.rfind('/').map_or("", |i| &base.path[..=i]);
    format!("{dir}{path}")
}

/// RFC 3986 §5.2.4: `.` and `..` segments interpreted and removed.
fn remove_dot_segments(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut input = path;
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") {
            input = &input[3..];
            pop_segment(&mut out);
        } else if input == "/.." {
            input = "/";
            pop_segment(&mut out);
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let from = usize::from(input.starts_with('/'));
            let end = input[from..].find('/').map_or(input.len(), |i| i + from);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    out
}

/// Removes the last segment of `out` and its preceding `/`.
fn pop_segment(out: &mut String) {
    match out.rfind('/') {
        Some(i) => out.truncate(i),
        None => out.clear(),
    }
}

/// `url` with `pairs` appended to its query, form-encoded (`+` for a
/// space, as `application/x-www-form-urlencoded` and the Python client
/// write it), before any fragment.
pub(crate) fn with_query_pairs<'a>(
    url: &str,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let parts = split(url);
    let mut query = form_urlencoded::Serializer::new(parts.query.unwrap_or_default().to_owned());
    query.extend_pairs(pairs);
    let query = query.finish();
    Parts {
        query: Some(&query),
        ..parts
    }
    .compose()
}

/// The URL with its user information replaced by `redacted`; `None` when
/// it is no absolute URL. A proxy address written without a scheme
/// (`user:password@proxy:3128`) reads as a scheme and a path, so there
/// everything before the last `@` is taken for the user information.
pub(crate) fn redact_userinfo(url: &str) -> Option<String> {
    if !url.contains("//")
        && let Some((_, host)) = url.rsplit_once('@')
    {
        return Some(format!("redacted@{host}"));
    }
    let cleaned = absolute(url).ok()?;
    let parts = split(&cleaned);
    let authority = parts.authority?;
    let Some((_, host)) = authority.rsplit_once('@') else {
        return Some(cleaned);
    };
    let authority = format!("redacted@{host}");
    Some(
        Parts {
            authority: Some(&authority),
            ..parts
        }
        .compose(),
    )
}

/// Whether `url`, as [`absolute`] returns it, is an http or https URL.
pub(crate) fn is_web(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

#[cfg(test)]
mod tests;
