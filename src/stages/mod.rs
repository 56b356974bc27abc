//! Stage implementations behind one small interface; the executor knows nothing of their kinds.

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
pub use kind::{KindOf, StageImpl, StageKind};

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
