//! Stage implementations behind one small interface; the executor knows nothing of their kinds.

pub mod command;
pub mod context;
pub mod download;
pub mod evaluate;
pub mod plot;
pub mod preprocess;
pub mod report;
pub mod train;

use crate::plan::StageKind;

pub use context::{RunEnv, StageContext, StageLog};

/// Computes one stage's outputs into `ctx.out`. Returning `Ok` commits them to the cache.
pub trait StageRunner: Sync {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()>;
}

/// Whether this build can run `kind` (planning marks stages of other kinds as blocked).
pub fn is_implemented(kind: StageKind) -> bool {
    matches!(
        kind,
        StageKind::Command | StageKind::Download | StageKind::Preprocess | StageKind::Train
    )
}

pub fn runner_for(kind: StageKind) -> &'static dyn StageRunner {
    match kind {
        StageKind::Command => &command::CommandRunner,
        StageKind::Download => &download::DownloadRunner,
        StageKind::Preprocess => &preprocess::PreprocessRunner,
        StageKind::Train => &train::TrainRunner,
        StageKind::Evaluate => &evaluate::EvaluateRunner,
        StageKind::Plot => &plot::PlotRunner,
        StageKind::Report => &report::ReportRunner,
    }
}
