//! The end of a run: its record saved (after the cache is flushed), its results published, its
//! report written; whatever fails here is recorded, and the run still gets its summary.

use std::path::PathBuf;

use anyhow::Context;

use super::timings::Timings;
use crate::plan::{StageGraph, StageKind};
use crate::project::Project;
use crate::registry::{runs, RunRecord, RunStatus, StageState};

/// The report stage's and the plot stage's output folders, when the report stage succeeded.
pub(super) struct ReportParts {
    report: PathBuf,
    plot: Option<PathBuf>,
}

impl ReportParts {
    pub(super) fn of(
        graph: &StageGraph,
        record: &RunRecord,
        store: &crate::cache::CacheStore,
    ) -> Option<Self> {
        let i = graph
            .index_of_kind(StageKind::Report)
            .filter(|&i| record.stages[i].state.succeeded())?;
        Some(ReportParts {
            report: store.out_dir(&graph.stages[i].key),
            plot: graph
                .index_of_kind(StageKind::Plot)
                .map(|p| store.out_dir(&graph.stages[p].key)),
        })
    }
}

/// Saves the run record, copies results (and the training histories of `trained`, for
/// `compare` after `gc`) and writes the report. Whatever fails here does not end
/// the run without its summary: the error is handed back, and a run whose results could not be
/// published is recorded as failed, with why, in both copies of its record where they can be
/// written.
pub(super) fn record_and_publish(
    project: &Project,
    record: &mut RunRecord,
    published: &[(String, PathBuf)],
    trained: &[(String, PathBuf)],
    report: Option<ReportParts>,
    timings: &mut Timings,
) -> (PathBuf, Option<anyhow::Error>) {
    let state = project.state_dir();
    let dir = runs::results_dir(&project.results_dir(), record);
    // The stages' commits reach the disk before the record that lists them. A run that
    // computed nothing committed nothing to flush (and `syncfs` would wait for whatever else
    // is writing to the file system, a training run's checkpoints or a build).
    let computed = record.stages.iter().any(|s| s.state == StageState::Ran);
    let (flushed, bytes) = std::thread::scope(|scope| {
        let flush = computed.then(|| scope.spawn(|| project.store().sync()));
        // Serialized while the disk flushes: one is CPU, the other waits on the device.
        let bytes = serde_json::to_vec_pretty(&*record);
        let flushed = flush.map_or(Ok(()), |f| {
            f.join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the flush thread panicked")))
        });
        (flushed, bytes)
    });
    timings.mark("flush");
    let saved = match bytes {
        Ok(bytes) => runs::save_serialized(&state, record, bytes),
        Err(e) => Err(e.into()),
    };
    timings.mark("save record");
    let publish = || -> anyhow::Result<()> {
        runs::publish_outputs(&dir, published)?;
        crate::compare::history::write_history(&dir, trained)?;
        if let Some(parts) = &report {
            let dest = dir.join("report.html");
            crate::stages::report::write_run_report(
                record,
                &parts.report,
                parts.plot.as_deref(),
                &dest,
            )
            .with_context(|| format!("failed to write {}", dest.display()))?;
        }
        match &saved {
            Ok(bytes) => runs::publish_record(&dir, record, bytes),
            Err(_) => runs::publish_record(&dir, record, &serde_json::to_vec_pretty(record)?),
        }
    };
    let published = publish().context("failed to publish the run's results");
    timings.mark("publish");
    let flushed = flushed
        .map_err(|e| anyhow::Error::from(crate::error::FsError::new("flush to disk", &state, e)));
    let failure = match (flushed, saved, published) {
        (Ok(()), Ok(_), Ok(())) => return (dir, None),
        (Err(e), _, _) => e,
        (_, Err(e), _) => e.context("failed to save the run record"),
        (_, Ok(_), Err(e)) => e,
    };
    record.status = RunStatus::Failed;
    record.error = Some(format!("{failure:#}"));
    // Best effort: these writes may fail for the same reason.
    if let Ok(bytes) = runs::save(&state, record) {
        let _ = runs::write_atomic(&dir.join("run.json"), &bytes);
    }
    (dir, Some(failure))
}
