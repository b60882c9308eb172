//! [`VerifiedIdentity`]: who signed in at the authorization server, from
//! the ID token gapi-axum verified at the callback — never from anything
//! the browser sent.

use std::time::{Duration, SystemTime};

use gapi::auth::{IdTokenClaims, UserCredentials};
use serde::{Deserialize, Serialize};

/// The member of the stored credentials that carries the identity (the
/// runtime keeps members it does not know, also across refreshes).
const MEMBER: &str = "gapi_axum_identity";

/// The Google account (or OpenID Connect account) whose grant these
/// credentials are, as its verified ID token said at the callback: the
/// token's signature (against the issuer's published keys), issuer,
/// audience (this client), expiry and the sign-in's nonce were checked
/// before anything was stored.
///
/// Present when the grant included the `openid` scope (add `openid` and
/// `email` to [`OAuth2Builder::scopes`](crate::OAuth2Builder::scopes)).
/// Use [`subject`](Self::subject) (with the issuer) to recognise an
/// account; an email address is not an identifier, and is only the user's
/// when [`email_verified`](Self::email_verified).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedIdentity {
    iss: String,
    sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// When the ID token was verified (Unix seconds).
    verified_at: u64,
}

impl VerifiedIdentity {
    /// The identity an ID token's verified claims give, verified at `at`.
    pub fn from_claims(claims: &IdTokenClaims, at: SystemTime) -> Self {
        VerifiedIdentity {
            iss: claims.issuer().to_owned(),
            sub: claims.subject().to_owned(),
            email: claims.email().map(str::to_owned),
            email_verified: claims.email_verified(),
            hd: claims.hosted_domain().map(str::to_owned),
            name: claims.name().map(str::to_owned),
            verified_at: at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }

    /// `iss`: the issuer (`https://accounts.google.com` for Google).
    pub fn issuer(&self) -> &str {
        &self.iss
    }

    /// `sub`: the account's stable id at the issuer.
    pub fn subject(&self) -> &str {
        &self.sub
    }

    /// `email`, when the `email` scope was granted.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// Whether the issuer verified the email address.
    pub fn email_verified(&self) -> bool {
        self.email_verified
    }

    /// The verified email address: [`email`](Self::email) when
    /// [`email_verified`](Self::email_verified), else `None`.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }

    /// `hd`: the Google Workspace domain of the account, if any.
    pub fn hosted_domain(&self) -> Option<&str> {
        self.hd.as_deref()
    }

    /// `name`, when the `profile` scope was granted.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// When its ID token was verified.
    pub fn verified_at(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(self.verified_at)
    }

    /// Whether `other` is the same account (issuer and subject).
    pub fn same_account(&self, other: &VerifiedIdentity) -> bool {
        self.iss == other.iss && self.sub == other.sub
    }
}

/// The verified identity stored with `credentials`, if any.
pub(crate) fn of(credentials: &UserCredentials) -> Option<VerifiedIdentity> {
    let value = serde_json::to_value(credentials).ok()?;
    serde_json::from_value(value.get(MEMBER)?.clone()).ok()
}

/// `credentials` carrying `identity` (or none).
pub(crate) fn attach(
    credentials: UserCredentials,
    identity: Option<&VerifiedIdentity>,
) -> UserCredentials {
    let Ok(serde_json::Value::Object(mut m)) = serde_json::to_value(&credentials) else {
        return credentials;
    };
    match identity.and_then(|i| serde_json::to_value(i).ok()) {
        Some(v) => m.insert(MEMBER.to_owned(), v),
        None => m.remove(MEMBER),
    };
    serde_json::from_value(serde_json::Value::Object(m)).unwrap_or(credentials)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gapi::auth::RefreshToken;

    #[test]
    fn travels_with_the_stored_credentials() {
        let id = VerifiedIdentity {
            iss: "https://accounts.google.com".into(),
            sub: "1234".into(),
            email: Some("a@example.com".into()),
            email_verified: true,
            hd: Some("example.com".into()),
            name: None,
            verified_at: 1_700_000_000,
        };
        let c = UserCredentials::new("cid", None, Some(RefreshToken::new("rt")));
        assert_eq!(of(&c), None);
        let with = attach(c.clone(), Some(&id));
        assert_eq!(of(&with), Some(id.clone()));
        let json = with.to_json();
        assert!(json.contains("gapi_axum_identity"), "{json}");
        let back = UserCredentials::from_json(&json).unwrap();
        assert_eq!(of(&back).unwrap().verified_email(), Some("a@example.com"));
        assert_eq!(back.refresh_token().unwrap().secret(), "rt");
        assert_eq!(of(&attach(back, None)), None);
        let mut other = id.clone();
        other.sub = "5678".into();
        assert!(!id.same_account(&other));
        other.email_verified = false;
        assert_eq!(other.verified_email(), None);
    }
}
