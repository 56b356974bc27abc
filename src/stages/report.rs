//! The `report` stage: the comparison table of every sweep member (Markdown, CSV, Parquet),
//! seeds aggregated as mean ± sd and a latent × β pivot; and the per-run HTML report, written
//! when a run's results are published (it shows that run's timings and cache hits).

use std::path::Path;

use anyhow::Context;

use super::evaluate::EvalMetrics;
use super::{StageContext, StageRunner};
use crate::plan::params::ReportParams;
use crate::report::{ReportInput, ReportSection, ReportTable, StageTiming};
use crate::tables::{self, Row, Value};

pub struct ReportRunner;

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

impl StageRunner for ReportRunner {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()> {
        let p: ReportParams = ctx.params()?;
        let mut rows = Vec::new();
        for m in &p.members {
            let dir = ctx.input(&format!("evaluate:{}", m.label))?;
            let metrics: EvalMetrics =
                serde_json::from_slice(&std::fs::read(dir.join("metrics.json"))?)
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
        sections.extend(super::plot::report_sections(plots)?);
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
