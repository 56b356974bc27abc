//! Obtains one dataset file into a destination path from the first source that has it,
//! verifying the sha256 of the decompressed payload and writing atomically.

use super::catalog::FileSpec;
use super::is_gzip;
use super::sources::{candidate_sources, folder_candidates, http_transfer, Source};
pub use super::verify::partial_path;
use super::verify::{sync_parent, verify, write_atomic};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Environment variable the CLI reads for the mirror when `--data-mirror` is absent.
pub const MIRROR_ENV: &str = "PIPELINE_DATA_MIRROR";

/// `--data-mirror` if given, else a non-empty `PIPELINE_DATA_MIRROR`.
pub fn resolve_mirror(cli_value: Option<&str>) -> Option<String> {
    cli_value
        .map(str::to_string)
        .or_else(|| std::env::var(MIRROR_ENV).ok())
        .filter(|s| !s.trim().is_empty())
}

/// How `fetch_file` looks for files and talks to servers.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// The project's `data/` folder: `<data_dir>/<dataset>/<file>` or `<data_dir>/<file>`.
    pub data_dir: PathBuf,
    /// `--data-mirror` / `PIPELINE_DATA_MIRROR`: a folder path or an http(s) base URL.
    pub mirror: Option<String>,
    /// System dataset folders, searched as `<dir>/<dataset>/<file>` and `<dir>/<file>`.
    pub system_dirs: Vec<PathBuf>,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Extra attempts per URL after the first, on 5xx, timeouts and broken transfers.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further retry.
    pub backoff: Duration,
    /// False for offline runs: URL sources are listed as skipped, never contacted.
    pub allow_network: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            data_dir: PathBuf::from("data"),
            // The caller resolves `--data-mirror` / `MIRROR_ENV`; defaults stay environment-free
            // so that tests and cache keys do not depend on the shell.
            mirror: None,
            system_dirs: vec![PathBuf::from("/usr/share/datasets")],
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(500),
            allow_network: true,
        }
    }
}

/// Progress of one transfer, reported after every chunk so callers can draw bytes and rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchProgress {
    pub bytes: u64,
    pub total: Option<u64>,
    pub source: String,
}

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
}

/// Why one source could not serve the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttemptFailure {
    /// `looked`: the names tried, relative to the folder (full paths for a spec path).
    #[error("not found (looked for {})", .looked.join(", "))]
    NotFound { looked: Vec<String> },
    #[error("HTTP {status}")]
    Http { status: u16 },
    #[error("timeout: {detail}")]
    Timeout { detail: String },
    #[error("connection refused: {detail}")]
    ConnectionRefused { detail: String },
    #[error("offline (name lookup failed): {detail}")]
    Offline { detail: String },
    #[error("body truncated after {got} of {} bytes", .expected.map_or("?".to_string(), |e| e.to_string()))]
    Truncated { got: u64, expected: Option<u64> },
    #[error("checksum mismatch: expected sha256 {expected}, got {got}")]
    ChecksumMismatch { expected: String, got: String },
    #[error("corrupt gzip: {detail}")]
    Corrupt { detail: String },
    #[error("i/o error: {detail}")]
    Io { detail: String },
    #[error("network disabled (offline run)")]
    NetworkDisabled,
}

/// One source tried and the last reason it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub source: String,
    pub failure: AttemptFailure,
    /// HTTP attempts made (1 for folders).
    pub tries: u32,
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
    #[error("failed to write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
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
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(|source| FetchError::Write {
            path: dest.to_path_buf(),
            source,
        })?;
    }
    // A dest from an earlier run is reused only after it verifies.
    if let Ok(bytes) = fs::read(dest) {
        match verify(&bytes, &file.sha256) {
            Ok(sha256) => {
                return Ok(FetchReport {
                    source: format!("existing {}", dest.display()),
                    origin: dest.display().to_string(),
                    sha256,
                    stored_bytes: bytes.len() as u64,
                    compressed: is_gzip(&bytes),
                })
            }
            // A wrong file at dest must not outlive this call, even if every source fails.
            Err(_) => fs::remove_file(dest).map_err(|source| FetchError::Write {
                path: dest.to_path_buf(),
                source,
            })?,
        }
    }
    let mut attempts = Vec::new();
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
                from_url(agent, url, file, opts, dest, progress)
            }
        };
        match result {
            Ok(report) => return Ok(report),
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
    let sha256 = verify(&bytes, &file.sha256).map_err(|f| (f, 1))?;
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
) -> SourceResult {
    let partial = partial_path(dest);
    let mut tries = 0u32;
    let mut restarted_after_mismatch = false;
    loop {
        tries += 1;
        match http_transfer(agent, url, &partial, progress) {
            Ok(transfer) => {
                let bytes = fs::read(&partial).map_err(|e| {
                    (
                        AttemptFailure::Io {
                            detail: format!("failed to read {}: {e}", partial.display()),
                        },
                        tries,
                    )
                })?;
                match verify(&bytes, &file.sha256) {
                    Ok(sha256) => {
                        fs::rename(&partial, dest).map_err(|e| {
                            (
                                AttemptFailure::Io {
                                    detail: format!("failed to write {}: {e}", dest.display()),
                                },
                                tries,
                            )
                        })?;
                        sync_parent(dest);
                        return Ok(FetchReport {
                            source: url.to_string(),
                            origin: url.to_string(),
                            sha256,
                            stored_bytes: bytes.len() as u64,
                            compressed: is_gzip(&bytes),
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
        std::thread::sleep(wait);
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.failure)
    }
}
