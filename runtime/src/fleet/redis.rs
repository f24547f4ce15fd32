//! The Redis fleet store (feature `redis`): one async [`ConnectionManager`] per URL, atomic
//! Lua scripts for the GCRA and the 429 pause (times from Redis `TIME`, so machines with
//! skewed clocks agree), plain keys with expiry for tokens and locks.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::store::{SharedStore, StoreError, StoreFuture};
use crate::core::sync::LockExt;

/// GCRA reservation. KEYS: gcra, pause. ARGV: interval µs, tolerance µs. Returns the wait (µs).
const RESERVE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = now
local p = redis.call('GET', KEYS[2])
if p then
  p = tonumber(p)
  if p and p > slot then slot = p end
end
local interval = tonumber(ARGV[1])
if interval > 0 then
  local tat = now
  local stored = redis.call('GET', KEYS[1])
  if stored then tat = tonumber(stored) or now end
  local earliest = tat - tonumber(ARGV[2])
  if earliest > slot then slot = earliest end
  local newtat = math.max(tat, slot) + interval
  redis.call('SET', KEYS[1], string.format('%.0f', newtat), 'PX', math.ceil((newtat - now) / 1000) + 1000)
end
return slot - now
"#;

/// 429 pause. KEYS: pause. ARGV: pause µs. Keeps a longer pause already set.
const PAUSE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local till = now + tonumber(ARGV[1])
local cur = redis.call('GET', KEYS[1])
if (not cur) or (tonumber(cur) or 0) < till then
  redis.call('SET', KEYS[1], string.format('%.0f', till), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1)
end
return 0
"#;

/// Pause left. KEYS: pause. Returns µs.
const PAUSED_FOR: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local p = redis.call('GET', KEYS[1])
if not p then return 0 end
p = tonumber(p) or 0
if p > now then return p - now end
return 0
"#;

/// Compare-and-delete of a lock. KEYS: lock. ARGV: owner.
const UNLOCK: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// A Redis (or Valkey) fleet store. The URL (with its password) stays inside; `Debug` shows
/// only host and port.
pub struct RedisStore {
    client: redis::Client,
    shown: String,
    conn: Arc<tokio::sync::OnceCell<ConnectionManager>>,
    reserve: Script,
    pause: Script,
    paused_for: Script,
    unlock: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("at", &self.shown)
            .finish()
    }
}

fn store_err(e: redis::RedisError) -> StoreError {
    StoreError(format!("redis: {:?} {}", e.kind(), e.category()))
}

static STORES: LazyLock<Mutex<HashMap<String, Arc<RedisStore>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl RedisStore {
    /// A store for `url` (`redis://[user:password@]host:port[/db]` or `rediss://…`); connects
    /// on first use, and reconnects by itself after a failure.
    pub fn new(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|e| {
            StoreError(format!("invalid Redis URL ({:?}): expected redis://[user:password@]host:port[/db] or rediss://…", e.kind()))
        })?;
        let info = client.get_connection_info();
        let shown = format!("{:?}", info.addr());
        Ok(RedisStore {
            client,
            shown,
            conn: Arc::new(tokio::sync::OnceCell::new()),
            reserve: Script::new(RESERVE),
            pause: Script::new(PAUSE),
            paused_for: Script::new(PAUSED_FOR),
            unlock: Script::new(UNLOCK),
        })
    }

    /// The process-wide store for `url`: clients given the same URL share one connection.
    pub fn shared(url: &str) -> Result<Arc<dyn SharedStore>, StoreError> {
        let mut reg = STORES.lock_unpoisoned();
        if let Some(s) = reg.get(url) {
            return Ok(Arc::clone(s) as Arc<dyn SharedStore>);
        }
        let s = Arc::new(RedisStore::new(url)?);
        reg.insert(url.to_owned(), Arc::clone(&s));
        Ok(s)
    }

    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        if let Some(c) = self.conn.get() {
            return Ok(c.clone());
        }
        // The first connection is made by a task of its own, so that an operation given up
        // at the store timeout does not abort a handshake that a slow store would finish.
        let (cell, client) = (Arc::clone(&self.conn), self.client.clone());
        let connect =
            tokio::spawn(async move { cell.get_or_try_init(|| connect(client)).await.cloned() });
        match connect.await {
            Ok(r) => r,
            Err(_) => Err(StoreError("redis: connection task ended".into())),
        }
    }
}

async fn connect(client: redis::Client) -> Result<ConnectionManager, StoreError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    let mut c = ConnectionManager::new_with_config(client, config)
        .await
        .map_err(store_err)?;
    // Load the scripts in one round trip, so that their first use is one round trip too.
    let mut load = redis::pipe();
    for script in [RESERVE, PAUSE, PAUSED_FOR, UNLOCK] {
        load.cmd("SCRIPT").arg("LOAD").arg(script).ignore();
    }
    let () = load.query_async(&mut c).await.map_err(store_err)?;
    Ok(c)
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

/// A µs count from Redis as a wait, clamped (a corrupt key must not hold calls for years).
fn wait_of(us: i64) -> Duration {
    Duration::from_micros(us.clamp(0, 24 * 3600 * 1_000_000) as u64)
}

impl SharedStore for RedisStore {
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        pause_key: &'a str,
        interval: Duration,
        tolerance: Duration,
    ) -> StoreFuture<'a, Duration> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let us: i64 = self
                .reserve
                .key(key)
                .key(pause_key)
                .arg(micros(interval))
                .arg(micros(tolerance))
                .invoke_async(&mut c)
                .await
                .map_err(store_err)?;
            Ok(wait_of(us))
        })
    }

    fn pause<'a>(&'a self, pause_key: &'a str, pause: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let _: i64 = self
                .pause
                .key(pause_key)
                .arg(micros(pause).max(1))
                .invoke_async(&mut c)
                .await
                .map_err(store_err)?;
            Ok(())
        })
    }

    fn paused_for<'a>(&'a self, pause_key: &'a str) -> StoreFuture<'a, Duration> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let us: i64 = self
                .paused_for
                .key(pause_key)
                .invoke_async(&mut c)
                .await
                .map_err(store_err)?;
            Ok(wait_of(us))
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<(String, Duration)>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let (value, pttl): (Option<String>, i64) = redis::pipe()
                .get(key)
                .pttl(key)
                .query_async(&mut c)
                .await
                .map_err(store_err)?;
            Ok(match value {
                Some(v) if pttl > 0 => Some((v, Duration::from_millis(pttl as u64))),
                _ => None,
            })
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let ms = ttl.as_millis().clamp(1, u128::from(u32::MAX)) as u64;
            let _: () = c.pset_ex(key, value, ms).await.map_err(store_err)?;
            Ok(())
        })
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let ms = ttl.as_millis().clamp(1, u128::from(u32::MAX)) as u64;
            let r: Option<String> = redis::cmd("SET")
                .arg(key)
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(ms)
                .query_async(&mut c)
                .await
                .map_err(store_err)?;
            Ok(r.is_some())
        })
    }

    fn connect(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.conn().await.map(|_| ()) })
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let _: i64 = self
                .unlock
                .key(key)
                .arg(owner)
                .invoke_async(&mut c)
                .await
                .map_err(store_err)?;
            Ok(())
        })
    }
}
