//! Helpers shared by the end-to-end tests: a stand-in with an authorized
//! Tasks client, and a scripted browser for consent redirects.

use std::time::Duration;

use gapi::auth::{
    InstalledAppFlow, MemoryStorage, OAuthClient, Storage as _, UserCredentials, UserTokenSource,
};
use gapi_standin::{StandIn, StandInHandle};
use gapi_tasks_v1::{Tasks, scopes};

/// A running stand-in, credentials from a real installed-app flow against it,
/// the token source (with its storage) and a generated Tasks client.
pub struct World {
    /// The stand-in.
    pub standin: StandInHandle,
    /// The token source behind the client.
    pub source: UserTokenSource,
    /// Where the source writes refreshed credentials.
    pub storage: MemoryStorage,
    /// The generated Tasks client, pointed at the stand-in.
    pub tasks: Tasks,
}

/// Starts a stand-in (with `configure` applied to its builder), runs the
/// installed-app flow and builds an authorized Tasks client.
pub async fn world_with(
    configure: impl FnOnce(gapi_standin::StandInBuilder) -> gapi_standin::StandInBuilder,
) -> World {
    let standin = configure(StandIn::builder())
        .start()
        .await
        .expect("start stand-in");
    let credentials = authorize(&standin, &[scopes::TASKS]).await;
    let storage = MemoryStorage::new();
    storage.put(&credentials).await.expect("store credentials");
    let source = UserTokenSource::builder(credentials)
        .with_storage(storage.clone())
        .build();
    let client = gapi::Client::builder()
        .credentials(source.credentials())
        .retry_policy(gapi::RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            ..Default::default()
        })
        .build()
        .expect("client");
    let tasks = Tasks::new(client).with_root_url(standin.base_url());
    World {
        standin,
        source,
        storage,
        tasks,
    }
}

/// [`world_with`] with the stand-in's defaults.
pub async fn world() -> World {
    world_with(|b| b).await
}

/// Runs the installed-app flow against the stand-in with a scripted browser.
pub async fn authorize(standin: &StandInHandle, scopes: &[&str]) -> UserCredentials {
    let client = OAuthClient::new(
        standin.client_id(),
        standin.client_secret().map(gapi::auth::ClientSecret::new),
    )
    .with_auth_uri(standin.auth_uri())
    .with_token_uri(standin.token_uri())
    .with_revoke_uri(standin.revoke_uri())
    .with_scopes(scopes.iter().copied());
    InstalledAppFlow::new(client)
        .open_browser(false)
        .with_timeout(Duration::from_secs(20))
        .on_url(|url| {
            let url = url.to_owned();
            tokio::spawn(async move { browser_visit(&url).await });
        })
        .run()
        .await
        .expect("installed-app flow")
}

/// Follows an authorization URL and its redirects, like a browser whose user
/// consents; returns the final status.
pub async fn browser_visit(url: &str) -> u16 {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .expect("browser client");
    match http.get(url).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}
