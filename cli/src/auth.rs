//! `gapi auth …` — signing in and out — and the credentials a call uses.
//!
//! A profile is a directory under `<config>/profiles/<name>/` (0700) with
//! the user's credentials (`credentials.json`, 0600, written by the
//! runtime's `FileStorage`: atomic, locked, refreshed tokens written back
//! and adopted across processes) and the `client_secret.json` it signed in
//! with (0600), so `login` again needs no `--client-secret`.
//!
//! A call's credentials, first found: `--anonymous`; `--api-key` /
//! `GAPI_API_KEY`; `--access-token` / `GAPI_ACCESS_TOKEN`; the profile's
//! stored user credentials; Application Default Credentials
//! (`GOOGLE_APPLICATION_CREDENTIALS` — a service account key, an external
//! account, gcloud's user credentials —, gcloud's ADC file, the metadata
//! server); none for a method without scopes.

use std::path::PathBuf;

use gapi::auth::{
    ClientSecrets, DeviceFlow, FileStorage, InstalledAppFlow, OAuthClient, Storage as _,
    UserTokenSource,
};
use serde_json::json;

use crate::config::{Dirs, check_profile, write_private};
use crate::fail::{Failure, Result};

/// Where a call's credentials come from (`Debug` shows no secret).
#[derive(Clone)]
pub enum Plan {
    /// No credentials.
    Anonymous,
    /// An API key (`key=`).
    ApiKey(String),
    /// A fixed access token.
    Token(String),
    /// The profile's stored user credentials.
    User(PathBuf),
    /// Application Default Credentials.
    Adc,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// What chooses a call's credentials (`Debug` shows no secret).
#[derive(Clone, Default)]
pub struct Choice {
    /// `--anonymous`.
    pub anonymous: bool,
    /// `--api-key`.
    pub api_key: Option<String>,
    /// `--access-token`.
    pub access_token: Option<String>,
    /// `--profile`.
    pub profile: String,
}

impl std::fmt::Debug for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Choice")
            .field("anonymous", &self.anonymous)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("profile", &self.profile)
            .finish()
    }
}

impl Plan {
    /// The plan for a method with `scopes`.
    pub fn choose(choice: &Choice, dirs: &Dirs, scopes: &[&str]) -> Result<Plan> {
        if choice.anonymous {
            return Ok(Plan::Anonymous);
        }
        if let Some(k) = &choice.api_key {
            return Ok(Plan::ApiKey(k.clone()));
        }
        if let Some(t) = &choice.access_token {
            return Ok(Plan::Token(t.clone()));
        }
        check_profile(&choice.profile)?;
        let stored = dirs.credentials(&choice.profile);
        if stored.is_file() {
            return Ok(Plan::User(stored));
        }
        let adc = std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_some()
            || gapi::auth::adc::gcloud_adc_path().is_some_and(|p| p.is_file())
            || std::env::var_os(gapi::auth::METADATA_HOST_ENV).is_some();
        if adc {
            return Ok(Plan::Adc);
        }
        if scopes.is_empty() {
            return Ok(Plan::Anonymous);
        }
        Err(Failure::input(format!(
            "not signed in (profile `{}`): run `gapi auth login`, or set GOOGLE_APPLICATION_CREDENTIALS, --api-key or --anonymous",
            choice.profile
        )))
    }

    /// What the plan is, for `--dry-run` and `auth status` (never a secret).
    pub fn describe(&self) -> String {
        match self {
            Plan::Anonymous => "none".into(),
            Plan::ApiKey(_) => "an API key (key=)".into(),
            Plan::Token(_) => "a fixed access token".into(),
            Plan::User(p) => format!("user credentials in {}", p.display()),
            Plan::Adc => "application default credentials".into(),
        }
    }

