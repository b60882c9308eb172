//! [`SingleUseStore`]: short-lived values, each taken at most once — what a
//! web server keeps between sending a user to a consent screen and the
//! callback (gapi-axum's pending authorizations), shared by every process
//! that uses the same database.

use std::time::{Duration, SystemTime};

use gapi::clock::BoxFuture;

/// A store of values that expire and are taken at most once.
///
/// `take` is atomic: of any number of concurrent takers of a key, across
/// processes and machines, at most one gets the value, and a value past its
/// time-to-live is never returned. Each backend's single-use store lives in
/// the same database as its credentials ([`HasSingleUse::single_use`]):
///
/// | backend | where | put | take |
/// |---|---|---|---|
/// | SQLite | table `<table>_single_use` of the same file | `INSERT … ON CONFLICT DO UPDATE`, then expired rows deleted | `DELETE … RETURNING` |
/// | PostgreSQL | table `<table>_single_use` | the same | `DELETE … RETURNING` |
/// | Redis | `<prefix>:single-use:{<key>}` | `SET … PX <ttl>` | `GETDEL` (Redis 6.2 or later) |
///
/// SQLite and PostgreSQL keep the expiry time as computed by the writer's
/// clock ([`with_clock`](crate::SqliteSingleUse::with_clock)) and check it
/// on `take`; Redis expires values itself. With encryption configured on
/// the storage, values are encrypted like credentials (bound to their key).
pub trait SingleUseStore: Send + Sync + 'static {
    /// Keeps `value` under `key` for `ttl` (replacing an earlier value).
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, gapi::Result<()>>;

    /// Removes and returns the value of `key`, unless it is absent, expired
    /// or was taken already.
    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, gapi::Result<Option<String>>>;
}

/// A keyed storage that also offers a [`SingleUseStore`] in its database.
pub trait HasSingleUse {
    /// The single-use store's type.
    type SingleUse: SingleUseStore;

    /// The single-use store beside this storage's credentials (same
    /// database, connections and encryption).
    fn single_use(&self) -> gapi::Result<Self::SingleUse>;
}

/// The entry name under which a single-use value is encrypted (its
/// associated data): a credentials entry cannot be passed off as one.
pub(crate) fn entry_name(key: &str) -> String {
    format!("single-use:{key}")
}

/// Milliseconds since the Unix epoch of `t`.
pub(crate) fn millis(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The name of the single-use table of the credentials table `table`
/// (optionally `schema.table`): `<table>_single_use`, or, when that is
/// longer than an SQL identifier may be, the table's first 42 bytes,
/// `_single_use_` and 8 hex digits of its hash.
pub(crate) fn table_name(table: &str) -> String {
    let (schema, name) = match table.rsplit_once('.') {
        Some((s, n)) => (Some(s), n),
        None => (None, table),
    };
    let mut out = format!("{name}_single_use");
    if out.len() > 63 {
        use sha2::Digest as _;
        let hash = crate::util::hex(&sha2::Sha256::digest(name.as_bytes())[..4]);
        // Table names are ASCII (checked), so any byte is a char boundary.
        out = format!("{}_single_use_{hash}", &name[..42]);
    }
    match schema {
        Some(s) => format!("{s}.{out}"),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_use_table_names_stay_identifiers() {
        assert_eq!(
            table_name("gapi_credentials"),
            "gapi_credentials_single_use"
        );
        assert_eq!(table_name("app.creds"), "app.creds_single_use");
        let long = "t".repeat(60);
        let n = table_name(&long);
        assert_eq!(n.len(), 62);
        assert!(n.starts_with(&"t".repeat(42)));
        assert_ne!(n, table_name(&"t".repeat(59)));
        assert!(crate::util::quoted_table(&n, false).is_ok());
    }
}
