//! Where a dataset file can come from (spec path, data folder, mirror, system folders, URLs),
//! how each kind is searched, and the resumable HTTP transfer used for URL sources.

use super::catalog::FileSpec;
use super::transfer::{AttemptFailure, FetchOptions, FetchProgress};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// One place a file may be obtained from, in the order they are tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The file named by the spec's own `path = …`.
    SpecPath(PathBuf),
    /// The project's `data/` folder.
    DataDir(PathBuf),
    /// `--data-mirror` / `PIPELINE_DATA_MIRROR` given as a folder.
    MirrorDir(PathBuf),
    /// A system dataset folder such as `/usr/share/datasets`.
    SystemDir(PathBuf),
    /// A URL: a mirror's or a catalog/spec URL.
    Url(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::SpecPath(p) => write!(f, "spec path {}", p.display()),
            Source::DataDir(p) => write!(f, "data folder {}", p.display()),
            Source::MirrorDir(p) => write!(f, "mirror folder {}", p.display()),
            Source::SystemDir(p) => write!(f, "system folder {}", p.display()),
            Source::Url(u) => write!(f, "{u}"),
        }
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// All sources for `file` in the order they are tried: local before network so a file the
/// user already has is never downloaded again.
pub fn candidate_sources(dataset: &str, file: &FileSpec, opts: &FetchOptions) -> Vec<Source> {
    let mut out = Vec::new();
    if let Some(p) = &file.path {
        out.push(Source::SpecPath(p.clone()));
    }
    out.push(Source::DataDir(opts.data_dir.clone()));
    if let Some(m) = &opts.mirror {
        if is_url(m) {
            let base = m.trim_end_matches('/');
            out.push(Source::Url(format!("{base}/{dataset}/{}", file.gz_name())));
            out.push(Source::Url(format!("{base}/{}", file.gz_name())));
        } else {
            let dir = m.strip_prefix("file://").unwrap_or(m);
            out.push(Source::MirrorDir(PathBuf::from(dir)));
        }
    }
    for dir in &opts.system_dirs {
        out.push(Source::SystemDir(dir.clone()));
    }
    for url in &file.urls {
        out.push(Source::Url(url.clone()));
    }
    out
}

/// Candidate paths inside a folder source: `<dir>/<dataset>/` first, then `<dir>/`, each with
/// the `.gz` and the uncompressed name.
pub fn folder_candidates(dir: &Path, dataset: &str, file: &FileSpec) -> Vec<PathBuf> {
    let names = [file.gz_name(), file.name.clone()];
    let mut out = Vec::with_capacity(4);
    for sub in [dir.join(dataset), dir.to_path_buf()] {
        for n in &names {
            out.push(sub.join(n));
        }
    }
    out
}

/// Cap on a download of a file whose size is not declared (a spec's own files): far past any
/// dataset this tool trains on, yet no server can stream to the disk's end.
pub const UNDECLARED_BODY_LIMIT: u64 = 4 << 30;

/// The most bytes a server may send for `file`: its size plus gzip's worst-case overhead
/// (stored blocks: 5 bytes per 64 KiB, plus header and trailer).
pub fn body_limit(file: &FileSpec) -> u64 {
    file.size
        .map_or(UNDECLARED_BODY_LIMIT, |s| s.saturating_add(s / 1024 + 4096))
}

/// Maps a ureq error to the reason reported for this source, and whether retrying may help.
pub fn classify_ureq_error(err: ureq::Error) -> (AttemptFailure, bool) {
    match err {
        ureq::Error::Status(status, _) => {
            // 5xx and 429 are transient by definition; 4xx are not.
            let retry = status >= 500 || status == 429;
            (AttemptFailure::Http { status }, retry)
        }
        ureq::Error::Transport(t) => {
            // ureq prefixes the URL, which the error listing already shows.
            let text = t.to_string();
            let detail = match t.url() {
                Some(u) => text
                    .strip_prefix(&format!("{u}: "))
                    .unwrap_or(&text)
                    .to_string(),
                None => text,
            };
            let timed_out = is_timeout_text(&detail)
                || std::error::Error::source(&t)
                    .and_then(|s| s.downcast_ref::<io::Error>())
                    .is_some_and(is_timeout_io);
            match t.kind() {
                _ if timed_out => (AttemptFailure::Timeout { detail }, true),
                // Offline or refused: retrying within seconds will not change the answer.
                ureq::ErrorKind::Dns => (AttemptFailure::Offline { detail }, false),
                ureq::ErrorKind::ConnectionFailed => {
                    (AttemptFailure::ConnectionRefused { detail }, false)
                }
                ureq::ErrorKind::Io => (AttemptFailure::Io { detail }, true),
                _ => (AttemptFailure::Io { detail }, false),
            }
        }
    }
}

