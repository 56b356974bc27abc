//! What a fetch of one file is told and what it reports back: where to look and how to talk to
//! servers (`FetchOptions`), progress, and why a source could not serve the file.

use std::fmt;
use std::path::PathBuf;
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
    /// The decompressed payload's length differs from the catalog's.
    #[error("wrong size: the payload is {got} bytes, expected {expected}")]
    WrongSize { expected: u64, got: u64 },
    #[error("corrupt gzip: {detail}")]
    Corrupt { detail: String },
    /// The body (announced or received) is past what this file can be (see `body_limit`).
    #[error("response too large: {got} bytes, but this file is at most {limit} bytes")]
    TooLarge { limit: u64, got: u64 },
    #[error("cancelled")]
    Cancelled,
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

impl Attempt {
    /// True when the source had the file but it could not be used (as opposed to a source
    /// that simply does not hold it): worth telling the user even if a later source worked.
    pub fn is_worth_reporting(&self) -> bool {
        !matches!(
            self.failure,
            AttemptFailure::NotFound { .. } | AttemptFailure::NetworkDisabled
        )
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.failure)
    }
}
