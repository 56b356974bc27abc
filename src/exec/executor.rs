//! The executor interface: run one stage to completion. Local runs it in-process; a cluster
//! executor submits `pipeline exec-stage KEY` and waits, committing through the same path.

use std::sync::atomic::AtomicBool;

use super::context::{RunEnv, Runners};
use super::events::{ProgressHandle, StageOutcome};
use super::job::StageJob;
use super::run_stage::execute_stage;
use crate::cache::CacheStore;

pub trait Executor: Sync {
    fn run(&self, job: &StageJob, progress: &ProgressHandle, cancel: &AtomicBool) -> StageOutcome;

    /// Whether stages run on this machine, within the run's `--cores` and `--gpus`.
    fn uses_local_resources(&self) -> bool {
        true
    }
}

/// Runs stages in this process, with the kinds' code it was handed.
pub struct LocalExecutor {
    pub runners: Runners,
    pub store: CacheStore,
    pub env: RunEnv,
}

impl Executor for LocalExecutor {
    fn run(&self, job: &StageJob, progress: &ProgressHandle, cancel: &AtomicBool) -> StageOutcome {
        execute_stage(job, self.runners, &self.store, &self.env, progress, cancel)
    }
}