    /// The credentials, for a real call (ADC may look around: files, the
    /// metadata server).
    pub async fn credentials(&self, scopes: &[&str]) -> Result<gapi::Credentials> {
        Ok(match self {
            Plan::Anonymous => gapi::Credentials::anonymous(),
            Plan::ApiKey(k) => gapi::Credentials::api_key(k.clone()),
            Plan::Token(t) => gapi::Credentials::access_token(t.clone()),
            Plan::User(path) => {
                let storage = FileStorage::new(path);
                let source = UserTokenSource::from_storage(storage)
                    .await?
                    .ok_or_else(|| Failure::input(format!("{}: no credentials", path.display())))?
                    .build();
                let granted = source.current();
                if !scopes.is_empty() && !scopes.iter().any(|s| granted.has_scopes(&[*s])) {
                    eprintln!(
                        "gapi: warning: the signed-in user granted none of the method's scopes ({}); `gapi auth login --scopes …` asks for them",
                        scopes.join(" ")
                    );
                }
                source.credentials()
            }
            Plan::Adc => {
                let wanted: Vec<&str> = if scopes.contains(&gapi::auth::CLOUD_PLATFORM_SCOPE) {
                    vec![gapi::auth::CLOUD_PLATFORM_SCOPE]
                } else {
                    scopes.to_vec()
                };
                gapi::Credentials::application_default(wanted).await?
            }
        })
    }
}

/// Expands short scope names: `tasks` → `https://www.googleapis.com/auth/tasks`
/// (`openid`, `email`, `profile` and URLs stay as they are).
pub fn expand_scopes(given: &[String]) -> Vec<String> {
    given
        .iter()
        .flat_map(|s| s.split([',', ' ']))
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.contains("://") || matches!(s, "openid" | "email" | "profile") {
                s.to_owned()
            } else {
                format!("https://www.googleapis.com/auth/{s}")
            }
        })
        .collect()
}

/// `gapi auth login`.
#[derive(Debug, Default)]
pub struct Login {
    /// `--client-secret FILE`.
    pub client_secret: Option<PathBuf>,
    /// `--device`: the device flow.
    pub device: bool,
    /// `--scopes`.
    pub scopes: Vec<String>,
    /// `--no-browser`: print the URL only.
    pub no_browser: bool,
    /// `--device-uri`.
    pub device_uri: Option<String>,
}

/// The scopes asked for when none are given.
pub const DEFAULT_SCOPES: &[&str] = &[
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/cloud-platform",
];

/// The device endpoint beside a token endpoint `…/token` (Google's and the
/// stand-in's layout: `https://oauth2.googleapis.com/device/code`).
fn device_uri_for(token_uri: &str) -> Option<String> {
    let base = token_uri.strip_suffix("/token")?;
    Some(format!("{base}/device/code"))
}

/// Runs a flow and stores the credentials in the profile.
pub async fn login(dirs: &Dirs, profile: &str, opts: &Login) -> Result<()> {
    check_profile(profile)?;
    let saved = dirs.client_secret(profile);
    let secret_path = opts
        .client_secret
        .clone()
        .or_else(|| std::env::var_os("GAPI_CLIENT_SECRET").map(PathBuf::from))
        .or_else(|| saved.is_file().then(|| saved.clone()))
        .ok_or_else(|| {
            Failure::input(
                "no OAuth client: give --client-secret FILE (a client_secret.json from the Google Cloud console) or set GAPI_CLIENT_SECRET",
            )
        })?;
    let text = std::fs::read_to_string(&secret_path)
        .map_err(|e| Failure::input(format!("{}: {e}", secret_path.display())))?;
    let secrets = ClientSecrets::from_json(&text, &secret_path.display().to_string())
        .map_err(|e| Failure::input(e.to_string()))?;
    let scopes = if opts.scopes.is_empty() {
        DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        expand_scopes(&opts.scopes)
    };
    let mut client = OAuthClient::from_client_secrets(&secrets).with_scopes(scopes.clone());
    let credentials = if opts.device {
        let uri = opts
            .device_uri
            .clone()
            .or_else(|| device_uri_for(secrets.token_uri()))
            .ok_or_else(|| Failure::input("the device flow needs --device-uri"))?;
        client = client.with_device_uri(uri);
        DeviceFlow::new(client)
            .run(|auth| {
                let url = auth
                    .verification_url_complete()
                    .unwrap_or(auth.verification_url());
                eprintln!("To sign in, visit {url}");
                eprintln!("and enter the code {}", auth.user_code());
            })
            .await?
    } else {
        let open = !opts.no_browser;
        InstalledAppFlow::new(client)
            .open_browser(open)
            .on_url(move |url| {
                if open {
                    eprintln!("Opening the browser; if it does not open, visit:");
                } else {
                    eprintln!("To sign in, visit:");
                }
                eprintln!("{url}");
            })
            .run()
            .await?
    };
    let path = dirs.credentials(profile);
    FileStorage::new(&path).put(&credentials).await?;
    if secret_path != saved {
        write_private(&saved, text.as_bytes())
            .map_err(|e| Failure::run(format!("{}: {e}", saved.display())))?;
    }
    eprintln!(
        "Signed in (profile `{profile}`); credentials in {}",
        path.display()
    );
    Ok(())
}

