//! The convolutional model (`architecture = "conv"`): its convolutions against a direct
//! convolution loop, whole-network gradients against finite differences (dfdx ops, f64) for
//! every variant, the CPU fast path against dfdx, and training behaviour — a tiny set
//! overfitted, bit-identical runs across thread counts, resume after Ctrl-C, the checkpoint
//! evaluated back, the dfdx engine (CUDA's code) training alike, and a whole conv spec run.
use dfdx::prelude::*;
use pipeline::model::autodiff::{self, LayerTensors};
use pipeline::model::config::{Activation, DeviceChoice, Likelihood, ModelConfig, Noise, Variant};
use pipeline::model::conv::ConvLayout;
use pipeline::model::conv_ops::conv_layer;
use pipeline::model::network::Architecture;
use pipeline::model::objective::{loss_and_grad, Batch, TermWeights, Workspace};
use pipeline::model::rng::Rng;
use pipeline::model::{load_checkpoint, train, ModelError, Silent, TrainConfig, TrainData};

fn randn(n: usize, key: u64) -> Vec<f64> {
    let mut v = vec![0.0; n];
    Rng::from_key(&[key]).fill_normal(&mut v);
    v
}

fn uniform(n: usize, key: u64) -> Vec<f64> {
    let mut rng = Rng::from_key(&[key]);
    (0..n).map(|_| rng.uniform() as f64).collect()
}

/// An 8×8 image through two k4 s2 p1 convolutions (8 → 4 → 2), or a non-square 7×5 through
/// two k3 s1 p0 ones (7×5 → 5×3 → 3×1).
fn layout(square: bool) -> ConvLayout {
    let (kernel, stride, padding, height, width) = if square {
        (4, 2, 1, 8, 8)
    } else {
        (3, 1, 0, 7, 5)
    };
    ConvLayout {
        channels: vec![2, 3],
        kernel,
        stride,
        padding,
        dense: 5,
        height,
        width,
    }
}

fn conv_model(variant: Variant, act: Activation, lik: Likelihood, square: bool) -> ModelConfig {
    let l = layout(square);
    ModelConfig {
        variant,
        input_dim: l.height * l.width,
        latent_dim: 2,
        hidden: vec![],
        activation: act,
        likelihood: lik,
        beta: 1.5,
        kl_warmup_epochs: 0,
        noise: (variant == Variant::DenoisingAe).then_some(Noise::Masking { p: 0.3 }),
        l1: if variant == Variant::SparseAe {
            0.2
        } else {
            0.0
        },
        conv: Some(l),
    }
}

/// Direct convolution of one channels-last image with `[k, k, c_in, c_out]` filters.
fn naive_conv(
    x: &[f64],
    w: &[f64],
    b: &[f64],
    l: &ConvLayout,
    c_in: usize,
    c_out: usize,
) -> Vec<f64> {
    let (k, s, p) = (l.kernel as isize, l.stride as isize, l.padding as isize);
    let (h, wd) = (l.height as isize, l.width as isize);
    let (ho, wo) = ((h + 2 * p - k) / s + 1, (wd + 2 * p - k) / s + 1);
    let mut out = vec![0.0; (ho * wo) as usize * c_out];
    for oy in 0..ho {
        for ox in 0..wo {
            for co in 0..c_out {
                let mut acc = b[co];
                for ki in 0..k {
                    for kj in 0..k {
                        let (y, xx) = (oy * s + ki - p, ox * s + kj - p);
                        if y < 0 || y >= h || xx < 0 || xx >= wd {
                            continue;
                        }
                        for ci in 0..c_in {
                            let xi = ((y * wd + xx) as usize) * c_in + ci;
                            let wi = (((ki * k + kj) as usize) * c_in + ci) * c_out + co;
                            acc += x[xi] * w[wi];
                        }
                    }
                }
                out[((oy * wo + ox) as usize) * c_out + co] = acc;
            }
        }
    }
    out
}

