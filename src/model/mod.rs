//! Training engine for the AE / VAE / β-VAE / denoising / sparse / linear autoencoder family:
//! a hand-written CPU fast path on flat f32 buffers, a dfdx autodiff path (reference and CUDA),
//! safetensors checkpoints, resumable training and the evaluation-side model API.
//!
//! Conventions: weights are stored row-major `[fan_in, fan_out]` (`y = x W + b`, the transpose
//! of PyTorch's layout) under `encoder.{i}.weight|bias` / `decoder.{i}.weight|bias`; a VAE's
//! last encoder layer emits `[μ | log σ²]`. Losses are summed over pixels and averaged over the
//! batch. Randomness is keyed by (seed, purpose, epoch, batch), so a run is reproducible bit for
//! bit for a given seed on a given machine, whatever the thread count.
pub mod adam;
pub mod alloc;
pub mod autodiff;
pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod conv;
pub mod conv_fast;
pub mod conv_ops;
pub mod device;
pub mod fastmath;
pub mod kernels;
pub mod linalg;
pub mod metrics_csv;
pub mod network;
pub mod objective;
pub mod resident;
pub mod rng;
pub mod size;
pub mod threads;
pub mod train;
pub mod trained;

use std::path::PathBuf;

pub use bench::{bench_train, BenchReport, BenchShape};
pub use config::{
    Activation, Backbone, DeviceChoice, Likelihood, ModelConfig, Noise, TrainConfig, Variant,
};
pub use metrics_csv::EpochMetrics;
pub use train::{train, Silent, TrainData, TrainObserver, TrainSummary};
pub use trained::{load_checkpoint, PerExample, TrainedModel};

/// Everything that can go wrong while training or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("failed to accept the configuration: {0}")]
    Config(String),
    #[error("failed to accept the training data: {0}")]
    Data(String),
    #[error("failed to train: {term} loss became {value} at epoch {epoch}, batch {batch}")]
    NonFinite {
        epoch: usize,
        batch: usize,
        term: &'static str,
        value: f64,
    },
    /// `error` is part of the message and deliberately not a `source()`, so a printed chain
    /// does not repeat it ("(os error 28)" twice).
    #[error("failed to {action} {}: {error}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    /// `action`: "load" or "save".
    #[error("failed to {action} checkpoint {}: {reason}", path.display())]
    Checkpoint {
        action: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("failed to allocate {what}: {bytes} bytes ({:.1} GiB) is more memory than this machine can give", *.bytes as f64 / (1u64 << 30) as f64)]
    Alloc { what: String, bytes: u64 },
    #[error("failed to finish training: cancelled after {epochs_done} completed epochs")]
    Cancelled { epochs_done: usize },
    #[error("failed to use device {device}: {reason}")]
    Device { device: String, reason: String },
}
