//! Discovery descriptions → rustdoc text that renders sensibly and never
//! becomes a failing doctest or a rustdoc warning.
//!
//! - Fenced code blocks become ```` ```text ```` blocks (an unclosed fence is
//!   closed at the end); indented (4-space) code blocks after a blank line
//!   become ```` ```text ```` blocks too. Neither is compiled as a doctest.
//! - Outside code, `[` and `]` are escaped (no accidental intra-doc links),
//!   `<` becomes `&lt;` (no stray HTML tags), tabs become spaces.
//! - Inline code spans (`` `x` ``) are left as they are.
//! - `\r\n`, `\r`, U+0085, U+2028 and U+2029 become line breaks; other
//!   control characters and the bidirectional-text controls that can make
//!   code read differently from how it compiles (Trojan Source,
//!   CVE-2021-42574) are dropped; leading and trailing blank lines are removed.
//!
//! [`one_line`] does the same for text that goes into one line of a comment,
//! a heading or a README (the API's name, version, title, revision).

/// Whether `c` is one of the Unicode bidirectional-text controls (embeddings,
/// overrides, isolates and the implicit marks), which rustc rejects in
/// comments and literals and which can make source read differently from
/// how it compiles.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Whether `c` may not be copied into a comment or a plain-text file: a
/// control character or a bidirectional-text control.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Whether `c` ends a line of a description.
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// `text` on one line, for a comment, heading or README: unsafe characters
/// dropped, every run of whitespace (line breaks included) one space, no
/// leading or trailing whitespace.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text
        .split(|c: char| c.is_whitespace() || is_line_break(c))
        .map(|w| {
            w.chars()
                .filter(|c| !is_unsafe_char(*c))
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// Turns a description into rustdoc lines (without the leading `///`).
pub fn doc_lines(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    let mut out: Vec<String> = Vec::new();
    let mut in_fence = false;
    let mut in_indented = false;
    let mut prev_blank = true;
    for raw in text.split(is_line_break) {
        let line: String = raw
            .chars()
            .filter(|c| !is_unsafe_char(*c) || *c == '\t')
            .collect::<String>()
            .replace('\t', "    ");
        let trimmed = line.trim_start();
        let is_fence = trimmed.starts_with("```") && !trimmed[3..].contains("```");
        if in_fence {
            if is_fence {
                out.push("```".to_string());
                in_fence = false;
                prev_blank = false;
            } else {
                out.push(line.trim_end().to_string());
            }
            continue;
        }
        if in_indented {
            if line.trim().is_empty() || line.starts_with("    ") {
                out.push(line.get(4..).unwrap_or("").trim_end().to_string());
                continue;
            }
            // End of the indented block: drop trailing blank lines inside it.
            let mut blanks = 0;
            while out.last().is_some_and(|l| l.is_empty()) {
                out.pop();
                blanks += 1;
            }
            out.push("```".to_string());
            for _ in 0..blanks {
                out.push(String::new());
            }
            in_indented = false;
            prev_blank = blanks > 0;
        }
        if is_fence {
            out.push("```text".to_string());
            in_fence = true;
            prev_blank = false;
            continue;
        }
        if prev_blank && line.starts_with("    ") && !line.trim().is_empty() {
            out.push("```text".to_string());
            out.push(line[4..].trim_end().to_string());
            in_indented = true;
            continue;
        }
        let escaped = escape_line(trimmed_end(&line));
        prev_blank = escaped.trim().is_empty();
        out.push(escaped);
    }
    if in_indented {
        while out.last().is_some_and(|l| l.is_empty()) {
            out.pop();
        }
        out.push("```".to_string());
    }
    if in_fence {
        out.push("```".to_string());
    }
    // Trim blank lines at both ends and collapse runs of blank lines.
    let mut lines: Vec<String> = Vec::with_capacity(out.len());
    for l in out {
        let blank = l.trim().is_empty();
        if blank && lines.last().is_none_or(|p: &String| p.trim().is_empty()) {
            continue;
        }
        lines.push(if blank { String::new() } else { l });
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

fn trimmed_end(s: &str) -> &str {
    s.trim_end()
}

/// Escapes `[`, `]` and `<` outside inline code spans.
fn escape_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let bytes: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == '`' {
            // A code span: a run of N backticks up to the next run of N.
            let mut n = 0;
            while i + n < bytes.len() && bytes[i + n] == '`' {
                n += 1;
            }
            let mut j = i + n;
            let mut close = None;
            while j < bytes.len() {
                if bytes[j] == '`' {
                    let mut m = 0;
                    while j + m < bytes.len() && bytes[j + m] == '`' {
                        m += 1;
                    }
                    if m == n {
                        close = Some(j);
                        break;
                    }
                    j += m;
                } else {
                    j += 1;
                }
            }
            match close {
                Some(j) => {
                    out.extend(&bytes[i..j + n]);
                    i = j + n;
                }
                None => {
                    // Unmatched backticks: literal text.
                    for _ in 0..n {
                        out.push_str("\\`");
                    }
                    i += n;
                }
            }
            continue;
        }
        if let Some((text, url, len)) = markdown_link(&bytes[i..]) {
            // `[text](https://…)`: kept as a link (its text escaped).
            out.push('[');
            out.push_str(&escape_line(&text));
            out.push_str("](");
            out.push_str(&url);
            out.push(')');
            i += len;
            continue;
        }
        if c == '<'
            && let Some(len) = autolink(&bytes[i..])
        {
            // `<https://…>`: already an autolink.
            out.extend(&bytes[i..i + len]);
            i += len;
            continue;
        }
        if let Some(len) = bare_url(&bytes[i..], &bytes[..i]) {
            // A bare URL becomes an autolink (rustdoc warns about bare ones).
            out.push('<');
            out.extend(&bytes[i..i + len]);
            out.push('>');
            i += len;
            continue;
        }
        match c {
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '<' => out.push_str("&lt;"),
            '\\' => {
                // Keep existing escapes; a lone trailing backslash becomes literal.
                if i + 1 == bytes.len() {
                    out.push_str("\\\\");
                } else {
                    out.push('\\');
                }
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Where a URL starts: `http://` or `https://`.
fn starts_url(s: &[char]) -> bool {
    let lower = |p: &str| {
        s.len() > p.len()
            && s.iter()
                .zip(p.chars())
                .all(|(a, b)| a.eq_ignore_ascii_case(&b))
    };
    lower("https://") || lower("http://")
}

/// The characters a URL in prose may hold (RFC 3986's, less the ones that
/// usually end one: quotes, angle brackets, backticks).
fn url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c)
}

/// The length of a bare URL at the start of `s` (not preceded by a
/// character that makes it part of a word, a link or an autolink), without
/// the punctuation that ends a sentence and unbalanced closing parentheses.
fn bare_url(s: &[char], before: &[char]) -> Option<usize> {
    let joined = |b: &char| b.is_alphanumeric() || "\\\"/=".contains(*b);
    if !starts_url(s) || before.last().is_some_and(joined) {
        return None;
    }
    let mut len = s
        .iter()
        .take_while(|c| url_char(**c) && **c != '[' && **c != ']')
        .count();
    loop {
        let last = s[len - 1];
        let open = s[..len].iter().filter(|c| **c == '(').count();
        let close = s[..len].iter().filter(|c| **c == ')').count();
        if ".,;:!?'*".contains(last) || (last == ')' && close > open) {
            len -= 1;
        } else {
            break;
        }
    }
    // A scheme alone is not a link.
    (s[..len].iter().filter(|c| **c == '/').count() >= 2 && len > "https://".len()).then_some(len)
}

/// The length of an autolink (`<https://…>`) at the start of `s`.
fn autolink(s: &[char]) -> Option<usize> {
    if s.first() != Some(&'<') || !starts_url(&s[1..]) {
        return None;
    }
    let end = s.iter().position(|c| *c == '>')?;
    s[1..end].iter().all(|c| url_char(*c)).then_some(end + 1)
}

/// A Markdown link to an absolute URL at the start of `s`: its text, URL
/// and length. Relative links (which would not resolve) are not links here.
fn markdown_link(s: &[char]) -> Option<(String, String, usize)> {
    if s.first() != Some(&'[') {
        return None;
    }
    let close = s.iter().position(|c| *c == ']')?;
    let text = &s[1..close];
    let ticks = text.iter().filter(|c| **c == '`').count();
    if text.is_empty() || text.contains(&'[') || ticks % 2 == 1 {
        return None;
    }
    let rest = &s[close + 1..];
    if rest.first() != Some(&'(') || !starts_url(&rest[1..]) {
        return None;
    }
    let end = rest.iter().position(|c| *c == ')')?;
    let url = &rest[1..end];
    if !url
        .iter()
        .all(|c| url_char(*c) && !matches!(c, '(' | '[' | ']'))
    {
        return None;
    }
    Some((
        text.iter().collect(),
        url.iter().collect(),
        close + 1 + end + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> String {
        doc_lines(s).join("\n")
    }

    #[test]
    fn fences_become_text() {
        assert_eq!(
            doc("Example:\n```\nfn main() {}\n```\nafter"),
            "Example:\n```text\nfn main() {}\n```\nafter"
        );
        assert_eq!(
            doc("```json\n{\"a\": [1]}\n```"),
            "```text\n{\"a\": [1]}\n```"
        );
    }

    #[test]
    fn unclosed_fence_is_closed() {
        assert_eq!(doc("a\n```\ncode"), "a\n```text\ncode\n```");
    }

    #[test]
    fn inline_triple_backticks_are_a_span() {
        assert_eq!(doc("use ```a[0]``` here"), "use ```a[0]``` here");
        assert_eq!(doc("```a[0]``` here"), "```a[0]``` here");
    }

    #[test]
    fn indented_blocks_become_text() {
        assert_eq!(
            doc("For example:\n\n    gcloud foo [bar]\n    baz\n\nThen more."),
            "For example:\n\n```text\ngcloud foo [bar]\nbaz\n```\n\nThen more."
        );
        assert_eq!(doc("\n    code at start"), "```text\ncode at start\n```");
        // Indented continuation of a paragraph is not a code block.
        assert_eq!(doc("para\n    continued"), "para\n    continued");
    }

    #[test]
    fn brackets_and_html_are_escaped() {
        assert_eq!(
            doc("see [Foo] and <b>bold</b>"),
            "see \\[Foo\\] and &lt;b>bold&lt;/b>"
        );
        assert_eq!(doc("keep `a[0] <x>` as code"), "keep `a[0] <x>` as code");
        assert_eq!(doc("lonely ` tick"), "lonely \\` tick");
        assert_eq!(doc("ends with \\"), "ends with \\\\");
        assert_eq!(
            doc("https://example.com/a?b=c"),
            "<https://example.com/a?b=c>"
        );
    }

    #[test]
    fn links_stay_links_and_bare_urls_become_autolinks() {
        assert_eq!(
            doc("see [Roles](https://example.com/r) and [Rel](/x)."),
            "see [Roles](https://example.com/r) and \\[Rel\\](/x)."
        );
        assert_eq!(
            doc("use [`files.export`](https://h/e) or [`x](https://h/y)"),
            "use [`files.export`](https://h/e) or \\[\\`x\\](<https://h/y>)"
        );
        assert_eq!(doc("[a <b>](http://h/p?q=1)"), "[a &lt;b>](http://h/p?q=1)");
        assert_eq!(
            doc("More at https://example.com/a_(b). Or (https://h/x)."),
            "More at <https://example.com/a_(b)>. Or (<https://h/x>)."
        );
        assert_eq!(
            doc("`https://in.code/x` https://"),
            "`https://in.code/x` https://"
        );
        assert_eq!(doc("<https://already/auto>"), "<https://already/auto>");
        assert_eq!(doc("<https://h/x y>"), "&lt;<https://h/x> y>");
        assert_eq!(doc("xhttps://h/p"), "xhttps://h/p");
    }

    #[test]
    fn whitespace_is_normalized() {
        assert_eq!(doc("\n\na\r\n\r\n\r\nb\t c\n\n"), "a\n\nb     c");
        assert_eq!(doc("x\u{7}y"), "xy");
        assert!(doc_lines("   ").is_empty());
        assert_eq!(doc("a\u{2028}b\u{85}c\rd"), "a\nb\nc\nd");
    }

    #[test]
    fn bidi_and_control_characters_never_reach_docs() {
        let hostile = "if access \u{202E}\u{2066} // admin\u{2069}\u{2066} {\u{200F}\u{061C}\u{200E}\u{202A}\u{202B}\u{202C}\u{202D}\u{2067}\u{2068}\0\u{1b}[31m\u{7f}";
        for text in [
            hostile.to_string(),
            format!("```\n{hostile}\n```"),
            format!("\n    {hostile}"),
        ] {
            for line in doc_lines(&text) {
                assert!(!line.chars().any(is_unsafe_char), "{line:?}");
            }
        }
        assert_eq!(doc("a\u{202E}b"), "ab");
        assert_eq!(one_line(" tasks\n\u{202E}v1\u{0}\t x "), "tasks v1 x");
        assert_eq!(one_line("\u{2066}\u{2069}"), "");
    }
}
