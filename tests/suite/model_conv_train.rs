//! Training the convolutional model: a tiny set overfitted, bit-identical runs across thread
//! counts, resume after Ctrl-C, the checkpoint evaluated back, the dfdx engine (CUDA's code)
//! training alike, and a whole conv spec run with every figure and metric.
use super::model_conv::conv_model;
use pipeline::model::config::{Activation, DeviceChoice, Likelihood, Variant};
use pipeline::model::rng::Rng;
use pipeline::model::{load_checkpoint, train, ModelError, Silent, TrainConfig, TrainData};

/// 8×8 images of a bright square at one of four places, with a little noise.
fn squares(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::from_key(&[seed]);
    let mut out = Vec::with_capacity(n * 64);
    for i in 0..n {
        let (oy, ox) = [(1, 1), (1, 4), (4, 1), (4, 4)][i % 4];
        for y in 0..8 {
            for x in 0..8 {
                let on = (oy..oy + 3).contains(&y) && (ox..ox + 3).contains(&x);
                let v = if on { 0.9 } else { 0.05 };
                out.push((v + 0.05 * (rng.uniform() - 0.5)).clamp(0.0, 1.0));
            }
        }
    }
    out
}

fn conv_train_cfg(epochs: usize, threads: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 8,
        lr: 5e-3,
        seed: 3,
        threads: Some(threads),
        device: DeviceChoice::Cpu,
        ..TrainConfig::default()
    }
}

#[test]
fn a_conv_ae_overfits_a_tiny_set() {
    let data = squares(16, 1);
    let mut m = conv_model(Variant::Ae, Activation::Relu, Likelihood::Bernoulli, true);
    if let Some(l) = m.conv.as_mut() {
        (l.channels, l.dense) = (vec![4, 8], 16);
    }
    let td = TrainData {
        train: &data,
        val: None,
        dim: 64,
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        batch_size: 4,
        lr: 1e-2,
        ..conv_train_cfg(100, 2)
    };
    let s = train(&m, &cfg, &td, dir.path(), &mut Silent).unwrap();
    let (first, last) = (s.metrics[0].recon, s.metrics[s.metrics.len() - 1].recon);
    // The floor is the targets' own entropy (pixels near 0.05 / 0.9): about 64 · 0.2 nats.
    let model = load_checkpoint(&s.model_path).unwrap();
    let err: f32 = model
        .reconstruct(&data)
        .iter()
        .zip(&data)
        .map(|(r, x)| (r - x).abs())
        .sum::<f32>()
        / data.len() as f32;
    assert!(
        last < 0.5 * first && err < 0.05,
        "recon {first} → {last}, mean |error| {err}"
    );
}

/// Cancels the run once `stop_after` epochs have completed.
struct StopAfter(usize, usize);

impl pipeline::model::TrainObserver for StopAfter {
    fn epoch_done(&mut self, _: &pipeline::model::EpochMetrics) {
        self.1 += 1;
    }
    fn cancelled(&self) -> bool {
        self.1 >= self.0
    }
}

#[test]
fn conv_training_is_bit_identical_across_runs_and_threads_and_resumes_after_ctrl_c() {
    let data = squares(24, 2);
    let val = squares(8, 3);
    let m = conv_model(Variant::Vae, Activation::Relu, Likelihood::Bernoulli, true);
    let td = TrainData {
        train: &data,
        val: Some(&val),
        dim: 64,
    };
    let run = |threads: usize| {
        let dir = tempfile::tempdir().unwrap();
        train(
            &m,
            &conv_train_cfg(4, threads),
            &td,
            dir.path(),
            &mut Silent,
        )
        .unwrap()
    };
    let (one, two, again) = (run(1), run(2), run(2));
    assert_eq!(one.final_params, two.final_params, "1 vs 2 threads");
    assert_eq!(two.final_params, again.final_params, "two runs");

    let dir = tempfile::tempdir().unwrap();
    let cfg = conv_train_cfg(4, 2);
    let err = train(&m, &cfg, &td, dir.path(), &mut StopAfter(2, 0)).unwrap_err();
    assert!(
        matches!(err, ModelError::Cancelled { epochs_done: 2 }),
        "{err}"
    );
    let resumed = train(&m, &cfg, &td, dir.path(), &mut Silent).unwrap();
    assert_eq!(resumed.resumed_from, Some(2));
    assert_eq!(
        resumed.final_params, two.final_params,
        "resumed vs uninterrupted"
    );

    // The checkpoint evaluates back through every operation the evaluate stage uses.
    let loaded = load_checkpoint(&resumed.model_path).unwrap();
    assert_eq!(loaded.config, m);
    let (mu, lv) = loaded.encode(&val);
    assert_eq!((mu.len(), lv.map(|v| v.len())), (8 * 2, Some(8 * 2)));
    assert_eq!(loaded.reconstruct(&val).len(), val.len());
    assert!(loaded.sample(5, 1).iter().all(|p| (0.0..=1.0).contains(p)));
    let per = loaded.per_example_losses(&val, 0);
    assert!(per
        .recon
        .iter()
        .chain(&per.kl)
        .all(|v| v.is_finite() && *v >= 0.0));
    let iwae = loaded.iwae_bound(&val, 4, 0).unwrap();
    assert!(iwae.len() == 8 && iwae.iter().all(|b| b.is_finite() && *b < 0.0));
}

