//! What became of a stage in a run: one typed state ([`StageState`], recorded as the strings
//! format 1 used: `cached`, `ran`, …) and the scheduler's result carrying its details.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::events::StageOutcome;

/// What became of a stage in a run: the one state type of the scheduler (inside a
/// [`StageResult`]), the run record, the planner's miss reasons, the CLI's counts and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageState {
    /// Its cache entry existed (before the run, or written by another run while we waited).
    Cached,
    Ran,
    Failed,
    /// An input failed, so it was not started.
    Blocked,
    Cancelled,
    /// The run was interrupted before it started.
    NotStarted,
    /// Not selected, or not needed because everything reading it was cached.
    Skipped,
}

impl StageState {
    pub const ALL: [StageState; 7] = [
        StageState::Cached,
        StageState::Ran,
        StageState::Failed,
        StageState::Blocked,
        StageState::Cancelled,
        StageState::NotStarted,
        StageState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Cached => "cached",
            StageState::Ran => "ran",
            StageState::Failed => "failed",
            StageState::Blocked => "blocked",
            StageState::Cancelled => "cancelled",
            StageState::NotStarted => "not-started",
            StageState::Skipped => "skipped",
        }
    }

    /// Its output is in the cache after the run (so it can be published).
    pub fn succeeded(self) -> bool {
        matches!(self, StageState::Cached | StageState::Ran)
    }

    /// It started, or should have, but did not finish: the run was cut short.
    pub fn unfinished(self) -> bool {
        matches!(
            self,
            StageState::Blocked | StageState::NotStarted | StageState::Cancelled
        )
    }
}

/// A stage's state after the scheduler is done with it, with what the record says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageResult {
    pub state: StageState,
    /// Time spent computing it (stages that ran).
    pub duration: Option<Duration>,
    /// Why it failed.
    pub error: Option<String>,
    /// The failed stage's log.
    pub log: Option<PathBuf>,
    /// The input whose failure blocked it.
    pub failed_input: Option<String>,
}

impl StageResult {
    pub fn of(state: StageState) -> Self {
        StageResult {
            state,
            duration: None,
            error: None,
            log: None,
            failed_input: None,
        }
    }

    pub fn blocked_by(failed_input: String) -> Self {
        StageResult {
            failed_input: Some(failed_input),
            ..StageResult::of(StageState::Blocked)
        }
    }
}

impl From<StageOutcome> for StageResult {
    fn from(outcome: StageOutcome) -> Self {
        match outcome {
            StageOutcome::Ran { duration } => StageResult {
                duration: Some(duration),
                ..StageResult::of(StageState::Ran)
            },
            StageOutcome::CachedByOther => StageResult::of(StageState::Cached),
            StageOutcome::Failed { error, log } => StageResult {
                error: Some(error),
                log,
                ..StageResult::of(StageState::Failed)
            },
            StageOutcome::Cancelled => StageResult::of(StageState::Cancelled),
        }
    }
}
