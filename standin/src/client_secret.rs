//! `client_secret.json` files, in the shape Google's console hands out, pointing at the
//! stand-in's own endpoints.

use serde_json::{Value, json};

use crate::config::{ClientKind, RegisteredClient};
use crate::oauth::{REVOKE_PATH, TOKEN_PATH};
use crate::state::Shared;

/// The file for one registered client.
pub(crate) fn for_client(shared: &Shared, client: &RegisteredClient, kind: ClientKind) -> String {
    let mut redirect_uris: Vec<String> = Vec::new();
    if client.allow_loopback_redirects
        && (kind == ClientKind::Installed || client.redirect_uris.is_empty())
    {
        redirect_uris.push("http://localhost".to_string());
    }
    redirect_uris.extend(client.redirect_uris.iter().cloned());
    let mut inner = json!({
        "client_id": client.client_id,
        "project_id": "gapi-standin",
        "auth_uri": shared.url("o/oauth2/auth"),
        "token_uri": shared.url(TOKEN_PATH),
        "revoke_uri": shared.url(REVOKE_PATH),
        "redirect_uris": redirect_uris,
    });
    if let Some(secret) = &client.client_secret {
        inner["client_secret"] = Value::String(secret.clone());
    }
    let key = match kind {
        ClientKind::Installed => "installed",
        ClientKind::Web => "web",
    };
    let file = json!({ key: inner });
    serde_json::to_string_pretty(&file).unwrap_or_default()
}

/// The file for the first registered client, if there is one.
pub(crate) fn for_default_client(shared: &Shared, kind: ClientKind) -> Option<String> {
    let client = shared.config.clients.first()?;
    Some(for_client(shared, client, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn installed_and_web() {
        let mut config = Config::default();
        config.clients[0]
            .redirect_uris
            .push("https://app.example/cb".into());
        let shared = Shared::new(config, "http://127.0.0.1:7/".into());
        let installed: Value =
            serde_json::from_str(&for_default_client(&shared, ClientKind::Installed).unwrap())
                .unwrap();
        let i = &installed["installed"];
        assert_eq!(i["client_id"], "standin-client");
        assert_eq!(i["client_secret"], "standin-secret");
        assert_eq!(i["auth_uri"], "http://127.0.0.1:7/o/oauth2/auth");
        assert_eq!(i["token_uri"], "http://127.0.0.1:7/token");
        assert_eq!(
            i["redirect_uris"],
            json!(["http://localhost", "https://app.example/cb"])
        );
        let web: Value =
            serde_json::from_str(&for_default_client(&shared, ClientKind::Web).unwrap()).unwrap();
        assert_eq!(
            web["web"]["redirect_uris"],
            json!(["https://app.example/cb"])
        );
    }
}
