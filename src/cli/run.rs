//! `pipeline run`: execute a spec, then summarise what ran, what was reused and what failed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::args::{ExecutorArg, ProgressMode, SpecArgs};
use crate::error::UserError;
use crate::exec::Limits;
use crate::exec::StageLog;
use crate::project::Project;
use crate::registry::StageState;
use crate::spec::executor::ExecutorKind;
use crate::workflow::{self, RunOptions};

pub fn default_parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Ctrl-C (and SIGTERM) set this flag: no new stage starts, running ones are stopped.
pub fn install_cancel_handler() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            // Exiting skips destructors: remove the running stages' temp folders first.
            crate::cache::store::remove_live_temp_dirs();
            crate::exec::slurm::cancel_live_jobs();
            std::process::exit(crate::error::exit::INTERRUPTED);
        }
        eprintln!("\ninterrupt: stopping running stages (press Ctrl-C again to exit at once)");
    });
    cancel
}

/// `--jobs`, `--cores`, `--gpus` with their defaults (jobs and cores: this machine's cores).
pub fn limits(jobs: Option<usize>, cores: Option<usize>, gpus: usize) -> Limits {
    let cores = cores.unwrap_or_else(default_parallelism).max(1);
    Limits {
        jobs: jobs.unwrap_or(cores).max(1),
        cores,
        gpus,
    }
}

pub fn run(
    project: &Project,
    spec: SpecArgs,
    limits: Limits,
    data_mirror: Option<String>,
    progress: ProgressMode,
    executor: Option<ExecutorArg>,
) -> anyhow::Result<()> {
    let opts = RunOptions {
        spec: spec.spec,
        set: spec.set,
        selectors: spec.stages,
        limits,
        data_mirror,
        display: match progress {
            ProgressMode::Auto => Some(crate::exec::progress::stderr_is_tty()),
            ProgressMode::Bars => Some(true),
            ProgressMode::Plain => Some(false),
            ProgressMode::None => None,
        },
        executor: executor.map(|e| match e {
            ExecutorArg::Local => ExecutorKind::Local,
            ExecutorArg::Slurm => ExecutorKind::Slurm,
        }),
    };
    let cancel = install_cancel_handler();
    let report = workflow::run(project, &opts, &cancel)?;
    eprintln!(
        "run {}: {} ran, {} cached, {} failed, {} blocked",
        report.record.run_id,
        report.record.count(StageState::Ran),
        report.record.count(StageState::Cached),
        report.failures.len(),
        report.blocked
    );
    if let Some(summary) = crate::exec::slurm::submission_summary() {
        eprintln!("{summary}");
    }
    match &report.finish_error {
        None => eprintln!("results: {}", report.results.display()),
        Some(_) => eprintln!(
            "results: {} (incomplete: see the error below)",
            report.results.display()
        ),
    }
    // Also for cached stages: a figure or table left out is news on every run, not just the
    // first.
    for (stage, notice) in crate::report::notices::read_published(&report.results) {
        eprintln!("note ({stage}): {notice}");
    }
    if !report.failures.is_empty() {
        eprintln!("\nfailed stages:");
    }
    for (name, error, log) in &report.failures {
        eprintln!("  ✗ {name}: {error}");
        // A stage that failed before its log could be written has none to show.
        if let Some(log) = log.as_ref().filter(|l| l.is_file()) {
            eprintln!("    log: {}", log.display());
            for line in StageLog::tail(log, 10).lines() {
                eprintln!("    | {line}");
            }
        }
    }
    if report.finish_error.is_some() || !report.failures.is_empty() {
        if let Some(note) = project.low_space_note() {
            eprintln!("\n{note}");
        }
    }
    let stages_failed = (!report.failures.is_empty()).then(|| UserError::StagesFailed {
        failed: report.failures.len(),
        blocked: report.blocked,
    });
    match (report.finish_error, stages_failed) {
        (None, None) => Ok(()),
        (Some(e), None) => Err(e),
        (None, Some(stages)) => Err(stages.into()),
        (Some(e), Some(stages)) => {
            eprint!("\n{}", crate::error::ErrorReport(&e));
            Err(stages.into())
        }
    }
}
