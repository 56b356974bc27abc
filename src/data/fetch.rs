//! Obtains one dataset file into a destination path from the first source that has it,
//! verifying the sha256 of the decompressed payload and writing atomically.

use super::catalog::FileSpec;
use super::is_gzip;
use super::sources::{
    body_limit, candidate_sources, folder_candidates, http_transfer, Source, Transfer,
};
pub use super::transfer::{
    resolve_mirror, Attempt, AttemptFailure, FetchOptions, FetchProgress, MIRROR_ENV,
};
pub use super::verify::partial_path;
use super::verify::{sync_parent, verify, write_atomic};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// What a successful fetch did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchReport {
    /// Human-readable source, e.g. `system folder /usr/share/datasets` or a URL.
    pub source: String,
    /// Where the verified bytes came from (a local file or the URL).
    pub origin: String,
    /// sha256 of the decompressed payload (equal to the spec's).
    pub sha256: String,
    /// Bytes stored at `dest` (compressed size when `compressed`).
    pub stored_bytes: u64,
    /// Whether `dest` holds gzip data; the IDX reader accepts both.
    pub compressed: bool,
    /// Sources tried before `source` that had the file but could not serve it (failed
    /// verification, server errors): the caller tells the user, so a broken mirror is noticed.
    pub passed_over: Vec<Attempt>,
}

/// Every source failed, or the destination could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{}", render_all_failed(.dataset, .file, .attempts))]
    AllSourcesFailed {
        dataset: String,
        file: String,
        attempts: Vec<Attempt>,
    },
    #[error("failed to write {}: {error}", .path.display())]
    Write { path: PathBuf, error: io::Error },
    #[error("cancelled while obtaining {file}")]
    Cancelled { file: String },
}

fn render_all_failed(dataset: &str, file: &str, attempts: &[Attempt]) -> String {
    let mut s = format!("failed to obtain {file} for dataset `{dataset}`: every source failed\n");
    for a in attempts {
        let tries = if a.tries > 1 {
            format!(" (after {} tries)", a.tries)
        } else {
            String::new()
        };
        s.push_str(&format!("  - {}: {}{tries}\n", a.source, a.failure));
    }
    s.push_str(&hint(dataset));
    s
}

/// How a user can provide the files without network access.
pub fn hint(dataset: &str) -> String {
    let mut s = format!(
        "hint: provide the files yourself: copy them (.gz or uncompressed) into data/{dataset}/, \
         or point --data-mirror (env PIPELINE_DATA_MIRROR) at a folder or URL holding them"
    );
    if dataset == "fashion-mnist" {
        s.push_str(", or run `apt-get install dataset-fashion-mnist` (installs /usr/share/datasets/fashion-mnist/)");
    }
    s
}

