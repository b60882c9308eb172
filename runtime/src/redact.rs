//! One scrubber for all text that comes from a server: token-endpoint
//! errors, API error bodies and headers, and everything made from them
//! (error messages, log fields).
//!
//! A server or a proxy may echo what it received: the form of a token
//! request (`refresh_token=1%2F%2F…`), the `Authorization` header, a JSON
//! copy of the request (`"1\/\/…"`), an HTML page (`&#47;`), or a Basic
//! credential (base64 of `client_id:client_secret`). [`Redactor`] finds
//! every secret it was given in any of these forms and replaces it with
//! `[redacted]`:
//!
//! - the text is read as *units*: a plain byte, a `%XX` escape, a JSON
//!   escape (`\/`, `\u002F`, surrogate pairs, `\n`…), an HTML character
//!   reference (`&#47;`, `&#x2F;`, `&amp;`…); `+` stands for itself or a
//!   space (form encoding). A secret is found when the decoded units spell
//!   it, whatever mix of escapes spells it. The decoded text is read again
//!   the same way, up to three layers deep (a form inside JSON inside JSON,
//!   `%252F`);
//! - besides the secret itself, for secrets of 12 characters or more, its
//!   base64 (standard and URL-safe alphabets) is looked for at each of the
//!   three alignments it can have inside a longer base64 string, minus the
//!   characters shared with its neighbours.
//!
//! What is replaced is the whole original span, escapes included.

use std::borrow::Cow;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not looked for (they would match ordinary
/// text); no real token, key, code or verifier is this short.
const MIN_SECRET: usize = 4;

/// Base64 forms are looked for from this length on: shorter secrets give
/// stems too short to be told from other base64 text.
const MIN_BASE64_SECRET: usize = 12;

/// Finds and replaces a set of secrets in remote text.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    /// Byte strings to find in the decoded text.
    needles: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} forms)", self.needles.len())
    }
}

impl Redactor {
    /// A redactor for these secrets (empty and very short ones are ignored).
    pub(crate) fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    /// Adds one secret (and its encoded forms).
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET {
            return;
        }
        let mut push = |n: Vec<u8>| {
            if n.len() >= MIN_SECRET && !self.needles.contains(&n) {
                self.needles.push(n);
            }
        };
        push(secret.as_bytes().to_vec());
        if secret.len() >= MIN_BASE64_SECRET {
            for engine in [
                &base64::engine::general_purpose::STANDARD_NO_PAD,
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ] {
                for stem in base64_stems(secret.as_bytes(), engine) {
                    push(stem.into_bytes());
                }
            }
        }
    }

    /// Whether there is nothing to look for.
    pub(crate) fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every form of every secret replaced by `[redacted]`.
    pub(crate) fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if self.needles.is_empty() || text.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for layer in Decoded::layers(text) {
            for needle in &self.needles {
                layer.find_all(needle, &mut spans);
            }
        }
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            if end <= at {
                continue;
            }
            let start = start.max(at);
            out.push_str(&text[at..start]);
            if !out.ends_with(REDACTED) {
                out.push_str(REDACTED);
            }
            at = end;
        }
        out.push_str(&text[at..]);
        Cow::Owned(out)
    }

    /// [`redact`](Self::redact) of bytes read as UTF-8 (lossily).
    pub(crate) fn redact_bytes(&self, bytes: &[u8]) -> String {
        let text = String::from_utf8_lossy(bytes);
        self.redact(&text).into_owned()
    }
}

