//! The report's specific line-chart views: rate–distortion across β, metrics vs latent size
//! (AE vs VAE), training curves and ROC curves.

use std::path::Path;

use anyhow::Result;
use plotters::style::RGBColor;

use super::legend::{LegendEntry, LineKind, Marker, KEY_GRAY};
use super::lines::{line_panels, LinePanel, Series};
use super::FigureFiles;
use crate::metrics::RocCurve;

/// One β's point on the rate–distortion plane: a run, or the mean over its seeds with their
/// sd on both axes (drawn as error bars; 0 for a single seed).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RatePoint {
    pub beta: f64,
    /// KL(q(z|x) ‖ p(z)) in nats.
    pub rate: f64,
    /// Reconstruction term (negative log-likelihood or MSE).
    pub distortion: f64,
    pub rate_sd: f64,
    pub distortion_sd: f64,
}

/// All β values of one latent size.
#[derive(Debug, Clone, PartialEq)]
pub struct RateDistortionCurve {
    pub latent_dim: usize,
    pub points: Vec<RatePoint>,
}

/// Rate (KL) vs distortion across β, one curve per latent size. Each β has its own marker
/// shape (keyed in the legend), so a point whose `β=…` label found no free spot is still
/// identified.
/// `distortion_label` names the y axis with its unit (it depends on the likelihood).
pub fn rate_distortion(
    path: &Path,
    title: &str,
    distortion_label: &str,
    curves: &[RateDistortionCurve],
) -> Result<FigureFiles> {
    let mut betas: Vec<f64> = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.beta))
        .collect();
    betas.sort_by(f64::total_cmp);
    betas.dedup();
    let marker_of = |beta: f64| Marker::nth(betas.iter().position(|&b| b == beta).unwrap_or(0));
    let series = curves
        .iter()
        .enumerate()
        .map(|(i, curve)| {
            let mut points = curve.points.clone();
            points.sort_by(|a, b| a.rate.total_cmp(&b.rate));
            Series {
                name: format!("{}-D latent", curve.latent_dim),
                points: points.iter().map(|p| (p.rate, p.distortion)).collect(),
                point_labels: points.iter().map(|p| format!("β={}", p.beta)).collect(),
                point_markers: points.iter().map(|p| marker_of(p.beta)).collect(),
                x_errors: points.iter().map(|p| p.rate_sd).collect(),
                errors: points.iter().map(|p| p.distortion_sd).collect(),
                color: i,
                ..Series::default()
            }
        })
        .collect();
    let mut legend_extra = vec![LegendEntry::heading("marker: β")];
    legend_extra.extend(betas.iter().map(|&b| LegendEntry {
        label: format!("β = {b}"),
        color: KEY_GRAY,
        line: LineKind::None,
        marker: Some(marker_of(b)),
    }));
    let panel = LinePanel {
        x_label: "rate: KL(q(z|x) ‖ p(z)) [nats per image]".into(),
        y_label: distortion_label.into(),
        series,
        legend_extra,
        legend_outside: true,
        ..LinePanel::default()
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
            marker: Marker::nth(color),
            ..Series::default()
        }
    };
    // Ticks exactly at the latent sizes trained: "2.5" or "15" would be sizes nobody ran.
    let mut sizes: Vec<usize> = metrics
        .iter()
        .flat_map(|m| m.ae.iter().chain(&m.vae).map(|v| v.0))
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let panels: Vec<LinePanel> = metrics
        .iter()
        .map(|m| LinePanel {
            title: m.metric.clone(),
            x_label: "latent size (dimensions of z)".into(),
            y_label: m.metric.clone(),
            series: vec![to_series("AE", 0, &m.ae), to_series("VAE", 1, &m.vae)]
                .into_iter()
                .filter(|s| !s.points.is_empty())
                .collect(),
            x_ticks: sizes.iter().map(|&z| z as f64).collect(),
            ..LinePanel::default()
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

/// Training curves: one colour (and, past ten names, marker shape) per run name, solid =
/// train, dashed = validation; epochs from 1. Runs sharing a name (the seeds of one setting)
/// share its colour and legend entry. The legend names each once and keys the line styles.
pub fn training_curves(path: &Path, title: &str, runs: &[TrainingRun]) -> Result<FigureFiles> {
    line_panels(path, title, &[training_panel("", runs)])
}

/// Training curves in titled panels, e.g. one per latent size: two dozen runs in one chart
/// cannot be told apart.
pub fn training_curve_panels(
    path: &Path,
    title: &str,
    groups: &[(String, Vec<TrainingRun>)],
) -> Result<FigureFiles> {
    let panels: Vec<LinePanel> = groups
        .iter()
        .map(|(name, runs)| training_panel(name, runs))
        .collect();
    line_panels(path, title, &panels)
}

fn training_panel(title: &str, runs: &[TrainingRun]) -> LinePanel {
    let epochs = |losses: &[f64]| {
        losses
            .iter()
            .enumerate()
            .map(|(i, &l)| ((i + 1) as f64, l))
            .collect()
    };
    // Colours repeat after the palette's ten; the marker shape tells those runs apart.
    let marker = |i: usize| Marker::nth(i / super::PALETTE.len());
    let (colors, first) = name_colors(runs.iter().map(|r| r.name.as_str()));
    let series: Vec<Series> = runs
        .iter()
        .zip(colors)
        .zip(first.iter().copied())
        .flat_map(|((run, i), first)| {
            [
                Series {
                    name: if first {
                        run.name.clone()
                    } else {
                        String::new()
                    },
                    points: epochs(&run.train_loss),
                    color: i,
                    marker: marker(i),
                    ..Series::default()
                },
                Series {
                    points: epochs(&run.val_loss),
                    color: i,
                    marker: marker(i),
                    dashed: true,
                    ..Series::default()
                },
            ]
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let style_key = |label: &str, line| LegendEntry {
        label: label.into(),
        color: KEY_GRAY,
        line,
        marker: None,
    };
    let mut legend_extra = vec![
        style_key("train", LineKind::Solid),
        style_key("validation", LineKind::Dashed),
    ];
    if !series.iter().any(|s| s.dashed) {
        legend_extra.pop();
    }
    LinePanel {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: "loss per image (reconstruction + β·KL)".into(),
        x_ticks: epoch_ticks(
            runs.iter()
                .map(|r| r.train_loss.len().max(r.val_loss.len())),
        ),
        legend_outside: first.iter().filter(|&&f| f).count() > 4,
        series,
        legend_extra,
        ..LinePanel::default()
    }
}

/// A palette index per item, shared by items of the same name (in order of first appearance),
/// and whether each item is the first of its name (the one that gets the legend entry).
fn name_colors<'a>(names: impl Iterator<Item = &'a str>) -> (Vec<usize>, Vec<bool>) {
    let mut seen: Vec<&str> = Vec::new();
    names
        .map(|name| match seen.iter().position(|&s| s == name) {
            Some(i) => (i, false),
            None => {
                seen.push(name);
                (seen.len() - 1, true)
            }
        })
        .unzip()
}

/// Whole-number epoch ticks, at most about ten of them.
fn epoch_ticks(lengths: impl Iterator<Item = usize>) -> Vec<f64> {
    let last = lengths.max().unwrap_or(1).max(1);
    let step = [1, 2, 5, 10, 20, 50, 100]
        .into_iter()
        .find(|s| last / s <= 10)
        .unwrap_or(last / 10);
    (1..=last)
        .filter(|e| e % step == 0)
        .map(|e| e as f64)
        .collect()
}

/// A ROC curve with the name shown in the legend (the AUROC is appended there). Curves of
/// the same name (one setting's seeds) share a colour and one legend entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRoc {
    pub name: String,
    pub curve: RocCurve,
}

/// ROC curves with a chance diagonal; legend entries read `name (AUROC 0.912)`, or
/// `name (AUROC 0.912 ± 0.004, 5 seeds)` for a name shared by several curves.
pub fn roc_curves(path: &Path, title: &str, curves: &[NamedRoc]) -> Result<FigureFiles> {
    let (colors, first) = name_colors(curves.iter().map(|c| c.name.as_str()));
    let legend_name = |name: &str| {
        let areas: Vec<f64> = curves
            .iter()
            .filter(|c| c.name == name)
            .map(|c| c.curve.area())
            .collect();
        let s = crate::metrics::stats::mean_sd(&areas);
        match areas.len() {
            1 => format!("{name} (AUROC {:.3})", s.mean),
            n => format!("{name} (AUROC {:.3} ± {:.3}, {n} seeds)", s.mean, s.sd),
        }
    };
    let named = first.iter().filter(|&&f| f).count();
    let series = curves
        .iter()
        .zip(colors)
        .zip(first)
        .map(|((roc, i), first)| Series {
            name: if first {
                legend_name(&roc.name)
            } else {
                String::new()
            },
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
        // Curves fill the upper left, where an inside legend would sit on them.
        legend_outside: named > 3,
        legend_extra: vec![LegendEntry {
            label: "chance".into(),
            color: RGBColor(150, 150, 150),
            line: LineKind::Dashed,
            marker: None,
        }],
        ..LinePanel::default()
    };
    line_panels(path, title, &[panel])
}
