//! The device authorization grant (RFC 8628), for devices without a browser.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::OAuthClient;
use crate::auth::UserCredentials;
use crate::auth::secret::DeviceCode;
use crate::auth::token;
use crate::{Error, ErrorKind};

/// The device-code grant type.
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The polling interval when the server names none (RFC 8628 §3.2).
pub const DEFAULT_DEVICE_INTERVAL: Duration = Duration::from_secs(5);

/// What the device authorization endpoint answered: the code the user types
/// and where, and the device code to poll with. `Debug` hides the device code.
#[derive(Clone)]
pub struct DeviceAuthorization {
    device_code: DeviceCode,
    user_code: String,
    verification_url: String,
    verification_url_complete: Option<String>,
    expires_in: Duration,
    interval: Duration,
    issued_at: SystemTime,
}

impl DeviceAuthorization {
    /// The code the user enters at the verification URL.
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// Where the user goes (`verification_url` in Google's answer,
    /// `verification_uri` in RFC 8628's).
    pub fn verification_url(&self) -> &str {
        &self.verification_url
    }

    /// The verification URL with the user code already filled in, if given.
    pub fn verification_url_complete(&self) -> Option<&str> {
        self.verification_url_complete.as_deref()
    }

    /// How long the codes stay valid.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// The polling interval the server asked for (5 s when it named none).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The device code (a secret).
    pub fn device_code(&self) -> &DeviceCode {
        &self.device_code
    }
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &self.device_code)
            .field("user_code", &self.user_code)
            .field("verification_url", &self.verification_url)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// The device flow: [`request_code`](Self::request_code), show the user code
/// and URL, then [`poll`](Self::poll) the token endpoint until the user
/// approves (`authorization_pending` waits, `slow_down` adds 5 s to the
/// interval, `access_denied` and `expired_token` fail). Waiting uses the
/// client's clock.
#[derive(Debug, Clone)]
pub struct DeviceFlow {
    client: OAuthClient,
}

impl DeviceFlow {
    /// The device flow of `client`.
    pub fn new(client: OAuthClient) -> Self {
        DeviceFlow { client }
    }

    /// Requests a device code and user code.
    pub async fn request_code(&self) -> crate::Result<DeviceAuthorization> {
        let c = &self.client;
        let scope = c.scopes().join(" ");
        // Confidential clients authenticate here too (RFC 8628 §3.1); Google
        // takes the secret or ignores it.
        let secret = c.client_secret.as_ref().map(|s| s.secret());
        let mut form = vec![("client_id", c.client_id()), ("scope", scope.as_str())];
        if let Some(secret) = secret {
            form.push(("client_secret", secret));
        }
        let secrets: Vec<&str> = secret.into_iter().collect();
        let what = "requesting a device code";
        let issued_at = c.clock().now();
        let uri = c.device_uri();
        let m = token::with_retries(c.clock(), c.request_config(), what, || {
            token::json_request_once(uri, &form, c.request_config(), what, &secrets)
        })
        .await
        .map_err(Error::from)?;
        let missing = |field: &str| {
            Error::new(
                ErrorKind::Decode,
                format!("{what}: the response of {uri} has no `{field}`"),
            )
        };
        let string = |k: &str| match m.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let secs = |k: &str| match m.get(k) {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        let device_code = string("device_code").ok_or_else(|| missing("device_code"))?;
        let user_code = string("user_code").ok_or_else(|| missing("user_code"))?;
        let verification_url = string("verification_url")
            .or_else(|| string("verification_uri"))
            .ok_or_else(|| missing("verification_uri"))?;
        let verification_url_complete =
            string("verification_uri_complete").or_else(|| string("verification_url_complete"));
        let expires_in = secs("expires_in").unwrap_or(1800);
        let interval = secs("interval")
            .filter(|&s| s > 0)
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_DEVICE_INTERVAL);
        Ok(DeviceAuthorization {
            device_code: DeviceCode::new(device_code),
            user_code,
            verification_url,
            verification_url_complete,
            expires_in: Duration::from_secs(expires_in),
            interval,
            issued_at,
        })
    }

    /// Polls the token endpoint until the user approves or denies, or the
    /// codes expire.
    pub async fn poll(&self, auth: &DeviceAuthorization) -> crate::Result<UserCredentials> {
        let c = &self.client;
        let clock = c.clock();
        let deadline = auth.issued_at + auth.expires_in;
        let mut interval = auth.interval;
        let mut form = c.client_form();
        form.extend([
            ("grant_type", DEVICE_CODE_GRANT_TYPE),
            ("device_code", auth.device_code.secret()),
        ]);
        let mut secrets = c.secrets();
        secrets.push(auth.device_code.secret());
        let what = "polling for the device authorization";
        loop {
            clock.sleep(interval).await;
            if clock.now() >= deadline {
                return Err(expired());
            }
            let issued_at = clock.now();
            match token::token_request_once(
                c.token_uri(),
                &form,
                c.request_config(),
                what,
                &secrets,
            )
            .await
            {
                Ok(resp) => {
                    tracing::info!(client_id = c.client_id(), "the device was authorized");
                    return Ok(c.credentials_from(resp, issued_at));
                }
                Err(f) => match f.code() {
                    Some("authorization_pending") => {}
                    Some("slow_down") => {
                        interval += Duration::from_secs(5);
                        tracing::debug!(?interval, "slow_down: polling less often");
                    }
                    Some("expired_token") => return Err(expired()),
                    Some("access_denied") => {
                        return Err(Error::auth(
                            Some("access_denied"),
                            "the user denied access on the device verification page",
                        ));
                    }
                    _ if f.transient => {
                        tracing::warn!(error = %f.error, "{what} failed transiently; polling on");
                    }
                    _ => return Err(f.into()),
                },
            }
        }
    }

    /// Requests the codes, calls `present` with them (show the user code and
    /// URL to the user), then polls until done.
    pub async fn run(
        &self,
        present: impl FnOnce(&DeviceAuthorization),
    ) -> crate::Result<UserCredentials> {
        let auth = self.request_code().await?;
        present(&auth);
        self.poll(&auth).await
    }
}

fn expired() -> Error {
    Error::auth(
        Some("expired_token"),
        "the device code expired before the user approved; start again",
    )
}
