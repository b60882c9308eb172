//! [`OAuth2Builder`]: the settings of an [`OAuth2`].

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use gapi::auth::{AuthorizeOptions, IdTokenVerifier, KeyedStorage, OAuthClient};
use gapi::clock::{SharedClock, default_clock};
use gapi::{Client, Credentials};
use gapi_storage::HasSingleUse;

use crate::identity::UserIdentity;
use crate::oauth::{ClientFactory, DynKeyed, Inner, OAuth2};
use crate::pending::{MemoryPendingStore, PendingStore, StoragePendingStore};

/// The default path of the authorization route (`?return_to=…&scope=…`).
pub const DEFAULT_AUTHORIZE_PATH: &str = "/oauth2authorize";
/// The default callback path, when the redirect URI has no path.
pub const DEFAULT_CALLBACK_PATH: &str = "/oauth2callback";
/// How long an authorization may take from redirect to callback.
pub const DEFAULT_PENDING_TTL: Duration = Duration::from_secs(600);

/// Builds an [`OAuth2`]; made by [`OAuth2::builder`].
pub struct OAuth2Builder {
    pub(crate) client: OAuthClient,
    pub(crate) redirect_uri: String,
    storage: Option<Arc<dyn DynKeyed>>,
    identity: Option<Arc<dyn UserIdentity>>,
    scopes: Vec<String>,
    allowed_scopes: Vec<String>,
    authorize_path: String,
    callback_path: Option<String>,
    incremental: bool,
    options: AuthorizeOptions,
    pending: Option<Arc<dyn PendingStore>>,
    pending_ttl: Duration,
    client_factory: Option<Arc<ClientFactory>>,
    verifier: Option<IdTokenVerifier>,
    clock: SharedClock,
    /// A setting that failed (an unusable storage URL): `build` returns it.
    deferred: Option<gapi::Error>,
}

impl OAuth2Builder {
    pub(crate) fn new(client: OAuthClient, redirect_uri: String) -> Self {
        OAuth2Builder {
            client,
            redirect_uri,
            storage: None,
            identity: None,
            scopes: Vec::new(),
            allowed_scopes: Vec::new(),
            authorize_path: DEFAULT_AUTHORIZE_PATH.to_owned(),
            callback_path: None,
            incremental: true,
            options: AuthorizeOptions::new(),
            pending: None,
            pending_ttl: DEFAULT_PENDING_TTL,
            client_factory: None,
            verifier: None,
            clock: default_clock(),
            deferred: None,
        }
    }

    /// How the application tells who is signed in (required).
    pub fn identity(mut self, identity: impl UserIdentity) -> Self {
        self.identity = Some(Arc::new(identity));
        self
    }

    /// Where users' credentials live, by user id: any [`KeyedStorage`].
    ///
    /// Without one, credentials are kept in memory only
    /// ([`MemoryKeyedStorage`](gapi::auth::MemoryKeyedStorage)): lost when
    /// the process ends, and nothing is written anywhere. Behind a load
    /// balancer, use [`shared_storage`](Self::shared_storage).
    pub fn storage(mut self, storage: impl KeyedStorage) -> Self {
        self.storage = Some(Arc::new(storage));
        self
    }

    /// Credentials **and** authorizations in progress in one database that
    /// every server process shares (a gapi-storage backend: SQLite file,
    /// PostgreSQL, Redis): a sign-in begun on one process completes on any
    /// other, and each `state` is used once across all of them. The same as
    /// [`storage`](Self::storage) plus
    /// [`pending_store`](Self::pending_store) with a
    /// [`StoragePendingStore`] on the storage's
    /// [single-use store](HasSingleUse::single_use).
    pub fn shared_storage<S>(mut self, storage: S) -> Self
    where
        S: KeyedStorage + HasSingleUse,
    {
        match storage.single_use() {
            Ok(single_use) => {
                self.pending = Some(Arc::new(StoragePendingStore::new(single_use)));
                self.storage = Some(Arc::new(storage));
            }
            Err(e) => self.deferred = Some(e),
        }
        self
    }

    /// [`shared_storage`](Self::shared_storage) on the database at `url`,
    /// with the backend's defaults: `sqlite:PATH` (or a plain path; feature
    /// `sqlite`), `postgres://…` (feature `postgres`), `redis://…` (feature
    /// `redis`). A URL whose backend is not compiled in makes
    /// [`build`](Self::build) fail saying which feature it needs.
    pub fn storage_url(self, url: &str) -> Self {
        crate::storage_url::apply(self, url)
    }

    pub(crate) fn defer(mut self, e: gapi::Error) -> Self {
        self.deferred = Some(e);
        self
    }

    /// The scopes every protected page needs (extractors add their own).
    /// With `openid` among the scopes of a grant, the callback verifies the
    /// ID token and the extractors give its [`VerifiedIdentity`](crate::VerifiedIdentity).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Scopes the authorization route accepts in its `scope` parameter
    /// besides the default ones and those of extractors already used (use it
    /// for links built by hand).
    pub fn allow_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_scopes
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// The path of the authorization route (default [`DEFAULT_AUTHORIZE_PATH`]).
    pub fn authorize_path(mut self, path: impl Into<String>) -> Self {
        self.authorize_path = path.into();
        self
    }

