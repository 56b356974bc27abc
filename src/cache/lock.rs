//! Per-key stage locks, sharded into at most 256 lock files: a second process waits for the
//! first instead of failing, and a lock left by a killed process is released by the kernel, so
//! it is simply taken over.
//!
//! Why shards: one lock file per key cost an inode per stage ever run (5,003 for a 5,003-stage
//! sweep), and creating inodes is most of a trivial stage's cost. Each key owns one byte of its
//! shard, at an offset taken from the key far past the end of the file, under an
//! open-file-description lock (`F_OFD_SETLKW`): it belongs to the open file, so two threads of
//! one run exclude each other as two processes do; the kernel drops it when the holder dies; and
//! NFSv4, Lustre and GPFS carry it across nodes as they carry `flock`. The holder's
//! `pid P host H` is written into a small slot of the shard tagged with the key, for messages:
//! text left under our tag when we get the lock means its holder died.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{FsContext, FsError};

/// Held while a stage is computed and committed; released on drop or process death.
pub struct StageLock {
    file: File,
    place: LockPlace,
}

/// Who held the lock before us, for progress messages.
#[derive(Debug, Clone, PartialEq)]
pub enum LockWait {
    /// Nobody held it.
    Free,
    /// We waited for a live process.
    Waited { holder: String },
    /// The lock's slot named a process that is gone: its lock died with it.
    TookOverStale { holder: String },
}

/// Where one key's lock lives: its shard file, the locked byte, and the holder-text slot.
#[derive(Debug, Clone, PartialEq)]
struct LockPlace {
    shard: PathBuf,
    byte: i64,
    slot: u64,
    tag: String,
}

/// Bytes per holder slot; 2^14 slots per shard keep a shard file under 2 MiB (sparse).
const SLOT: usize = 128;
const SLOTS: u64 = 1 << 14;

impl LockPlace {
    fn of(locks_dir: &Path, key: &str) -> LockPlace {
        // Hashed again so any key string spreads evenly, whatever its alphabet.
        let h = Sha256::digest(key.as_bytes());
        let word = |i: usize| u64::from_be_bytes(h[i..i + 8].try_into().expect("8 bytes"));
        // Without OFD locks (not Linux), a whole file per key under `flock`, as before.
        #[cfg(not(target_os = "linux"))]
        let shard = locks_dir.join(format!("{}.lock", crate::data::hex(&h)));
        #[cfg(target_os = "linux")]
        let shard = locks_dir.join(format!("{:02x}.lock", h[0]));
        LockPlace {
            shard,
            // Positive and past any slot: a 63-bit offset, at least 2^40.
            byte: ((word(1) >> 2) | (1 << 40)) as i64,
            slot: (word(9) % SLOTS) * SLOT as u64,
            tag: format!("{} ", key.chars().take(24).collect::<String>()),
        }
    }
}

impl StageLock {
    /// Takes `key`'s lock in `locks_dir`, blocking while another process (or thread) holds it.
    pub fn acquire(
        locks_dir: &Path,
        key: &str,
        on_wait: impl FnOnce(&str),
    ) -> Result<(StageLock, LockWait), FsError> {
        std::fs::create_dir_all(locks_dir).fs("create", locks_dir)?;
        let place = LockPlace::of(locks_dir, key);
        let file = open_rw(&place.shard)?;
        let previous = read_holder(&file, &place);
        let wait = match ofd_lock(&file, place.byte, false) {
            // Holders clear their slot when they release; text left behind means the holder died.
            Ok(true) if previous.is_empty() => LockWait::Free,
            Ok(true) => LockWait::TookOverStale { holder: previous },
            Ok(false) => {
                on_wait(&previous);
                ofd_lock(&file, place.byte, true).fs("lock", &place.shard)?;
                LockWait::Waited { holder: previous }
            }
            Err(e) => return Err(FsError::new("lock", &place.shard, e)),
        };
        let mut text = format!(
            "{}pid {} host {}",
            place.tag,
            std::process::id(),
            crate::platform::hostname()
        )
        .into_bytes();
        text.resize(SLOT, 0);
        write_at(&file, &text, place.slot).fs("write", &place.shard)?;
        Ok((StageLock { file, place }, wait))
    }
}

impl Drop for StageLock {
    fn drop(&mut self) {
        // Only our own text is cleared: a key sharing the slot may have written since.
        if !read_holder(&self.file, &self.place).is_empty() {
            let _ = write_at(&self.file, &[0; SLOT], self.place.slot);
        }
        // Closing the file (after this) releases the lock.
    }
}