/// Obtains `file` of `dataset` into `dest`, trying the spec path, the data folder, the
/// mirror, system folders and then URLs. Returns one error listing every source on failure.
///
/// `dest` receives the verified bytes as found, gzip or raw (`FetchReport::compressed`); the
/// IDX reader detects which by content, so a name like `<file>.gz` is fine either way. An
/// existing `dest` is reused only if it verifies and is deleted if it does not. Downloads go
/// through `<dest>.partial`, kept between runs only to resume with `Range:`.
pub fn fetch_file(
    dataset: &str,
    file: &FileSpec,
    opts: &FetchOptions,
    dest: &Path,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<FetchReport, FetchError> {
    fetch_file_cancellable(dataset, file, opts, dest, progress, &AtomicBool::new(false))
}

/// [`fetch_file`] that stops within a fraction of a second once `cancel` is set (Ctrl-C),
/// even while a server is silent, returning [`FetchError::Cancelled`].
pub fn fetch_file_cancellable(
    dataset: &str,
    file: &FileSpec,
    opts: &FetchOptions,
    dest: &Path,
    progress: &mut dyn FnMut(FetchProgress),
    cancel: &AtomicBool,
) -> Result<FetchReport, FetchError> {
    let write_err = |error| FetchError::Write {
        path: dest.to_path_buf(),
        error,
    };
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(write_err)?;
    }
    // A dest from an earlier run is reused only after it verifies.
    if let Ok(bytes) = fs::read(dest) {
        match verify(&bytes, file) {
            Ok(sha256) => {
                return Ok(FetchReport {
                    source: format!("existing {}", dest.display()),
                    origin: dest.display().to_string(),
                    sha256,
                    stored_bytes: bytes.len() as u64,
                    compressed: is_gzip(&bytes),
                    passed_over: Vec::new(),
                })
            }
            // A wrong file at dest must not outlive this call, even if every source fails.
            Err(_) => fs::remove_file(dest).map_err(write_err)?,
        }
    }
    let mut attempts: Vec<Attempt> = Vec::new();
    let mut agent = None;
    for source in candidate_sources(dataset, file, opts) {
        let result = match &source {
            Source::SpecPath(p) => {
                from_paths(std::slice::from_ref(p), file, dest, &source, progress)
            }
            Source::DataDir(d) | Source::MirrorDir(d) | Source::SystemDir(d) => from_paths(
                &folder_candidates(d, dataset, file),
                file,
                dest,
                &source,
                progress,
            ),
            Source::Url(_) if !opts.allow_network => Err((AttemptFailure::NetworkDisabled, 0)),
            Source::Url(url) => {
                let agent = agent.get_or_insert_with(|| {
                    ureq::AgentBuilder::new()
                        .timeout_connect(opts.connect_timeout)
                        .timeout_read(opts.read_timeout)
                        .user_agent(concat!("pipeline/", env!("CARGO_PKG_VERSION")))
                        .build()
                });
                from_url(agent, url, file, opts, dest, progress, cancel)
            }
        };
        match result {
            Ok(mut report) => {
                report.passed_over = attempts
                    .into_iter()
                    .filter(Attempt::is_worth_reporting)
                    .collect();
                return Ok(report);
            }
            Err((AttemptFailure::Cancelled, _)) => {
                return Err(FetchError::Cancelled {
                    file: file.name.clone(),
                })
            }
            Err((failure, tries)) => attempts.push(Attempt {
                source: source.to_string(),
                failure,
                tries: tries.max(1),
            }),
        }
    }
    Err(FetchError::AllSourcesFailed {
        dataset: dataset.to_string(),
        file: describe(file),
        attempts,
    })
}

/// How a file is named in messages: a spec's own local file by its role and path (its stem
/// alone, e.g. `exist` for `does/not/exist`, says nothing), other files by their IDX name.
fn describe(file: &FileSpec) -> String {
    let role = serde_json::to_value(file.role)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('-', "_")))
        .unwrap_or_default();
    match &file.path {
        Some(path) => format!("{role} file `{}`", path.display()),
        None => file.name.clone(),
    }
}

type SourceResult = Result<FetchReport, (AttemptFailure, u32)>;

/// Uses the first existing path; a file that exists but fails verification is reported as such.
fn from_paths(
    paths: &[PathBuf],
    file: &FileSpec,
    dest: &Path,
    source: &Source,
    progress: &mut dyn FnMut(FetchProgress),
) -> SourceResult {
    let Some(path) = paths.iter().find(|p| p.is_file()) else {
        let looked = paths
            .iter()
            .map(|p| match source {
                Source::DataDir(d) | Source::MirrorDir(d) | Source::SystemDir(d) => {
                    p.strip_prefix(d).unwrap_or(p).display().to_string()
                }
                _ => p.display().to_string(),
            })
            .collect();
        return Err((AttemptFailure::NotFound { looked }, 1));
    };
    let io_fail = |e: io::Error| AttemptFailure::Io {
        detail: format!("failed to read {}: {e}", path.display()),
    };
    let bytes = fs::read(path).map_err(|e| (io_fail(e), 1))?;
    let sha256 = verify(&bytes, file).map_err(|failure| {
        // Name the file: a folder source may hold it under either name.
        let failure = match failure {
            AttemptFailure::Corrupt { detail } => AttemptFailure::Corrupt {
                detail: format!("{}: {detail}", path.display()),
            },
            other => other,
        };
        (failure, 1)
    })?;
    let len = bytes.len() as u64;
    progress(FetchProgress {
        bytes: len,
        total: Some(len),
        source: source.to_string(),
    });
    let same_file = fs::canonicalize(path)
        .ok()
        .zip(fs::canonicalize(dest).ok())
        .is_some_and(|(a, b)| a == b);
    if !same_file {
        write_atomic(dest, &bytes).map_err(|e| {
            (
                AttemptFailure::Io {
                    detail: format!("failed to write {}: {e}", dest.display()),
                },
                1,
            )
        })?;
    }
    Ok(FetchReport {
        source: source.to_string(),
        origin: path.display().to_string(),
        sha256,
        stored_bytes: len,
        compressed: is_gzip(&bytes),
        passed_over: Vec::new(),
    })
}