/// `gapi auth status`: what each source of credentials holds (no secret).
pub async fn status(dirs: &Dirs, profile: &str) -> Result<serde_json::Value> {
    check_profile(profile)?;
    let path = dirs.credentials(profile);
    let user = match FileStorage::new(&path).get().await? {
        None => json!(null),
        Some(c) => {
            // Seconds left (negative: expired), not a timestamp to parse.
            let expires_in =
                c.expiry()
                    .map(|e| match e.duration_since(std::time::SystemTime::now()) {
                        Ok(d) => d.as_secs() as i64,
                        Err(past) => -(past.duration().as_secs() as i64),
                    });
            json!({
                "client_id": c.client_id(),
                "scopes": c.scopes(),
                "refresh_token": c.refresh_token().is_some(),
                "access_token_expires_in_seconds": expires_in,
                "invalid": c.is_invalid(),
                "token_uri": c.token_uri(),
                "quota_project": c.quota_project(),
            })
        }
    };
    Ok(json!({
        "profile": profile,
        "config_dir": dirs.config.display().to_string(),
        "credentials_file": path.display().to_string(),
        "signed_in": !user.is_null(),
        "user": user,
        "profiles": dirs.profiles(),
        "application_default": {
            "GOOGLE_APPLICATION_CREDENTIALS": std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS")
                .map(|p| PathBuf::from(p).display().to_string()),
            "gcloud_file": gapi::auth::adc::gcloud_adc_path()
                .filter(|p| p.is_file())
                .map(|p| p.display().to_string()),
        },
    }))
}

/// `gapi auth print-access-token`: a valid token (refreshed if needed).
pub async fn print_access_token(dirs: &Dirs, profile: &str) -> Result<String> {
    check_profile(profile)?;
    let path = dirs.credentials(profile);
    let source = UserTokenSource::from_storage(FileStorage::new(&path))
        .await?
        .ok_or_else(|| {
            Failure::input(format!(
                "not signed in (profile `{profile}`): run `gapi auth login`"
            ))
        })?
        .build();
    Ok(source.access_token().await?.secret().to_owned())
}

/// `gapi auth logout`: revokes the grant (unless `keep_grant`) and deletes
/// the stored credentials.
pub async fn logout(dirs: &Dirs, profile: &str, keep_grant: bool) -> Result<()> {
    check_profile(profile)?;
    let path = dirs.credentials(profile);
    let storage = FileStorage::new(&path);
    let Some(builder) = UserTokenSource::from_storage(storage.clone()).await? else {
        eprintln!("Not signed in (profile `{profile}`)");
        return Ok(());
    };
    if !keep_grant && let Err(e) = builder.build().revoke().await {
        eprintln!("gapi: warning: the grant could not be revoked ({e}); deleting it here");
    }
    storage.delete().await?;
    eprintln!("Signed out (profile `{profile}`)");
    Ok(())
}
