//! [`RedisSingleUse`]: the single-use store of a [`RedisKeyedStorage`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use gapi::clock::BoxFuture;

use super::{RedisKeyedStorage, Shared, escape_key};
use crate::single_use::{HasSingleUse, SingleUseStore, entry_name};

/// Single-use values in Redis under `<prefix>:single-use:{<key>}` (the key
/// escaped as for credentials): `put` is `SET … PX <ttl>`, so Redis itself
/// forgets a value when its time is up, and `take` is `GETDEL` (Redis 6.2
/// or later), which gives a value to one taker only. See [`SingleUseStore`].
#[derive(Clone)]
pub struct RedisSingleUse {
    shared: Arc<Shared>,
}

impl RedisSingleUse {
    /// The Redis key of the value `key`.
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}:single-use:{{{}}}", self.shared.prefix, escape_key(key))
    }
}

impl fmt::Debug for RedisSingleUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSingleUse")
            .field("prefix", &self.shared.prefix)
            .finish()
    }
}

impl HasSingleUse for RedisKeyedStorage {
    type SingleUse = RedisSingleUse;

    fn single_use(&self) -> gapi::Result<RedisSingleUse> {
        Ok(RedisSingleUse {
            shared: self.shared.clone(),
        })
    }
}

impl SingleUseStore for RedisSingleUse {
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, gapi::Result<()>> {
        Box::pin(async move {
            let stored = self
                .shared
                .codec
                .encode_text(&entry_name(key), value)
                .map_err(|e| e.into_gapi("redis single-use"))?;
            let mut conn = self.shared.conn().await?;
            let ms = (ttl.as_millis() as u64).max(1);
            redis::cmd("SET")
                .arg(self.redis_key(key))
                .arg(stored)
                .arg("PX")
                .arg(ms)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| self.shared.err("could not write a single-use value", e))
        })
    }

    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, gapi::Result<Option<String>>> {
        Box::pin(async move {
            let mut conn = self.shared.conn().await?;
            let stored: Option<String> = redis::cmd("GETDEL")
                .arg(self.redis_key(key))
                .query_async(&mut conn)
                .await
                .map_err(|e| self.shared.err("could not take a single-use value", e))?;
            stored
                .map(|s| self.shared.codec.decode_text(&entry_name(key), &s))
                .transpose()
                .map_err(|e| e.into_gapi("redis single-use"))
        })
    }
}