fn is_timeout_text(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s.contains("timed out") || s.contains("timeout")
}

fn is_timeout_io(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Result of one HTTP transfer into the `.partial` file.
pub struct Transfer {
    /// True when the transfer appended to bytes left by an earlier attempt (Range → 206).
    pub resumed: bool,
}

/// One GET of `url` into `partial`, resuming from its current length with `Range:`.
/// On a broken transfer the bytes received so far stay in `partial` for the next attempt;
/// the caller verifies the checksum before anything is trusted. A body past `limit` bytes
/// (announced or sent) is refused and deleted; `stop` ends the transfer at the next chunk.
pub fn http_transfer(
    agent: &ureq::Agent,
    url: &str,
    partial: &Path,
    limit: u64,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(FetchProgress),
) -> Result<Transfer, (AttemptFailure, bool)> {
    let offset = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
    let mut request = agent.get(url);
    if offset > 0 {
        request = request.set("Range", &format!("bytes={offset}-"));
    }
    let response = match request.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(416, _)) if offset > 0 => {
            // The partial bytes do not fit this server's file; start over next attempt.
            let _ = std::fs::remove_file(partial);
            return Err((AttemptFailure::Http { status: 416 }, true));
        }
        Err(e) => return Err(classify_ureq_error(e)),
    };
    let io_fail = |e: io::Error| {
        (
            AttemptFailure::Io {
                detail: format!("failed to write {}: {e}", partial.display()),
            },
            false,
        )
    };
    let content_length: Option<u64> = response
        .header("Content-Length")
        .and_then(|v| v.trim().parse().ok());
    let resumed = offset > 0 && response.status() == 206;
    if resumed && !range_starts_at(&response, offset) {
        // Appending at the wrong offset could only produce a bad file: start over.
        let _ = std::fs::remove_file(partial);
        let detail = format!("server resumed at a different offset than {offset}");
        return Err((AttemptFailure::Io { detail }, true));
    }
    let (mut out, start) = if resumed {
        (
            OpenOptions::new()
                .append(true)
                .open(partial)
                .map_err(io_fail)?,
            offset,
        )
    } else {
        // 200 (server ignored Range) or an unexpected Content-Range: restart from zero.
        (File::create(partial).map_err(io_fail)?, 0)
    };
    let total = content_length.map(|len| len.saturating_add(start));
    let too_large = |got| {
        let _ = std::fs::remove_file(partial);
        (AttemptFailure::TooLarge { limit, got }, false)
    };
    if let Some(total) = total.filter(|&t| t > limit) {
        drop(out);
        return Err(too_large(total));
    }
    let mut reader = response.into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = start;
    let source = url.to_string();
    progress(FetchProgress {
        bytes,
        total,
        source: source.clone(),
    });
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err((AttemptFailure::Cancelled, false));
        }
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                // Keep what arrived (synced) so the next attempt can resume from it.
                let _ = out.sync_all();
                let detail = e.to_string();
                let failure = if is_timeout_io(&e) || is_timeout_text(&detail) {
                    AttemptFailure::Timeout { detail }
                } else {
                    AttemptFailure::Truncated {
                        got: bytes,
                        expected: total,
                    }
                };
                return Err((failure, true));
            }
        };
        bytes += n as u64;
        if bytes > limit {
            drop(out);
            return Err(too_large(bytes));
        }
        out.write_all(&buf[..n]).map_err(io_fail)?;
        progress(FetchProgress {
            bytes,
            total,
            source: source.clone(),
        });
    }
    out.sync_all().map_err(io_fail)?;
    if let Some(expected) = total {
        if bytes < expected {
            return Err((
                AttemptFailure::Truncated {
                    got: bytes,
                    expected: Some(expected),
                },
                true,
            ));
        }
    }
    Ok(Transfer { resumed })
}

/// True when `Content-Range: bytes <offset>-…` confirms the server resumed where we asked.
fn range_starts_at(response: &ureq::Response, offset: u64) -> bool {
    response
        .header("Content-Range")
        .and_then(|v| v.trim().strip_prefix("bytes "))
        .and_then(|v| v.split('-').next())
        .and_then(|s| s.trim().parse::<u64>().ok())
        == Some(offset)
}
