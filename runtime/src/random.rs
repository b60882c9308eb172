//! Random numbers, all from the operating system's generator through ring's
//! `SystemRandom` (already built for rustls and JWT signing): the secrets of
//! a flow (PKCE verifier, `state`), multipart and batch boundaries,
//! temporary file names and retry jitter. One source and no extra crate:
//! `rand` cost the runtime five crates (and a second `getrandom`).

use ring::rand::{SecureRandom as _, SystemRandom};

/// Fills `buf` with random bytes.
///
/// The operating system's generator does not fail once the system has
/// booted (`getrandom(2)` blocks until it is seeded); if it ever does, this
/// panics rather than hand out predictable secrets — as `rand`'s thread
/// generator did before it.
pub(crate) fn fill(buf: &mut [u8]) {
    if SystemRandom::new().fill(buf).is_err() {
        panic!("the operating system's random number generator failed");
    }
}

/// A random `u64`.
pub(crate) fn u64() -> u64 {
    let mut b = [0u8; 8];
    fill(&mut b);
    u64::from_le_bytes(b)
}

/// A random `u128`.
#[cfg(any(feature = "media", feature = "batch"))]
pub(crate) fn u128() -> u128 {
    let mut b = [0u8; 16];
    fill(&mut b);
    u128::from_le_bytes(b)
}

/// A number in `0..=max`, uniform up to a bias below 2⁻⁶⁴ (the widening
/// multiply of a random `u64`: plenty for jitter, never used for secrets).
pub(crate) fn up_to(max: u64) -> u64 {
    match max.checked_add(1) {
        None => u64(),
        Some(n) => ((u128::from(u64()) * u128::from(n)) >> 64) as u64,
    }
}

/// A number in `[0, 1)` with 53 random bits.
pub(crate) fn unit() -> f64 {
    (u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_and_values_vary() {
        for max in [0, 1, 7, 1000, u64::MAX] {
            for _ in 0..200 {
                assert!(up_to(max) <= max);
            }
        }
        let seen: std::collections::BTreeSet<u64> = (0..200).map(|_| up_to(3)).collect();
        assert_eq!(seen.len(), 4, "all of 0..=3 in 200 draws");
        for _ in 0..1000 {
            let x = unit();
            assert!((0.0..1.0).contains(&x));
        }
        assert_ne!(u128(), u128());
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        fill(&mut a);
        fill(&mut b);
        assert_ne!(a, b);
    }
}
