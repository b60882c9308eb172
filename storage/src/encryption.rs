//! [`Encryption`]: credentials encrypted at rest with an application key.

use std::fmt;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use crate::StorageError;

/// What starts an encrypted value.
pub(crate) const PREFIX: &str = "gapi-enc:v1:";
const NONCE_LEN: usize = 24;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A 256-bit key for [`Encryption`]. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKey([u8; 32]);

impl EncryptionKey {
    /// A key from 32 bytes (from a secret manager, a KMS, ...).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        EncryptionKey(bytes)
    }

    /// A key from its base64 text (standard or URL-safe alphabet, padded or
    /// not), which must decode to exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, StorageError> {
        let t = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(t))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(t))
            .or_else(|_| B64.decode(t))
            .map_err(|_| StorageError::Config("the encryption key is not valid base64".into()))?;
        let arr: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            StorageError::Config(format!(
                "the encryption key must be 32 bytes, this one has {}",
                b.len()
            ))
        })?;
        Ok(EncryptionKey(arr))
    }

    /// A new random key (store it somewhere safe: without it the stored
    /// credentials cannot be read).
    pub fn generate() -> Self {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        EncryptionKey(b)
    }

    /// The key as standard base64 (a secret).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// The key id written with each value: 8 hex digits of a hash of the key
    /// (not enough to learn anything about the key).
    pub fn key_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"gapi-storage key id\0");
        h.update(self.0);
        crate::util::hex(&h.finalize()[..4])
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptionKey(id {})", self.key_id())
    }
}

/// Encryption of stored credentials at rest with XChaCha20-Poly1305.
///
/// - Every write draws a fresh random 192-bit nonce.
/// - The value is bound to its entry's key (the user key) as associated data:
///   a value copied into another user's entry does not decrypt.
/// - Values record the id of their key, so keys can be rotated: encrypt with
///   the new key and keep the old ones with [`with_previous_key`](Self::with_previous_key);
///   entries are re-encrypted with the new key on their next write.
/// - Failures are typed [`StorageError`]s (`Decrypt`, `UnknownKey`,
///   `Plaintext`, `Malformed`), never panics.
///
/// A stored value looks like `gapi-enc:v1:<key id>:<base64url(nonce ‖ ciphertext)>`.
#[derive(Clone)]
pub struct Encryption {
    primary: EncryptionKey,
    previous: Vec<EncryptionKey>,
    allow_plaintext: bool,
}

impl Encryption {
    /// Encrypts with `key`.
    pub fn new(key: EncryptionKey) -> Self {
        Encryption {
            primary: key,
            previous: Vec::new(),
            allow_plaintext: false,
        }
    }

    /// Also decrypts values written with an older key.
    pub fn with_previous_key(mut self, key: EncryptionKey) -> Self {
        self.previous.push(key);
        self
    }

    /// Whether unencrypted values (written before encryption was turned on)
    /// are read; default no (they are a [`StorageError::Plaintext`] error).
    /// They are encrypted on their next write either way.
    pub fn allow_plaintext(mut self, allow: bool) -> Self {
        self.allow_plaintext = allow;
        self
    }

    pub(crate) fn plaintext_allowed(&self) -> bool {
        self.allow_plaintext
    }

    fn aad(key_id: &str, entry: &str) -> Vec<u8> {
        let mut aad = b"gapi-storage v1\0".to_vec();
        aad.extend_from_slice(key_id.as_bytes());
        aad.push(0);
        aad.extend_from_slice(entry.as_bytes());
        aad
    }

