//! Whether a cache entry can be trusted: its manifest's outputs all there, with their sizes (and
//! hashes where the file changed), none reached through a symbolic link. Every run asks this of
//! every stage it plans, so the quick check counts its system calls.

use std::collections::HashMap;
use std::path::Path;

use super::manifest::{mtime_ns, ManifestHead, MANIFEST_FORMAT};
use super::store::{CacheStatus, CacheStore};
use crate::plan::StageKey;

impl CacheStore {
    /// Checks an entry against its manifest: every output present with its size, and its sha256
    /// re-checked whenever the file's mtime moved (or always, with `full`). A symbolic link is
    /// never followed out of the entry: with `full` (`verify`) none may be anywhere in it; the
    /// check every run makes looks at each listed output and the folders above it, about seven
    /// system calls for a one-file entry instead of a walk of the folder.
    pub fn status(&self, key: &StageKey, full: bool) -> CacheStatus {
        let dir = self.entry_dir(key);
        let out = dir.join("out");
        // Before reading the manifest through it: the entry and its out/ must be real folders.
        for (path, what) in [(&dir, "the entry folder"), (&out, "its out/ folder")] {
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => {
                    return CacheStatus::Corrupt(format!(
                        "{what} is a symbolic link (not followed)"
                    ))
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => return CacheStatus::Corrupt(format!("{what} is not a folder")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && path == &dir => {
                    return CacheStatus::Miss
                }
                Err(e) => return CacheStatus::Corrupt(format!("{what} is unreadable: {e}")),
            }
        }
        let bytes = match read_small(&dir.join("manifest.json")) {
            Ok(b) => b,
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
        let found = if full {
            match real_files(&out) {
                Ok(found) => Some(found),
                Err(reason) => return CacheStatus::Corrupt(reason),
            }
        } else {
            None
        };
        let mut real_dirs = std::collections::HashSet::new();
        for f in &m.outputs {
            let meta = match &found {
                Some(found) => found.get(f.path.as_str()).cloned(),
                None => match listed_file(&out, &f.path, &mut real_dirs) {
                    Ok(meta) => meta,
                    Err(reason) => return CacheStatus::Corrupt(reason),
                },
            };
            let Some(meta) = meta else {
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
            if full || mtime_ns(&meta) != f.mtime_ns {
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
}

/// A manifest's bytes: open, read, read (end), close. `fs::read` and `read_to_end` first ask
/// the size and position (`statx`, `lseek`), a third more system calls for a file this small,
/// which a no-op rerun makes for every stage.
fn read_small(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut bytes = vec![0; 4096];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            bytes.resize(2 * len, 0);
        }
        match file.read(&mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(len);
    Ok(bytes)
}

/// The metadata of one listed output (`None`: missing), or why the entry is not trustworthy:
/// the output or a folder above it inside `out/` is a symbolic link. Folders already found
/// real are remembered in `real_dirs`, so outputs sharing a folder check it once.
fn listed_file(
    out: &Path,
    rel: &str,
    real_dirs: &mut std::collections::HashSet<String>,
) -> Result<Option<std::fs::Metadata>, String> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(format!("output path {rel} is not a plain path inside out/"));
    }
    for depth in 1..parts.len() {
        let sub = parts[..depth].join("/");
        if real_dirs.contains(&sub) {
            continue;
        }
        match std::fs::symlink_metadata(out.join(&sub)) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "output folder {sub} is a symbolic link (not followed)"
                ))
            }
            Ok(m) if m.is_dir() => {
                real_dirs.insert(sub);
            }
            Ok(_) | Err(_) => return Ok(None),
        }
    }
    match std::fs::symlink_metadata(out.join(rel)) {
        Ok(m) if m.file_type().is_symlink() => {
            Err(format!("output {rel} is a symbolic link (not followed)"))
        }
        Ok(m) if m.is_file() => Ok(Some(m)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("output {rel} unreadable: {e}")),
    }
}

/// The regular files under an entry's `out/` by `/`-separated relative path, or why the entry
/// is not trustworthy: something inside is a symbolic link.
fn real_files(out: &Path) -> Result<HashMap<String, std::fs::Metadata>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::manifest::OutputFile;
    use std::path::PathBuf;

    /// A committed entry for `key` with the outputs `files` (path, content) under `out/`.
    fn entry(store: &CacheStore, key: &StageKey, files: &[(&str, &str)]) -> PathBuf {
        let out = store.out_dir(key);
        let mut outputs = Vec::new();
        for (rel, text) in files {
            let path = out.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            outputs.push(OutputFile::describe(&out, &path).unwrap());
        }
        let manifest = serde_json::json!({
            "format": MANIFEST_FORMAT, "key": key.0, "stage": "s", "outputs": outputs,
        });
        let path = store.entry_dir(key).join("manifest.json");
        std::fs::write(path, manifest.to_string()).unwrap();
        out
    }

    fn corrupt(status: CacheStatus) -> String {
        match status {
            CacheStatus::Corrupt(why) => why,
            other => panic!("expected corrupt, got {other:?}"),
        }
    }

    #[test]
    fn a_symlinked_folder_above_a_listed_output_is_corrupt_in_the_quick_check_too() {
        let dir = tempfile::tempdir().unwrap();
        let store = CacheStore::new(dir.path());
        let key = StageKey("a".repeat(64));
        let out = entry(&store, &key, &[("sub/o", "1"), ("p", "2")]);
        assert!(matches!(store.status(&key, false), CacheStatus::Hit));
        // The same bytes outside, reached through a link in place of the folder.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::rename(out.join("sub"), &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("sub")).unwrap();
        for full in [false, true] {
            assert!(corrupt(store.status(&key, full)).contains("symbolic link"));
        }
    }

    #[test]
    fn a_listed_output_outside_out_is_corrupt_not_checked_where_it_points() {
        let dir = tempfile::tempdir().unwrap();
        let store = CacheStore::new(dir.path());
        let key = StageKey("b".repeat(64));
        entry(&store, &key, &[("o", "1")]);
        // A manifest naming a real file of the entry outside out/ (its own manifest's sibling).
        let path = store.entry_dir(&key).join("manifest.json");
        let side = store.entry_dir(&key).join("side");
        std::fs::write(&side, "x").unwrap();
        let described = OutputFile::describe(&store.entry_dir(&key), &side).unwrap();
        let forged = serde_json::json!({
            "format": MANIFEST_FORMAT, "key": key.0, "stage": "s",
            "outputs": [{ "path": "../side", "size": described.size,
                          "sha256": described.sha256, "mtime_ns": described.mtime_ns }],
        });
        std::fs::write(&path, forged.to_string()).unwrap();
        assert!(corrupt(store.status(&key, false)).contains("not a plain path"));
        assert!(matches!(
            store.status(&StageKey("c".repeat(64)), false),
            CacheStatus::Miss
        ));
    }
}
