//! The plot stage's figures for the other AE variants: denoising (noisy / clean / denoised),
//! linear AE vs PCA, and one-class anomaly detection (score histograms and ROC curves).

use super::{split_images, Figures, Member};
use crate::figures::{self, GridRow};
use crate::model::{TrainedModel, Variant};

impl Figures<'_> {
    pub(super) fn denoising(&self) -> anyhow::Result<bool> {
        let Some(m) = self
            .members
            .iter()
            .find(|m| m.variant() == Variant::DenoisingAe)
        else {
            return Ok(false);
        };
        let dim = self.w * self.h;
        let n = 10.min(self.test.n);
        let clean = &self.test.images[..n * dim];
        let noisy = corrupt(clean, m.model.config.noise);
        let rows = vec![
            GridRow {
                label: "noisy input".into(),
                images: split_images(&noisy, dim),
            },
            GridRow {
                label: "clean".into(),
                images: split_images(clean, dim),
            },
            GridRow {
                label: "denoised".into(),
                images: split_images(&m.model.reconstruct(&noisy), dim),
            },
        ];
        figures::image_grid(
            &self.path("denoising"),
            &format!("Denoising AE ({})", m.label),
            &rows,
            self.w,
            self.h,
        )?;
        Ok(true)
    }

    pub(super) fn linear_vs_pca(&self) -> anyhow::Result<bool> {
        let linear: Vec<&Member> = self
            .members
            .iter()
            .filter(|m| m.variant() == Variant::LinearAe && m.metrics.pca_mse.is_some())
            .collect();
        let Some(first) = linear.first() else {
            return Ok(false);
        };
        // PCA's whole error curve when evaluation recorded one; its points at each k otherwise.
        let mut pca: Vec<(usize, f64)> = linear
            .iter()
            .flat_map(|m| m.metrics.pca_mse_by_k.iter().map(|(&k, &v)| (k, v)))
            .collect();
        if pca.is_empty() {
            pca = linear
                .iter()
                .filter_map(|m| Some((m.latent(), m.metrics.pca_mse?)))
                .collect();
        }
        pca.sort_by_key(|&(k, _)| k);
        pca.dedup_by_key(|&mut (k, _)| k);
        let ae: Vec<(usize, f64)> = linear
            .iter()
            .filter_map(|m| Some((m.latent(), m.metrics.linear_ae_mse?)))
            .collect();
        figures::linear_ae_vs_pca(
            &self.path("linear_vs_pca"),
            "Linear AE vs PCA: reconstruction MSE and principal angles",
            &pca,
            &ae,
            &first.metrics.principal_angles_deg,
        )?;
        Ok(true)
    }

    pub(super) fn anomaly(&self, normal: Option<&[u8]>) -> anyhow::Result<bool> {
        let Some(normal) = normal else {
            return Ok(false);
        };
        let anomalous: Vec<bool> = self
            .test
            .labels
            .iter()
            .map(|l| !normal.contains(l))
            .collect();
        if !anomalous.iter().any(|&a| a) || anomalous.iter().all(|&a| a) {
            return Ok(false);
        }
        let mut rocs = Vec::new();
        for m in self.members {
            let scores: Vec<f64> = serde_json::from_slice(&std::fs::read(
                m.eval_dir.join(crate::stages::evaluate::SCORES_FILE),
            )?)?;
            let (a, n): (Vec<(f64, bool)>, Vec<(f64, bool)>) = scores
                .iter()
                .copied()
                .zip(anomalous.iter().copied())
                .partition(|(_, x)| *x);
            let name = format!("anomaly_scores_{}", m.label);
            let (score, unit) = score_name(&m.model);
            let normal_names: Vec<&str> = normal
                .iter()
                .filter_map(|&c| self.test.class_names.get(c as usize).map(String::as_str))
                .collect();
            let groups = [
                figures::HistogramGroup {
                    name: format!("normal: {}", normal_names.join(", ")),
                    values: n.iter().map(|x| x.0).collect(),
                },
                figures::HistogramGroup {
                    name: "anomalous: the other classes".into(),
                    values: a.iter().map(|x| x.0).collect(),
                },
            ];
            figures::score_histogram(
                &self.path(&name),
                &format!("Anomaly scores of {} ({score})", m.label),
                &format!("anomaly score = {score}{unit}"),
                &groups,
                40,
            )?;
            rocs.push(figures::NamedRoc {
                name: format!("{}: {score}", m.label),
                curve: crate::metrics::auroc::roc_curve(&scores, &anomalous)?,
            });
        }
        figures::roc_curves(
            &self.path("anomaly_roc"),
            "Anomaly detection by reconstruction error / −ELBO",
            &rocs,
        )?;
        Ok(true)
    }
}

/// The denoising AE's own corruption, with a fixed seed so the figure is reproducible.
fn corrupt(x: &[f32], noise: Option<crate::model::Noise>) -> Vec<f32> {
    let mut rng = crate::data::SplitMix64::new(7);
    let mut uniform = || (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
    match noise {
        Some(crate::model::Noise::Masking { p }) => x
            .iter()
            .map(|&v| if uniform() < p { 0.0 } else { v })
            .collect(),
        Some(crate::model::Noise::Gaussian { std }) => x
            .iter()
            .map(|&v| {
                // Box–Muller from two uniforms.
                let (u1, u2) = (uniform().max(1e-7), uniform());
                (v + std * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos())
                    .clamp(0.0, 1.0)
            })
            .collect(),
        None => x.to_vec(),
    }
}

/// What a model's anomaly score (its `test_scores.json`: reconstruction term + KL) is, and
/// its unit suffix.
fn score_name(model: &TrainedModel) -> (&'static str, &'static str) {
    let unit = match model.config.likelihood {
        crate::model::Likelihood::Bernoulli => " [nats]",
        _ => "",
    };
    let name = if model.config.is_vae() {
        "−ELBO"
    } else {
        "reconstruction error"
    };
    (name, unit)
}
