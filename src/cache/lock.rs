//! Per-key lock files: a second process waits for the first instead of failing, and a lock left by
//! a killed process is released by the kernel (flock), so it is simply taken over.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

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
    ) -> std::io::Result<(StageLock, LockWait)> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut previous = String::new();
        let _ = file.read_to_string(&mut previous);
        let previous = previous.trim().to_owned();
        let wait = match file.try_lock() {
            // Holders clear the file when they release; text left behind means the holder died.
            Ok(()) if previous.is_empty() => LockWait::Free,
            Ok(()) => LockWait::TookOverStale { holder: previous },
            Err(std::fs::TryLockError::WouldBlock) => {
                on_wait(&previous);
                file.lock()?;
                LockWait::Waited { holder: previous }
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        };
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        let host = crate::platform::hostname();
        write!(file, "pid {} host {host}", std::process::id())?;
        file.flush()?;
        Ok((StageLock { file }, wait))
    }
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
    fn open(state: &Path) -> std::io::Result<File> {
        std::fs::create_dir_all(state)?;
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(state.join("project.lock"))
    }

    pub fn shared(state: &Path) -> std::io::Result<ProjectLock> {
        let file = Self::open(state)?;
        file.lock_shared()?;
        Ok(ProjectLock { file })
    }

    /// `None` when a run holds the lock.
    pub fn exclusive(state: &Path) -> std::io::Result<Option<ProjectLock>> {
        let file = Self::open(state)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(ProjectLock { file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}
