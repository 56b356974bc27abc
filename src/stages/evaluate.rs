//! The `evaluate` stage: one trained model on the test split: reconstruction (BCE, MSE), KL,
//! ELBO, the IWAE bound, active units, how useful the codes are (kNN, linear probe), anomaly
//! AUROC, linear AE vs PCA and MIG, as `metrics.json` plus the test codes for the plots.

use anyhow::Context;

use super::preprocess::{TEST_SPLIT, TRAIN_SPLIT};
use super::train::MODEL_FILE;
use super::{StageContext, StageImpl};
use crate::data::{read_prepared, PreparedSplit};
use crate::metrics;
pub use crate::metrics::EvalMetrics;
use crate::model::{load_checkpoint, TrainedModel};
use crate::plan::Input;
use crate::spec::{EvaluateSpec, RunSpec};

pub struct EvaluateStage;

/// Its outputs: the metrics (read by plot and report), the test codes (row-major n × latent
/// `f32`) and each test image's anomaly score (−ELBO, JSON), read by plot.
pub const METRICS_FILE: &str = "metrics.json";
pub const CODES_FILE: &str = "test_codes.f32";
pub const SCORES_FILE: &str = "test_scores.json";

/// The evaluate stage's parameters: `[evaluate]` as it applies to this run's variant (IWAE
/// means nothing for an AE, PCA is compared with the linear AE only).
pub fn params_for(e: &EvaluateSpec, run: &RunSpec) -> EvaluateSpec {
    EvaluateSpec {
        iwae_k: if run.variant.is_variational() {
            e.iwae_k.clone()
        } else {
            Vec::new()
        },
        iwae_images: if run.variant.is_variational() {
            e.iwae_images
        } else {
            crate::metrics::DEFAULT_IWAE_IMAGES
        },
        pca: e.pca && run.variant.is_compared_with_pca(),
        ..e.clone()
    }
}

/// Training images used for fitting probes/PCA: enough for stable estimates, few enough to
/// stay fast on a CPU.
const FIT_IMAGES: usize = 10_000;

/// Codes (μ for a VAE) of the first `n` rows, row-major n × latent.
pub fn codes(model: &TrainedModel, images: &[f32], dim: usize, n: usize) -> Vec<f32> {
    model.encode(&images[..n * dim]).0
}

