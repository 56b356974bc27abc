//! Garbage collection: drop entries no kept run refers to, temp folders of dead processes, trash.

use std::collections::HashSet;
use std::path::Path;

use super::store::CacheStore;
use crate::error::{FsContext, FsError};
use crate::plan::StageKey;

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct GcReport {
    pub entries_removed: usize,
    pub entries_kept: usize,
    pub temp_removed: usize,
    pub trash_removed: usize,
    /// One-per-key lock files of versions before the sharded locks (`lock.rs`).
    pub old_locks_removed: usize,
    pub bytes_freed: u64,
}

/// Removes everything under the store not in `keep`; `dry_run` only counts.
pub fn collect(
    store: &CacheStore,
    keep: &HashSet<StageKey>,
    dry_run: bool,
) -> Result<GcReport, FsError> {
    let mut r = GcReport::default();
    for (sub, in_use) in [("cache", true), ("partial", true)] {
        for entry in read_dir(&store.root.join(sub)) {
            let key = StageKey(entry.file_name().to_string_lossy().into_owned());
            if in_use && keep.contains(&key) {
                r.entries_kept += usize::from(sub == "cache");
                continue;
            }
            r.bytes_freed += remove(&entry.path(), dry_run)?;
            r.entries_removed += usize::from(sub == "cache");
        }
    }
    for entry in read_dir(&store.root.join("tmp")) {
        // Temp folders are named `<key>.<pid>.<n>`; a live writer's folder is left alone.
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name.split('.').nth(1).and_then(|p| p.parse::<i32>().ok());
        let alive = pid.is_some_and(|p| unsafe { libc::kill(p, 0) == 0 });
        if !alive {
            r.bytes_freed += remove(&entry.path(), dry_run)?;
            r.temp_removed += 1;
        }
    }
    for entry in read_dir(&store.root.join("trash")) {
        r.bytes_freed += remove(&entry.path(), dry_run)?;
        r.trash_removed += 1;
    }
    // gc holds the project lock exclusively, so no run (of any version) holds one of these.
    for entry in read_dir(&store.locks_dir()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if super::lock::is_old_key_lock(&name) {
            if !dry_run {
                let path = entry.path();
                std::fs::remove_file(&path).fs("remove", &path)?;
            }
            r.old_locks_removed += 1;
        }
    }
    Ok(r)
}

fn read_dir(dir: &Path) -> Vec<std::fs::DirEntry> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().collect())
        .unwrap_or_default()
}

fn remove(path: &Path, dry_run: bool) -> Result<u64, FsError> {
    let bytes = walkdir::WalkDir::new(path)
        .into_iter()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    if !dry_run {
        std::fs::remove_dir_all(path).fs("remove", path)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn lock_files_of_the_one_per_key_layout_are_collected_and_shards_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = CacheStore::new(dir.path());
        let (held, _) = super::super::StageLock::acquire(&store.locks_dir(), "k", |_| {}).unwrap();
        drop(held);
        let old = store
            .locks_dir()
            .join(format!("{}.lock", "ab12".repeat(16)));
        std::fs::write(&old, "").unwrap();
        let count = || std::fs::read_dir(store.locks_dir()).unwrap().count();
        assert_eq!(count(), 2);
        let dry = collect(&store, &HashSet::new(), true).unwrap();
        assert_eq!((dry.old_locks_removed, count()), (1, 2));
        let done = collect(&store, &HashSet::new(), false).unwrap();
        assert_eq!((done.old_locks_removed, count()), (1, 1));
        assert!(!old.exists());
    }
}
