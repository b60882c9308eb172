//! The authorization itself: [`OAuth2::begin`] sends the user to the
//! consent screen, [`OAuth2::finish`] checks the callback, exchanges the
//! code, verifies the ID token and stores the credentials.

use std::time::SystemTime;

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use base64::Engine as _;
use gapi::auth::{AccessType, IdTokenRejection, UserCredentials, UserTokenSource, WebServerFlow};
use rand::RngCore as _;

use crate::html::{page, redirect};
use crate::identity::User;
use crate::oauth::{OAuth2, ct_eq, hash_hex, internal_error, merge, state_id, well_formed_binding};
use crate::pending::PendingRecord;
use crate::redirect::safe_return_path;
use crate::verified::VerifiedIdentity;

/// The scope that makes a grant an OpenID Connect sign-in.
pub(crate) const OPENID: &str = "openid";

/// 32 random bytes, base64url (43 characters).
fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

impl OAuth2 {
    /// Starts an authorization for `user` asking for `scopes` (plus the
    /// granted ones, when incremental), returning to `return_to`: keeps the
    /// pending record and answers the redirect to the consent screen.
    pub(crate) async fn begin(
        &self,
        parts: &Parts,
        user: &User,
        return_to: &str,
        scopes: &[String],
    ) -> Response {
        let inner = &self.inner;
        let stored = match inner.storage.entry(user.id()).get().await {
            Ok(s) => s.filter(|c| !c.is_invalid()),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the stored credentials before an authorization");
                None
            }
        };
        let mut ask: Vec<String> = scopes.to_vec();
        let mut options = inner.options.clone();
        if inner.incremental {
            options.include_granted_scopes = true;
            if let Some(s) = &stored {
                for g in s.scopes() {
                    if !ask.contains(g) {
                        ask.push(g.clone());
                    }
                }
            }
        }
        if ask.is_empty() {
            return page(
                StatusCode::BAD_REQUEST,
                "Nothing to authorize",
                "No scopes were asked for.",
                None,
            );
        }
        if options.login_hint.is_none() {
            options.login_hint = user.login_hint().map(str::to_owned);
        }
        let has_refresh_token = stored.as_ref().is_some_and(|s| s.refresh_token().is_some());
        if options.prompt.is_none()
            && options.access_type == AccessType::Offline
            && !has_refresh_token
        {
            options.prompt = Some("consent".to_owned());
        }
        let flow = WebServerFlow::new(
            inner.client.clone().with_scopes(ask.clone()),
            inner.redirect_uri.clone(),
        );
        // OpenID Connect: a nonce binds the ID token to this sign-in.
        let nonce = ask.iter().any(|s| s == OPENID).then(random_token);
        if let Some(n) = &nonce {
            options = options.param("nonce", n.clone());
        }
        let pending = match flow.authorize_url(&options) {
            Ok(p) => p,
            Err(e) => return internal_error("Could not build the authorization request.", &e),
        };
        let binding = crate::identity::cookie(parts, &inner.binding_cookie)
            .filter(|v| well_formed_binding(v))
            .map(str::to_owned)
            .unwrap_or_else(random_token);
        let expires_at = inner.clock.now() + inner.pending_ttl;
        let record = PendingRecord {
            pending: pending.clone(),
            user_id: user.id().to_owned(),
            session: user.session().map(str::to_owned),
            binding: hash_hex(&binding),
            return_to: return_to.to_owned(),
            scopes: ask,
            nonce,
            expires_at: expires_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        if let Err(e) = inner
            .pending
            .insert(
                state_id(pending.state().secret()),
                record,
                inner.pending_ttl,
            )
            .await
        {
            return internal_error("Could not keep the authorization request.", &e);
        }
        let cookie = format!(
            "{}={binding}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
            inner.binding_cookie,
            inner.pending_ttl.as_secs(),
            if inner.secure { "; Secure" } else { "" }
        );
        tracing::debug!(
            user = user.id(),
            return_to,
            "redirecting to the consent screen"
        );
        redirect(pending.url(), Some(cookie))
    }

