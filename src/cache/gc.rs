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
