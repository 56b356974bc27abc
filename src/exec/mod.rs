//! Execution: stage jobs, the executor interface (local, SLURM), the scheduler, progress events.

pub mod events;
pub mod executor;
pub mod job;
pub mod process_group;
pub mod progress;
pub mod run_stage;
pub mod scheduler;
pub mod slurm;
pub mod state;

pub use events::{Event, ProgressHandle, StageOutcome};
pub use executor::{Executor, LocalExecutor};
pub use job::StageJob;
pub use scheduler::{run_stages, Limits};
pub use state::{StageResult, StageState};
