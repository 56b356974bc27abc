//! User-facing error tiers: each variant maps to an exit code; anything else is a bug report.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::spec::SpecErrors;

/// Exit codes, documented in the README.
pub mod exit {
    pub const STAGE_FAILED: i32 = 1;
    pub const INVALID_SPEC: i32 = 2;
    pub const USAGE: i32 = 2;
    /// `pipeline compare --fail-on …` / `--fail-on-significant` found a regression.
    pub const REGRESSION: i32 = 3;
    pub const INTERRUPTED: i32 = 130;
    pub const BUG: i32 = 101;
}

/// An error the user can act on, tagged with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    InvalidSpec(SpecErrors),
    #[error("{failed} stage(s) failed, {blocked} not started because an input failed")]
    StagesFailed { failed: usize, blocked: usize },
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// A compare gate failed: which cells regressed.
    #[error("{0}")]
    Regression(String),
    #[error("{message}")]
    Usage {
        message: String,
        #[source]
        source: Option<anyhow::Error>,
    },
}

impl UserError {
    pub fn exit_code(&self) -> i32 {
        match self {
            UserError::InvalidSpec(_) => exit::INVALID_SPEC,
            UserError::StagesFailed { .. } => exit::STAGE_FAILED,
            UserError::Interrupted(_) => exit::INTERRUPTED,
            UserError::Usage { .. } => exit::USAGE,
            UserError::Regression(_) => exit::REGRESSION,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        UserError::Usage {
            message: message.into(),
            source: None,
        }
    }
}

/// A file-system operation that failed: what, on which path, and for the common causes (read-only,
/// full disk, another file system, no permission) what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("failed to {action} {}{}", path.display(), fs_hint(source.kind(), path))]
pub struct FsError {
    pub action: String,
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

impl FsError {
    pub fn new(action: impl Into<String>, path: &Path, source: std::io::Error) -> Self {
        FsError {
            action: action.into(),
            path: path.to_owned(),
            source,
        }
    }

    pub fn kind(&self) -> std::io::ErrorKind {
        self.source.kind()
    }
}

/// The fix for an I/O error kind, as a clause appended to "failed to … PATH".
fn fs_hint(kind: std::io::ErrorKind, path: &Path) -> String {
    use std::io::ErrorKind as K;
    match kind {
        K::ReadOnlyFilesystem => {
            ": the file system is read-only (remount it read-write, or pass --project DIR to a writable project folder)".into()
        }
        K::StorageFull | K::QuotaExceeded => format!(
            ": the disk is full (free space on the file system holding {}, see `df -h`)",
            path.display()
        ),
        K::CrossesDevices => ": it is on another file system (keep all of .pipeline/ on one file system)".into(),
        K::PermissionDenied => {
            ": permission denied (make it writable for this user, or pass --project DIR to a writable project folder)".into()
        }
        _ => String::new(),
    }
}

/// `.fs("create", &path)` on an `io::Result`: the error names the action, the path and the fix.
pub trait FsContext<T> {
    fn fs(self, action: &str, path: &Path) -> Result<T, FsError>;
}

impl<T> FsContext<T> for std::io::Result<T> {
    fn fs(self, action: &str, path: &Path) -> Result<T, FsError> {
        self.map_err(|e| FsError::new(action, path, e))
    }
}

/// The file-system error behind `err`, if one is in its chain.
pub fn fs_error_of(err: &anyhow::Error) -> Option<&FsError> {
    err.chain().find_map(|c| c.downcast_ref::<FsError>())
}

/// Adds the path (and, when an I/O error caused it, the fix) to an error from code that named
/// neither.
pub fn at_path(err: anyhow::Error, action: &str, path: &Path) -> anyhow::Error {
    match err.chain().find_map(|c| c.downcast_ref::<std::io::Error>()) {
        Some(io) => {
            FsError::new(action, path, std::io::Error::new(io.kind(), io.to_string())).into()
        }
        None => err.context(format!("failed to {action} {}", path.display())),
    }
}

/// Prints an error and its `source()` chain as indented "Caused by:" lines.
pub struct ErrorReport<'a>(pub &'a anyhow::Error);

impl fmt::Display for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.0)?;
        let mut chain = self.0.chain().skip(1).peekable();
        if chain.peek().is_some() {
            writeln!(f, "\nCaused by:")?;
            for cause in chain {
                for (i, line) in cause.to_string().lines().enumerate() {
                    let lead = if i == 0 { "  - " } else { "    " };
                    writeln!(f, "{lead}{line}")?;
                }
            }
        }
        Ok(())
    }
}

/// Exit code for any error: user errors carry theirs, everything else is a stage/IO failure.
pub fn exit_code_of(err: &anyhow::Error) -> i32 {
    match err.downcast_ref::<UserError>() {
        Some(user) => user.exit_code(),
        None => exit::STAGE_FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    fn message(kind: ErrorKind) -> String {
        let e: anyhow::Error =
            FsError::new("create", Path::new("/p/.pipeline/logs"), Error::from(kind)).into();
        format!("{}", ErrorReport(&e))
    }

    #[test]
    fn each_common_cause_names_the_path_and_its_fix() {
        let head = "error: failed to create /p/.pipeline/logs";
        for (kind, fix) in [
            (
                ErrorKind::ReadOnlyFilesystem,
                ": the file system is read-only (remount it read-write, or pass --project DIR",
            ),
            (
                ErrorKind::PermissionDenied,
                ": permission denied (make it writable",
            ),
            (
                ErrorKind::StorageFull,
                ": the disk is full (free space on the file system holding /p/.pipeline/logs",
            ),
            (
                ErrorKind::CrossesDevices,
                ": it is on another file system (keep all of .pipeline/ on one file system)",
            ),
            (ErrorKind::NotFound, "\n"),
        ] {
            let m = message(kind);
            assert!(m.starts_with(&format!("{head}{fix}")), "{kind:?}: {m}");
        }
    }

    #[test]
    fn at_path_keeps_the_io_kind_of_a_plain_error() {
        let plain = anyhow::Error::from(Error::from(ErrorKind::ReadOnlyFilesystem));
        let e = at_path(plain, "save a stage job in", Path::new("/p/.pipeline/jobs"));
        assert_eq!(
            fs_error_of(&e).map(FsError::kind),
            Some(ErrorKind::ReadOnlyFilesystem)
        );
        assert!(e
            .to_string()
            .contains("/p/.pipeline/jobs: the file system is read-only"));
    }
}
