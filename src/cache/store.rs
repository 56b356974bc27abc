//! The content-addressed store: `.pipeline/cache/<key>/{manifest.json,out/}`, written through temp
//! folders that are renamed into place only after a stage succeeded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;

use super::manifest::{mtime_ns, Manifest, ManifestHead, MANIFEST_FORMAT};
use super::transfer::{move_dir, sync_tree};
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

    pub fn lock_path(&self, key: &StageKey) -> PathBuf {
        self.root.join("locks").join(format!("{}.lock", key.0))
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

    /// Checks an entry against its manifest: every output present with its size, and its sha256
    /// re-checked whenever the file's mtime moved (or always, with `full`).
    pub fn status(&self, key: &StageKey, full: bool) -> CacheStatus {
        let dir = self.entry_dir(key);
        // One read instead of a stat and a read: a missing manifest in a missing folder is a miss.
        let bytes = match std::fs::read(dir.join("manifest.json")) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !dir.exists() => {
                return CacheStatus::Miss
            }
            Err(e) => return CacheStatus::Corrupt(format!("manifest unreadable: {e}")),
        };
        // Only what the check needs is parsed (a no-op rerun checks every entry).
        let m: ManifestHead = match serde_json::from_slice(&bytes) {
            Ok(m) => m,
            Err(e) => return CacheStatus::Corrupt(format!("manifest unparsable: {e}")),
        };
        if m.format != MANIFEST_FORMAT || &m.key != key {
            return CacheStatus::Corrupt("manifest is from another format or key".into());
        }
        let out = dir.join("out");
        // Only what is really inside the entry counts: a symlink is never followed out of it.
        let found = match real_files(&dir, &out) {
            Ok(found) => found,
            Err(reason) => return CacheStatus::Corrupt(reason),
        };
        for f in &m.outputs {
            let Some(meta) = found.get(f.path.as_str()) else {
                return CacheStatus::Corrupt(format!("output {} is missing", f.path));
            };
            if meta.len() != f.size {
                return CacheStatus::Corrupt(format!(
                    "output {} has {} bytes, manifest says {}",
                    f.path,
                    meta.len(),
                    f.size
                ));
            }
            if full || mtime_ns(meta) != f.mtime_ns {
                match crate::plan::key::file_sha256(&out.join(&f.path)) {
                    Ok(sha) if sha == f.sha256 => {}
                    Ok(sha) => {
                        return CacheStatus::Corrupt(format!(
                            "output {} has sha256 {}, manifest says {}",
                            f.path,
                            &sha[..12],
                            &f.sha256[..12]
                        ))
                    }
                    Err(e) => {
                        return CacheStatus::Corrupt(format!("output {} unreadable: {e}", f.path))
                    }
                }
            }
        }
        CacheStatus::Hit
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
    pub fn commit(&self, mut temp: TempEntry, manifest: &Manifest) -> anyhow::Result<()> {
        let mpath = temp.dir.join("manifest.json");
        std::fs::write(&mpath, serde_json::to_vec_pretty(manifest)?).fs("write", &mpath)?;
        sync_tree(&temp.dir)?;
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

/// The regular files under an entry's `out/` by `/`-separated relative path, or why the entry
/// is not trustworthy: it, its `out/` or anything inside is a symbolic link.
fn real_files(entry: &Path, out: &Path) -> Result<HashMap<String, std::fs::Metadata>, String> {
    for (dir, what) in [(entry, "the entry folder"), (out, "its out/ folder")] {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!("{what} is a symbolic link (not followed)"))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(format!("{what} is not a folder")),
            Err(e) => return Err(format!("{what} is unreadable: {e}")),
        }
    }
    let mut files = HashMap::new();
    for entry in walkdir::WalkDir::new(out).follow_root_links(false) {
        let entry = entry.map_err(|e| format!("out/ is unreadable: {e}"))?;
        let rel = entry
            .path()
            .strip_prefix(out)
            .expect("walk stays under its root")
            .to_string_lossy()
            .replace('\\', "/");
        if entry.file_type().is_symlink() {
            return Err(format!("output {rel} is a symbolic link (not followed)"));
        }
        if entry.file_type().is_file() {
            let meta = entry
                .metadata()
                .map_err(|e| format!("output {rel} unreadable: {e}"))?;
            files.insert(rel, meta);
        }
    }
    Ok(files)
}
