//! The `train` stage: one sweep member's model trained on the prepared data, checkpointed every
//! epoch into the stage's scratch folder so an interrupted run resumes where it stopped.

use std::sync::atomic::Ordering;

use anyhow::Context;

use super::{StageContext, StageRunner};
use crate::data::{read_prepared, Binarize};
use crate::exec::ProgressHandle;
use crate::model::{self, EpochMetrics, ModelConfig, TrainConfig, TrainData, TrainObserver};
use crate::plan::params::TrainParams;
use crate::spec::{variant, RunSpec};

pub struct TrainRunner;

/// The model's configuration for a validated run.
pub fn model_config(run: &RunSpec, input_dim: usize) -> ModelConfig {
    ModelConfig {
        variant: run.variant,
        input_dim,
        latent_dim: run.latent_dim,
        hidden: run.hidden.clone().unwrap_or_default(),
        activation: run.activation.unwrap_or(model::Activation::Identity),
        likelihood: run.likelihood,
        beta: run.beta.unwrap_or(1.0) as f32,
        kl_warmup_epochs: run.kl_warmup_epochs.unwrap_or(0),
        noise: run.noise.as_ref().map(|n| match n.kind {
            variant::NoiseKind::Gaussian => model::Noise::Gaussian {
                std: n.level as f32,
            },
            variant::NoiseKind::Masking => model::Noise::Masking { p: n.level as f32 },
        }),
        l1: run.l1.unwrap_or(0.0) as f32,
    }
}

pub fn train_config(run: &RunSpec, dynamic_binarization: bool, threads: usize) -> TrainConfig {
    TrainConfig {
        epochs: run.epochs,
        batch_size: run.batch_size,
        lr: run.lr as f32,
        betas: (run.adam_betas[0] as f32, run.adam_betas[1] as f32),
        weight_decay: run.weight_decay as f32,
        seed: run.seed,
        device: run.device,
        dynamic_binarization,
        threads: Some(threads),
    }
}

/// Reports epochs to the progress display and the log, and passes Ctrl-C to the trainer.
struct StageObserver<'a> {
    progress: ProgressHandle,
    log: &'a super::StageLog,
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

impl StageRunner for TrainRunner {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()> {
        let p: TrainParams = ctx.params()?;
        let data = ctx.input("data")?;
        let train = read_prepared(&data.join("train.bin"))?;
        let val = read_prepared(&data.join("val.bin"))?;
        let dynamic = matches!(train.header.binarize, Binarize::Dynamic);
        let mc = model_config(&p.run, train.dim);
        let tc = train_config(&p.run, dynamic, ctx.threads);
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
