//! Google's OAuth 2.0 endpoints, the defaults of every flow and credential.

/// Google's authorization endpoint (where the user consents).
pub const GOOGLE_AUTH_URI: &str = "https://accounts.google.com/o/oauth2/auth";
/// Google's token endpoint (code exchange, refresh, device polling).
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// Google's device authorization endpoint (RFC 8628).
pub const GOOGLE_DEVICE_URI: &str = "https://oauth2.googleapis.com/device/code";
/// The scope used when none is given: every Google Cloud API.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Google's token revocation endpoint (RFC 7009).
pub const GOOGLE_REVOKE_URI: &str = "https://oauth2.googleapis.com/revoke";
