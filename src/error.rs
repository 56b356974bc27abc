//! User-facing error tiers: each variant maps to an exit code; anything else is a bug report.

use std::fmt;

use crate::spec::SpecErrors;

/// Exit codes, documented in the README.
pub mod exit {
    pub const STAGE_FAILED: i32 = 1;
    pub const INVALID_SPEC: i32 = 2;
    pub const USAGE: i32 = 2;
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
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        UserError::Usage {
            message: message.into(),
            source: None,
        }
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