/// A lock file of one key, as versions before the shards made (`<64 hex digits>.lock`); on
/// systems without OFD locks they are still what is used, so none is old there.
pub fn is_old_key_lock(file_name: &str) -> bool {
    cfg!(target_os = "linux")
        && file_name
            .strip_suffix(".lock")
            .is_some_and(|k| k.len() == 64 && k.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The holder text in `place`'s slot if it carries our tag, else "".
fn read_holder(file: &File, place: &LockPlace) -> String {
    use std::os::unix::fs::FileExt;
    let mut buf = [0u8; SLOT];
    let n = file.read_at(&mut buf, place.slot).unwrap_or(0);
    let end = buf[..n].iter().position(|&b| b == 0).unwrap_or(n);
    let text = String::from_utf8_lossy(&buf[..end]);
    text.strip_prefix(&place.tag)
        .map(|t| t.trim().to_owned())
        .unwrap_or_default()
}

fn write_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(bytes, offset)
}

/// Write-locks one byte; `Ok(false)` when another open file holds it and `wait` is false.
#[cfg(target_os = "linux")]
fn ofd_lock(file: &File, byte: i64, wait: bool) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock is plain data; all-zero is a valid value before its fields are set.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as _;
    fl.l_whence = libc::SEEK_SET as _;
    fl.l_start = byte as _;
    fl.l_len = 1;
    let cmd = if wait {
        libc::F_OFD_SETLKW
    } else {
        libc::F_OFD_SETLK
    };
    loop {
        // SAFETY: the descriptor is open for the call and `fl` outlives it.
        if unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut fl) } == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) | Some(libc::EACCES) if !wait => return Ok(false),
            _ => return Err(e),
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn ofd_lock(file: &File, _byte: i64, wait: bool) -> std::io::Result<bool> {
    if wait {
        return file.lock().map(|()| true);
    }
    match file.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_second_thread_waits_for_the_holder_of_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let (held, wait) = StageLock::acquire(dir.path(), "k1", |_| {}).unwrap();
        assert_eq!(wait, LockWait::Free);
        let waited = Arc::new(AtomicBool::new(false));
        let (path, flag) = (dir.path().to_owned(), waited.clone());
        let second = std::thread::spawn(move || {
            let (_lock, wait) =
                StageLock::acquire(&path, "k1", |_| flag.store(true, Ordering::SeqCst)).unwrap();
            wait
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(waited.load(Ordering::SeqCst) && !second.is_finished());
        drop(held);
        let me = format!("pid {} host", std::process::id());
        match second.join().unwrap() {
            LockWait::Waited { holder } => assert!(holder.starts_with(&me), "{holder}"),
            other => panic!("expected a wait, got {other:?}"),
        }
    }

    #[test]
    fn any_key_string_has_a_place_and_a_lock() {
        let dir = tempfile::tempdir().unwrap();
        for key in ["", "é".repeat(40).as_str(), "a/b"] {
            let (_lock, wait) = StageLock::acquire(dir.path(), key, |_| {}).unwrap();
            assert_eq!(wait, LockWait::Free, "{key:?}");
        }
    }

    #[test]
    fn keys_sharing_a_shard_file_do_not_block_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let first = LockPlace::of(dir.path(), "key-0");
        let other = (1..10_000)
            .map(|i| format!("key-{i}"))
            .find(|k| LockPlace::of(dir.path(), k).shard == first.shard)
            .expect("some key shares the shard");
        let (_a, _) = StageLock::acquire(dir.path(), "key-0", |_| {}).unwrap();
        let (_b, wait) = StageLock::acquire(dir.path(), &other, |_| panic!("waited")).unwrap();
        assert_eq!(wait, LockWait::Free);
        // 256 shard files at most, however many keys were locked.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn text_left_by_a_dead_holder_is_reported_as_a_stale_lock_and_cleared_on_release() {
        let dir = tempfile::tempdir().unwrap();
        let place = LockPlace::of(dir.path(), "k2");
        std::fs::create_dir_all(dir.path()).unwrap();
        let file = open_rw(&place.shard).unwrap();
        let dead = format!("{}pid 999999 host gone", place.tag);
        write_at(&file, dead.as_bytes(), place.slot).unwrap();
        let (lock, wait) = StageLock::acquire(dir.path(), "k2", |_| {}).unwrap();
        let stale = LockWait::TookOverStale {
            holder: "pid 999999 host gone".into(),
        };
        assert_eq!(wait, stale);
        drop(lock);
        assert_eq!(read_holder(&file, &place), "");
        let (_again, wait) = StageLock::acquire(dir.path(), "k2", |_| {}).unwrap();
        assert_eq!(wait, LockWait::Free);
    }
}
