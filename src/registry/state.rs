//! What became of a stage in a run, and of the run as a whole: one typed enum each, written to
//! records as the same strings format 1 used (`cached`, `ran`, …; `succeeded`, …).

use serde::{Deserialize, Serialize};

use crate::exec::{self, StageOutcome};

/// A stage's state in a recorded run. The scheduler's [`exec::StageState`] maps onto it
/// (`From`), the planner's `miss_reason`, the CLI's counts and the report read it.
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

impl From<&exec::StageState> for StageState {
    fn from(s: &exec::StageState) -> Self {
        match s {
            exec::StageState::Skipped => StageState::Skipped,
            exec::StageState::Cached => StageState::Cached,
            exec::StageState::Done(StageOutcome::Ran { .. }) => StageState::Ran,
            exec::StageState::Done(StageOutcome::CachedByOther) => StageState::Cached,
            exec::StageState::Done(StageOutcome::Failed { .. }) => StageState::Failed,
            exec::StageState::Done(StageOutcome::Cancelled) => StageState::Cancelled,
            exec::StageState::Blocked { .. } => StageState::Blocked,
            exec::StageState::NotStarted => StageState::NotStarted,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// Both enums print, and compare with, the strings they are recorded as.
macro_rules! recorded_as_str {
    ($t:ty) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
        impl PartialEq<str> for $t {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }
        impl PartialEq<&str> for $t {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }
    };
}
recorded_as_str!(StageState);
recorded_as_str!(RunStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_serialize_as_format_1_strings() {
        for s in StageState::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<StageState>(&json).unwrap(), s);
        }
    }
}
