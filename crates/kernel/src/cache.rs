//! A small time-bounded cache for hot, rarely changing rows (the caller behind a session token, an
//! organization). Entries live at most `ttl`; the owner removes an entry when it changes it, so a single
//! instance never serves a stale value it wrote itself, and several instances converge within `ttl`.
//! A `ttl` of zero turns the cache off.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache { ttl, capacity, entries: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    pub fn put(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.capacity {
                let ttl = self.ttl;
                entries.retain(|_, (at, _)| at.elapsed() < ttl);
                if entries.len() >= self.capacity {
                    entries.clear();
                }
            }
            entries.insert(key, (Instant::now(), value));
        }
    }

    pub fn remove(&self, key: &K) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// Removes every entry whose value matches.
    pub fn remove_where(&self, pred: impl Fn(&V) -> bool) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (_, v)| !pred(v));
        }
    }
}

/// A [`TtlCache`] whose entries can be ended one at a time (a logout ends one session) while a reader that
/// read the old value before the end is still on its way to put it: [`EndableCache::end`] marks the key
/// before it removes the entry, and [`EndableCache::remember`] looks for the mark after it puts, so either the
/// removal comes after the put or the put sees the mark. Marks live as long as entries.
#[derive(Debug)]
pub struct EndableCache<K, V> {
    live: TtlCache<K, V>,
    ended: TtlCache<K, ()>,
}

impl<K: Eq + Hash + Clone, V: Clone> EndableCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        EndableCache { live: TtlCache::new(ttl, capacity), ended: TtlCache::new(ttl, capacity) }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        self.live.get(key)
    }

    /// Keeps a value just read, unless its key was ended meanwhile.
    pub fn remember(&self, key: K, value: V) {
        self.live.put(key.clone(), value);
        if self.ended.get(&key).is_some() {
            self.live.remove(&key);
        }
    }

    /// Ends one key: its entry goes, and a value read before now is not kept again.
    pub fn end(&self, key: K) {
        self.ended.put(key.clone(), ());
        self.live.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ended_key_is_not_brought_back_by_a_reader_that_read_it_before() {
        let c = EndableCache::new(Duration::from_secs(60), 10);
        c.remember(1, "a");
        c.remember(2, "b");
        // A reader read key 1 before it ended and puts it after: it stays out.
        c.end(1);
        c.remember(1, "a");
        assert_eq!(c.get(&1), None);
        // The other keys stay cached.
        assert_eq!(c.get(&2), Some("b"));
        let off = EndableCache::new(Duration::ZERO, 10);
        off.remember(1, "a");
        assert_eq!(off.get(&1), None);
    }

    #[test]
    fn entries_expire_and_can_be_removed() {
        let c = TtlCache::new(Duration::from_millis(30), 10);
        c.put(1, "a");
        assert_eq!(c.get(&1), Some("a"));
        c.remove(&1);
        assert_eq!(c.get(&1), None);
        c.put(2, "b");
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(c.get(&2), None);
        let off = TtlCache::new(Duration::ZERO, 10);
        off.put(1, "a");
        assert_eq!(off.get(&1), None);
    }

    #[test]
    fn capacity_is_bounded() {
        let c = TtlCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            c.put(i, i);
        }
        assert!(c.entries.lock().unwrap().len() <= 3);
    }
}
