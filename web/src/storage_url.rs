//! [`OAuth2Builder::storage_url`]: a gapi-storage backend by URL, for the
//! credentials and the authorizations in progress.

use crate::OAuth2Builder;

/// The backend a storage URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Sqlite,
    Postgres,
    Redis,
}

impl Scheme {
    /// The scheme of `url`: `postgres://` / `postgresql://`, `redis://` /
    /// `rediss://`, `sqlite:PATH`, or any other text as an SQLite path.
    pub(crate) fn of(url: &str) -> (Scheme, &str) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Scheme::Postgres, url)
        } else if url.starts_with("redis://") || url.starts_with("rediss://") {
            (Scheme::Redis, url)
        } else {
            (Scheme::Sqlite, url.strip_prefix("sqlite:").unwrap_or(url))
        }
    }

    fn feature(self) -> &'static str {
        match self {
            Scheme::Sqlite => "sqlite",
            Scheme::Postgres => "postgres",
            Scheme::Redis => "redis",
        }
    }
}

fn missing_feature(scheme: Scheme) -> gapi::Error {
    gapi::Error::new(
        gapi::ErrorKind::Request,
        format!(
            "gapi-axum was built without its `{}` feature, which this storage URL needs",
            scheme.feature()
        ),
    )
}

pub(crate) fn apply(builder: OAuth2Builder, url: &str) -> OAuth2Builder {
    let (scheme, location) = Scheme::of(url);
    if location.is_empty() {
        return builder.defer(gapi::Error::new(
            gapi::ErrorKind::Request,
            "an empty storage URL",
        ));
    }
    match scheme {
        #[cfg(feature = "sqlite")]
        Scheme::Sqlite => match gapi_storage::SqliteKeyedStorage::open(location) {
            Ok(s) => builder.shared_storage(s),
            Err(e) => builder.defer(e),
        },
        #[cfg(feature = "postgres")]
        Scheme::Postgres => match gapi_storage::PostgresKeyedStorage::open(location) {
            Ok(s) => builder.shared_storage(s),
            Err(e) => builder.defer(e),
        },
        #[cfg(feature = "redis")]
        Scheme::Redis => match gapi_storage::RedisKeyedStorage::open(location) {
            Ok(s) => builder.shared_storage(s),
            Err(e) => builder.defer(e),
        },
        #[allow(unreachable_patterns)]
        other => builder.defer(missing_feature(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(
            Scheme::of("postgres://u@h/db"),
            (Scheme::Postgres, "postgres://u@h/db")
        );
        assert_eq!(Scheme::of("postgresql://h/db").0, Scheme::Postgres);
        assert_eq!(Scheme::of("redis://127.0.0.1/").0, Scheme::Redis);
        assert_eq!(
            Scheme::of("sqlite:/var/x.db"),
            (Scheme::Sqlite, "/var/x.db")
        );
        assert_eq!(Scheme::of("x.sqlite"), (Scheme::Sqlite, "x.sqlite"));
        assert!(
            missing_feature(Scheme::Redis)
                .to_string()
                .contains("`redis`")
        );
    }
}
