//! The runtime's one mutex-poison policy: recover the guard.
//!
//! A mutex is poisoned when a thread panicked while holding it. Every runtime mutex guards
//! state that each critical section leaves consistent before anything can panic (counters,
//! maps of weak pointers, a token slot), so the data is still good; refusing it would turn one
//! caller's panic into a failure of every later call of the process.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Locks that recover from poisoning (see the module docs).
pub(crate) trait LockExt<T: ?Sized> {
    /// The guard, poisoned or not.
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T>;
}

impl<T: ?Sized> LockExt<T> for Mutex<T> {
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Read-write locks that recover from poisoning (see the module docs).
pub(crate) trait RwLockExt<T: ?Sized> {
    /// The read guard, poisoned or not.
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T>;
    /// The write guard, poisoned or not.
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T>;
}

impl<T: ?Sized> RwLockExt<T> for RwLock<T> {
    fn read_unpoisoned(&self) -> RwLockReadGuard<'_, T> {
        self.read().unwrap_or_else(|e| e.into_inner())
    }
    fn write_unpoisoned(&self) -> RwLockWriteGuard<'_, T> {
        self.write().unwrap_or_else(|e| e.into_inner())
    }
}
