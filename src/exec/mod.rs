//! Execution: stage jobs, the stage-runner interface and context, the executor interface (local,
//! SLURM), the scheduler, progress events. It knows no stage kind: the workflow hands it the
//! kinds' runners.

pub mod context;
pub mod events;
pub mod executor;
pub mod job;
pub mod process_group;
pub mod progress;
pub mod run_stage;
pub mod scheduler;
pub mod slurm;
pub mod state;

pub use context::{RunEnv, Runners, StageContext, StageLog, StageRunner};
pub use events::{Event, ProgressHandle, StageOutcome};
pub use executor::{Executor, LocalExecutor};
pub use job::StageJob;
pub use scheduler::{run_stages, Limits};
pub use state::{StageResult, StageState};
