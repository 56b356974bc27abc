//! The line-chart figures: rate–distortion across β, AE vs VAE by latent size, and training
//! curves. Seeds of one setting are replicates: they are aggregated (mean ± sd) or share a
//! colour, never drawn as separate settings.

use std::collections::BTreeMap;

use super::registry::{listed, About, Canvas, Figure, Reason};
use super::sweep::{by_closeness_to_one, Member, Sweep};
use crate::figures;
use crate::metrics::stats::mean_sd;
use crate::model::{Likelihood, TrainedModel, Variant};
use crate::stages::evaluate::EvalMetrics;

/// One VAE's place on the rate–distortion plane: latent size, β, rate (KL), distortion.
pub type RateRun = (usize, f64, f64, f64);

/// One curve per latent size with two or more β values; each β's point is the mean over its
/// seeds, with their sd on both axes.
pub fn rate_curves(runs: &[RateRun]) -> Vec<figures::RateDistortionCurve> {
    let mut by: BTreeMap<usize, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for &(z, beta, rate, distortion) in runs {
        by.entry(z).or_default().push((beta, rate, distortion));
    }
    by.into_iter()
        .map(|(latent_dim, mut runs)| {
            runs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let points = runs
                .chunk_by(|a, b| a.0 == b.0)
                .map(|seeds| {
                    let rate = mean_sd(&seeds.iter().map(|s| s.1).collect::<Vec<_>>());
                    let distortion = mean_sd(&seeds.iter().map(|s| s.2).collect::<Vec<_>>());
                    figures::RatePoint {
                        beta: seeds[0].0,
                        rate: rate.mean,
                        distortion: distortion.mean,
                        rate_sd: if seeds.len() > 1 { rate.sd } else { 0.0 },
                        distortion_sd: if seeds.len() > 1 { distortion.sd } else { 0.0 },
                    }
                })
                .collect();
            figures::RateDistortionCurve { latent_dim, points }
        })
        .filter(|c| c.points.len() > 1)
        .collect()
}

fn rate_runs(sweep: &Sweep) -> Vec<RateRun> {
    sweep
        .of(Variant::Vae)
        .map(|m| (m.latent(), m.beta(), m.metrics.kl, m.metrics.recon))
        .collect()
}

/// The most seeds any setting has (1 without seeds).
fn seeds_per_setting<'a>(members: impl Iterator<Item = &'a Member>) -> usize {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for m in members {
        *n.entry(m.setting.as_str()).or_default() += 1;
    }
    n.into_values().max().unwrap_or(1)
}

pub struct RateDistortion;

impl Figure for RateDistortion {
    fn about(&self) -> About {
        About {
            name: "rate_distortion",
            heading: "Rate–distortion",
            caption: "Rate (KL) vs distortion (reconstruction) across β, one curve per latent size; the marker shape gives β, error bars the sd over seeds.",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        if !rate_curves(&rate_runs(sweep)).is_empty() {
            return Ok(());
        }
        let mut betas: Vec<f64> = sweep.of(Variant::Vae).map(Member::beta).collect();
        betas.sort_by(f64::total_cmp);
        betas.dedup();
        Err(Reason(match betas.len() {
            0 => "needs VAEs at two or more β values; the sweep has no VAE".into(),
            _ => format!(
                "needs VAEs of one latent size at two or more β values; the sweep has β = {}",
                listed(&betas)
            ),
        }))
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let curves = rate_curves(&rate_runs(sweep));
        let seeds = seeds_per_setting(sweep.of(Variant::Vae));
        let title = match seeds {
            1 => "Rate–distortion across β (one curve per latent size)".to_owned(),
            n => format!("Rate–distortion across β (mean ± sd of {n} seeds)"),
        };
        let Some(first) = sweep.of(Variant::Vae).next() else {
            return Ok(());
        };
        figures::rate_distortion(
            &canvas.file(&title),
            &title,
            distortion_label(&first.model),
            &curves,
        )?;
        Ok(())
    }
}

/// The y axis of the rate–distortion plane: the models' own reconstruction term.
fn distortion_label(model: &TrainedModel) -> &'static str {
    match model.config.likelihood {
        Likelihood::Bernoulli => "distortion: reconstruction BCE [nats per image]",
        _ => "distortion: reconstruction squared error per image",
    }
}

