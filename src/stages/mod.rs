//! Stage implementations behind the executor's one small interface (`exec::StageRunner`); the
//! executor knows nothing of their kinds. The list below is the only place a stage kind is
//! registered, and `RUNNERS` is the table the workflow hands to the executor.

pub mod command;
pub mod download;
pub mod evaluate;
pub mod kind;
pub mod plot;
pub mod preprocess;
pub mod report;
pub mod train;

// Private: the kinds' modules see the executor's context as `super::StageContext`.
use crate::exec::{Runners, StageContext};
pub use kind::{KindOf, StageImpl};

kind::stage_kinds! {
    /// Fetches and verifies a dataset's files.
    Download = "download" => download::DownloadStage,
    /// Decodes (or generates) a dataset into prepared splits.
    Preprocess = "preprocess" => preprocess::PreprocessStage,
    /// Trains one sweep member.
    Train = "train" => train::TrainStage,
    /// Evaluates one trained model on the test split.
    Evaluate = "evaluate" => evaluate::EvaluateStage,
    /// Draws the figures of the whole sweep.
    Plot = "plot" => plot::PlotStage,
    /// Writes the comparison tables of the whole sweep.
    Report = "report" => report::ReportStage,
    /// Runs a `[[command]]` of the spec.
    Command = "command" => command::CommandStage,
}

/// Every kind's code, by kind: what the workflow hands to whichever executor runs stages here.
pub const RUNNERS: Runners = Runners(StageKind::runner);

/// Why this build cannot run a stage, if it cannot (planning marks such stages blocked).
pub fn cannot_run(def: &crate::plan::StageDef) -> Option<String> {
    if def.resources.gpus > 0 && def.kind == StageKind::Train && !cfg!(feature = "cuda") {
        return Some("device = \"cuda\" needs a build with `--features cuda`".into());
    }
    None
}
