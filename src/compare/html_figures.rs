//! The figure sections of the compare report: training curves of each member overlaid across
//! runs (from each run's published history, else its cache), every run's rate–distortion
//! curves on one chart, and the figures every run published side by side.

use std::collections::BTreeSet;
use std::path::Path;

use super::comparison::Comparison;
use super::history::{run_history, HistorySource, HISTORY_FILE};
use super::html::image;
use super::render::run_name;
use crate::cache::CacheStore;
use crate::figures::{line_panels, training_curve_panels, LinePanel, Series, TrainingRun};
use crate::tables::escape_html as esc;

/// Members per chart of overlaid curves: more panels than this in one image stop being readable,
/// so a bigger sweep gets several charts (every member is drawn).
const CURVE_PANELS_PER_CHART: usize = 12;

pub fn curves_section(c: &Comparison, store: &CacheStore, tmp: &Path) -> anyhow::Result<String> {
    let mut notes = String::new();
    let mut histories = Vec::new();
    for (r, run) in c.runs.iter().enumerate() {
        match run_history(&run.dir, &run.record, store)? {
            Some((h, source)) => {
                if source == HistorySource::Cache {
                    notes.push_str(&format!(
                        "<p>curves of run {} read from the cache (it has no {HISTORY_FILE})</p>\n",
                        run_name(r)
                    ));
                }
                histories.push(Some(h));
            }
            None => {
                notes.push_str(&format!(
                    "<p>no curves for run {} ({})</p>\n",
                    run_name(r),
                    esc(&run.record.run_id)
                ));
                histories.push(None);
            }
        }
    }
    let mut groups = Vec::new();
    for m in &c.members {
        let rows: Vec<&String> = c
            .runs
            .iter()
            .filter_map(|run| run.members.get(&m.key))
            .flat_map(|x| &x.row_labels)
            .collect();
        let mut runs = Vec::new();
        for (r, h) in histories.iter().enumerate() {
            let Some(h) = h else { continue };
            let Some(member) = c.runs[r].members.get(&m.key) else {
                continue;
            };
            for label in &member.row_labels {
                if let Some(curves) = h.get(label) {
                    runs.push(TrainingRun {
                        name: run_name(r),
                        train_loss: curves.train_loss.clone(),
                        val_loss: curves.val_loss.iter().flatten().copied().collect(),
                    });
                }
            }
        }
        if !runs.is_empty() && !rows.is_empty() {
            groups.push((m.label.clone(), runs));
        }
    }
    if groups.is_empty() {
        return Ok(notes + "<p>no training curves to overlay</p>\n");
    }
    let charts = groups.len().div_ceil(CURVE_PANELS_PER_CHART);
    let mut html = notes;
    for (k, part) in groups.chunks(CURVE_PANELS_PER_CHART).enumerate() {
        let png = tmp.join(format!("curves-{k}.png"));
        let title = if charts == 1 {
            "Training curves of each member, runs overlaid".to_string()
        } else {
            format!(
                "Training curves of each member, runs overlaid ({} of {charts})",
                k + 1
            )
        };
        training_curve_panels(&png, &title, part)?;
        html += &image(
            &png,
            "Training curves: one panel per member, one colour per run (solid train, dashed validation).",
        )?;
    }
    Ok(html)
}

pub fn rate_distortion(c: &Comparison, tmp: &Path) -> anyhow::Result<Option<String>> {
    let mut series = Vec::new();
    for r in 0..c.runs.len() {
        let mut by_latent: std::collections::BTreeMap<String, Vec<(f64, f64, f64)>> =
            Default::default();
        for (i, m) in c.members.iter().enumerate() {
            let (Some(beta), Some(z)) = (m.key.get("beta"), m.key.get("latent_dim")) else {
                continue;
            };
            let mean = |col: &str| {
                c.cells
                    .iter()
                    .find(|x| x.member == i && x.metric.column == col)?
                    .values[r]
                    .map(|s| s.mean)
            };
            if let (Some(rate), Some(dist), Ok(b)) =
                (mean("kl"), mean("elbo_recon"), beta.parse::<f64>())
            {
                by_latent
                    .entry(z.clone())
                    .or_default()
                    .push((b, rate, dist));
            }
        }
        for (z, mut points) in by_latent {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            series.push(Series {
                name: format!("{} z={z}", run_name(r)),
                points: points.iter().map(|p| (p.1, p.2)).collect(),
                color: r,
                dashed: r != c.baseline,
                ..Default::default()
            });
        }
    }
    if series.is_empty() {
        return Ok(None);
    }
    let png = tmp.join("rd.png");
    let panel = LinePanel {
        title: String::new(),
        x_label: "rate: KL (nats)".into(),
        y_label: "distortion: ELBO recon".into(),
        series,
        legend_outside: true,
        ..Default::default()
    };
    line_panels(&png, "Rate–distortion of each run across β", &[panel])?;
    Ok(Some(image(
        &png,
        "Rate–distortion: one colour per run, one curve per latent size (points by β).",
    )?))
}

/// Figures every run published, side by side.
pub fn side_by_side(c: &Comparison) -> anyhow::Result<String> {
    let names = |r: usize| -> BTreeSet<String> {
        std::fs::read_dir(c.runs[r].dir.join("plot"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".png"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let common = (1..c.runs.len()).fold(names(0), |acc, r| {
        acc.intersection(&names(r)).cloned().collect()
    });
    let mut out = String::new();
    for name in &common {
        out.push_str(&format!("<h3>{}</h3>\n<div class=\"side\">\n", esc(name)));
        for (r, run) in c.runs.iter().enumerate() {
            out.push_str(&image(
                &run.dir.join("plot").join(name),
                &format!("{} {}", run_name(r), run.record.run_id),
            )?);
        }
        out.push_str("</div>\n");
    }
    if out.is_empty() {
        out.push_str("<p>no figure that every run has</p>\n");
    }
    Ok(out)
}