/// Downloads with retries (exponential backoff) and Range-resume, verifies, then renames
/// `dest.partial` to `dest`.
fn from_url(
    agent: &ureq::Agent,
    url: &str,
    file: &FileSpec,
    opts: &FetchOptions,
    dest: &Path,
    progress: &mut dyn FnMut(FetchProgress),
    cancel: &AtomicBool,
) -> SourceResult {
    let partial = partial_path(dest);
    let io_fail = |detail: String, tries| (AttemptFailure::Io { detail }, tries);
    let mut tries = 0u32;
    let mut restarted_after_mismatch = false;
    loop {
        tries += 1;
        match watched_transfer(agent, url, &partial, body_limit(file), progress, cancel) {
            Ok(transfer) => {
                let bytes = fs::read(&partial).map_err(|e| {
                    io_fail(format!("failed to read {}: {e}", partial.display()), tries)
                })?;
                match verify(&bytes, file) {
                    Ok(sha256) => {
                        fs::rename(&partial, dest).map_err(|e| {
                            io_fail(format!("failed to write {}: {e}", dest.display()), tries)
                        })?;
                        sync_parent(dest);
                        return Ok(FetchReport {
                            source: url.to_string(),
                            origin: url.to_string(),
                            sha256,
                            stored_bytes: bytes.len() as u64,
                            compressed: is_gzip(&bytes),
                            passed_over: Vec::new(),
                        });
                    }
                    Err(failure) => {
                        // Bad bytes are never kept: nothing half-verified survives this call.
                        let _ = fs::remove_file(&partial);
                        // Resumed onto stale bytes from another source? One clean retry.
                        if transfer.resumed && !restarted_after_mismatch {
                            restarted_after_mismatch = true;
                            continue;
                        }
                        return Err((failure, tries));
                    }
                }
            }
            Err((failure, retryable)) => {
                if !retryable || tries > opts.retries {
                    return Err((failure, tries));
                }
            }
        }
        let wait = opts.backoff.saturating_mul(1u32 << (tries - 1).min(16));
        if sleep_unless_cancelled(wait, cancel) {
            return Err((AttemptFailure::Cancelled, tries));
        }
    }
}

/// How often a waiting caller looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Sleeps `wait`, or less when `cancel` is set; returns whether it was.
fn sleep_unless_cancelled(wait: Duration, cancel: &AtomicBool) -> bool {
    let end = Instant::now() + wait;
    while !cancel.load(Ordering::Relaxed) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(CANCEL_POLL));
    }
    true
}

/// Runs one [`http_transfer`] on a worker thread so that this thread can give up at once when
/// `cancel` is set: a silent server would otherwise hold a blocking read for the whole read
/// timeout. The worker is told to stop too and ends at its next chunk or timeout; it writes
/// only to `partial`, inside the stage's own temporary folder.
fn watched_transfer(
    agent: &ureq::Agent,
    url: &str,
    partial: &Path,
    limit: u64,
    progress: &mut dyn FnMut(FetchProgress),
    cancel: &AtomicBool,
) -> Result<Transfer, (AttemptFailure, bool)> {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let worker = {
        let (agent, url, partial, stop) = (
            agent.clone(),
            url.to_string(),
            partial.to_path_buf(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            http_transfer(&agent, &url, &partial, limit, &stop, &mut |p| {
                let _ = tx.send(p);
            })
        })
    };
    loop {
        if cancel.load(Ordering::Relaxed) {
            stop.store(true, Ordering::Relaxed);
            return Err((AttemptFailure::Cancelled, false));
        }
        match rx.recv_timeout(CANCEL_POLL) {
            Ok(p) => progress(p),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // The worker dropped its sender: it has returned.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    worker.join().unwrap_or_else(|_| {
        let detail = "the download thread panicked".to_string();
        Err((AttemptFailure::Io { detail }, false))
    })
}
