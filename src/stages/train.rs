//! The `train` stage: one sweep member's model trained on the prepared data, checkpointed every
//! epoch into the stage's scratch folder so an interrupted run resumes where it stopped.

use std::sync::atomic::Ordering;

use anyhow::Context;

use serde::{Deserialize, Serialize};

use super::preprocess::{TRAIN_SPLIT, VAL_SPLIT};
use super::{StageContext, StageImpl};
use crate::data::{read_prepared, Binarize};
use crate::exec::ProgressHandle;
use crate::model::{self, EpochMetrics, TrainData, TrainObserver};
use crate::plan::Input;
use crate::spec::RunSpec;

pub struct TrainStage;

/// The trained model (what evaluate and plot load) and its per-epoch `metrics.csv`.
pub const MODEL_FILE: &str = model::checkpoint::MODEL_FILE;
pub const METRICS_FILE: &str = model::metrics_csv::FILE;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    pub run: RunSpec,
    /// "corrupted" for a denoising AE, whose validation loss is measured on corrupted inputs
    /// (since this field exists); absent otherwise, so other runs keep their keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
    /// A conv model's [`model::conv_fast::REVISION`] (since revision 2): what its fast path
    /// computes bit for bit. Absent for an MLP, so MLP keys are what they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv_revision: Option<u32>,
}

impl TrainParams {
    pub fn for_run(run: &RunSpec) -> Self {
        TrainParams {
            run: run.clone(),
            validation: run
                .variant
                .validates_on_corrupted_inputs()
                .then(|| "corrupted".to_string()),
            conv_revision: run.conv.as_ref().map(|_| model::conv_fast::REVISION),
        }
    }
}

/// Reports epochs to the progress display and the log, and passes Ctrl-C to the trainer.
struct StageObserver<'a> {
    progress: ProgressHandle,
    log: &'a crate::exec::StageLog,
    cancel: &'a std::sync::atomic::AtomicBool,
    epochs: usize,
}

impl TrainObserver for StageObserver<'_> {
    fn epoch_done(&mut self, m: &EpochMetrics) {
        self.progress
            .progress(m.epoch as u64, Some(self.epochs as u64), "epochs");
        let val = m.val_loss.map_or(String::new(), |v| format!(" val {v:.3}"));
        self.log.line(format!(
            "epoch {}: train {:.3}{val} recon {:.3} kl {:.3} ({:.1}s)",
            m.epoch, m.train_loss, m.recon, m.kl, m.seconds
        ));
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

impl StageImpl for TrainStage {
    const IMPLEMENTATION_VERSION: u32 = 1;
    type Params = TrainParams;
    type Context = ();

    fn run(ctx: &StageContext, p: TrainParams, (): ()) -> anyhow::Result<()> {
        let data = ctx.input(Input::Data)?;
        let train = read_prepared(&data.join(TRAIN_SPLIT))?;
        let val = read_prepared(&data.join(VAL_SPLIT))?;
        let dynamic = matches!(train.header.binarize, Binarize::Dynamic);
        let (mc, tc) = p
            .run
            .configs((train.rows, train.cols), dynamic, ctx.threads);
        let input = TrainData {
            train: &train.images,
            val: (val.n > 0).then_some(&val.images[..]),
            dim: train.dim,
        };
        let mut observer = StageObserver {
            progress: ctx.progress.clone(),
            log: ctx.log,
            cancel: ctx.cancel,
            epochs: p.run.epochs,
        };
        // Checkpoints live in the scratch folder, which survives an interrupted run of this key.
        let summary = model::train(&mc, &tc, &input, ctx.scratch, &mut observer)?;
        if let Some(done) = summary.resumed_from {
            ctx.progress
                .note(format!("resumed from the checkpoint after epoch {done}"));
        }
        ctx.log.line(format!("trained on {}", summary.device));
        for file in [&summary.model_path, &summary.metrics_path] {
            let name = file.file_name().context("checkpoint file name")?;
            std::fs::copy(file, ctx.out.join(name))
                .with_context(|| format!("failed to copy {}", file.display()))?;
        }
        Ok(())
    }
}
