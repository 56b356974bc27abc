//! Content-addressed stage cache: entries, manifests, per-key locks, garbage collection.

pub mod check;
pub mod gc;
pub mod lock;
pub mod manifest;
pub mod store;
pub mod transfer;

pub use lock::{LockWait, StageLock};
pub use manifest::{Manifest, OutputFile};
pub use store::{CacheStatus, CacheStore, TempEntry};
