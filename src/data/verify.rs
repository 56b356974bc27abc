//! Payload verification (sha256 of the decompressed bytes) and atomic file placement shared
//! by every fetch source.

use super::fetch::AttemptFailure;
use super::{hex, is_gzip};
use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// sha256 of the decompressed payload of `bytes` (gzip detected by magic, not by name).
pub fn payload_sha256(bytes: &[u8]) -> Result<String, AttemptFailure> {
    if !is_gzip(bytes) {
        return Ok(hex(&Sha256::digest(bytes)));
    }
    let mut hasher = Sha256::new();
    io::copy(&mut MultiGzDecoder::new(bytes), &mut hasher).map_err(|e| {
        AttemptFailure::Corrupt {
            detail: e.to_string(),
        }
    })?;
    Ok(hex(&hasher.finalize()))
}

pub fn verify(bytes: &[u8], expected: &str) -> Result<String, AttemptFailure> {
    let got = payload_sha256(bytes)?;
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
