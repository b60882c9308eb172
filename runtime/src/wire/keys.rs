//! Finding a JSON member's field while decoding: a hash index the generator
//! precomputes for each struct ([`Record::INDEX`](super::Record::INDEX)),
//! with binary search over the sorted wire names as the fallback.
//!
//! The index is an open-addressing table of `m` slots (a power of two, at
//! least twice the number of fields): slot `key_hash(name) & (m - 1)`, or
//! the next free one after it, holds the field's position plus one; 0 is an
//! empty slot. A lookup hashes the key once and compares it with one name in
//! the usual case, where binary search compares it with log2(n) of them.
//!
//! `gapi-gen` builds the tables with its own copy of [`key_hash`]; both are
//! pinned to the same test vectors, and the test crate checks every
//! generated struct's table. A table that is wrong anyway (a hand-written
//! one) costs speed, not correctness: every miss is confirmed by the binary
//! search before a member is taken as unknown.

/// The hash of a wire name that places it in the index: its length and its
/// first and last eight bytes (four, or three single bytes, when shorter), mixed by one
/// multiplication — a few instructions whatever the name's length, where
/// the collisions this allows cost one more comparison.
#[inline]
pub fn key_hash(key: &[u8]) -> u32 {
    let n = key.len();
    // Fixed-size loads only (no copy of a variable length).
    let (head, tail) = if n >= 8 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&key[..8]);
        let mut z = [0u8; 8];
        z.copy_from_slice(&key[n - 8..]);
        (u64::from_le_bytes(a), u64::from_le_bytes(z))
    } else if n >= 4 {
        let mut a = [0u8; 4];
        a.copy_from_slice(&key[..4]);
        let mut z = [0u8; 4];
        z.copy_from_slice(&key[n - 4..]);
        (
            u64::from(u32::from_le_bytes(a)),
            u64::from(u32::from_le_bytes(z)),
        )
    } else if n > 0 {
        let packed = u64::from(key[0]) | u64::from(key[n / 2]) << 8 | u64::from(key[n - 1]) << 16;
        (packed, 0)
    } else {
        (0, 0)
    };
    let h = (head ^ tail.rotate_left(29) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> 32) as u32
}

/// The position of `key` among `names`, through `index` alone (no
/// fallback): `None` when the index does not lead to it.
#[doc(hidden)]
pub fn indexed_position(names: &[&str], index: &[u16], key: &str) -> Option<usize> {
    let m = index.len();
    if m == 0 || !m.is_power_of_two() {
        return None;
    }
    let mask = m - 1;
    let mut slot = key_hash(key.as_bytes()) as usize & mask;
    for _ in 0..m {
        let entry = usize::from(index[slot]);
        if entry == 0 {
            return None;
        }
        if names.get(entry - 1) == Some(&key) {
            return Some(entry - 1);
        }
        slot = (slot + 1) & mask;
    }
    None
}

/// The position of `key` among `names`: through the index, then (on a miss)
/// by binary search, then — for a table that is not sorted — by a scan.
#[inline]
pub(crate) fn position(names: &[&str], index: &[u16], key: &str) -> Option<usize> {
    if let Some(i) = indexed_position(names, index, key) {
        return Some(i);
    }
    match names.binary_search(&key) {
        Ok(i) => Some(i),
        Err(_) => names.iter().position(|f| *f == key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table `gapi-gen` writes, built the same way (its own copy lives in
    /// generator/src/emit/keys.rs, pinned to the same vectors).
    fn build(names: &[&str]) -> Vec<u16> {
        let m = (names.len() * 2).next_power_of_two().max(2);
        let mut t = vec![0u16; m];
        for (i, n) in names.iter().enumerate() {
            let mut s = key_hash(n.as_bytes()) as usize & (m - 1);
            while t[s] != 0 {
                s = (s + 1) & (m - 1);
            }
            t[s] = u16::try_from(i + 1).unwrap();
        }
        t
    }

    #[test]
    fn hash_matches_the_generators_vectors() {
        assert_eq!(key_hash(b""), 0);
        assert_eq!(key_hash(b"id"), 0x5932_0f59);
        assert_eq!(key_hash(b"etag"), 0xc5cc_f020);
        assert_eq!(key_hash(b"nextPageToken"), 0xd426_e985);
    }

    #[test]
    fn every_name_is_found_through_the_index() {
        let names = ["etag", "id", "items", "kind", "nextPageToken", "selfLink"];
        let index = build(&names);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(indexed_position(&names, &index, n), Some(i));
            assert_eq!(position(&names, &index, n), Some(i));
        }
        assert_eq!(indexed_position(&names, &index, "nope"), None);
        assert_eq!(position(&names, &index, "nope"), None);
    }

    #[test]
    fn a_wrong_or_missing_index_falls_back_to_search() {
        let sorted = ["etag", "id", "items", "kind", "nextPageToken"];
        // no index; one pointing everywhere at the wrong name; one of a
        // size that is not a power of two
        for index in [&[][..], &[1, 1, 1, 1, 1, 1, 1, 1][..], &[3, 0, 1][..]] {
            for (i, k) in sorted.iter().enumerate() {
                assert_eq!(position(&sorted, index, k), Some(i));
            }
            assert_eq!(position(&sorted, index, "nope"), None);
        }
        // entries past the end of the names are ignored
        assert_eq!(indexed_position(&sorted, &[9, 9], "etag"), None);
        let unsorted = ["z", "a", "m"];
        assert_eq!(position(&unsorted, &[], "a"), Some(1));
        assert_eq!(position(&unsorted, &[], "q"), None);
    }
}
