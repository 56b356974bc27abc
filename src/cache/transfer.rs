//! Moving folders into and out of the cache durably: fsync before rename, and a copy-then-rename
//! fallback when `cache/` (or `trash/`) is on another file system than the folder it comes from.

use std::path::Path;

use crate::error::{FsContext, FsError};

/// Renames `from` to `to`. Across file systems (EXDEV) it copies `from` to a hidden sibling of
/// `to`, fsyncs it and renames that into place, so readers of `to` still see all or nothing.
pub fn move_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    let action = format!("move {} to", from.display());
    match std::fs::rename(from, to) {
        Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {}
        other => return Ok(other.fs(&action, to)?),
    }
    let name = to
        .file_name()
        .map_or_else(|| "entry".into(), |n| n.to_string_lossy().into_owned());
    let staging = to.with_file_name(format!(".{name}.incoming.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    copy_tree(from, &staging, Links::Keep)?;
    sync_tree(&staging)?;
    std::fs::rename(&staging, to).fs(&action, to)?;
    Ok(std::fs::remove_dir_all(from).fs("remove", from)?)
}

/// What `copy_tree` does with a symbolic link: never follow it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Links {
    /// Recreate it as a link (moving a tree as it is).
    Keep,
    /// Fail (copying a cache entry out: a link would bring in what lies outside the cache).
    Refuse,
}

/// Copies folders and regular files from `from` into `to`.
pub fn copy_tree(from: &Path, to: &Path, links: Links) -> anyhow::Result<()> {
    for entry in walkdir::WalkDir::new(from).follow_root_links(false) {
        let entry = entry.map_err(|e| walk_error(from, e))?;
        let rel = entry
            .path()
            .strip_prefix(from)
            .expect("walk stays under its root");
        let dest = to.join(rel);
        let kind = entry.file_type();
        if kind.is_symlink() && links == Links::Refuse {
            anyhow::bail!(
                "{} (in {}; `pipeline verify` moves such an entry aside)",
                super::manifest::symlink_refusal(from, entry.path()),
                from.display()
            );
        } else if kind.is_symlink() {
            let target = std::fs::read_link(entry.path()).fs("read link", entry.path())?;
            std::os::unix::fs::symlink(target, &dest).fs("create link", &dest)?;
        } else if kind.is_dir() {
            std::fs::create_dir_all(&dest).fs("create", &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .fs(&format!("copy {} to", entry.path().display()), &dest)?;
        }
    }
    Ok(())
}

/// fsyncs every file so a crash right after the rename cannot expose empty files.
pub fn sync_tree(dir: &Path) -> Result<(), FsError> {
    for entry in walkdir::WalkDir::new(dir).follow_root_links(false) {
        let entry = entry.map_err(|e| walk_error(dir, e))?;
        if entry.file_type().is_file() {
            std::fs::File::open(entry.path())
                .and_then(|f| f.sync_all())
                .fs("sync", entry.path())?;
        }
    }
    Ok(())
}

fn walk_error(root: &Path, e: walkdir::Error) -> FsError {
    let path = e.path().unwrap_or(root).to_owned();
    FsError::new("read", &path, e.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_tree_keeps_links_as_links_or_refuses_them() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(from.join("sub")).unwrap();
        std::fs::write(from.join("sub/f"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", from.join("link")).unwrap();
        let refused = copy_tree(&from, &dir.path().join("c"), Links::Refuse).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("output `link` is a symbolic link"),
            "{refused}"
        );
        copy_tree(&from, &to, Links::Keep).unwrap();
        assert_eq!(std::fs::read(to.join("sub/f")).unwrap(), b"x");
        let link = std::fs::symlink_metadata(to.join("link")).unwrap();
        assert!(link.file_type().is_symlink());
    }
}
