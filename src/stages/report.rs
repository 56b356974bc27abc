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
use crate::report::{
    compare, notices, notices_section, MemberResult, Notice, NoticeKind, ReportInput,
    ReportSection, ReportTable, ReportView, StageTiming, VIEW_FILE,
};
use crate::spec::MemberRow;
use crate::tables;

pub struct ReportStage;

/// The cached part of the report (tables, embedded figures). The spec text, run timings and
/// cache hits differ per run, so they are added when the run's results are published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportParams {
    pub members: Vec<MemberRow>,
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
        let (tables, view) = compare(&members)?;
        for t in &tables {
            let name = &t.view.name;
            std::fs::write(ctx.out.join(format!("{name}.md")), t.view.to_markdown()?)?;
            tables::write_csv(&t.data, &ctx.out.join(format!("{name}.csv")))?;
            tables::write_parquet(&t.data, &ctx.out.join(format!("{name}.parquet")))?;
        }
        // Written like the plot stage's, so the run summary prints them on every run, cached
        // or not.
        let notes: Vec<Notice> = view
            .notices
            .iter()
            .map(|n| Notice {
                kind: NoticeKind::Skipped,
                subject: "table".into(),
                message: n.clone(),
            })
            .collect();
        for n in &notes {
            ctx.log.line(n.to_string());
        }
        notices::write(ctx.out, &notes)?;
        std::fs::write(ctx.out.join(VIEW_FILE), serde_json::to_vec_pretty(&view)?)?;
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
                cache_hit: s.cache_hit,
            })
            .collect(),
        versions: vec![("pipeline".into(), env!("CARGO_PKG_VERSION").into())],
    };
    crate::report::write_report(dest, &input)
}
