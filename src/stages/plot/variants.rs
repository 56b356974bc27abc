//! Figures for the AE variants beyond the plain AE and VAE: the denoising AE (noisy / clean /
//! denoised) and the linear AE against PCA.

use std::collections::BTreeMap;

use super::registry::{need, About, Canvas, Figure, Reason};
use super::sweep::{split_images, Member, Sweep};
use crate::figures::{self, GridPanel, GridRow};
use crate::model::Variant;

pub struct Denoising;

impl Figure for Denoising {
    fn about(&self) -> About {
        About {
            name: "denoising",
            heading: "Denoising",
            caption: "Denoising autoencoder: corrupted inputs, the clean originals, and the reconstructions.",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        let some = sweep.of(Variant::DenoisingAe).next().is_some();
        need(some, "needs a denoising AE; the sweep has none")
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let Some(m) = sweep.of(Variant::DenoisingAe).next() else {
            return Ok(());
        };
        let dim = sweep.dim();
        let clean = sweep.test_images(10);
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
        let title = format!("Denoising AE ({})", m.label);
        let panel = GridPanel {
            rows,
            ..GridPanel::default()
        };
        canvas.images(&title, &[panel], sweep.image_size())
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

pub struct LinearVsPca;

fn linear_aes(sweep: &Sweep) -> Vec<&Member> {
    sweep
        .of(Variant::LinearAe)
        .filter(|m| m.metrics.pca_mse.is_some())
        .collect()
}

/// Mean of the values at each k: seeds of one latent size are one point, not a vertical run.
fn mean_by_k(points: impl Iterator<Item = (usize, f64)>) -> Vec<(usize, f64)> {
    let mut by: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for (k, v) in points {
        by.entry(k).or_default().push(v);
    }
    by.into_iter()
        .map(|(k, v)| (k, v.iter().sum::<f64>() / v.len() as f64))
        .collect()
}

impl Figure for LinearVsPca {
    fn about(&self) -> About {
        About {
            name: "linear_vs_pca",
            heading: "Linear AE vs PCA",
            caption: "A linear autoencoder trained on squared error spans the PCA subspace: equal error, small principal angles.",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        let some = !linear_aes(sweep).is_empty();
        need(
            some,
            "needs a linear AE evaluated against PCA (evaluate.pca); the sweep has none",
        )
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let linear = linear_aes(sweep);
        let Some(first) = linear.first() else {
            return Ok(());
        };
        // PCA's whole error curve when evaluation recorded one; its points at each k otherwise.
        let mut pca = mean_by_k(
            linear
                .iter()
                .flat_map(|m| m.metrics.pca_mse_by_k.iter().map(|(&k, &v)| (k, v))),
        );
        if pca.is_empty() {
            pca = mean_by_k(
                linear
                    .iter()
                    .filter_map(|m| Some((m.latent(), m.metrics.pca_mse?))),
            );
        }
        let ae = mean_by_k(
            linear
                .iter()
                .filter_map(|m| Some((m.latent(), m.metrics.linear_ae_mse?))),
        );
        let title = "Linear AE vs PCA: reconstruction MSE and principal angles";
        figures::linear_ae_vs_pca(
            &canvas.file(title),
            title,
            &pca,
            &ae,
            &first.metrics.principal_angles_deg,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::mean_by_k;

    #[test]
    fn seeds_at_one_k_are_one_point() {
        let points = [(10, 1.0), (5, 4.0), (10, 3.0)];
        assert_eq!(mean_by_k(points.into_iter()), [(5, 4.0), (10, 2.0)]);
    }
}