    /// Encrypts `plaintext` for the entry `entry`.
    pub(crate) fn seal(&self, entry: &str, plaintext: &[u8]) -> Result<String, StorageError> {
        let kid = self.primary.key_id();
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.primary.0));
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &Self::aad(&kid, entry),
                },
            )
            .map_err(|_| StorageError::Malformed("encryption failed".into()))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ct);
        Ok(format!("{PREFIX}{kid}:{}", B64.encode(blob)))
    }

    /// Decrypts a value that starts with [`PREFIX`].
    pub(crate) fn open(&self, entry: &str, stored: &str) -> Result<Vec<u8>, StorageError> {
        let rest = stored
            .strip_prefix(PREFIX)
            .ok_or_else(|| StorageError::Malformed("missing the encryption header".into()))?;
        let (kid, data) = rest
            .split_once(':')
            .ok_or_else(|| StorageError::Malformed("missing the key id".into()))?;
        let key = std::iter::once(&self.primary)
            .chain(&self.previous)
            .find(|k| k.key_id() == kid)
            .ok_or_else(|| StorageError::UnknownKey {
                key_id: kid.chars().take(16).collect(),
            })?;
        let blob = B64
            .decode(data.trim())
            .map_err(|_| StorageError::Malformed("the ciphertext is not valid base64url".into()))?;
        if blob.len() < NONCE_LEN + 16 {
            return Err(StorageError::Malformed(
                "the ciphertext is too short".into(),
            ));
        }
        let (nonce, ct) = blob.split_at(NONCE_LEN);
        XChaCha20Poly1305::new(Key::from_slice(&key.0))
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: &Self::aad(kid, entry),
                },
            )
            .map_err(|_| StorageError::Decrypt)
    }
}

impl fmt::Debug for Encryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryption")
            .field("key", &self.primary)
            .field("previous_keys", &self.previous)
            .field("allow_plaintext", &self.allow_plaintext)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_fresh_nonces_and_binding() {
        let e = Encryption::new(EncryptionKey::generate());
        let a = e.seal("alice", b"secret json").unwrap();
        let b = e.seal("alice", b"secret json").unwrap();
        assert_ne!(a, b, "a nonce per write");
        assert!(!a.contains("secret"));
        assert_eq!(e.open("alice", &a).unwrap(), b"secret json");
        assert!(matches!(e.open("bob", &a), Err(StorageError::Decrypt)));
    }

    #[test]
    fn wrong_key_tampering_and_rotation() {
        let old = EncryptionKey::generate();
        let new = EncryptionKey::generate();
        let sealed = Encryption::new(old.clone()).seal("k", b"x").unwrap();
        let e = Encryption::new(new.clone());
        assert!(matches!(
            e.open("k", &sealed),
            Err(StorageError::UnknownKey { .. })
        ));
        let rotated = Encryption::new(new).with_previous_key(old.clone());
        assert_eq!(rotated.open("k", &sealed).unwrap(), b"x");
        // Same key id, different key bytes: authentication fails.
        let forged = sealed.replace(&old.key_id(), &rotated.primary.key_id());
        assert!(matches!(
            rotated.open("k", &forged),
            Err(StorageError::Decrypt)
        ));
        // Flip a ciphertext character.
        let mut t = sealed.clone().into_bytes();
        let last = t.len() - 3;
        t[last] = if t[last] == b'A' { b'B' } else { b'A' };
        let t = String::from_utf8(t).unwrap();
        assert!(matches!(
            Encryption::new(old.clone()).open("k", &t),
            Err(StorageError::Decrypt)
        ));
        for bad in ["gapi-enc:v1:", "gapi-enc:v1:abcd", "gapi-enc:v1:x:!!!"] {
            assert!(
                Encryption::new(old.clone()).open("k", bad).is_err(),
                "{bad}"
            );
        }
        let short = format!("{PREFIX}{}:AAAA", old.key_id());
        assert!(matches!(
            Encryption::new(old).open("k", &short),
            Err(StorageError::Malformed(_))
        ));
    }

    #[test]
    fn keys_from_base64() {
        let k = EncryptionKey::generate();
        assert_eq!(EncryptionKey::from_base64(&k.to_base64()).unwrap(), k);
        assert!(EncryptionKey::from_base64("AAAA").is_err());
        assert!(EncryptionKey::from_base64("not base64!").is_err());
        assert!(!format!("{k:?}").contains(&k.to_base64()));
    }
}
