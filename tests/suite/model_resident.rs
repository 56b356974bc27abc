//! The device-resident training engine (parameters and Adam moments kept on a dfdx device; the
//! CUDA path) run on dfdx's CPU device: it must follow the hand-written fast path's loss curve,
//! be deterministic and resume exactly. With a GPU the same comparison runs on CUDA.
use crate::common;

use pipeline::model::config::{
    Activation, DeviceChoice, Likelihood, ModelConfig, Noise, TrainConfig, Variant,
};
use pipeline::model::rng::Rng;
use pipeline::model::{
    train, EpochMetrics, ModelError, Silent, TrainData, TrainObserver, TrainSummary,
};

const DIM: usize = 12;

fn dataset(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::from_key(&[seed]);
    (0..n * DIM)
        .map(|k| {
            let (i, j) = (k / DIM, k % DIM);
            let proto = (i % 4) as f32;
            let v = 0.5 + 0.4 * (j as f32 * 0.7 + proto * 1.3).sin();
            (v + 0.05 * (rng.uniform() - 0.5)).clamp(0.0, 1.0)
        })
        .collect()
}

fn model(variant: Variant, likelihood: Likelihood) -> ModelConfig {
    ModelConfig {
        variant,
        input_dim: DIM,
        latent_dim: 3,
        hidden: if variant == Variant::LinearAe {
            vec![]
        } else {
            vec![16, 8]
        },
        activation: Activation::Elu,
        likelihood,
        beta: 2.0,
        kl_warmup_epochs: if variant == Variant::Vae { 2 } else { 0 },
        noise: (variant == Variant::DenoisingAe).then_some(Noise::Masking { p: 0.2 }),
        l1: if variant == Variant::SparseAe {
            1e-2
        } else {
            0.0
        },
        conv: None,
    }
}

fn cfg(device: DeviceChoice, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 8,
        lr: 3e-3,
        weight_decay: 1e-3,
        seed: 9,
        threads: Some(1),
        device,
        ..TrainConfig::default()
    }
}

/// Trains on the fixed train/validation sets with checkpoints in `dir`.
fn train_in(
    dir: &std::path::Path,
    m: &ModelConfig,
    c: &TrainConfig,
    observer: &mut dyn TrainObserver,
) -> Result<TrainSummary, ModelError> {
    let (data, val) = (dataset(48, 1), dataset(16, 2));
    let td = TrainData {
        train: &data,
        val: Some(&val),
        dim: DIM,
    };
    train(m, c, &td, dir, observer)
}

fn run(m: &ModelConfig, c: &TrainConfig, observer: &mut dyn TrainObserver) -> TrainSummary {
    let dir = tempfile::tempdir().unwrap();
    train_in(dir.path(), m, c, observer).unwrap()
}

fn assert_close_runs(fast: &TrainSummary, other: &TrainSummary, tol: f64) {
    for (a, b) in fast.metrics.iter().zip(&other.metrics) {
        for (what, x, y) in [
            ("train loss", a.train_loss, b.train_loss),
            ("val loss", a.val_loss.unwrap(), b.val_loss.unwrap()),
            ("recon", a.recon, b.recon),
        ] {
            let rel = (x - y).abs() / x.abs().max(1e-6);
            assert!(rel < tol, "epoch {} {what}: {x} vs {y}", a.epoch);
        }
    }
    let worst = fast
        .final_params
        .iter()
        .zip(&other.final_params)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "weights drifted apart by {worst}");
}

#[test]
fn resident_engine_follows_the_fast_path_for_every_objective() {
    let cases = [
        (Variant::Vae, Likelihood::Bernoulli),
        (Variant::SparseAe, Likelihood::Gaussian),
        (Variant::DenoisingAe, Likelihood::Bernoulli),
        (Variant::LinearAe, Likelihood::Gaussian),
    ];
    for (variant, likelihood) in cases {
        let m = model(variant, likelihood);
        let fast = run(&m, &cfg(DeviceChoice::Cpu, 4), &mut Silent);
        let resident = run(&m, &cfg(DeviceChoice::CpuAutodiff, 4), &mut Silent);
        assert_eq!(resident.device, "cpu (dfdx autodiff)");
        // Both minimise: the curve must move, or agreeing would prove nothing.
        assert!(fast.metrics[3].train_loss < fast.metrics[0].train_loss);
        assert_close_runs(&fast, &resident, 1e-4);
    }
}

struct StopAfter(usize, usize);

impl TrainObserver for StopAfter {
    fn epoch_done(&mut self, _: &EpochMetrics) {
        self.1 += 1;
    }
    fn cancelled(&self) -> bool {
        self.1 >= self.0
    }
}

#[test]
fn resident_engine_is_deterministic_and_resumes_to_the_same_weights() {
    let m = model(Variant::Vae, Likelihood::Bernoulli);
    let c = cfg(DeviceChoice::CpuAutodiff, 4);
    let a = run(&m, &c, &mut Silent);
    let b = run(&m, &c, &mut Silent);
    assert_eq!(a.final_params, b.final_params);

    let dir = tempfile::tempdir().unwrap();
    let err = train_in(dir.path(), &m, &c, &mut StopAfter(2, 0)).unwrap_err();
    assert!(
        matches!(err, ModelError::Cancelled { epochs_done: 2 }),
        "{err}"
    );
    let resumed = train_in(dir.path(), &m, &c, &mut Silent).unwrap();
    assert_eq!(resumed.resumed_from, Some(2));
    assert_eq!(a.final_params, resumed.final_params);
}

#[test]
fn cuda_engine_follows_the_fast_path() {
    if !common::require("cuda") {
        return;
    }
    let m = model(Variant::Vae, Likelihood::Bernoulli);
    let fast = run(&m, &cfg(DeviceChoice::Cpu, 4), &mut Silent);
    let gpu = run(&m, &cfg(DeviceChoice::Cuda, 4), &mut Silent);
    assert_eq!(gpu.device, "cuda:0");
    assert_close_runs(&fast, &gpu, 1e-3);
}