/// The β whose VAEs are compared with the AEs: 1 when trained, else the closest to it;
/// named in the figure's title.
pub fn comparison_beta(betas: &[f64]) -> Option<f64> {
    betas
        .iter()
        .copied()
        .min_by(|&a, &b| by_closeness_to_one(a, b))
}

pub struct MetricVsLatent;

type MetricOf = fn(&EvalMetrics) -> Option<f64>;

const COMPARED: [(&str, MetricOf); 3] = [
    ("reconstruction BCE [nats per image]", |m| Some(m.recon_bce)),
    ("ELBO [nats per image] (AE: −reconstruction)", |m| {
        Some(m.elbo)
    }),
    ("linear-probe accuracy on the codes", |m| m.probe_accuracy),
];

impl MetricVsLatent {
    /// `(latent, mean, sd)` of a metric over the members `keep` selects, per latent size.
    fn by_latent(
        sweep: &Sweep,
        variant: Variant,
        keep: impl Fn(&Member) -> bool,
        f: MetricOf,
    ) -> Vec<(usize, f64, f64)> {
        sweep
            .latents(variant)
            .into_iter()
            .filter_map(|z| {
                let vals: Vec<f64> = sweep
                    .of(variant)
                    .filter(|m| m.latent() == z && keep(m))
                    .filter_map(|m| f(&m.metrics))
                    .collect();
                (!vals.is_empty()).then(|| {
                    let s = mean_sd(&vals);
                    (z, s.mean, if vals.len() > 1 { s.sd } else { 0.0 })
                })
            })
            .collect()
    }

    fn panels(sweep: &Sweep) -> (Option<f64>, Vec<figures::MetricVsLatent>) {
        let betas: Vec<f64> = sweep.of(Variant::Vae).map(Member::beta).collect();
        let beta = comparison_beta(&betas);
        let panels = COMPARED
            .iter()
            .map(|&(metric, f)| figures::MetricVsLatent {
                metric: metric.into(),
                ae: Self::by_latent(sweep, Variant::Ae, |_| true, f),
                vae: Self::by_latent(sweep, Variant::Vae, |m| Some(m.beta()) == beta, f),
            })
            .collect();
        (beta, panels)
    }
}

impl Figure for MetricVsLatent {
    fn about(&self) -> About {
        About {
            name: "metric_vs_latent",
            heading: "AE vs VAE by latent size",
            caption: "Reconstruction, ELBO and probe accuracy against latent size, AE vs VAE (at the β named in the title), mean ± sd over seeds.",
        }
    }
    fn applies(&self, sweep: &Sweep) -> Result<(), Reason> {
        let (_, panels) = Self::panels(sweep);
        match panels.iter().any(|m| m.ae.len() + m.vae.len() >= 2) {
            true => Ok(()),
            false => Err(Reason(
                "needs AEs or VAEs at two latent sizes, or an AE and a VAE of one size".into(),
            )),
        }
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let (beta, panels) = Self::panels(sweep);
        let title = match beta {
            Some(b) => format!("AE vs VAE (β = {b}) by latent size"),
            None => "AE by latent size".to_owned(),
        };
        figures::metric_vs_latent(&canvas.file(&title), &title, &panels)?;
        Ok(())
    }
}

pub struct TrainingCurves;

