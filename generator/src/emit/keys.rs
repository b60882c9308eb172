//! The hash index of a struct's wire names (`Record::INDEX`), which the
//! runtime's decoder looks JSON members up in.
//!
//! The layout and the hash are the runtime's (`gapi/src/wire/keys.rs`): an
//! open-addressing table of a power-of-two size at least twice the number of
//! fields, each name at its hash's slot or the next free one after it,
//! holding its position plus one (0: empty). This is a copy of the runtime's
//! hash (the generator does not depend on the runtime), pinned to the same
//! test vectors; the test crate checks every committed crate's tables.

/// The hash of a wire name that places it in the index: its length and its
/// first and last eight bytes (four, or three single bytes, when shorter), mixed by one
/// multiplication — a few instructions whatever the name's length, where
/// the collisions this allows cost one more comparison.
pub(crate) fn key_hash(key: &[u8]) -> u32 {
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

/// The index of `names` (in their order), or `None` when there are none or
/// more than a `u16` can number (the runtime then searches `FIELDS`).
pub(crate) fn index(names: &[&str]) -> Option<Vec<u16>> {
    if names.is_empty() || names.len() >= usize::from(u16::MAX) {
        return None;
    }
    let m = (names.len() * 2).next_power_of_two();
    let mask = m - 1;
    let mut table = vec![0u16; m];
    for (i, name) in names.iter().enumerate() {
        let mut slot = key_hash(name.as_bytes()) as usize & mask;
        while table[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        table[slot] = u16::try_from(i + 1).ok()?;
    }
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_the_runtimes_vectors() {
        assert_eq!(key_hash(b""), 0);
        assert_eq!(key_hash(b"id"), 0x5932_0f59);
        assert_eq!(key_hash(b"etag"), 0xc5cc_f020);
        assert_eq!(key_hash(b"nextPageToken"), 0xd426_e985);
    }

    #[test]
    fn every_name_has_one_slot_reachable_from_its_hash() {
        let names = ["etag", "id", "items", "kind", "nextPageToken", "selfLink"];
        let t = index(&names).unwrap();
        assert_eq!(t.len(), 16);
        assert_eq!(t.iter().filter(|e| **e != 0).count(), names.len());
        for (i, n) in names.iter().enumerate() {
            let mut s = key_hash(n.as_bytes()) as usize & 15;
            while usize::from(t[s]) != i + 1 {
                assert_ne!(t[s], 0, "{n} not reachable");
                s = (s + 1) & 15;
            }
        }
        assert_eq!(index(&[]), None);
    }
}
