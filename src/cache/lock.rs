//! Per-key lock files: a second process waits for the first instead of failing, and a lock left by
//! a killed process is released by the kernel (flock), so it is simply taken over.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{FsContext, FsError};

/// Held while a stage is computed and committed; released on drop or process death.
pub struct StageLock {
    file: File,
}

/// Who held the lock before us, for progress messages.
#[derive(Debug, Clone, PartialEq)]
pub enum LockWait {
    /// Nobody held it.
    Free,
    /// We waited for a live process.
    Waited { holder: String },
    /// The file named a process that is gone: its lock died with it.
    TookOverStale { holder: String },
}

impl StageLock {
    /// Takes the lock, blocking while another process (or thread) holds it.
    pub fn acquire(
        path: &Path,
        on_wait: impl FnOnce(&str),
    ) -> Result<(StageLock, LockWait), FsError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).fs("create", parent)?;
        }
        let mut file = open_rw(path)?;
        let mut previous = String::new();
        let _ = file.read_to_string(&mut previous);
        let previous = previous.trim().to_owned();
        let wait = match file.try_lock() {
            // Holders clear the file when they release; text left behind means the holder died.
            Ok(()) if previous.is_empty() => LockWait::Free,
            Ok(()) => LockWait::TookOverStale { holder: previous },
            Err(std::fs::TryLockError::WouldBlock) => {
                on_wait(&previous);
                file.lock().fs("lock", path)?;
                LockWait::Waited { holder: previous }
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(FsError::new("lock", path, e)),
        };
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| {
                let host = crate::platform::hostname();
                write!(file, "pid {} host {host}", std::process::id())
            })
            .and_then(|()| file.flush())
            .fs("write", path)?;
        Ok((StageLock { file }, wait))
    }
}

/// Opens (creating) a lock file for reading and writing.
fn open_rw(path: &Path) -> Result<File, FsError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .fs("open", path)
}

impl Drop for StageLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Project-wide lock: runs hold it shared, `gc` exclusively, so gc never deletes what a run
/// is about to reuse.
pub struct ProjectLock {
    file: File,
}

impl ProjectLock {
    fn path(state: &Path) -> std::path::PathBuf {
        state.join("project.lock")
    }

    fn open(state: &Path) -> Result<File, FsError> {
        std::fs::create_dir_all(state).fs("create", state)?;
        open_rw(&Self::path(state))
    }

    pub fn shared(state: &Path) -> Result<ProjectLock, FsError> {
        let file = Self::open(state)?;
        file.lock_shared().fs("lock", &Self::path(state))?;
        Ok(ProjectLock { file })
    }

    /// `None` when a run holds the lock.
    pub fn exclusive(state: &Path) -> Result<Option<ProjectLock>, FsError> {
        let file = Self::open(state)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ProjectLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(FsError::new("lock", &Self::path(state), e))
            }
        }
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}
