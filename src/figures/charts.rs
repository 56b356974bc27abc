//! The report's specific line-chart views: rate–distortion across β, metrics vs latent size
//! (AE vs VAE), training curves and ROC curves.

use std::path::Path;

use anyhow::Result;

use super::lines::{line_panels, LinePanel, Series};
use super::FigureFiles;
use crate::metrics::RocCurve;

/// One β-VAE run's point on the rate–distortion plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    pub beta: f64,
    /// KL(q(z|x) ‖ p(z)) in nats.
    pub rate: f64,
    /// Reconstruction term (negative log-likelihood or MSE).
    pub distortion: f64,
}

/// All β values of one latent size.
#[derive(Debug, Clone, PartialEq)]
pub struct RateDistortionCurve {
    pub latent_dim: usize,
    pub points: Vec<RatePoint>,
}

/// Rate (KL) vs distortion across β, one curve per latent size, points labelled `β=…`.
pub fn rate_distortion(
    path: &Path,
    title: &str,
    curves: &[RateDistortionCurve],
) -> Result<FigureFiles> {
    let series = curves
        .iter()
        .enumerate()
        .map(|(i, curve)| {
            let mut points = curve.points.clone();
            points.sort_by(|a, b| a.rate.total_cmp(&b.rate));
            Series {
                name: format!("latent {}", curve.latent_dim),
                points: points.iter().map(|p| (p.rate, p.distortion)).collect(),
                point_labels: points.iter().map(|p| format!("β={}", p.beta)).collect(),
                color: i,
                ..Series::default()
            }
        })
        .collect();
    let panel = LinePanel {
        title: String::new(),
        x_label: "rate: KL(q(z|x) ‖ p(z)) [nats]".into(),
        y_label: "distortion: reconstruction loss".into(),
        series,
        diagonal: false,
        legend_lower_right: false,
    };
    line_panels(path, title, &[panel])
}

/// One metric against latent size for AE and VAE: `(latent_dim, mean, sd)` triples
/// (`sd` 0 when there is a single seed).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricVsLatent {
    pub metric: String,
    pub ae: Vec<(usize, f64, f64)>,
    pub vae: Vec<(usize, f64, f64)>,
}

/// One panel per metric (reconstruction, ELBO, probe accuracy …), AE vs VAE curves with ± sd bars.
pub fn metric_vs_latent(
    path: &Path,
    title: &str,
    metrics: &[MetricVsLatent],
) -> Result<FigureFiles> {
    let to_series = |name: &str, color: usize, values: &[(usize, f64, f64)]| {
        let mut values = values.to_vec();
        values.sort_by_key(|v| v.0);
        Series {
            name: name.to_string(),
            points: values.iter().map(|v| (v.0 as f64, v.1)).collect(),
            errors: values.iter().map(|v| v.2).collect(),
            color,
            ..Series::default()
        }
    };
    let panels: Vec<LinePanel> = metrics
        .iter()
        .map(|m| LinePanel {
            title: m.metric.clone(),
            x_label: "latent size".into(),
            y_label: m.metric.clone(),
            series: vec![to_series("AE", 0, &m.ae), to_series("VAE", 1, &m.vae)],
            diagonal: false,
            legend_lower_right: false,
        })
        .collect();
    line_panels(path, title, &panels)
}

/// Per-epoch losses of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingRun {
    pub name: String,
    pub train_loss: Vec<f64>,
    pub val_loss: Vec<f64>,
}

/// Training curves: one colour per run, solid = train, dashed = validation; epochs from 1.
pub fn training_curves(path: &Path, title: &str, runs: &[TrainingRun]) -> Result<FigureFiles> {
    let epochs = |losses: &[f64]| {
        losses
            .iter()
            .enumerate()
            .map(|(i, &l)| ((i + 1) as f64, l))
            .collect()
    };
    let series = runs
        .iter()
        .enumerate()
        .flat_map(|(i, run)| {
            [
                Series {
                    name: format!("{} train", run.name),
                    points: epochs(&run.train_loss),
                    color: i,
                    ..Series::default()
                },
                Series {
                    name: format!("{} val", run.name),
                    points: epochs(&run.val_loss),
                    color: i,
                    dashed: true,
                    ..Series::default()
                },
            ]
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let panel = LinePanel {
        title: String::new(),
        x_label: "epoch".into(),
        y_label: "loss".into(),
        series,
        diagonal: false,
        legend_lower_right: false,
    };
    line_panels(path, title, &[panel])
}

/// A ROC curve with the name shown in the legend (the AUROC is appended there).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRoc {
    pub name: String,
    pub curve: RocCurve,
}

/// ROC curves with a chance diagonal; legend entries read `name (AUROC 0.912)`.
pub fn roc_curves(path: &Path, title: &str, curves: &[NamedRoc]) -> Result<FigureFiles> {
    let series = curves
        .iter()
        .enumerate()
        .map(|(i, roc)| Series {
            name: format!("{} (AUROC {:.3})", roc.name, roc.curve.area()),
            points: roc
                .curve
                .false_positive_rate
                .iter()
                .copied()
                .zip(roc.curve.true_positive_rate.iter().copied())
                .collect(),
            color: i,
            ..Series::default()
        })
        .collect();
    let panel = LinePanel {
        title: String::new(),
        x_label: "false positive rate".into(),
        y_label: "true positive rate".into(),
        series,
        diagonal: true,
        legend_lower_right: true,
    };
    line_panels(path, title, &[panel])
}
