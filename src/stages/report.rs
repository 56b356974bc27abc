//! The `report` stage: the comparison tables of the sweep (Markdown, CSV, Parquet; see
//! `report::comparison`) and the view the HTML report shows of them; and the per-run HTML
//! report, written when a run's results are published (it shows that run's timings and cache
//! hits).

use std::path::Path;

use anyhow::Context;

use serde::{Deserialize, Serialize};

use super::evaluate::{EvalMetrics, METRICS_FILE};
use super::{StageContext, StageImpl};
use crate::plan::Input;
use crate::spec::MemberRow;
use crate::report::{
    compare, notices_section, MemberResult, ReportFigure, ReportInput, ReportSection, ReportTable,
    ReportView, StageTiming, VIEW_FILE,
};
use crate::tables;

pub struct ReportStage;

/// The cached part of the report (tables, embedded figures). The spec text, run timings and
/// cache hits differ per run, so they are added when the run's results are published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportParams {
    pub members: Vec<MemberRow>,
    /// `[evaluate] iwae_images`, which the tables name; left out at its default.
    #[serde(
        default = "crate::metrics::default_iwae_images",
        skip_serializing_if = "crate::metrics::is_default_iwae_images"
    )]
    pub iwae_images: usize,
}

impl StageImpl for ReportStage {
    // 2: tables named for what they measure, mean ± sd per seed, report_view.json.
    const IMPLEMENTATION_VERSION: u32 = 2;
    type Params = ReportParams;
    type Context = ();

    fn run(ctx: &StageContext, p: ReportParams, (): ()) -> anyhow::Result<()> {
        let mut members = Vec::new();
        for m in &p.members {
            let dir = ctx.input(Input::Evaluate(&m.label))?;
            let metrics: EvalMetrics =
                serde_json::from_slice(&std::fs::read(dir.join(METRICS_FILE))?)
                    .with_context(|| format!("failed to read the evaluation of {}", m.label))?;
            members.push(MemberResult {
                label: m.label.clone(),
                sweep: m.sweep_values.clone(),
                metrics,
            });
        }
        let (tables, view) = compare(&members, p.iwae_images)?;
        for t in &tables {
            let name = &t.view.name;
            std::fs::write(ctx.out.join(format!("{name}.md")), t.view.to_markdown()?)?;
            tables::write_csv(&t.data, &ctx.out.join(format!("{name}.csv")))?;
            tables::write_parquet(&t.data, &ctx.out.join(format!("{name}.parquet")))?;
        }
        for notice in &view.notices {
            ctx.progress.note(notice.clone());
            ctx.log.line(format!("notice: {notice}"));
        }
        std::fs::write(ctx.out.join(VIEW_FILE), serde_json::to_vec_pretty(&view)?)?;
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
    let view = ReportView::read(report_out)?;
    let mut sections: Vec<ReportSection> = notices_section(&view.notices).into_iter().collect();
    let mut tables_section = ReportSection {
        heading: "Comparison of sweep members".into(),
        ..Default::default()
    };
    for table in &view.tables {
        tables_section.tables.push(ReportTable {
            caption: table.caption_with_legend(),
            table: table.to_dataframe()?,
        });
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