/// `%2F` → `%2f`: the other spelling of the same escapes.
#[cfg(test)]
fn lower_hex_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = 0usize;
    for c in s.chars() {
        if c == '%' {
            rest = 2;
            out.push(c);
        } else if rest > 0 {
            rest -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The base64 text that `secret` always produces inside any longer base64
/// string, for each of its three possible alignments: the encoding of
/// `pad + secret` without the characters that depend on the neighbours.
fn base64_stems(secret: &[u8], engine: &impl base64::Engine) -> Vec<String> {
    let mut out = Vec::new();
    for pad in 0..3usize {
        let mut input = vec![0u8; pad];
        input.extend_from_slice(secret);
        let full = engine.encode(&input);
        // The first `pad` bytes touch ceil(pad * 8 / 6) characters; the last
        // partial group depends on what follows.
        let skip = (pad * 8).div_ceil(6);
        let whole = (input.len() / 3) * 4;
        if whole > skip {
            out.push(full[skip..whole].to_owned());
        }
    }
    out
}

/// Layers of escaping looked through: enough for a form inside JSON inside
/// JSON (`\\\/`), a twice percent-encoded value (`%252F`), and the like.
const MAX_LAYERS: usize = 3;

/// The text read as units: for each decoded byte, the span of the original
/// text that produced it, and whether it is a literal `+` (which may also
/// stand for a space).
struct Decoded {
    bytes: Vec<u8>,
    /// Original span (start, end) of the unit each decoded byte belongs to.
    spans: Vec<(usize, usize)>,
    plus: Vec<bool>,
}

impl Decoded {
    /// The layers of `text`: the text itself, then each decoding of the
    /// previous layer while escapes remain (at most [`MAX_LAYERS`]).
    fn layers(text: &str) -> Vec<Decoded> {
        let raw = text.as_bytes();
        let mut layers = vec![Decoded {
            bytes: raw.to_vec(),
            spans: (0..raw.len()).map(|i| (i, i + 1)).collect(),
            plus: raw.iter().map(|&b| b == b'+').collect(),
        }];
        for _ in 0..MAX_LAYERS {
            let prev = layers.last().expect("one layer at least");
            match prev.decode() {
                Some(next) => layers.push(next),
                None => break,
            }
        }
        layers
    }

    /// One more layer of decoding; `None` when there is nothing to decode.
    fn decode(&self) -> Option<Decoded> {
        let b = &self.bytes;
        let mut d = Decoded {
            bytes: Vec::with_capacity(b.len()),
            spans: Vec::with_capacity(b.len()),
            plus: Vec::with_capacity(b.len()),
        };
        let mut changed = false;
        let mut i = 0;
        while i < b.len() {
            let (decoded, len) = unit(b, i);
            let span = (self.spans[i].0, self.spans[i + len - 1].1);
            let is_plus = len == 1 && b[i] == b'+';
            changed |= len > 1;
            for byte in decoded.iter() {
                d.bytes.push(*byte);
                d.spans.push(span);
                d.plus.push(is_plus);
            }
            i += len;
        }
        changed.then_some(d)
    }

    /// Appends the original spans of every occurrence of `needle`.
    fn find_all(&self, needle: &[u8], out: &mut Vec<(usize, usize)>) {
        let n = needle.len();
        if n == 0 || self.bytes.len() < n {
            return;
        }
        let first = needle[0];
        let mut i = 0;
        while i + n <= self.bytes.len() {
            if self.matches_at(i, first) && (1..n).all(|k| self.matches_at(i + k, needle[k])) {
                out.push((self.spans[i].0, self.spans[i + n - 1].1));
                i += n;
            } else {
                i += 1;
            }
        }
    }

    fn matches_at(&self, i: usize, want: u8) -> bool {
        let got = self.bytes[i];
        got == want || (want == b' ' && self.plus[i])
    }
}

/// The unit of text at `i`: its decoded bytes and its length in the text.
fn unit(b: &[u8], i: usize) -> (SmallBytes, usize) {
    match b[i] {
        b'%' => {
            if let Some(v) = hex_byte(b.get(i + 1..i + 3)) {
                return (SmallBytes::one(v), 3);
            }
        }
        b'\\' => {
            if let Some(u) = json_escape(b, i) {
                return u;
            }
        }
        b'&' => {
            if let Some(u) = html_reference(b, i) {
                return u;
            }
        }
        _ => {}
    }
    (SmallBytes::one(b[i]), 1)
}

fn hex_byte(two: Option<&[u8]>) -> Option<u8> {
    let two = two?;
    let s = std::str::from_utf8(two).ok()?;
    u8::from_str_radix(s, 16).ok()
}

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let s = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
    if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok()
}

/// A JSON string escape at `i` (which holds `\`).
fn json_escape(b: &[u8], i: usize) -> Option<(SmallBytes, usize)> {
    let simple = match *b.get(i + 1)? {
        b'/' => Some(b'/'),
        b'\\' => Some(b'\\'),
        b'"' => Some(b'"'),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'u' => None,
        _ => return None,
    };
    if let Some(v) = simple {
        return Some((SmallBytes::one(v), 2));
    }
    let hi = hex4(b, i + 2)?;
    let (c, len) = if (0xD800..0xDC00).contains(&hi) {
        // A surrogate pair: `\uD83D\uDE00`.
        if b.get(i + 6..i + 8) != Some(b"\\u") {
            return None;
        }
        let lo = hex4(b, i + 8)?;
        if !(0xDC00..0xE000).contains(&lo) {
            return None;
        }
        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        (char::from_u32(c)?, 12)
    } else {
        (char::from_u32(hi)?, 6)
    };
    Some((SmallBytes::char(c), len))
}

/// An HTML character reference at `i` (which holds `&`).
fn html_reference(b: &[u8], i: usize) -> Option<(SmallBytes, usize)> {
    let end = b[i..].iter().take(12).position(|&c| c == b';')? + i;
    let name = std::str::from_utf8(&b[i + 1..end]).ok()?;
    let c = if let Some(num) = name.strip_prefix('#') {
        let v = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(v)?
    } else {
        match name {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "sol" => '/',
            "plus" => '+',
            "equals" => '=',
            _ => return None,
        }
    };
    Some((SmallBytes::char(c), end + 1 - i))
}

/// Up to four decoded bytes, without allocating.
struct SmallBytes {
    buf: [u8; 4],
    len: usize,
}

impl SmallBytes {
    fn one(b: u8) -> Self {
        SmallBytes {
            buf: [b, 0, 0, 0],
            len: 1,
        }
    }

    fn char(c: char) -> Self {
        let mut buf = [0u8; 4];
        let len = c.encode_utf8(&mut buf).len();
        SmallBytes { buf, len }
    }

    fn iter(&self) -> impl Iterator<Item = &u8> {
        self.buf[..self.len].iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const RT: &str = "1//0gLx-refresh+token/with~odd chars";

    fn assert_clean(r: &Redactor, text: &str) {
        let out = r.redact(text);
        assert!(out.contains(REDACTED), "not redacted: {text:?} → {out:?}");
        for forbidden in ["0gLx-refresh", "0gLx%2Drefresh", "refresh%2Btoken"] {
            assert!(!out.contains(forbidden), "{text:?} → {out:?}");
        }
    }

    #[test]
    fn raw_and_every_single_layer_encoding() {
        let r = Redactor::new([RT]);
        assert_clean(&r, &format!("echo: {RT} end"));
        // form encoding, upper- and lower-case hex, `+` for space
        let form: String = form_urlencoded::byte_serialize(RT.as_bytes()).collect();
        assert!(form.contains("%2F%2F") && form.contains('+'));
        assert_clean(
            &r,
            &format!("refresh_token={form}&grant_type=refresh_token"),
        );
        assert_clean(&r, &format!("x={}", lower_hex_escapes(&form)));
        // `%20` for the space, every byte escaped
        let all: String = RT.bytes().map(|b| format!("%{b:02X}")).collect();
        assert_clean(&r, &all);
        // JSON escapes: `\/` and `\u` forms
        assert_clean(&r, &serde_json::to_string(RT).unwrap().replace('/', "\\/"));
        let u: String = RT.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        assert_clean(&r, &u);
        // HTML references
        assert_clean(&r, &RT.replace('/', "&#47;").replace('~', "&#x7E;"));
        // a mix
        assert_clean(&r, &format!("\"{}\"", RT.replace("//", "%2F\\/")));
    }

    #[test]
    fn second_layer_of_percent_encoding() {
        let r = Redactor::new([RT]);
        let once: String = form_urlencoded::byte_serialize(RT.as_bytes()).collect();
        let twice: String = form_urlencoded::byte_serialize(once.as_bytes()).collect();
        assert_clean(&r, &twice);
        assert_clean(&r, &serde_json::to_string(&once).unwrap());
    }

    #[test]
    fn nested_layers_json_in_json_and_form_in_json() {
        let r = Redactor::new([RT]);
        let form: String = form_urlencoded::byte_serialize(RT.as_bytes()).collect();
        let inner = serde_json::json!({ "echo": RT, "form": form }).to_string();
        let outer = serde_json::json!({ "message": inner }).to_string();
        let outer = outer.replace('/', "\\/");
        let out = r.redact(&outer);
        assert!(!out.contains("0gLx"), "{out}");
        // what remains is still JSON
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["message"].as_str().unwrap().contains(REDACTED));
    }

    #[test]
    fn base64_at_every_alignment_and_both_alphabets() {
        let secret = "GOCSPX-client-secret-value?>";
        let r = Redactor::new([secret]);
        for prefix in ["", "a", "ab", "client-id.apps.googleusercontent.com:"] {
            let plain = format!("{prefix}{secret}");
            for engine in [
                &base64::engine::general_purpose::STANDARD,
                &base64::engine::general_purpose::URL_SAFE,
            ] {
                let b64 = engine.encode(plain.as_bytes());
                let header = format!("Authorization: Basic {b64}");
                let out = r.redact(&header);
                assert!(out.contains(REDACTED), "{prefix:?}: {out}");
                // what is left cannot be decoded back to the secret
                assert!(!out.contains(&b64), "{out}");
            }
        }
    }

    #[test]
    fn unrelated_text_is_untouched_and_borrowed() {
        let r = Redactor::new([RT, "ya29.access-token-value", "", "abc"]);
        let text = "HTTP 400: invalid_grant: Bad Request (see 1// and ya29.)";
        assert!(matches!(r.redact(text), Cow::Borrowed(_)));
        // short secrets are ignored rather than matched in ordinary text
        assert_eq!(Redactor::new(["abc"]).redact("abcabc"), "abcabc");
    }

    #[test]
    fn adjacent_and_repeated_secrets() {
        let r = Redactor::new(["ya29.access-token-value", "second-secret-value"]);
        let out = r.redact("ya29.access-token-valuesecond-secret-value ya29.access-token-value");
        assert_eq!(out, "[redacted] [redacted]");
    }

    #[test]
    fn malformed_escapes_do_not_panic() {
        let r = Redactor::new([RT]);
        for t in [
            "%",
            "%4",
            "%zz",
            "\\",
            "\\u",
            "\\u12",
            "\\uD83D",
            "\\uD83D\\u0041",
            "&",
            "&#;",
            "&#x;",
            "&#99999999;",
            "&unknown;",
            "é%C3%A9\\u00e9&eacute;",
        ] {
            let _ = r.redact(t);
        }
    }
}
