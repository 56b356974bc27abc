//! Gradient checks of the CPU fast path: every fused kernel against central finite differences
//! in f64, and whole-network gradients against both finite differences and dfdx autodiff.
use dfdx::prelude::Cpu;
use pipeline::model::config::{Activation, Likelihood, ModelConfig, Noise, Variant};
use pipeline::model::kernels;
use pipeline::model::network::Architecture;
use pipeline::model::objective::{loss_and_grad, Batch, TermWeights, Workspace};
use pipeline::model::rng::Rng;

const H: f64 = 1e-6;

pub(crate) fn randn(n: usize, key: u64) -> Vec<f64> {
    let mut v = vec![0.0; n];
    Rng::from_key(&[key]).fill_normal(&mut v);
    v
}

pub(crate) fn uniform(n: usize, key: u64) -> Vec<f64> {
    let mut rng = Rng::from_key(&[key]);
    (0..n).map(|_| rng.uniform() as f64).collect()
}

/// Central-difference gradient of `f` at `x`.
pub(crate) fn numeric_grad(x: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let (mut a, mut b) = (x.to_vec(), x.to_vec());
            a[i] += H;
            b[i] -= H;
            (f(&a) - f(&b)) / (2.0 * H)
        })
        .collect()
}

pub(crate) fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs() / (1.0 + w.abs());
        assert!(
            err < tol,
            "{what}[{i}]: analytic {g} vs reference {w} (rel err {err:e})"
        );
    }
}

const ACTIVATIONS: [Activation; 7] = [
    Activation::Relu,
    Activation::Tanh,
    Activation::Selu,
    Activation::Sigmoid,
    Activation::LeakyRelu,
    Activation::Elu,
    Activation::Identity,
];

#[test]
fn bias_activation_backward_matches_finite_differences() {
    let (rows, cols) = (5, 7);
    // Keep pre-activations away from the kinks of relu-like functions, where FD is undefined.
    let x: Vec<f64> = randn(rows * cols, 1)
        .iter()
        .map(|v| v + 0.05 * v.signum())
        .collect();
    let bias = randn(cols, 2).iter().map(|v| v * 0.01).collect::<Vec<_>>();
    let w = randn(rows * cols, 3);
    for act in ACTIVATIONS {
        let f = |x: &[f64]| {
            let mut y = x.to_vec();
            kernels::bias_activation(&mut y, &bias, cols, act);
            y.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()
        };
        let mut y = x.clone();
        kernels::bias_activation(&mut y, &bias, cols, act);
        let mut grad = w.clone();
        kernels::activation_backward(&mut grad, &y, cols, act);
        assert_close(&format!("{act:?}"), &grad, &numeric_grad(&x, f), 1e-6);
    }
}

#[test]
fn bias_grad_is_column_sum() {
    let (rows, cols) = (9, 70);
    let g = randn(rows * cols, 4);
    let mut db = vec![0.0; cols];
    kernels::bias_grad(&mut db, &g, rows, cols);
    let want: Vec<f64> = (0..cols)
        .map(|j| (0..rows).map(|r| g[r * cols + j]).sum())
        .collect();
    assert_close("bias grad", &db, &want, 1e-12);
}

#[test]
fn reconstruction_gradients_match_finite_differences() {
    let (rows, cols) = (3, 6);
    let out = randn(rows * cols, 5)
        .iter()
        .map(|v| v * 3.0)
        .collect::<Vec<_>>();
    let target = uniform(rows * cols, 6);
    for lik in [Likelihood::Bernoulli, Likelihood::Gaussian] {
        let f = |o: &[f64]| {
            let mut rl = vec![0.0; rows];
            kernels::reconstruction(lik, o, &target, cols, &mut rl, None);
            rl.iter().sum::<f64>() * 0.25
        };
        let mut rl = vec![0.0; rows];
        let mut g = vec![0.0; rows * cols];
        kernels::reconstruction(lik, &out, &target, cols, &mut rl, Some((&mut g, 0.25)));
        assert_close(&format!("{lik:?}"), &g, &numeric_grad(&out, f), 1e-6);
    }
}

#[test]
fn bernoulli_loss_matches_naive_bce() {
    let l: [f64; 5] = [-30.0, -2.0, 0.0, 0.7, 25.0];
    let x: [f64; 5] = [0.1, 1.0, 0.5, 0.0, 0.9];
    let mut rl = [0.0];
    kernels::reconstruction(Likelihood::Bernoulli, &l, &x, 5, &mut rl, None);
    let naive: f64 = l
        .iter()
        .zip(&x)
        .map(|(l, x)| {
            // ln σ(l) and ln(1 − σ(l)) = ln σ(−l), each without cancellation.
            let ln_sig = |v: f64| -(1.0 + (-v).exp()).ln();
            -(x * ln_sig(*l) + (1.0 - x) * ln_sig(-l))
        })
        .sum();
    assert!((rl[0] - naive).abs() < 1e-9, "{} vs {naive}", rl[0]);
}

