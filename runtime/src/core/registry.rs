//! One process-wide registry shape for state shared by every client of an account or host
//! (limiters, token caches, circuit breakers): values are held weakly, so the state lives
//! exactly as long as some client holds it, and dead entries are pruned on each insert.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, Weak};

use crate::core::sync::LockExt;

/// Weak values by key; a key may hold several live values (one account, several limits).
pub(crate) struct WeakRegistry<K, V> {
    entries: Mutex<HashMap<K, Vec<Weak<V>>>>,
}

impl<K: Eq + Hash, V> Default for WeakRegistry<K, V> {
    fn default() -> Self {
        WeakRegistry {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V> WeakRegistry<K, V> {
    /// The live value of `key` that `matches`, or a new one from `make`, which is given the
    /// key's other live values (to warn about a conflicting configuration).
    pub(crate) fn get_or_insert(
        &self,
        key: K,
        matches: impl Fn(&V) -> bool,
        make: impl FnOnce(&[Arc<V>]) -> V,
    ) -> Arc<V> {
        let mut entries = self.entries.lock_unpoisoned();
        entries.retain(|_, values| {
            values.retain(|w| w.strong_count() > 0);
            !values.is_empty()
        });
        let values = entries.entry(key).or_default();
        let live: Vec<Arc<V>> = values.iter().filter_map(Weak::upgrade).collect();
        if let Some(found) = live.iter().find(|v| matches(v)) {
            return Arc::clone(found);
        }
        let value = Arc::new(make(&live));
        values.push(Arc::downgrade(&value));
        value
    }

    /// Every live value of `key`.
    pub(crate) fn live(&self, key: &K) -> Vec<Arc<V>> {
        let entries = self.entries.lock_unpoisoned();
        entries
            .get(key)
            .map(|values| values.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_live_as_long_as_a_holder_and_match_by_predicate() {
        let reg: WeakRegistry<&str, u32> = WeakRegistry::default();
        let a = reg.get_or_insert("k", |v| *v == 1, |_| 1);
        let again = reg.get_or_insert("k", |v| *v == 1, |_| 99);
        assert!(Arc::ptr_eq(&a, &again));
        let b = reg.get_or_insert(
            "k",
            |v| *v == 2,
            |others| {
                assert_eq!(others.len(), 1);
                2
            },
        );
        assert_eq!(reg.live(&"k").len(), 2);
        drop((a, again));
        assert_eq!(reg.live(&"k").len(), 1);
        drop(b);
        assert!(reg.live(&"k").is_empty());
    }
}
