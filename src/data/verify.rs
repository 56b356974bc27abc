//! Payload verification (sha256 of the decompressed bytes) and atomic file placement shared
//! by every fetch source.

use super::catalog::FileSpec;
use super::transfer::AttemptFailure;
use super::{hex, is_gzip, sha256_hex};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// sha256 and length of the decompressed payload of `bytes` (gzip detected by magic, not by
/// name). A gzip stream that breaks off is reported with how far it got.
pub fn payload_sha256(bytes: &[u8]) -> Result<(String, u64), AttemptFailure> {
    if !is_gzip(bytes) {
        return Ok((sha256_hex(bytes), bytes.len() as u64));
    }
    let mut hasher = Counted(Sha256::new(), 0);
    io::copy(&mut MultiGzDecoder::new(bytes), &mut hasher).map_err(|e| {
        AttemptFailure::Corrupt {
            detail: format!(
                "{e} after {} decompressed bytes (the file has {} bytes)",
                hasher.1,
                bytes.len()
            ),
        }
    })?;
    Ok((hex(&hasher.0.finalize()), hasher.1))
}

/// A hasher that also counts what went through it.
struct Counted(Sha256, u64);

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Verifies `bytes` (gzip or raw) against `file`: its declared size, then its sha256.
/// Returns the payload's sha256.
pub fn verify(bytes: &[u8], file: &FileSpec) -> Result<String, AttemptFailure> {
    let (got, len) = payload_sha256(bytes)?;
    if let Some(expected) = file.size.filter(|&s| s != len) {
        return Err(AttemptFailure::WrongSize { expected, got: len });
    }
    check_sha256(&file.sha256, got)
}

/// The one comparison of a payload's sha256 with the expected value (hex, either case).
pub fn check_sha256(expected: &str, got: String) -> Result<String, AttemptFailure> {
    if got.eq_ignore_ascii_case(expected) {
        Ok(got)
    } else {
        Err(AttemptFailure::ChecksumMismatch {
            expected: expected.to_string(),
            got,
        })
    }
}

fn sibling(dest: &Path, suffix: &str) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dest.with_file_name(name)
}

/// The resumable download buffer for `dest`; never trusted as a finished file.
pub fn partial_path(dest: &Path) -> PathBuf {
    sibling(dest, ".partial")
}

/// Writes `bytes` to a temporary sibling, syncs it and renames it over `dest`, so `dest`
/// either holds a complete verified file or is absent.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = sibling(dest, &format!(".tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, dest)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_parent(dest);
    Ok(())
}

pub fn sync_parent(path: &Path) {
    // Best effort: makes the rename durable on filesystems that need it.
    if let Some(parent) = path.parent() {
        let _ = File::open(parent).and_then(|d| d.sync_all());
    }
}