#[test]
fn reparameterization_and_kl_backward_match_finite_differences() {
    let (rows, latent) = (4, 3);
    let stats = randn(rows * 2 * latent, 7);
    let eps = randn(rows * latent, 8);
    let wz = randn(rows * latent, 9);
    let kl_scale = 0.7;
    // f = Σ wz·z + kl_scale · Σ KL
    let f = |s: &[f64]| {
        let mut z = vec![0.0; rows * latent];
        let mut kl = vec![0.0; rows];
        kernels::reparameterize(s, &eps, latent, &mut z, &mut kl);
        z.iter().zip(&wz).map(|(a, b)| a * b).sum::<f64>() + kl_scale * kl.iter().sum::<f64>()
    };
    let mut dstats = vec![0.0; stats.len()];
    kernels::reparameterize_backward(&stats, &eps, &wz, latent, kl_scale, &mut dstats);
    assert_close("reparam", &dstats, &numeric_grad(&stats, f), 1e-6);
}

#[test]
fn l1_backward_matches_finite_differences() {
    let (rows, cols) = (3, 5);
    let code: Vec<f64> = randn(rows * cols, 10)
        .iter()
        .map(|v| v + 0.1 * v.signum())
        .collect();
    let lambda = 0.3;
    let f = |c: &[f64]| {
        let mut r = vec![0.0; rows];
        kernels::l1_penalty(c, cols, lambda, &mut r, None);
        r.iter().sum::<f64>() * 0.5
    };
    let mut r = vec![0.0; rows];
    let mut d = vec![0.0; rows * cols];
    kernels::l1_penalty(&code, cols, lambda, &mut r, Some((&mut d, 0.5)));
    assert_close("l1", &d, &numeric_grad(&code, f), 1e-6);
}

fn config(variant: Variant, act: Activation, lik: Likelihood) -> ModelConfig {
    ModelConfig {
        variant,
        input_dim: 6,
        latent_dim: 3,
        hidden: if variant == Variant::LinearAe {
            vec![]
        } else {
            vec![5, 4]
        },
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
        conv: None,
    }
}

/// Fast-path gradients of a whole network vs dfdx autodiff (same f64 weights) and vs FD.
fn check_network(cfg: &ModelConfig) {
    check_network_on(cfg, 4, 1);
}

/// [`check_network`] on `rows` rows with the fast path on `threads` threads (the conv tests
/// use it too); the gradients must not all be zero.
pub(crate) fn check_network_on(cfg: &ModelConfig, rows: usize, threads: usize) {
    let arch = Architecture::new(cfg).unwrap();
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
    let mut ws = Workspace::new(&arch, rows);
    let mut grads = vec![0.0; params.len()];
    let sums = loss_and_grad(
        &arch,
        &params,
        Some(&mut grads),
        &mut ws,
        &batch,
        w,
        threads,
    );

    let (ref_sums, ref_grads) =
        pipeline::model::autodiff::loss_and_grad(&Cpu::default(), &arch, &params, &batch, w);
    let what = format!(
        "{:?}/{:?}/{:?}",
        cfg.variant, cfg.activation, cfg.likelihood
    );
    assert_close(
        &format!("{what} loss vs dfdx"),
        &[sums.recon, sums.kl, sums.l1],
        &[ref_sums.recon, ref_sums.kl, ref_sums.l1],
        1e-10,
    );
    assert_close(&format!("{what} grads vs dfdx"), &grads, &ref_grads, 1e-9);
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
fn network_gradients_match_dfdx_and_finite_differences_for_every_variant() {
    for variant in [
        Variant::Ae,
        Variant::Vae,
        Variant::DenoisingAe,
        Variant::SparseAe,
        Variant::LinearAe,
    ] {
        for lik in [Likelihood::Bernoulli, Likelihood::Gaussian] {
            check_network(&config(variant, Activation::Tanh, lik));
        }
    }
}

#[test]
fn network_gradients_match_for_every_activation() {
    for act in ACTIVATIONS {
        check_network(&config(Variant::Vae, act, Likelihood::Bernoulli));
    }
}

#[test]
fn f32_fast_bernoulli_kernel_matches_f64_reference() {
    // The f32 path uses polynomial exp/ln; the f64 path (checked above) uses libm.
    let (rows, cols) = (4, 203);
    let out64: Vec<f64> = randn(rows * cols, 13).iter().map(|v| v * 6.0).collect();
    let x64 = uniform(rows * cols, 14);
    let (out32, x32): (Vec<f32>, Vec<f32>) = (
        out64.iter().map(|&v| v as f32).collect(),
        x64.iter().map(|&v| v as f32).collect(),
    );
    let (mut l64, mut l32) = (vec![0.0; rows], vec![0.0; rows]);
    let (mut g64, mut g32) = (vec![0.0f64; rows * cols], vec![0.0f32; rows * cols]);
    let o64: Vec<f64> = out32.iter().map(|&v| v as f64).collect();
    let t64: Vec<f64> = x32.iter().map(|&v| v as f64).collect();
    kernels::reconstruction(
        Likelihood::Bernoulli,
        &o64,
        &t64,
        cols,
        &mut l64,
        Some((&mut g64, 0.5)),
    );
    kernels::reconstruction(
        Likelihood::Bernoulli,
        &out32,
        &x32,
        cols,
        &mut l32,
        Some((&mut g32, 0.5)),
    );
    assert_close("f32 loss", &l32, &l64, 1e-6);
    let g32: Vec<f64> = g32.iter().map(|&v| v as f64).collect();
    assert_close("f32 grad", &g32, &g64, 1e-6);
}
