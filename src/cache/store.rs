//! The content-addressed store: `.pipeline/cache/<key>/{manifest.json,out/}`, written through temp
//! folders that are renamed into place only after a stage succeeded.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;

use super::manifest::Manifest;
use super::transfer::move_dir;
use crate::error::FsContext;
use crate::plan::StageKey;

#[derive(Debug, Clone)]
pub enum CacheStatus {
    Hit,
    Miss,
    /// An entry exists but does not match its manifest; it will be moved aside and recomputed.
    Corrupt(String),
}

/// A stage's output folder while it runs; dropped without `commit`, it is deleted.
pub struct TempEntry {
    pub dir: PathBuf,
    committed: bool,
}

impl TempEntry {
    pub fn out_dir(&self) -> PathBuf {
        self.dir.join("out")
    }
}

impl Drop for TempEntry {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        live_temp().retain(|d| d != &self.dir);
    }
}

/// This process's temp folders not yet committed or dropped: an immediate exit (a second
/// Ctrl-C) runs no destructors, so it removes them through this list.
static LIVE_TEMP: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn live_temp() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE_TEMP.lock().unwrap_or_else(|e| e.into_inner())
}

/// Deletes every temp folder this process still has open; for exits that skip destructors.
pub fn remove_live_temp_dirs() {
    for dir in live_temp().drain(..) {
        // A stage may still be writing into it; a second pass catches files made meanwhile.
        for _ in 0..3 {
            if std::fs::remove_dir_all(&dir).is_ok() || !dir.exists() {
                break;
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct CacheStore {
    /// The project's `.pipeline/` folder.
    pub root: PathBuf,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl CacheStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        CacheStore { root: root.into() }
    }

    pub fn entry_dir(&self, key: &StageKey) -> PathBuf {
        self.root.join("cache").join(&key.0)
    }

    pub fn out_dir(&self, key: &StageKey) -> PathBuf {
        self.entry_dir(key).join("out")
    }

    /// The folder of the per-key locks' shard files (`lock.rs`).
    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// A per-key folder that survives interruption (training checkpoints); removed on commit.
    pub fn scratch_dir(&self, key: &StageKey) -> PathBuf {
        self.root.join("partial").join(&key.0)
    }

    pub fn read_manifest(&self, key: &StageKey) -> anyhow::Result<Manifest> {
        let path = self.entry_dir(key).join("manifest.json");
        let text =
            std::fs::read(&path).with_context(|| format!("failed to read {}", path.display()))?;
        serde_json::from_slice(&text).with_context(|| format!("failed to parse {}", path.display()))
    }

    pub fn begin(&self, key: &StageKey) -> anyhow::Result<TempEntry> {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = self
            .root
            .join("tmp")
            .join(format!("{}.{}.{}", key.0, std::process::id(), n));
        std::fs::create_dir_all(dir.join("out")).fs("create", &dir)?;
        live_temp().push(dir.clone());
        Ok(TempEntry {
            dir,
            committed: false,
        })
    }

    /// Writes the manifest and renames the temp folder into place: readers see all or nothing.
    ///
    /// Not fsynced here: a process killed at any point leaves the entry whole or absent (the
    /// page cache outlives it), and for a machine that crashes the run flushes the whole cache
    /// once at its end ([`CacheStore::sync`]) instead of every file of every stage (on a
    /// disk other processes write to, one fsync can take 50 ms). An entry a crash tears before
    /// that flush fails the size check of its manifest (or the manifest is unreadable) and is
    /// recomputed, like any corrupt entry.
    pub fn commit(&self, mut temp: TempEntry, manifest: &Manifest) -> anyhow::Result<()> {
        let mpath = temp.dir.join("manifest.json");
        std::fs::write(&mpath, serde_json::to_vec_pretty(manifest)?).fs("write", &mpath)?;
        let dest = self.entry_dir(&manifest.key);
        let cache = dest.parent().expect("cache dir has a parent");
        std::fs::create_dir_all(cache).fs("create", cache)?;
        // `symlink_metadata`: a link left where the entry goes is moved aside, not followed.
        if dest.symlink_metadata().is_ok() {
            self.quarantine(&manifest.key)?;
        }
        move_dir(&temp.dir, &dest)?;
        temp.committed = true;
        let _ = std::fs::remove_dir_all(self.scratch_dir(&manifest.key));
        Ok(())
    }

    /// Flushes everything written to the file system holding the cache (one `syncfs`; `sync`
    /// where there is none): what the run committed survives a crash of the machine.
    pub fn sync(&self) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let dir = std::fs::File::open(&self.root)?;
            // SAFETY: syncfs takes an open descriptor, which `dir` keeps open for the call.
            if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        #[cfg(not(target_os = "linux"))]
        // SAFETY: sync takes nothing and cannot fail.
        unsafe {
            libc::sync()
        };
        Ok(())
    }

    /// Moves a bad entry out of the way (kept under `trash/` for inspection until `gc`).
    pub fn quarantine(&self, key: &StageKey) -> anyhow::Result<PathBuf> {
        let trash = self.root.join("trash");
        std::fs::create_dir_all(&trash).fs("create", &trash)?;
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.f");
        let dest = trash.join(format!("{}.{stamp}", key.0));
        move_dir(&self.entry_dir(key), &dest)
            .with_context(|| format!("failed to move corrupt entry {} aside", key.short()))?;
        Ok(dest)
    }
}