    /// The callback: verifies the state and its bindings, exchanges the code,
    /// stores the credentials, and returns to the page.
    pub(crate) async fn finish(&self, parts: &Parts) -> Response {
        let inner = &self.inner;
        let bad_request = |m: &str| page(StatusCode::BAD_REQUEST, "Authorization failed", m, None);
        let forbidden = |m: &str| page(StatusCode::FORBIDDEN, "Authorization refused", m, None);
        let params = gapi::auth::CallbackParams::from_query(parts.uri.query().unwrap_or_default());
        let Some(state) = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 512)
        else {
            return bad_request("The authorization response has no valid state.");
        };
        // Single use: whatever follows, this state is consumed.
        let record = match inner.pending.take(&state_id(state)).await {
            Ok(Some(r)) => r,
            Ok(None) => {
                return bad_request(
                    "This authorization response is unknown, expired or was already used.",
                );
            }
            Err(e) => return internal_error("Could not look up the authorization request.", &e),
        };
        if record.is_expired(inner.clock.now()) {
            return bad_request("This authorization request expired; please try again.");
        }
        let Some(user) = inner.identity.identify(parts).await else {
            return forbidden("Sign in before completing an authorization.");
        };
        if !ct_eq(user.id().as_bytes(), record.user_id.as_bytes()) {
            tracing::warn!("an authorization response for another user was refused");
            return forbidden("This authorization was started by another user.");
        }
        if let Some(expected) = &record.session
            && !user
                .session()
                .is_some_and(|s| ct_eq(s.as_bytes(), expected.as_bytes()))
        {
            return forbidden("This authorization was started in another session.");
        }
        let binding_ok = crate::identity::cookie(parts, &inner.binding_cookie)
            .is_some_and(|v| ct_eq(hash_hex(v).as_bytes(), record.binding.as_bytes()));
        if !binding_ok {
            return forbidden("This authorization was started in another browser.");
        }
        let flow = WebServerFlow::new(
            inner.client.clone().with_scopes(record.scopes.clone()),
            inner.redirect_uri.clone(),
        );
        let fresh = match flow.exchange(&record.pending, &params).await {
            Ok(c) => c,
            Err(e) => {
                let code = e.auth_error().and_then(|a| a.code.clone());
                let retry = self.authorize_link(&record.return_to, &[]);
                return if code.as_deref() == Some("access_denied") {
                    page(
                        StatusCode::FORBIDDEN,
                        "Access not granted",
                        "You did not grant access.",
                        Some((&retry, "Try again")),
                    )
                } else {
                    tracing::warn!(error = %e, "the authorization failed");
                    page(
                        StatusCode::BAD_GATEWAY,
                        "Authorization failed",
                        "The authorization server did not complete the authorization.",
                        Some((&retry, "Try again")),
                    )
                };
            }
        };
        let identity = match self.verify_identity(&record, &fresh).await {
            Ok(i) => i,
            Err(response) => return response,
        };
        let entry = inner.storage.entry(user.id());
        let stored = {
            let mut guard = match entry.lock().await {
                Ok(g) => g,
                Err(e) => return internal_error("Could not store the credentials.", &e),
            };
            // An unreadable old value (a changed key…) is replaced.
            let old = guard.get().await.ok().flatten();
            let merged = merge(fresh, identity.as_ref(), old);
            let written = guard.put(&merged).await;
            let released = guard.release().await;
            if let Err(e) = written.and(released) {
                return internal_error("Could not store the credentials.", &e);
            }
            merged
        };
        let source = UserTokenSource::builder(stored).with_storage(entry).build();
        self.cache(user.id(), source);
        tracing::info!(
            user = user.id(),
            account = identity.as_ref().map(VerifiedIdentity::subject),
            "stored new credentials"
        );
        let back = safe_return_path(&record.return_to).unwrap_or_else(|| "/".to_owned());
        redirect(&back, None)
    }

    /// When the grant includes `openid`: verifies its ID token (signature,
    /// issuer, this client as audience, expiry, this sign-in's nonce) and
    /// gives the identity it proves; a missing or refused token ends the
    /// sign-in (nothing is stored).
    async fn verify_identity(
        &self,
        record: &PendingRecord,
        fresh: &UserCredentials,
    ) -> Result<Option<VerifiedIdentity>, Response> {
        let inner = &self.inner;
        let openid = record.nonce.is_some()
            || fresh.scopes().iter().any(|s| s == OPENID)
            || record.scopes.iter().any(|s| s == OPENID);
        if !openid {
            return Ok(None);
        }
        let refused = |why: &str| {
            page(
                StatusCode::BAD_GATEWAY,
                "Sign-in not verified",
                &format!("The authorization server's proof of who signed in {why}."),
                None,
            )
        };
        let Some(token) = fresh.id_token() else {
            tracing::warn!("an openid grant came without an ID token");
            return Err(refused("is missing"));
        };
        match inner
            .verifier
            .verify(token.secret(), record.nonce.as_deref())
            .await
        {
            Ok(claims) => Ok(Some(VerifiedIdentity::from_claims(
                &claims,
                inner.clock.now(),
            ))),
            Err(e) => {
                let reason = IdTokenRejection::of(&e);
                tracing::warn!(error = %e, ?reason, "the ID token of a sign-in was refused");
                Err(if reason.is_some() {
                    refused("was refused")
                } else {
                    refused("could not be checked now; please try again")
                })
            }
        }
    }
}
