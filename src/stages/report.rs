//! The `report` stage: the comparison table of every sweep member (Markdown, CSV, Parquet),
//! seeds aggregated as mean ± sd and a latent × β pivot; and the per-run HTML report, written
//! when a run's results are published (it shows that run's timings and cache hits).

use std::path::Path;

use anyhow::Context;

use serde::{Deserialize, Serialize};

use super::evaluate::{EvalMetrics, METRICS_FILE};
use super::{StageContext, StageImpl};
use crate::plan::Input;
use crate::report::{ReportFigure, ReportInput, ReportSection, ReportTable, StageTiming};
use crate::spec::MemberRow;
use crate::tables::{self, Row, Value};

pub struct ReportStage;

/// The cached part of the report (tables, embedded figures). The spec text, run timings and
/// cache hits differ per run, so they are added when the run's results are published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportParams {
    pub members: Vec<MemberRow>,
}

/// Metric columns, in table order.
const METRICS: &[&str] = &[
    "recon_bce",
    "recon_mse",
    "kl",
    "elbo",
    "nll_iwae",
    "active_units",
    "knn_accuracy",
    "probe_accuracy",
    "anomaly_auroc",
    "mig",
    "pca_mse",
    "linear_ae_mse",
];

fn value_of(text: &str) -> Value {
    text.parse::<i64>()
        .map(Value::Int)
        .or_else(|_| text.parse::<f64>().map(Value::Float))
        .unwrap_or_else(|_| Value::Str(text.to_owned()))
}

fn row(label: &str, sweep: &std::collections::BTreeMap<String, String>, m: &EvalMetrics) -> Row {
    let mut r = Row::new();
    r.insert("run".into(), Value::Str(label.to_owned()));
    for (k, v) in sweep {
        r.insert(k.clone(), value_of(v));
    }
    let mut put = |k: &str, v: Option<f64>| {
        if let Some(v) = v {
            r.insert(k.to_owned(), Value::Float(v));
        }
    };
    put("recon_bce", Some(m.recon_bce));
    put("recon_mse", Some(m.recon_mse));
    put("kl", Some(m.kl));
    put("elbo", Some(m.elbo));
    put("nll_iwae", m.iwae.iter().next_back().map(|(_, b)| -b));
    put("active_units", Some(m.active_units as f64));
    put("knn_accuracy", m.knn_accuracy);
    put("probe_accuracy", m.probe_accuracy);
    put("anomaly_auroc", m.anomaly_auroc);
    put("mig", m.mig);
    put("pca_mse", m.pca_mse);
    put("linear_ae_mse", m.linear_ae_mse);
    r
}

fn write_all(df: &polars::prelude::DataFrame, out: &Path, name: &str) -> anyhow::Result<()> {
    std::fs::write(out.join(format!("{name}.md")), tables::to_markdown(df)?)?;
    tables::write_csv(df, &out.join(format!("{name}.csv")))?;
    tables::write_parquet(df, &out.join(format!("{name}.parquet")))?;
    Ok(())
}

impl StageImpl for ReportStage {
    const IMPLEMENTATION_VERSION: u32 = 1;
    type Params = ReportParams;
    type Context = ();

