//! A bounded, thread-safe least-recently-used cache of sentence embeddings.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Counters of an [`EmbeddingCache`] at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// Look-ups answered from the cache.
    pub hits: u64,
    /// Look-ups that had to run the model.
    pub misses: u64,
    /// Embeddings held now.
    pub len: usize,
    /// The most embeddings held at once (0: caching disabled).
    pub capacity: usize,
}

/// The key under which a text is cached: surrounding whitespace trimmed and every run of
/// whitespace collapsed into one space. BERT's pre-tokenizer splits on whitespace, so this
/// never changes what the model sees; the encoder embeds the key itself, so a hit returns
/// exactly what a miss would compute.
pub fn cache_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

struct Inner {
    /// key → (embedding, recency stamp)
    map: HashMap<String, (Arc<[f32]>, u64)>,
    /// recency stamp → key; the first entry is the least recently used.
    order: BTreeMap<u64, String>,
    clock: u64,
}

/// A bounded LRU map from [`cache_key`] to embedding, safe to share between threads.
///
/// Capacity 0 disables caching (every look-up is a miss and nothing is stored).
pub struct EmbeddingCache {
    inner: Mutex<Inner>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for EmbeddingCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingCache").field("stats", &self.stats()).finish()
    }
}

impl EmbeddingCache {
    /// An empty cache holding at most `capacity` embeddings.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner { map: HashMap::new(), order: BTreeMap::new(), clock: 0 }),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters more than losing the cache, so a poisoned lock is simply reused.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The embedding stored under `key`, marking it most recently used; counts a hit or a miss.
    pub fn get(&self, key: &str) -> Option<Arc<[f32]>> {
        if self.capacity == 0 {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.clock += 1;
        let now = inner.clock;
        match inner.map.get_mut(key) {
            Some((value, stamp)) => {
                let old = std::mem::replace(stamp, now);
                let value = Arc::clone(value);
                if let Some(k) = inner.order.remove(&old) {
                    inner.order.insert(now, k);
                }
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(value)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Stores `value` under `key`, evicting the least recently used entries beyond capacity.
    pub fn insert(&self, key: String, value: Arc<[f32]>) {
        if self.capacity == 0 {
            return;
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.clock += 1;
        let now = inner.clock;
        if let Some((_, old)) = inner.map.insert(key.clone(), (value, now)) {
            inner.order.remove(&old);
        }
        inner.order.insert(now, key);
        while inner.map.len() > self.capacity {
            match inner.order.pop_first() {
                Some((_, evicted)) => {
                    inner.map.remove(&evicted);
                }
                None => break,
            }
        }
    }

    /// Drops every entry (the counters are kept).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.order.clear();
    }

    /// Hits, misses, size and capacity.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            len: self.lock().map.len(),
            capacity: self.capacity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f32) -> Arc<[f32]> {
        Arc::from(vec![x])
    }

    #[test]
    fn evicts_least_recently_used() {
        let c = EmbeddingCache::new(2);
        c.insert("a".into(), v(1.0));
        c.insert("b".into(), v(2.0));
        assert!(c.get("a").is_some()); // a is now newer than b
        c.insert("c".into(), v(3.0));
        assert!(c.get("b").is_none());
        assert_eq!(c.get("a").as_deref(), Some(&[1.0][..]));
        assert_eq!(c.get("c").as_deref(), Some(&[3.0][..]));
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.len, s.capacity), (3, 1, 2, 2));
    }

    #[test]
    fn zero_capacity_stores_nothing() {
        let c = EmbeddingCache::new(0);
        c.insert("a".into(), v(1.0));
        assert!(c.get("a").is_none());
        assert_eq!(c.stats().len, 0);
    }

    #[test]
    fn keys_collapse_whitespace() {
        assert_eq!(cache_key("  where is\t my   order \n"), "where is my order");
        assert_eq!(cache_key("我要 退货"), "我要 退货");
        assert_eq!(cache_key("   "), "");
    }
}