impl Figure for TrainingCurves {
    fn about(&self) -> About {
        About {
            name: "training_curves",
            heading: "Training curves",
            caption: "Loss per epoch of every run (seeds of one setting share a colour): training, and validation where there is a validation split.",
        }
    }
    fn applies(&self, _sweep: &Sweep) -> Result<(), Reason> {
        Ok(())
    }
    fn draw(&self, sweep: &Sweep, canvas: &mut Canvas) -> anyhow::Result<()> {
        let runs: Vec<figures::TrainingRun> = sweep
            .members
            .iter()
            .map(|m| {
                let path = m.train_dir.join(crate::stages::train::METRICS_FILE);
                let losses = crate::model::metrics_csv::read_losses(&path)?;
                Ok(figures::TrainingRun {
                    name: m.setting.clone(),
                    train_loss: losses.iter().map(|l| l.0).collect(),
                    val_loss: losses.iter().filter_map(|l| l.1).collect(),
                })
            })
            .collect::<anyhow::Result<_>>()?;
        let title = if runs.iter().any(|r| !r.val_loss.is_empty()) {
            "Training curves (solid: train, dashed: validation)"
        } else {
            "Training curves (no validation split)"
        };
        let path = canvas.file(title);
        // A squared-error loss and a BCE in nats share no scale: never one axis for both.
        let squared = |m: &Member| m.model.config.likelihood != Likelihood::Bernoulli;
        let mixed = sweep.members.iter().any(squared) && !sweep.members.iter().all(squared);
        let settings = sweep
            .members
            .iter()
            .map(|m| &m.setting)
            .collect::<std::collections::BTreeSet<_>>();
        if settings.len() <= 8 && !mixed {
            figures::training_curves(&path, title, &runs)?;
            return Ok(());
        }
        // One panel per latent size (and loss): each holds a handful of settings.
        let mut groups: BTreeMap<(bool, usize), Vec<figures::TrainingRun>> = BTreeMap::new();
        for (m, run) in sweep.members.iter().zip(runs) {
            groups
                .entry((squared(m), m.latent()))
                .or_default()
                .push(run);
        }
        let groups: Vec<(String, Vec<figures::TrainingRun>)> = groups
            .into_iter()
            .map(|((sq, z), runs)| {
                let loss = if sq { ", squared-error loss" } else { "" };
                (format!("{z}-D latent{loss}"), runs)
            })
            .collect();
        figures::training_curve_panels(&path, title, &groups)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_of_one_beta_are_one_point_with_their_spread() {
        // Two seeds per β (issue 9: each seed was its own point, the curve zig-zagged).
        let runs = [
            (4, 0.5, 10.0, 50.0),
            (4, 2.0, 4.0, 60.0),
            (4, 0.5, 12.0, 52.0),
            (4, 2.0, 6.0, 58.0),
            (2, 1.0, 3.0, 70.0),
        ];
        let curves = rate_curves(&runs);
        assert_eq!(curves.len(), 1, "a latent size with one β has no curve");
        let p = &curves[0].points;
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].beta, p[0].rate, p[0].distortion), (0.5, 11.0, 51.0));
        assert!((p[0].rate_sd - 2f64.sqrt()).abs() < 1e-12);
        assert!((p[1].distortion_sd - 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn a_single_seed_has_no_error_bars() {
        let curves = rate_curves(&[(3, 0.5, 1.0, 2.0), (3, 4.0, 0.5, 3.0)]);
        assert!(curves[0]
            .points
            .iter()
            .all(|p| p.rate_sd == 0.0 && p.distortion_sd == 0.0));
    }

    #[test]
    fn comparison_beta_is_one_or_the_closest() {
        assert_eq!(comparison_beta(&[0.5, 1.0, 4.0]), Some(1.0));
        assert_eq!(comparison_beta(&[4.0, 0.25, 2.0]), Some(2.0));
        // 0.5 and 2 are equally far from 1 (a factor of two): the smaller wins.
        assert_eq!(comparison_beta(&[2.0, 0.5, 8.0]), Some(0.5));
        assert_eq!(comparison_beta(&[]), None);
    }
}