fn per_image_bce_mse(x: &[f32], p: &[f32], dim: usize) -> (f64, f64) {
    let n = (x.len() / dim).max(1) as f64;
    let (mut bce, mut mse) = (0.0f64, 0.0f64);
    for (&xi, &pi) in x.iter().zip(p) {
        let q = (pi as f64).clamp(1e-7, 1.0 - 1e-7);
        bce -= xi as f64 * q.ln() + (1.0 - xi as f64) * (1.0 - q).ln();
        mse += (xi as f64 - pi as f64).powi(2);
    }
    (bce / n, mse / n)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn evaluate(
    p: &EvaluateSpec,
    model: &TrainedModel,
    train: &PreparedSplit,
    test: &PreparedSplit,
    seed: u64,
) -> anyhow::Result<(EvalMetrics, Vec<f32>, Vec<f64>)> {
    let dim = test.dim;
    let k = model.config.latent_dim;
    let mut m = EvalMetrics {
        n_test: test.n,
        latent_dim: k,
        ..Default::default()
    };
    let recon = model.reconstruct(&test.images);
    (m.recon_bce, m.recon_mse) = per_image_bce_mse(&test.images, &recon, dim);
    m.recon_psnr = Some(metrics::stats::psnr_db(m.recon_mse / dim as f64));
    let losses = model.per_example_losses(&test.images, seed);
    m.recon = mean(&losses.recon);
    m.kl = mean(&losses.kl);
    m.elbo = -(m.recon + m.kl);
    let neg_elbo: Vec<f64> = losses
        .recon
        .iter()
        .zip(&losses.kl)
        .map(|(r, k)| r + k)
        .collect();
    if model.config.is_vae() {
        let n = metrics::iwae_image_count(test.n, p.iwae_images);
        m.iwae_images = (!p.iwae_k.is_empty()).then_some(n);
        for &kk in &p.iwae_k {
            let bound = model.iwae_bound(&test.images[..n * dim], kk, seed)?;
            m.iwae.insert(kk, mean(&bound));
        }
    }
    let test_codes = codes(model, &test.images, dim, test.n);
    m.active_units = metrics::latent::active_units(&test_codes, test.n, k, 0.01)?.count;
    let n_fit = train.n.min(FIT_IMAGES);
    let train_codes = codes(model, &train.images, dim, n_fit);
    // Classifying codes needs at least two classes among the training images (not so for
    // one-class anomaly runs).
    let train_classes = train.labels[..n_fit]
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if train_classes > 1 {
        m.knn_accuracy = Some(metrics::classify::knn_accuracy(
            &train_codes,
            &train.labels[..n_fit],
            &test_codes,
            &test.labels,
            k,
            p.knn_k,
        )?);
        if p.probe {
            let cfg = metrics::classify::ProbeConfig::default();
            m.probe_accuracy = Some(metrics::classify::linear_probe_accuracy(
                &train_codes,
                &train.labels[..n_fit],
                &test_codes,
                &test.labels,
                k,
                cfg,
            )?);
        }
    }
    if let Some(normal) = &p.anomaly_normal_classes {
        let anomalous: Vec<bool> = test.labels.iter().map(|l| !normal.contains(l)).collect();
        if anomalous.iter().any(|&a| a) && anomalous.iter().any(|&a| !a) {
            m.anomaly_auroc = Some(metrics::auroc::auroc(&neg_elbo, &anomalous)?);
        }
    }
    if p.pca {
        let fitted = (2 * k).max(k + 8).min(dim);
        let pca = metrics::pca::Pca::fit(&train.images[..n_fit * dim], n_fit, dim, fitted)?;
        let curve = pca.reconstruction_mse_curve(&test.images, test.n)?;
        m.pca_mse = Some(curve[k]);
        m.pca_mse_by_k = curve.into_iter().enumerate().skip(1).collect();
        m.linear_ae_mse = Some(m.recon_mse / dim as f64);
        // A linear decoder's columns: decode(e_i) − decode(0), in logit (or mean) space.
        let zero = model.decode(&vec![0.0; k]);
        let mut basis = vec![0.0f64; dim * k];
        for i in 0..k {
            let mut e = vec![0.0f32; k];
            e[i] = 1.0;
            for (r, (a, b)) in model.decode(&e).iter().zip(&zero).enumerate() {
                basis[r * k + i] = (*a - *b) as f64;
            }
        }
        let pca_basis = pca.basis(k)?;
        m.principal_angles_deg =
            metrics::subspace::principal_angles_deg(&basis, &pca_basis, dim, k, k)?;
    }
    // The gap between the two most informative latents needs two of them.
    if p.mig && k >= 2 {
        if let Some(f) = &test.factors {
            let nf = test.header.factor_names.len().max(1);
            let factors: Vec<u32> = f.iter().map(|&v| v as u32).collect();
            m.mig_units = Some(p.mig_units);
            m.mig = Some(
                metrics::latent::mutual_information_gap(
                    &test_codes,
                    &factors,
                    test.n,
                    k,
                    nf,
                    metrics::latent::MIG_BINS,
                    p.mig_units,
                )?
                .mig,
            );
        }
    }
    Ok((m, test_codes, neg_elbo))
}

impl StageImpl for EvaluateStage {
    // 4: recon_psnr added to metrics.json (the registry's proof metric).
    const IMPLEMENTATION_VERSION: u32 = 4;
    type Params = EvaluateSpec;
    type Context = ();

    fn run(ctx: &StageContext, p: EvaluateSpec, (): ()) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        let model = load_checkpoint(&ctx.input(Input::Model)?.join(MODEL_FILE))?;
        let data = ctx.input(Input::Data)?;
        let train = read_prepared(&data.join(TRAIN_SPLIT))?;
        let test = read_prepared(&data.join(TEST_SPLIT))?;
        let (mut m, codes, scores) =
            evaluate(&p, &model, &train, &test, 0).context("failed to evaluate")?;
        m.seconds = started.elapsed().as_secs_f64();
        std::fs::write(ctx.out.join(METRICS_FILE), serde_json::to_vec_pretty(&m)?)?;
        std::fs::write(
            ctx.out.join(CODES_FILE),
            bytemuck::cast_slice::<f32, u8>(&codes),
        )?;
        std::fs::write(ctx.out.join(SCORES_FILE), serde_json::to_vec(&scores)?)?;
        ctx.log.line(serde_json::to_string(&m)?);
        Ok(())
    }
}
