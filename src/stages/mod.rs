//! Stage implementations behind one small interface; the executor knows nothing of their kinds.

pub mod command;
pub mod context;
pub mod download;
pub mod preprocess;
pub mod train;

use crate::plan::StageKind;

pub use context::{RunEnv, StageContext, StageLog};

/// Computes one stage's outputs into `ctx.out`. Returning `Ok` commits them to the cache.
pub trait StageRunner: Sync {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()>;
}

/// A built-in kind whose implementation has not landed in this build yet.
struct NotImplemented(StageKind);

impl StageRunner for NotImplemented {
    fn run(&self, _ctx: &StageContext) -> anyhow::Result<()> {
        anyhow::bail!(
            "the `{}` stage kind is not implemented in this build of pipeline {}",
            self.0,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// Whether this build can run `kind` (planning marks stages of other kinds as blocked).
pub fn is_implemented(kind: StageKind) -> bool {
    matches!(
        kind,
        StageKind::Command | StageKind::Download | StageKind::Preprocess | StageKind::Train
    )
}

pub fn runner_for(kind: StageKind) -> &'static dyn StageRunner {
    static EVALUATE: NotImplemented = NotImplemented(StageKind::Evaluate);
    static PLOT: NotImplemented = NotImplemented(StageKind::Plot);
    static REPORT: NotImplemented = NotImplemented(StageKind::Report);
    match kind {
        StageKind::Command => &command::CommandRunner,
        StageKind::Download => &download::DownloadRunner,
        StageKind::Preprocess => &preprocess::PreprocessRunner,
        StageKind::Train => &train::TrainRunner,
        StageKind::Evaluate => &EVALUATE,
        StageKind::Plot => &PLOT,
        StageKind::Report => &REPORT,
    }
}