    fn run(ctx: &StageContext, p: ReportParams, (): ()) -> anyhow::Result<()> {
        let mut rows = Vec::new();
        for m in &p.members {
            let dir = ctx.input(Input::Evaluate(&m.label))?;
            let metrics: EvalMetrics =
                serde_json::from_slice(&std::fs::read(dir.join(METRICS_FILE))?)
                    .with_context(|| format!("failed to read the evaluation of {}", m.label))?;
            rows.push(row(&m.label, &m.sweep_values, &metrics));
        }
        let present: Vec<&str> = METRICS
            .iter()
            .copied()
            .filter(|k| rows.iter().any(|r| r.contains_key(*k)))
            .collect();
        let leading = ["run", "variant", "latent_dim", "beta", "seed"];
        write_all(
            &tables::rows_to_dataframe(&rows, &leading)?,
            ctx.out,
            "comparison",
        )?;
        if rows.iter().any(|r| r.contains_key("seed")) {
            let without_run: Vec<Row> = rows
                .iter()
                .map(|r| {
                    r.iter()
                        .filter(|(k, _)| *k != "run")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .collect();
            let agg = tables::aggregate_seeds(&without_run, "seed", &present)?;
            write_all(&agg, ctx.out, "comparison_by_seed")?;
            std::fs::write(
                ctx.out.join("comparison_by_seed_mean_sd.md"),
                tables::to_markdown(&tables::with_mean_sd(&agg)?)?,
            )?;
        }
        let vae_rows: Vec<Row> = rows
            .iter()
            .filter(|r| {
                r.get("variant") == Some(&Value::Str("vae".into()))
                    && r.contains_key("beta")
                    && r.contains_key("latent_dim")
            })
            .cloned()
            .collect();
        if vae_rows.len() > 1 {
            let df = tables::rows_to_dataframe(&vae_rows, &leading)?;
            for metric in ["elbo", "kl", "recon_bce"] {
                let pivot = tables::pivot(&df, "latent_dim", "beta", metric)?;
                write_all(&pivot, ctx.out, &format!("pivot_{metric}_latent_x_beta"))?;
            }
        }
        Ok(())
    }
}

/// Heading and caption of each figure the plot stage may draw, in report order.
const FIGURES: &[(&str, &str, &str)] = &[
    (
        "prior_samples",
        "Samples from the prior",
        "Samples from the prior for each latent size (Kingma & Welling, Fig. 5).",
    ),
    (
        "reconstructions",
        "Reconstructions",
        "Test images and their reconstructions: the latent size sets the quality.",
    ),
    (
        "latent_scatter",
        "2-D latent space",
        "2-D latent codes of the test set, coloured by class: AE vs VAE.",
    ),
    (
        "manifold",
        "Learned manifold",
        "The learned 2-D manifold: decoder means over an inverse-Gaussian-CDF grid (K&W, Fig. 4).",
    ),
    (
        "traversals",
        "Latent traversals",
        "Latent traversals: one unit varied at a time, the others kept at one test image's code; one panel per β.",
    ),
    (
        "rate_distortion",
        "Rate–distortion",
        "Rate (KL) vs distortion (reconstruction) across β, one curve per latent size; the marker shape gives β.",
    ),
    (
        "metric_vs_latent",
        "AE vs VAE by latent size",
        "Reconstruction, ELBO and probe accuracy against latent size, AE vs VAE.",
    ),
    (
        "training_curves",
        "Training curves",
        "Training and validation loss per epoch.",
    ),
    (
        "denoising",
        "Denoising",
        "Denoising autoencoder: corrupted inputs, the clean originals, and the reconstructions.",
    ),
    (
        "linear_vs_pca",
        "Linear AE vs PCA",
        "A linear autoencoder trained on squared error spans the PCA subspace: equal error, small principal angles.",
    ),
    (
        "anomaly_roc",
        "Anomaly detection",
        "ROC curves of anomaly detection by reconstruction error / −ELBO.",
    ),
];

/// The figures present in `plots`, in report order: the fixed list, then one anomaly-score
/// histogram per run (their names carry the run label).
fn report_figures(plots: &Path) -> anyhow::Result<Vec<(String, String, std::path::PathBuf)>> {
    let mut found = Vec::new();
    for (name, heading, caption) in FIGURES {
        let png = plots.join(format!("{name}.png"));
        if png.exists() {
            found.push((heading.to_string(), caption.to_string(), png));
        }
    }
    let mut scores: Vec<std::path::PathBuf> = std::fs::read_dir(plots)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("anomaly_scores_") && name.ends_with(".png")
        })
        .collect();
    scores.sort();
    for png in scores {
        let stem = png.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let run = stem.trim_start_matches("anomaly_scores_").to_string();
        found.push((
            format!("Anomaly scores: {run}"),
            format!("Anomaly scores of {run} on normal and anomalous test images."),
            png,
        ));
    }
    Ok(found)
}

/// The run's self-contained HTML report: figures, tables, the spec, stage timings, versions.
pub fn write_run_report(
    record: &crate::registry::RunRecord,
    report_out: &Path,
    plot_out: Option<&Path>,
    dest: &Path,
) -> anyhow::Result<()> {
    let mut sections = Vec::new();
    let mut tables_section = ReportSection {
        heading: "Comparison of sweep members".into(),
        ..Default::default()
    };
    for (file, caption) in [
        ("comparison.csv", "Every sweep member (test split)."),
        ("comparison_by_seed.csv", "Seeds aggregated: mean and sd."),
        (
            "pivot_elbo_latent_x_beta.csv",
            "ELBO of the VAEs: latent size × β.",
        ),
    ] {
        let path = report_out.join(file);
        if path.exists() {
            tables_section.tables.push(ReportTable {
                caption: caption.into(),
                table: tables::read_csv(&path)?,
            });
        }
    }
    sections.push(tables_section);
    if let Some(plots) = plot_out {
        for (heading, caption, png) in report_figures(plots)? {
            sections.push(ReportSection {
                heading,
                figures: vec![ReportFigure { caption, png }],
                ..Default::default()
            });
        }
    }
    let input = ReportInput {
        title: format!("{} — run {}", record.experiment, record.run_id),
        subtitle: format!(
            "spec {} · {} · status {}",
            record.spec_path, record.finished_at, record.status
        ),
        spec_text: record.spec_text.clone(),
        sections,
        stage_timings: record
            .stages
            .iter()
            .map(|s| StageTiming {
                stage: s.name.clone(),
                key: s.key.short().to_owned(),
                seconds: s.duration_s.unwrap_or(0.0),
                cache_hit: s.state == "cached",
            })
            .collect(),
        versions: vec![("pipeline".into(), env!("CARGO_PKG_VERSION").into())],
    };
    crate::report::write_report(dest, &input)
}
