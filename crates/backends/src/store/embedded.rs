//! An embedded, crash-safe session store on redb (a single file, no server).
//!
//! Why redb: pure Rust (no C toolchain, builds for phones), ACID with copy-on-write pages and a
//! durable commit per write transaction, maintained, and small. SQLite would do as well but
//! brings a C library into every build.

use super::Stored;
use async_trait::async_trait;
use kefu_core::session::{Session, SessionKey, SessionStore, StoreError};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions");

/// Sessions in a redb file. Each save is one durable transaction.
#[derive(Clone)]
pub struct EmbeddedSessionStore {
    db: Arc<Database>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable { message: e.to_string(), retryable: false }
}

fn key_of(k: &SessionKey) -> String {
    // Length-prefixed so that no tenant/conversation pair can collide with another.
    format!("{}:{}{}", k.tenant.len(), k.tenant, k.conversation_id)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl EmbeddedSessionStore {
    /// Opens (or creates) the store file.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| unavailable(format!("{}: {e}", dir.display())))?;
        }
        let db = Database::create(path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(unavailable)?;
        txn.open_table(SESSIONS).map_err(unavailable)?;
        txn.commit().map_err(unavailable)?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Removes expired sessions; returns how many.
    pub fn purge_expired(&self) -> Result<usize, StoreError> {
        let now = now_ms();
        let txn = self.db.begin_write().map_err(unavailable)?;
        let mut removed = 0;
        {
            let mut table = txn.open_table(SESSIONS).map_err(unavailable)?;
            let mut expired = Vec::new();
            for item in table.iter().map_err(unavailable)? {
                let (k, v) = item.map_err(unavailable)?;
                let stored: Result<Stored, _> = serde_json::from_slice(v.value());
                if stored.map_or(true, |s| s.expires_at_ms <= now) {
                    expired.push(k.value().to_string());
                }
            }
            for k in expired {
                table.remove(k.as_str()).map_err(unavailable)?;
                removed += 1;
            }
        }
        txn.commit().map_err(unavailable)?;
        Ok(removed)
    }

    fn read(&self, key: &SessionKey) -> Result<Option<Stored>, StoreError> {
        let txn = self.db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(SESSIONS).map_err(unavailable)?;
        let Some(v) = table.get(key_of(key).as_str()).map_err(unavailable)? else { return Ok(None) };
        let stored: Stored = serde_json::from_slice(v.value()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok((stored.expires_at_ms > now_ms()).then_some(stored))
    }

    fn write(&self, session: &Session, expected: u64, ttl: Duration) -> Result<(), StoreError> {
        let k = key_of(&session.key);
        let stored = Stored { expires_at_ms: now_ms() + ttl.as_millis() as i64, session: session.clone() };
        let bytes = serde_json::to_vec(&stored).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let txn = self.db.begin_write().map_err(unavailable)?;
        {
            let mut table = txn.open_table(SESSIONS).map_err(unavailable)?;
            let found = match table.get(k.as_str()).map_err(unavailable)? {
                Some(v) => match serde_json::from_slice::<Stored>(v.value()) {
                    Ok(s) if s.expires_at_ms > now_ms() => s.session.version,
                    _ => 0,
                },
                None => 0,
            };
            if found != expected {
                return Err(StoreError::Conflict { expected, found });
            }
            table.insert(k.as_str(), bytes.as_slice()).map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)
    }

    fn of_user(&self, tenant: &str, user_id: &str) -> Result<Vec<Session>, StoreError> {
        // Keys are `<tenant length>:<tenant><conversation>`: one tenant is one key range.
        let prefix = format!("{}:{}", tenant.len(), tenant);
        let now = now_ms();
        let txn = self.db.begin_read().map_err(unavailable)?;
        let table = txn.open_table(SESSIONS).map_err(unavailable)?;
        let mut out = Vec::new();
        for item in table.range(prefix.as_str()..).map_err(unavailable)? {
            let (k, v) = item.map_err(unavailable)?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            let stored: Stored = serde_json::from_slice(v.value()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if stored.expires_at_ms > now && stored.session.user_id == user_id && stored.session.key.tenant == tenant {
                out.push(stored.session);
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn remove(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let txn = self.db.begin_write().map_err(unavailable)?;
        let existed = {
            let mut table = txn.open_table(SESSIONS).map_err(unavailable)?;
            let old = table.remove(key_of(key).as_str()).map_err(unavailable)?;
            old.is_some_and(|v| serde_json::from_slice::<Stored>(v.value()).is_ok_and(|s| s.expires_at_ms > now_ms()))
        };
        txn.commit().map_err(unavailable)?;
        Ok(existed)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| unavailable(format!("store task failed: {e}")))?
}

#[async_trait]
impl SessionStore for EmbeddedSessionStore {
    async fn purge_expired(&self) -> Result<usize, StoreError> {
        let this = self.clone();
        blocking(move || EmbeddedSessionStore::purge_expired(&this)).await
    }

    async fn load(&self, key: &SessionKey) -> Result<Option<Session>, StoreError> {
        let (this, key) = (self.clone(), key.clone());
        Ok(blocking(move || this.read(&key)).await?.map(|s| s.session))
    }

    async fn save(&self, session: &Session, expected_version: u64, ttl: Duration) -> Result<(), StoreError> {
        let (this, session) = (self.clone(), session.clone());
        blocking(move || this.write(&session, expected_version, ttl)).await
    }

    async fn delete(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let (this, key) = (self.clone(), key.clone());
        blocking(move || this.remove(&key)).await
    }

    async fn sessions_of_user(&self, tenant: &str, user_id: &str) -> Result<Vec<Session>, StoreError> {
        let (this, tenant, user) = (self.clone(), tenant.to_string(), user_id.to_string());
        blocking(move || this.of_user(&tenant, &user)).await
    }
}
