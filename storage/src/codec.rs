//! How credentials become the text a backend stores, and back.

use gapi::auth::UserCredentials;

use crate::StorageError;

/// Serializes credentials as compact JSON, encrypted when an
/// [`Encryption`](crate::Encryption) is configured.
#[derive(Clone, Default, Debug)]
pub(crate) struct Codec {
    #[cfg(feature = "encryption")]
    encryption: Option<std::sync::Arc<crate::Encryption>>,
}

/// What starts an encrypted value (also known without the feature, so that
/// such a value gets a clear error).
const ENCRYPTED_PREFIX: &str = "gapi-enc:";

impl Codec {
    /// A codec that encrypts with `encryption`.
    #[cfg(feature = "encryption")]
    pub(crate) fn encrypted(encryption: crate::Encryption) -> Self {
        Codec {
            encryption: Some(std::sync::Arc::new(encryption)),
        }
    }

    /// Whether values are encrypted.
    pub(crate) fn is_encrypted(&self) -> bool {
        #[cfg(feature = "encryption")]
        return self.encryption.is_some();
        #[cfg(not(feature = "encryption"))]
        false
    }

    /// The stored text of `credentials` in the entry `key`.
    pub(crate) fn encode(
        &self,
        key: &str,
        credentials: &UserCredentials,
    ) -> Result<String, StorageError> {
        let json = serde_json::to_string(credentials)
            .map_err(|e| StorageError::Malformed(format!("could not serialize: {e}")))?;
        #[cfg(feature = "encryption")]
        if let Some(enc) = &self.encryption {
            return enc.seal(key, json.as_bytes());
        }
        let _ = key;
        Ok(json)
    }

    /// The credentials stored as `stored` in the entry `key`.
    pub(crate) fn decode(&self, key: &str, stored: &str) -> Result<UserCredentials, StorageError> {
        let json = if stored.starts_with(ENCRYPTED_PREFIX) {
            self.decrypt(key, stored)?
        } else {
            self.check_plaintext_allowed()?;
            stored.to_owned()
        };
        UserCredentials::from_json(&json).map_err(StorageError::Corrupt)
    }

    /// The stored text of any `text` in the entry `key` (encrypted when
    /// configured).
    pub(crate) fn encode_text(&self, key: &str, text: &str) -> Result<String, StorageError> {
        #[cfg(feature = "encryption")]
        if let Some(enc) = &self.encryption {
            return enc.seal(key, text.as_bytes());
        }
        let _ = key;
        Ok(text.to_owned())
    }

    /// The text stored as `stored` in the entry `key`.
    pub(crate) fn decode_text(&self, key: &str, stored: &str) -> Result<String, StorageError> {
        if stored.starts_with(ENCRYPTED_PREFIX) {
            self.decrypt(key, stored)
        } else {
            self.check_plaintext_allowed()?;
            Ok(stored.to_owned())
        }
    }

    #[cfg(feature = "encryption")]
    fn decrypt(&self, key: &str, stored: &str) -> Result<String, StorageError> {
        let Some(enc) = &self.encryption else {
            return Err(StorageError::EncryptedWithoutKey);
        };
        String::from_utf8(enc.open(key, stored)?)
            .map_err(|_| StorageError::Malformed("the decrypted value is not UTF-8".into()))
    }

    #[cfg(not(feature = "encryption"))]
    fn decrypt(&self, _key: &str, _stored: &str) -> Result<String, StorageError> {
        Err(StorageError::EncryptedWithoutKey)
    }

    fn check_plaintext_allowed(&self) -> Result<(), StorageError> {
        #[cfg(feature = "encryption")]
        if let Some(enc) = &self.encryption
            && !enc.plaintext_allowed()
        {
            return Err(StorageError::Plaintext);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gapi::auth::{AccessToken, RefreshToken};

    fn creds() -> UserCredentials {
        UserCredentials::new("cid", None, Some(RefreshToken::new("1//rt")))
            .with_access_token(AccessToken::new("at"), None)
    }

    #[test]
    fn plain_round_trip() {
        let c = Codec::default();
        let s = c.encode("k", &creds()).unwrap();
        assert!(s.starts_with('{'));
        assert_eq!(c.decode("k", &s).unwrap(), creds());
        assert!(matches!(
            c.decode("k", "{oops"),
            Err(StorageError::Corrupt(_))
        ));
        assert!(matches!(
            c.decode("k", "gapi-enc:v1:0000:AAAA"),
            Err(StorageError::EncryptedWithoutKey)
        ));
    }

    #[cfg(feature = "encryption")]
    #[test]
    fn encrypted_round_trip_and_plaintext_policy() {
        use crate::{Encryption, EncryptionKey};
        let key = EncryptionKey::generate();
        let c = Codec::encrypted(Encryption::new(key.clone()));
        let s = c.encode("k", &creds()).unwrap();
        assert!(s.starts_with("gapi-enc:v1:") && !s.contains("1//rt"), "{s}");
        assert_eq!(c.decode("k", &s).unwrap(), creds());
        let plain = Codec::default().encode("k", &creds()).unwrap();
        assert!(matches!(
            c.decode("k", &plain),
            Err(StorageError::Plaintext)
        ));
        let lenient = Codec::encrypted(Encryption::new(key).allow_plaintext(true));
        assert_eq!(lenient.decode("k", &plain).unwrap(), creds());
    }
}
