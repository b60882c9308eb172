//! Pagination: opaque page tokens bound to the query they continue.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::errors::ApiError;

/// A short digest of what a query asks for (list, filters), so a token from one query
/// is refused by another.
fn fingerprint(query: &str) -> String {
    let digest = Sha256::digest(query.as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

fn bad_token() -> ApiError {
    ApiError::new(400, "invalid", "Invalid page token.").at("pageToken", "parameter")
}

/// The page token that continues `query` at `offset`.
pub(crate) fn encode(query: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{offset}:{}", fingerprint(query)))
}

/// The offset a page token continues at; 400 when it is not one of ours for `query`.
pub(crate) fn decode(query: &str, token: &str) -> Result<usize, ApiError> {
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad_token())?;
    let text = String::from_utf8(bytes).map_err(|_| bad_token())?;
    let mut parts = text.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("v1"), Some(offset), Some(fp), None) if fp == fingerprint(query) => {
            offset.parse().map_err(|_| bad_token())
        }
        _ => Err(bad_token()),
    }
}

/// One page of `items`: those from the token's offset (or the start), at most `size`,
/// and the token for the next page when more remain.
pub(crate) fn page<T>(
    items: Vec<T>,
    query: &str,
    token: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let offset = match token.filter(|t| !t.is_empty()) {
        Some(t) => decode(query, t)?,
        None => 0,
    };
    let total = items.len();
    let end = offset.saturating_add(size.max(1)).min(total);
    let page: Vec<T> = items
        .into_iter()
        .skip(offset)
        .take(end.saturating_sub(offset))
        .collect();
    let next = (end < total).then(|| encode(query, end));
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_all_pages() {
        let items: Vec<u32> = (0..7).collect();
        let (p1, t1) = page(items.clone(), "q", None, 3).unwrap();
        assert_eq!(p1, [0, 1, 2]);
        let (p2, t2) = page(items.clone(), "q", t1.as_deref(), 3).unwrap();
        assert_eq!(p2, [3, 4, 5]);
        let (p3, t3) = page(items.clone(), "q", t2.as_deref(), 3).unwrap();
        assert_eq!(p3, [6]);
        assert!(t3.is_none());
        let (all, none) = page(items, "q", None, 10).unwrap();
        assert_eq!(all.len(), 7);
        assert!(none.is_none());
    }

    #[test]
    fn refuses_foreign_tokens() {
        let token = encode("q", 3);
        assert_eq!(decode("q", &token).unwrap(), 3);
        assert_eq!(decode("other", &token).unwrap_err().code, 400);
        assert!(decode("q", "garbage!").is_err());
        assert!(decode("q", &URL_SAFE_NO_PAD.encode("v1:x:y")).is_err());
        assert!(page(vec![1], "q", Some("nope"), 1).is_err());
    }

    #[test]
    fn offsets_past_the_end_give_an_empty_page() {
        let token = encode("q", 10);
        let (p, t) = page(vec![1, 2], "q", Some(&token), 5).unwrap();
        assert!(p.is_empty() && t.is_none());
    }
}