#[test]
fn the_dfdx_engine_trains_a_conv_model_like_the_fast_path() {
    // `cpu-autodiff` runs the CUDA engine's code (parameters resident on a dfdx device).
    let data = squares(16, 4);
    let m = conv_model(Variant::Vae, Activation::Relu, Likelihood::Bernoulli, true);
    let td = TrainData {
        train: &data,
        val: None,
        dim: 64,
    };
    let run = |device| {
        let dir = tempfile::tempdir().unwrap();
        let cfg = TrainConfig {
            device,
            ..conv_train_cfg(2, 2)
        };
        train(&m, &cfg, &td, dir.path(), &mut Silent).unwrap()
    };
    let (fast, dfdx) = (run(DeviceChoice::Cpu), run(DeviceChoice::CpuAutodiff));
    assert!(dfdx.device.contains("dfdx"), "{}", dfdx.device);
    for (a, b) in fast.final_params.iter().zip(&dfdx.final_params) {
        assert!((a - b).abs() < 1e-4 * (1.0 + a.abs()), "{a} vs {b}");
    }
}

#[test]
fn a_conv_spec_runs_end_to_end_with_every_figure_and_metric() {
    use crate::support::*;
    let p = TestProject::new();
    let spec = p.path().join("conv.toml");
    std::fs::write(
        &spec,
        r#"[experiment]
name = "conv-tiny"
seed = 1
[dataset]
name = "shapes"
n_train = 200
n_test = 100
size = 32
[model]
architecture = "conv"
conv_channels = [4, 8]
conv_dense = 32
latent_dim = 2
[train]
epochs = 1
batch_size = 50
[evaluate]
iwae_k = [1, 4]
mig = true
probe = true
[plots]
figures = ["prior_samples", "reconstructions", "latent_scatter", "manifold", "traversals",
           "interpolation", "arithmetic", "training_curves"]
[sweep]
variant = ["ae", "vae"]
"#,
    )
    .unwrap();
    let out = p.run(&["run", spec.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let latest = p.path().join("results/conv-tiny/latest");
    let table = std::fs::read_to_string(latest.join("report/comparison.md")).unwrap();
    assert!(table.contains("| ae") && table.contains("| vae"), "{table}");
    assert!(table.to_lowercase().contains("mig"), "{table}");
    assert_figures_drawn(
        &latest,
        &[
            "prior_samples",
            "reconstructions",
            "latent_scatter",
            "manifold",
            "traversals",
            "interpolation",
            "arithmetic",
            "training_curves",
        ],
    );
}

#[test]
fn conv_train_keys_hash_the_conv_revision_and_mlp_keys_do_not() {
    use crate::support::*;
    let p = TestProject::new();
    let spec = p.path().join("spec.toml");
    let base = "[experiment]\nname = \"t\"\ndescription = \"d\"\n[dataset]\nname = \"mnist\"\n\
                [model]\nlatent_dim = 2\n";
    std::fs::write(&spec, base).unwrap();
    let revision_of = |set: &[&str]| {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        let spec = pipeline::spec::load(&spec, &set).unwrap_or_else(|e| panic!("{e}"));
        let g = pipeline::plan::build_graph(&spec).unwrap_or_else(|e| panic!("{e}"));
        let train = g.stages.iter().find(|s| s.def.name.starts_with("train/"));
        train
            .expect("a train stage")
            .def
            .params
            .get("conv_revision")
            .cloned()
    };
    let rev = pipeline::model::conv_fast::REVISION;
    assert_eq!(
        revision_of(&["model.architecture=\"conv\""]),
        Some(serde_json::json!(rev))
    );
    assert_eq!(revision_of(&[]), None, "an MLP's key must not change");
}