#[test]
fn a_conv_layer_is_the_direct_convolution_and_its_transpose_the_adjoint() {
    for square in [true, false] {
        let mut l = layout(square);
        l.channels = vec![3];
        let cfg = ModelConfig {
            conv: Some(l.clone()),
            ..conv_model(
                Variant::Ae,
                Activation::Identity,
                Likelihood::Gaussian,
                square,
            )
        };
        let arch = Architecture::new(&cfg).unwrap();
        let dev = Cpu::default();
        let (conv, deconv) = (&arch.conv_encoder[0], &arch.conv_decoder[0]);
        let params = randn(arch.param_count, 7);
        let tensors = |layer: &pipeline::model::conv::ConvLayer| LayerTensors {
            w: dev.tensor_from_vec(
                params[layer.dense.weight()].to_vec(),
                (layer.dense.fan_in, layer.dense.fan_out),
            ),
            b: dev.tensor_from_vec(params[layer.dense.bias()].to_vec(), (layer.dense.fan_out,)),
        };
        let pixels = l.height * l.width;
        let x = randn(pixels, 8);
        let xt: Tensor<(usize, usize), f64, _> = dev.tensor_from_vec(x.clone(), (pixels, 1));
        let got = conv_layer(&dev, xt.clone().leaky_traced(), conv, &tensors(conv), 1);
        let want = naive_conv(
            &x,
            &params[conv.dense.weight()],
            &params[conv.dense.bias()],
            &l,
            1,
            3,
        );
        let got = got.retaped::<NoneTape>().as_vec();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "square {square}: {g} vs {w}");
        }
        // ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for bias-free filters shared by both: the transposed
        // layer's `[k, k, 3, 1]` filters of the same taps are the same numbers in the same order.
        let (k2, c) = (l.kernel * l.kernel, 3);
        let wf = &params[conv.dense.weight()];
        let wt = wf.to_vec();
        let y = randn(want.len(), 9);
        let zero_bias = |n| dev.tensor_from_vec(vec![0.0; n], (n,));
        let fwd = conv_layer(
            &dev,
            xt.leaky_traced(),
            conv,
            &LayerTensors {
                w: dev.tensor_from_vec(wf.to_vec(), (k2, c)),
                b: zero_bias(c),
            },
            1,
        )
        .retaped::<NoneTape>()
        .as_vec();
        let yt: Tensor<(usize, usize), f64, _> =
            dev.tensor_from_vec(y.clone(), (want.len() / c, c));
        let back = conv_layer(
            &dev,
            yt.leaky_traced(),
            deconv,
            &LayerTensors {
                w: dev.tensor_from_vec(wt, (k2 * c, 1)),
                b: zero_bias(1),
            },
            1,
        )
        .retaped::<NoneTape>()
        .as_vec();
        let lhs: f64 = fwd.iter().zip(&y).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert!(
            (lhs - rhs).abs() < 1e-10 * (1.0 + lhs.abs()),
            "{lhs} vs {rhs}"
        );
    }
}

/// Central-difference gradient of `f` at `x`.
fn numeric_grad(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    const H: f64 = 1e-6;
    (0..x.len())
        .map(|i| {
            let (mut a, mut b) = (x.to_vec(), x.to_vec());
            a[i] += H;
            b[i] -= H;
            (f(&a) - f(&b)) / (2.0 * H)
        })
        .collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / (1.0 + w.abs());
        assert!(
            err < tol,
            "{what}[{i}]: {g} vs reference {w} (rel err {err:e})"
        );
    }
}

/// A conv network's gradients: the CPU fast path against dfdx autodiff (same f64 weights) and
/// both against finite differences.
fn check_conv_network(cfg: &ModelConfig) {
    let arch = Architecture::new(cfg).unwrap();
    let rows = 3;
    let params: Vec<f64> = arch
        .init_params::<f64>(3)
        .unwrap()
        .iter()
        .map(|p| p * 2.0)
        .collect();
    let target = uniform(rows * cfg.input_dim, 11);
    let input: Vec<f64> = target.iter().map(|v| v * 0.8 + 0.05).collect();
    let eps = randn(rows * cfg.latent_dim, 12);
    let batch = Batch {
        input: &input,
        target: &target,
        rows,
        eps: cfg.is_vae().then_some(&eps[..]),
    };
    let w = TermWeights {
        kl: cfg.beta as f64,
        l1: cfg.l1 as f64,
    };
    let what = format!(
        "{:?}/{:?}/{:?}",
        cfg.variant, cfg.activation, cfg.likelihood
    );
    let mut ws = Workspace::new(&arch, rows);
    let mut grads = vec![0.0; params.len()];
    let sums = loss_and_grad(&arch, &params, Some(&mut grads), &mut ws, &batch, w, 2);
    let dev = Cpu::default();
    let (ref_sums, ref_grads) = autodiff::loss_and_grad(&dev, &arch, &params, &batch, w);
    assert_close(
        &format!("{what} loss vs dfdx"),
        &[sums.recon, sums.kl, sums.l1],
        &[ref_sums.recon, ref_sums.kl, ref_sums.l1],
        1e-10,
    );
    assert_close(
        &format!("{what} fast-path grads vs dfdx"),
        &grads,
        &ref_grads,
        1e-9,
    );
    assert!(
        grads.iter().any(|g| *g != 0.0),
        "{what}: all gradients zero"
    );
    let loss = |p: &[f64]| {
        let mut ws = Workspace::new(&arch, rows);
        loss_and_grad(&arch, p, None, &mut ws, &batch, w, 1).total(w) / rows as f64
    };
    assert_close(
        &format!("{what} grads vs FD"),
        &grads,
        &numeric_grad(&params, loss),
        1e-5,
    );
}

#[test]
fn conv_network_gradients_match_finite_differences_for_every_variant() {
    for (variant, lik, square) in [
        (Variant::Vae, Likelihood::Bernoulli, true),
        (Variant::Vae, Likelihood::Gaussian, false),
        (Variant::Ae, Likelihood::Bernoulli, false),
        (Variant::DenoisingAe, Likelihood::Gaussian, true),
        (Variant::SparseAe, Likelihood::Bernoulli, true),
    ] {
        check_conv_network(&conv_model(variant, Activation::Tanh, lik, square));
    }
    check_conv_network(&conv_model(
        Variant::Vae,
        Activation::Elu,
        Likelihood::Bernoulli,
        true,
    ));
}

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
    for fig in [
        "prior_samples",
        "reconstructions",
        "latent_scatter",
        "manifold",
        "traversals",
        "interpolation",
        "arithmetic",
        "training_curves",
    ] {
        let png = latest.join(format!("plot/{fig}.png"));
        assert!(
            std::fs::metadata(&png)
                .map(|m| m.len() > 2000)
                .unwrap_or(false),
            "{fig}"
        );
    }
}
