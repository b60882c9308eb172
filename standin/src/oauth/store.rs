//! Everything the OAuth server remembers: authorization codes, access and refresh
//! tokens, device codes and the scopes each user granted each client. No HTTP here:
//! the endpoint modules parse requests and call these methods.
//!
//! Tokens belong to a *grant* (one authorization, one device approval or one direct
//! issue). Revoking any token of a grant revokes the whole grant, as Google does when an
//! access token with a refresh token behind it is revoked.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use super::pkce::Pkce;
use super::scopes::{self, Scopes};
use crate::errors::OAuthError;
use crate::random;

/// A successful token response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: Option<String>,
    pub scope: String,
}

impl TokenResponse {
    /// The JSON body Google sends.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "scope": self.scope,
            "token_type": "Bearer",
        });
        if let Some(refresh) = &self.refresh_token {
            body["refresh_token"] = json!(refresh);
        }
        body
    }
}

/// What an authorization request asked for, to be remembered with its code.
#[derive(Debug, Clone)]
pub(crate) struct NewCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub user: String,
    pub scopes: Scopes,
    pub pkce: Option<Pkce>,
    pub offline: bool,
    pub lifetime: Duration,
}

#[derive(Debug, Clone)]
struct AuthCode {
    request: NewCode,
    expires_at: Instant,
    grant: u64,
    used: bool,
}

#[derive(Debug, Clone)]
struct AccessRecord {
    grant: u64,
    client_id: String,
    user: String,
    scopes: Scopes,
    expires_at: Instant,
    offline: bool,
}

#[derive(Debug, Clone)]
struct RefreshRecord {
    grant: u64,
    client_id: String,
    user: String,
    scopes: Scopes,
    /// Replaced by a newer refresh token through rotation.
    retired: bool,
}

/// Where a device authorization stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DeviceState {
    Pending,
    Approved {
        user: String,
    },
    Denied,
    /// Tokens were handed out; the device code is spent.
    Consumed,
}

#[derive(Debug, Clone)]
struct DeviceRecord {
    user_code: String,
    client_id: String,
    scopes: Scopes,
    expires_at: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    state: DeviceState,
}

/// A device authorization just handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewDevice {
    pub device_code: String,
    pub user_code: String,
    pub expires_in: u64,
    pub interval: u64,
}

/// Who and what a valid access token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenOwner {
    pub user: String,
    pub client_id: String,
    pub scopes: Scopes,
    pub expires_in: u64,
    pub offline: bool,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Unknown,
    Expired,
    Revoked,
}

/// The OAuth server's memory.
#[derive(Debug, Default)]
pub(crate) struct OAuthStore {
    next_grant: u64,
    /// Grants with ids below this were revoked all at once.
    revoked_below: u64,
    revoked: HashSet<u64>,
    codes: HashMap<String, AuthCode>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    devices: HashMap<String, DeviceRecord>,
    granted: HashMap<(String, String), Scopes>,
    deny_next_authorization: bool,
}

/// Rounds a duration up to whole seconds, for `expires_in` and `interval` fields.
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
}

/// `now + lifetime`, or as far as an `Instant` reaches for absurd lifetimes.
fn deadline(now: Instant, lifetime: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    now.checked_add(lifetime)
        .or_else(|| now.checked_add(CENTURY))
        .unwrap_or(now)
}

