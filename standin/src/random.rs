//! Random identifiers: tokens, codes and resource ids.

use rand::Rng;
use rand::distr::Alphanumeric;

/// `len` random ASCII letters and digits.
pub(crate) fn alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A new access token, shaped like Google's (`ya29.` and 64 random characters).
pub(crate) fn access_token() -> String {
    format!("ya29.{}", alphanumeric(64))
}

/// A new refresh token, shaped like Google's (`1//` and 48 random characters).
pub(crate) fn refresh_token() -> String {
    format!("1//{}", alphanumeric(48))
}

/// A new authorization code, shaped like Google's (`4/` and 40 random characters);
/// the slash makes clients encode it properly.
pub(crate) fn auth_code() -> String {
    format!("4/{}", alphanumeric(40))
}

/// A new device code (44 random characters).
pub(crate) fn device_code() -> String {
    format!("AH-{}", alphanumeric(41))
}

/// A new user code for the device flow: `XXXX-XXXX` from consonants that are hard to
/// confuse.
pub(crate) fn user_code() -> String {
    const LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut rng = rand::rng();
    let mut pick = || LETTERS[rng.random_range(0..LETTERS.len())] as char;
    let a: String = (0..4).map(|_| pick()).collect();
    let b: String = (0..4).map(|_| pick()).collect();
    format!("{a}-{b}")
}

/// A new resource id for a task or task list (22 random characters).
pub(crate) fn resource_id() -> String {
    alphanumeric(22)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(access_token().starts_with("ya29.") && access_token().len() >= 30);
        assert!(refresh_token().len() >= 30);
        assert!(auth_code().len() >= 30);
        let u = user_code();
        assert_eq!(u.len(), 9);
        assert_eq!(&u[4..5], "-");
        assert_ne!(access_token(), access_token());
    }
}
