//! Stage implementations behind one small interface; the executor knows nothing of their kinds.
//! The list below is the only place a stage kind is registered.

pub mod command;
pub mod context;
pub mod download;
pub mod evaluate;
pub mod kind;
pub mod plot;
pub mod preprocess;
pub mod report;
pub mod train;

pub use context::{RunEnv, StageContext, StageLog};
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

/// Computes one stage's outputs into `ctx.out`. Returning `Ok` commits them to the cache.
pub trait StageRunner: Sync {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()>;
}

/// Why this build cannot run a stage, if it cannot (planning marks such stages blocked).
pub fn cannot_run(def: &crate::plan::StageDef) -> Option<String> {
    if def.resources.gpus > 0 && def.kind == StageKind::Train && !cfg!(feature = "cuda") {
        return Some("device = \"cuda\" needs a build with `--features cuda`".into());
    }
    None
}

pub fn runner_for(kind: StageKind) -> &'static dyn StageRunner {
    kind.runner()
}
