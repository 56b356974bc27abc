//! `pipeline exec-stage`, `verify` and `gc`: running one stage by key, and store upkeep.

use std::collections::{BTreeMap, HashSet};

use crate::cache::{gc, CacheStatus};
use crate::error::UserError;
use crate::exec::RunEnv;
use crate::exec::{run_stage::execute_stage, Event, ProgressHandle, StageJob, StageOutcome};
use crate::plan::StageKey;
use crate::project::Project;
use crate::registry::runs;

pub fn exec_stage(
    project: &Project,
    key: &str,
    data_mirror: Option<String>,
    threads: Option<usize>,
) -> anyhow::Result<()> {
    if !StageKey::is_valid(key) {
        return Err(UserError::usage(format!(
            "`{key}` is not a stage key (64 lowercase hex digits; see `pipeline plan --json`)"
        ))
        .into());
    }
    let store = project.store();
    let job = StageJob::load(&store, &StageKey(key.to_owned()))?;
    let env = RunEnv {
        project: project.root.clone(),
        data_mirror,
        threads: threads.unwrap_or_else(super::run::default_parallelism),
    };
    let cancel = super::run::install_cancel_handler();
    let (tx, rx) = std::sync::mpsc::channel();
    let display = crate::exec::progress::spawn_display(rx, false);
    let progress = ProgressHandle::new(&job.def.name, Some(tx.clone()));
    progress.send(Event::Planned {
        total: 1,
        cached: 0,
        to_run: 1,
    });
    progress.send(Event::Started {
        stage: job.def.name.clone(),
    });
    let outcome = execute_stage(
        &job,
        crate::stages::RUNNERS,
        &store,
        &env,
        &progress,
        &cancel,
    );
    let _ = tx.send(Event::Finished {
        stage: job.def.name.clone(),
        outcome: outcome.clone(),
    });
    drop((tx, progress));
    let _ = display.join();
    // What the node committed is on disk before the job counts as done.
    if matches!(outcome, StageOutcome::Ran { .. }) {
        store
            .sync()
            .map_err(|e| crate::error::FsError::new("flush to disk", &store.root, e))?;
    }
    match outcome {
        StageOutcome::Ran { .. } | StageOutcome::CachedByOther => Ok(()),
        StageOutcome::Cancelled => {
            Err(UserError::Interrupted(format!("stage {} cancelled", job.def.name)).into())
        }
        StageOutcome::Failed { log, .. } => {
            // On a cluster node this output is the job's log: show why, not only that.
            if let Some(log) = log.filter(|l| l.is_file()) {
                eprintln!("stage log {}:", log.display());
                for line in crate::exec::StageLog::tail(&log, 8).lines() {
                    eprintln!("  | {line}");
                }
            }
            Err(UserError::StagesFailed {
                failed: 1,
                blocked: 0,
            }
            .into())
        }
    }
}

/// Re-hashes every entry; a corrupt one is moved to `trash/`, so the next run recomputes it
/// even when its mtime was put back (a reuse only re-hashes files whose mtime moved).
pub fn verify(project: &Project) -> anyhow::Result<()> {
    let store = project.store();
    if !store.root.is_dir() {
        return Err(UserError::usage(format!(
            "{} does not exist: nothing has run in this project (is {} the project folder? \
             pass --project DIR)",
            store.root.display(),
            project.root.display()
        ))
        .into());
    }
    // Moving entries while a run reads them would fail that run: only without one.
    let guard = crate::cache::lock::ProjectLock::exclusive(&store.root)?;
    let keys: Vec<StageKey> = std::fs::read_dir(store.root.join("cache"))
        .map(|rd| rd.flatten().collect::<Vec<_>>())
        .unwrap_or_default()
        .iter()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| StageKey::is_valid(name))
        .map(StageKey)
        .collect();
    let mut bad = 0;
    for key in &keys {
        let CacheStatus::Corrupt(why) = store.status(key, true) else {
            continue;
        };
        bad += 1;
        if guard.is_none() {
            println!("corrupt {}: {why}", key.short());
            continue;
        }
        let moved = store.quarantine(key)?;
        println!(
            "corrupt {}: {why}; moved to {}",
            key.short(),
            moved.display()
        );
    }
    let fate = if guard.is_some() {
        "moved aside; the next run that needs one recomputes it"
    } else {
        "not moved, because a `pipeline run` is in progress: rerun verify when it is done"
    };
    println!("{} entries checked, {bad} corrupt ({fate})", keys.len());
    if bad > 0 {
        return Err(UserError::usage(format!("{bad} corrupt cache entries")).into());
    }
    Ok(())
}

pub fn gc(project: &Project, keep_runs: usize, dry_run: bool) -> anyhow::Result<()> {
    let state = project.state_dir();
    let _guard = crate::cache::lock::ProjectLock::exclusive(&state)?.ok_or_else(|| {
        UserError::usage("a `pipeline run` is in progress in this project; run gc when it is done")
    })?;
    let all = runs::RunRecords::load(&state);
    if !all.unreadable.is_empty() {
        // An unreadable record may name entries that must be kept: remove nothing.
        return Err(UserError::usage(format!(
            "gc removed nothing: it cannot tell which cache entries an unreadable run record \
             keeps\n{}",
            all.describe_unreadable().trim_end()
        ))
        .into());
    }
    let mut per_experiment: BTreeMap<String, usize> = BTreeMap::new();
    let mut keep: HashSet<StageKey> = HashSet::new();
    for r in &all.records {
        let n = per_experiment.entry(r.experiment.clone()).or_insert(0);
        *n += 1;
        if *n <= keep_runs {
            keep.extend(r.stages.iter().map(|s| s.key.clone()));
        }
    }
    let report = gc::collect(&project.store(), &keep, dry_run)?;
    println!(
        "{}{} cache entries removed, {} kept, {} temp folders and {} quarantined entries removed, {:.1} MB freed",
        if dry_run { "(dry run) " } else { "" },
        report.entries_removed,
        report.entries_kept,
        report.temp_removed,
        report.trash_removed,
        report.bytes_freed as f64 / 1e6
    );
    if report.old_locks_removed > 0 {
        println!(
            "{} lock files of an earlier version removed (locks are now 256 shared files)",
            report.old_locks_removed
        );
    }
    Ok(())
}