/// Upper-cases a user code and drops separators, so `abcd efgh` finds `ABCD-EFGH`.
fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl OAuthStore {
    fn new_grant(&mut self) -> u64 {
        self.next_grant += 1;
        self.next_grant
    }

    fn grant_revoked(&self, grant: u64) -> bool {
        grant < self.revoked_below || self.revoked.contains(&grant)
    }

    /// Mints an access token (and a refresh token when `offline`) for a grant.
    #[allow(clippy::too_many_arguments)]
    fn mint(
        &mut self,
        grant: u64,
        client_id: &str,
        user: &str,
        scopes: &Scopes,
        offline: bool,
        with_refresh: bool,
        lifetime: Duration,
        now: Instant,
    ) -> TokenResponse {
        let access_token = random::access_token();
        self.access.insert(
            access_token.clone(),
            AccessRecord {
                grant,
                client_id: client_id.to_string(),
                user: user.to_string(),
                scopes: scopes.clone(),
                expires_at: deadline(now, lifetime),
                offline,
            },
        );
        let refresh_token = with_refresh.then(|| {
            let token = random::refresh_token();
            self.refresh.insert(
                token.clone(),
                RefreshRecord {
                    grant,
                    client_id: client_id.to_string(),
                    user: user.to_string(),
                    scopes: scopes.clone(),
                    retired: false,
                },
            );
            token
        });
        TokenResponse {
            access_token,
            expires_in: whole_seconds(lifetime),
            refresh_token,
            scope: scopes::join(scopes),
        }
    }

    /// Issues tokens without any flow (the `issue_token` test hook).
    pub fn issue_direct(
        &mut self,
        client_id: &str,
        user: &str,
        scopes: &Scopes,
        offline: bool,
        lifetime: Duration,
        now: Instant,
    ) -> TokenResponse {
        let grant = self.new_grant();
        self.record_grant(user, client_id, scopes);
        self.mint(
            grant, client_id, user, scopes, offline, offline, lifetime, now,
        )
    }

    /// The scopes this user has granted this client so far.
    pub fn granted_scopes(&self, user: &str, client_id: &str) -> Scopes {
        self.granted
            .get(&(user.to_string(), client_id.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    /// Remembers that this user granted these scopes to this client.
    pub fn record_grant(&mut self, user: &str, client_id: &str, scopes: &Scopes) {
        self.granted
            .entry((user.to_string(), client_id.to_string()))
            .or_default()
            .extend(scopes.iter().cloned());
    }

    /// Makes the next authorization request fail with `access_denied`.
    pub fn deny_next_authorization(&mut self) {
        self.deny_next_authorization = true;
    }

    /// Whether this authorization is to be denied (which uses up the request to deny).
    pub fn take_denial(&mut self) -> bool {
        std::mem::take(&mut self.deny_next_authorization)
    }

    /// Stores a new authorization code.
    pub fn create_code(&mut self, request: NewCode, now: Instant) -> String {
        let code = random::auth_code();
        let grant = self.new_grant();
        self.record_grant(&request.user, &request.client_id, &request.scopes);
        self.codes.insert(
            code.clone(),
            AuthCode {
                expires_at: deadline(now, request.lifetime),
                request,
                grant,
                used: false,
            },
        );
        code
    }

    /// The `authorization_code` grant. A second use of a code fails and revokes the
    /// tokens the first use issued (RFC 6749 §4.1.2).
    pub fn exchange_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        lifetime: Duration,
        now: Instant,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(record) = self.codes.get(code) else {
            return Err(OAuthError::invalid_grant("Malformed auth code."));
        };
        if record.used {
            let grant = record.grant;
            self.revoked.insert(grant);
            return Err(OAuthError::invalid_grant("Bad Request"));
        }
        if record.request.client_id != client_id {
            return Err(OAuthError::invalid_grant("Unauthorized"));
        }
        if now >= record.expires_at {
            return Err(OAuthError::invalid_grant("Bad Request"));
        }
        match redirect_uri {
            None => {
                return Err(OAuthError::invalid_request(
                    "Missing parameter: redirect_uri",
                ));
            }
            Some(uri) if uri != record.request.redirect_uri => {
                return Err(OAuthError::new(400, "redirect_uri_mismatch", "Bad Request"));
            }
            Some(_) => {}
        }
        if let Some(pkce) = &record.request.pkce {
            match verifier {
                None => return Err(OAuthError::invalid_grant("Missing code verifier.")),
                Some(v) if !pkce.verify(v) => {
                    return Err(OAuthError::invalid_grant("Invalid code verifier."));
                }
                Some(_) => {}
            }
        }
        let record = record.clone();
        if let Some(r) = self.codes.get_mut(code) {
            r.used = true;
        }
        let request = &record.request;
        Ok(self.mint(
            record.grant,
            &request.client_id,
            &request.user,
            &request.scopes,
            request.offline,
            request.offline,
            lifetime,
            now,
        ))
    }

    /// The `refresh_token` grant, optionally narrowed to `scope` and optionally rotating
    /// the refresh token.
    pub fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        scope: Option<&str>,
        rotate: bool,
        lifetime: Duration,
        now: Instant,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(record) = self.refresh.get(refresh_token) else {
            return Err(OAuthError::expired_or_revoked());
        };
        if record.retired || self.grant_revoked(record.grant) {
            return Err(OAuthError::expired_or_revoked());
        }
        if record.client_id != client_id {
            return Err(OAuthError::new(400, "unauthorized_client", "Unauthorized"));
        }
        let requested = scope.map(scopes::parse).filter(|s| !s.is_empty());
        let granted = match requested {
            Some(requested) => {
                let extra: Vec<&str> = requested
                    .iter()
                    .filter(|s| !record.scopes.contains(*s))
                    .map(String::as_str)
                    .collect();
                if !extra.is_empty() {
                    return Err(OAuthError::invalid_scope(format!(
                        "Some requested scopes were invalid. {{invalid=[{}]}}",
                        extra.join(", ")
                    )));
                }
                requested
            }
            None => record.scopes.clone(),
        };
        let record = record.clone();
        let mut response = self.mint(
            record.grant,
            &record.client_id,
            &record.user,
            &granted,
            true,
            false,
            lifetime,
            now,
        );
        if rotate {
            if let Some(old) = self.refresh.get_mut(refresh_token) {
                old.retired = true;
            }
            let token = random::refresh_token();
            self.refresh.insert(
                token.clone(),
                RefreshRecord {
                    retired: false,
                    ..record
                },
            );
            response.refresh_token = Some(token);
        }
        Ok(response)
    }

    /// Starts a device authorization.
    pub fn create_device(
        &mut self,
        client_id: &str,
        scopes: Scopes,
        interval: Duration,
        lifetime: Duration,
        now: Instant,
    ) -> NewDevice {
        let device_code = random::device_code();
        let mut user_code = random::user_code();
        while self.find_device(&user_code).is_some() {
            user_code = random::user_code();
        }
        self.devices.insert(
            device_code.clone(),
            DeviceRecord {
                user_code: user_code.clone(),
                client_id: client_id.to_string(),
                scopes,
                expires_at: deadline(now, lifetime),
                interval,
                last_poll: None,
                state: DeviceState::Pending,
            },
        );
        NewDevice {
            device_code,
            user_code,
            expires_in: whole_seconds(lifetime),
            interval: whole_seconds(interval),
        }
    }

    /// The device code of a pending, unexpired device authorization with this user code.
    fn find_device(&self, user_code: &str) -> Option<String> {
        let wanted = normalize_user_code(user_code);
        self.devices
            .iter()
            .find(|(_, d)| normalize_user_code(&d.user_code) == wanted)
            .map(|(code, _)| code.clone())
    }

    /// Decides a pending device authorization: approve it for `user` or deny it. False
    /// when no pending, unexpired authorization has this user code.
    pub fn decide_device(
        &mut self,
        user_code: &str,
        approve_as: Option<&str>,
        now: Instant,
    ) -> bool {
        let Some(code) = self.find_device(user_code) else {
            return false;
        };
        let Some(device) = self.devices.get_mut(&code) else {
            return false;
        };
        if device.state != DeviceState::Pending || now >= device.expires_at {
            return false;
        }
        device.state = match approve_as {
            Some(user) => DeviceState::Approved {
                user: user.to_string(),
            },
            None => DeviceState::Denied,
        };
        let (client, scopes) = (device.client_id.clone(), device.scopes.clone());
        if let Some(user) = approve_as {
            self.record_grant(user, &client, &scopes);
        }
        true
    }

    /// The user codes of device authorizations still waiting for a decision.
    pub fn pending_user_codes(&self, now: Instant) -> Vec<String> {
        let mut codes: Vec<String> = self
            .devices
            .values()
            .filter(|d| d.state == DeviceState::Pending && now < d.expires_at)
            .map(|d| d.user_code.clone())
            .collect();
        codes.sort();
        codes
    }

    /// The device-code grant: one poll (RFC 8628 §3.4, §3.5). Polls that come much
    /// sooner than the interval after the previous one get `slow_down`, and the interval
    /// grows by five seconds.
    pub fn poll_device(
        &mut self,
        client_id: &str,
        device_code: &str,
        lifetime: Duration,
        now: Instant,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(device) = self.devices.get_mut(device_code) else {
            return Err(OAuthError::invalid_grant("Malformed device code."));
        };
        if device.client_id != client_id {
            return Err(OAuthError::new(400, "invalid_client", "Unauthorized"));
        }
        if device.state == DeviceState::Consumed {
            return Err(OAuthError::invalid_grant("Bad Request"));
        }
        if now >= device.expires_at {
            return Err(OAuthError::new(
                400,
                "expired_token",
                "Expired device code.",
            ));
        }
        let last_poll = device.last_poll.replace(now);
        if let Some(last) = last_poll
            && !device.interval.is_zero()
            && now.duration_since(last) < device.interval / 4 * 3
        {
            device.interval = device.interval.saturating_add(Duration::from_secs(5));
            return Err(OAuthError::new(403, "slow_down", "Forbidden"));
        }
        match device.state.clone() {
            DeviceState::Pending => Err(OAuthError::new(
                428,
                "authorization_pending",
                "Precondition Required",
            )),
            DeviceState::Denied => Err(OAuthError::new(403, "access_denied", "Forbidden")),
            DeviceState::Consumed => Err(OAuthError::invalid_grant("Bad Request")),
            DeviceState::Approved { user } => {
                device.state = DeviceState::Consumed;
                let scopes = device.scopes.clone();
                let client = device.client_id.clone();
                let grant = self.new_grant();
                Ok(self.mint(grant, &client, &user, &scopes, true, true, lifetime, now))
            }
        }
    }

    /// Checks an access token presented to the API.
    pub fn authenticate(&self, token: &str, now: Instant) -> Result<TokenOwner, TokenProblem> {
        let record = self.access.get(token).ok_or(TokenProblem::Unknown)?;
        if self.grant_revoked(record.grant) {
            return Err(TokenProblem::Revoked);
        }
        if now >= record.expires_at {
            return Err(TokenProblem::Expired);
        }
        Ok(TokenOwner {
            user: record.user.clone(),
            client_id: record.client_id.clone(),
            scopes: record.scopes.clone(),
            expires_in: record.expires_at.duration_since(now).as_secs(),
            offline: record.offline,
        })
    }

    /// Revokes the grant behind an access or refresh token. False when the token is
    /// unknown, already revoked, retired by rotation, or an expired access token.
    pub fn revoke(&mut self, token: &str, now: Instant) -> bool {
        let grant = if let Some(a) = self.access.get(token) {
            if now >= a.expires_at {
                return false;
            }
            a.grant
        } else if let Some(r) = self.refresh.get(token) {
            if r.retired {
                return false;
            }
            r.grant
        } else {
            return false;
        };
        if self.grant_revoked(grant) {
            return false;
        }
        self.revoked.insert(grant);
        true
    }

    /// Revokes every grant made so far.
    pub fn revoke_all(&mut self) {
        self.revoked_below = self.next_grant + 1;
    }

    /// Makes every access token issued so far expired.
    pub fn expire_all(&mut self, now: Instant) {
        for record in self.access.values_mut() {
            if record.expires_at > now {
                record.expires_at = now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::pkce;

    const HOUR: Duration = Duration::from_secs(3600);

    fn scopes(s: &str) -> Scopes {
        scopes::parse(s)
    }

    fn new_code(store: &mut OAuthStore, offline: bool, pkce: Option<Pkce>, now: Instant) -> String {
        store.create_code(
            NewCode {
                client_id: "c".into(),
                redirect_uri: "http://127.0.0.1:1/cb".into(),
                user: "u@example.com".into(),
                scopes: scopes("openid"),
                pkce,
                offline,
                lifetime: Duration::from_secs(600),
            },
            now,
        )
    }

    #[test]
    fn code_exchange_once() {
        let mut s = OAuthStore::default();
        let now = Instant::now();
        let code = new_code(&mut s, true, None, now);
        let cb = Some("http://127.0.0.1:1/cb");
        let t = s.exchange_code("c", &code, cb, None, HOUR, now).unwrap();
        assert!(t.refresh_token.is_some());
        assert_eq!(t.expires_in, 3600);
        assert!(s.authenticate(&t.access_token, now).is_ok());
        // A replay fails and revokes what the first exchange issued.
        let e = s
            .exchange_code("c", &code, cb, None, HOUR, now)
            .unwrap_err();
        assert_eq!(e.error, "invalid_grant");
        assert_eq!(
            s.authenticate(&t.access_token, now),
            Err(TokenProblem::Revoked)
        );
        let rt = t.refresh_token.unwrap();
        assert_eq!(
            s.refresh("c", &rt, None, false, HOUR, now).unwrap_err(),
            OAuthError::expired_or_revoked()
        );
    }

    #[test]
    fn code_exchange_checks() {
        let mut s = OAuthStore::default();
        let now = Instant::now();
        let verifier = "x".repeat(50);
        let p = Pkce::from_request(Some(&pkce::s256(&verifier)), Some("S256"))
            .unwrap()
            .unwrap();
        let code = new_code(&mut s, false, Some(p), now);
        let cb = Some("http://127.0.0.1:1/cb");
        let err = |r: Result<TokenResponse, OAuthError>| r.unwrap_err().error;
        assert_eq!(
            err(s.exchange_code("c", "nope", cb, None, HOUR, now)),
            "invalid_grant"
        );
        assert_eq!(
            err(s.exchange_code("other", &code, cb, None, HOUR, now)),
            "invalid_grant"
        );
        assert_eq!(
            err(s.exchange_code("c", &code, Some("http://127.0.0.1:2/cb"), None, HOUR, now)),
            "redirect_uri_mismatch"
        );
        assert_eq!(
            err(s.exchange_code("c", &code, None, None, HOUR, now)),
            "invalid_request"
        );
        assert_eq!(
            err(s.exchange_code("c", &code, cb, None, HOUR, now)),
            "invalid_grant"
        );
        let wrong = "y".repeat(50);
        assert_eq!(
            err(s.exchange_code("c", &code, cb, Some(&wrong), HOUR, now)),
            "invalid_grant"
        );
        let t = s
            .exchange_code("c", &code, cb, Some(&verifier), HOUR, now)
            .unwrap();
        assert!(t.refresh_token.is_none());
        // Expired codes fail.
        let code = new_code(&mut s, false, None, now);
        let later = now + Duration::from_secs(601);
        assert_eq!(
            err(s.exchange_code("c", &code, cb, None, HOUR, later)),
            "invalid_grant"
        );
    }

    #[test]
    fn refresh_and_rotation() {
        let mut s = OAuthStore::default();
        let now = Instant::now();
        let t = s.issue_direct("c", "u", &scopes("a:x openid"), true, HOUR, now);
        let rt = t.refresh_token.clone().unwrap();
        let r = s.refresh("c", &rt, None, false, HOUR, now).unwrap();
        assert!(r.refresh_token.is_none());
        assert_eq!(r.scope, t.scope);
        let narrowed = s
            .refresh("c", &rt, Some("openid"), false, HOUR, now)
            .unwrap();
        assert_eq!(narrowed.scope, "openid");
        assert_eq!(
            s.refresh("c", &rt, Some("email"), false, HOUR, now)
                .unwrap_err()
                .error,
            "invalid_scope"
        );
        assert_eq!(
            s.refresh("d", &rt, None, false, HOUR, now)
                .unwrap_err()
                .error,
            "unauthorized_client"
        );
        let rotated = s.refresh("c", &rt, None, true, HOUR, now).unwrap();
        let new_rt = rotated.refresh_token.unwrap();
        assert_ne!(new_rt, rt);
        assert!(s.refresh("c", &rt, None, true, HOUR, now).is_err());
        assert!(s.refresh("c", &new_rt, None, false, HOUR, now).is_ok());
    }

    #[test]
    fn revocation() {
        let mut s = OAuthStore::default();
        let now = Instant::now();
        let t = s.issue_direct("c", "u", &scopes("openid"), true, HOUR, now);
        let other = s.issue_direct("c", "u", &scopes("openid"), false, HOUR, now);
        assert!(s.revoke(t.refresh_token.as_ref().unwrap(), now));
        assert_eq!(
            s.authenticate(&t.access_token, now),
            Err(TokenProblem::Revoked)
        );
        assert!(!s.revoke(&t.access_token, now));
        assert!(s.authenticate(&other.access_token, now).is_ok());
        assert!(!s.revoke("unknown", now));
        // Revoking an access token revokes its refresh token.
        let t = s.issue_direct("c", "u", &scopes("openid"), true, HOUR, now);
        assert!(s.revoke(&t.access_token, now));
        assert!(
            s.refresh(
                "c",
                t.refresh_token.as_ref().unwrap(),
                None,
                false,
                HOUR,
                now
            )
            .is_err()
        );
        s.revoke_all();
        assert_eq!(
            s.authenticate(&other.access_token, now),
            Err(TokenProblem::Revoked)
        );
        let fresh = s.issue_direct("c", "u", &scopes("openid"), false, HOUR, now);
        assert!(s.authenticate(&fresh.access_token, now).is_ok());
    }

    #[test]
    fn absurd_lifetimes_do_not_overflow() {
        let mut s = OAuthStore::default();
        let now = Instant::now();
        let t = s.issue_direct("c", "u", &scopes("openid"), false, Duration::MAX, now);
        assert_eq!(t.expires_in, u64::MAX);
        assert!(s.authenticate(&t.access_token, now).is_ok());
        let d = s.create_device("c", scopes("openid"), Duration::MAX, Duration::MAX, now);
        assert!(s.poll_device("c", &d.device_code, HOUR, now).is_err());
        assert_eq!(
            s.poll_device("c", &d.device_code, HOUR, now)
                .unwrap_err()
                .error,
            "slow_down"
        );
    }

    #[test]
    fn expiry() {
        let mut s = OAuthStore::default();
        let now = Instant::now();
        let t = s.issue_direct("c", "u", &scopes("openid"), true, HOUR, now);
        assert_eq!(
            s.authenticate(&t.access_token, now).unwrap().expires_in,
            3600
        );
        assert_eq!(
            s.authenticate(&t.access_token, now + HOUR),
            Err(TokenProblem::Expired)
        );
        s.expire_all(now);
        assert_eq!(
            s.authenticate(&t.access_token, now),
            Err(TokenProblem::Expired)
        );
        assert!(!s.revoke(&t.access_token, now));
        // The refresh token still works.
        let r = s
            .refresh(
                "c",
                t.refresh_token.as_ref().unwrap(),
                None,
                false,
                HOUR,
                now,
            )
            .unwrap();
        assert!(s.authenticate(&r.access_token, now).is_ok());
        assert_eq!(s.authenticate("nope", now), Err(TokenProblem::Unknown));
    }

    #[test]
    fn device_flow() {
        let mut s = OAuthStore::default();
        let t0 = Instant::now();
        let interval = Duration::from_secs(2);
        let d = s.create_device("c", scopes("openid"), interval, Duration::from_secs(60), t0);
        assert_eq!(d.interval, 2);
        assert_eq!(s.pending_user_codes(t0), vec![d.user_code.clone()]);
        let poll = |s: &mut OAuthStore, at: Instant| s.poll_device("c", &d.device_code, HOUR, at);
        assert_eq!(poll(&mut s, t0).unwrap_err().error, "authorization_pending");
        assert_eq!(poll(&mut s, t0).unwrap_err().status, 403);
        assert_eq!(poll(&mut s, t0).unwrap_err().error, "slow_down");
        // The interval is now 12 s.
        let t1 = t0 + Duration::from_secs(12);
        assert_eq!(poll(&mut s, t1).unwrap_err().status, 428);
        assert!(s.decide_device(&d.user_code.to_lowercase().replace('-', " "), Some("u"), t1));
        assert!(!s.decide_device(&d.user_code, Some("u"), t1));
        let t2 = t1 + Duration::from_secs(12);
        let tokens = poll(&mut s, t2).unwrap();
        assert!(tokens.refresh_token.is_some());
        assert_eq!(s.authenticate(&tokens.access_token, t2).unwrap().user, "u");
        let t3 = t2 + Duration::from_secs(12);
        assert_eq!(poll(&mut s, t3).unwrap_err().error, "invalid_grant");
        assert_eq!(
            s.poll_device("c", "nope", HOUR, t3).unwrap_err().error,
            "invalid_grant"
        );
    }

    #[test]
    fn device_denied_and_expired() {
        let mut s = OAuthStore::default();
        let t0 = Instant::now();
        let d = s.create_device(
            "c",
            scopes("openid"),
            Duration::ZERO,
            Duration::from_secs(60),
            t0,
        );
        assert!(s.decide_device(&d.user_code, None, t0));
        assert_eq!(
            s.poll_device("c", &d.device_code, HOUR, t0)
                .unwrap_err()
                .error,
            "access_denied"
        );
        let d = s.create_device(
            "c",
            scopes("openid"),
            Duration::ZERO,
            Duration::from_secs(60),
            t0,
        );
        assert_eq!(
            s.poll_device("x", &d.device_code, HOUR, t0)
                .unwrap_err()
                .error,
            "invalid_client"
        );
        let late = t0 + Duration::from_secs(61);
        assert!(!s.decide_device(&d.user_code, Some("u"), late));
        assert_eq!(
            s.poll_device("c", &d.device_code, HOUR, late)
                .unwrap_err()
                .error,
            "expired_token"
        );
    }

    #[test]
    fn granted_scopes_accumulate_and_denial_is_one_off() {
        let mut s = OAuthStore::default();
        s.record_grant("u", "c", &scopes("a b"));
        s.record_grant("u", "c", &scopes("c"));
        assert_eq!(scopes::join(&s.granted_scopes("u", "c")), "a b c");
        assert!(s.granted_scopes("u", "d").is_empty());
        assert!(!s.take_denial());
        s.deny_next_authorization();
        assert!(s.take_denial());
        assert!(!s.take_denial());
    }
}