    /// The path of the callback route (default: the path of the redirect
    /// URI, or [`DEFAULT_CALLBACK_PATH`]).
    pub fn callback_path(mut self, path: impl Into<String>) -> Self {
        self.callback_path = Some(path.into());
        self
    }

    /// Incremental authorization (default on): asking for more scopes keeps
    /// the granted ones (`include_granted_scopes=true`, and the granted
    /// scopes are asked for again).
    pub fn incremental(mut self, yes: bool) -> Self {
        self.incremental = yes;
        self
    }

    /// Options of every authorization request (access type, `prompt`, extra
    /// parameters). By default access is offline, and `prompt=consent` is
    /// sent when no usable refresh token is stored for the user (Google only
    /// returns a refresh token with the consent screen).
    pub fn authorize_options(mut self, options: AuthorizeOptions) -> Self {
        self.options = options;
        self
    }

    /// Where authorizations in progress wait (default [`MemoryPendingStore`],
    /// or the database of [`shared_storage`](Self::shared_storage)).
    pub fn pending_store(mut self, store: impl PendingStore) -> Self {
        self.pending = Some(Arc::new(store));
        self
    }

    /// How long an authorization may take (default [`DEFAULT_PENDING_TTL`]).
    pub fn pending_ttl(mut self, ttl: Duration) -> Self {
        self.pending_ttl = ttl;
        self
    }

    /// How ID tokens are verified when a grant includes `openid` (default:
    /// [`IdTokenVerifier::google`] for the client's id, on this builder's
    /// clock). Set one for another OpenID Connect provider, more client ids
    /// or a required hosted domain.
    pub fn id_token_verifier(mut self, verifier: IdTokenVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// The clock of expiry checks: authorizations in progress, stored
    /// access tokens, and the default ID token verifier's (default: the
    /// system's).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// How API clients are built from a user's credentials (default
    /// [`Client::new`]).
    pub fn client_factory(
        mut self,
        factory: impl Fn(Credentials) -> gapi::Result<Client> + Send + Sync + 'static,
    ) -> Self {
        self.client_factory = Some(Arc::new(factory));
        self
    }

    /// Checks the settings.
    pub fn build(self) -> gapi::Result<OAuth2> {
        if let Some(e) = self.deferred {
            return Err(e);
        }
        let bad = |m: String| gapi::Error::new(gapi::ErrorKind::Request, m);
        let redirect = url::Url::parse(&self.redirect_uri).map_err(|e| {
            bad(format!(
                "the redirect URI `{}` is not a URL: {e}",
                self.redirect_uri
            ))
        })?;
        if !matches!(redirect.scheme(), "http" | "https") {
            return Err(bad("the redirect URI must be http or https".into()));
        }
        let callback_path = self.callback_path.unwrap_or_else(|| match redirect.path() {
            "" | "/" => DEFAULT_CALLBACK_PATH.to_owned(),
            p => p.to_owned(),
        });
        for (what, p) in [
            ("callback", &callback_path),
            ("authorize", &self.authorize_path),
        ] {
            if !p.starts_with('/') || p.contains('?') {
                return Err(bad(format!(
                    "the {what} path `{p}` must start with `/` and have no query"
                )));
            }
        }
        let identity = self
            .identity
            .ok_or_else(|| bad("OAuth2 needs a UserIdentity (OAuth2Builder::identity)".into()))?;
        let storage = match self.storage {
            Some(s) => s,
            None => {
                tracing::warn!(
                    "gapi-axum: no credential storage configured; credentials are kept in \
                     memory and lost when the process ends (OAuth2Builder::storage / shared_storage)"
                );
                Arc::new(gapi::auth::MemoryKeyedStorage::new()) as Arc<dyn DynKeyed>
            }
        };
        let pending = self
            .pending
            .unwrap_or_else(|| Arc::new(MemoryPendingStore::new().with_clock(self.clock.clone())));
        let verifier = self.verifier.unwrap_or_else(|| {
            IdTokenVerifier::google([self.client.client_id()]).with_clock(self.clock.clone())
        });
        let secure = redirect.scheme() == "https";
        let mut allowed: BTreeSet<String> = self.scopes.iter().cloned().collect();
        allowed.extend(self.allowed_scopes);
        Ok(OAuth2 {
            inner: Arc::new(Inner {
                client: self.client,
                redirect_uri: self.redirect_uri,
                storage,
                identity,
                scopes: self.scopes,
                allowed: RwLock::new(allowed),
                authorize_path: self.authorize_path,
                callback_path,
                incremental: self.incremental,
                options: self.options,
                pending,
                pending_ttl: self.pending_ttl,
                client_factory: self.client_factory,
                verifier,
                clock: self.clock,
                sources: Mutex::new(HashMap::new()),
                binding_cookie: if secure {
                    "__Host-gapi_oauth".to_owned()
                } else {
                    "gapi_oauth".to_owned()
                },
                secure,
            }),
        })
    }
}
