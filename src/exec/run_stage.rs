//! Running one stage by key against the cache: lock, re-check, compute into a temp folder, commit.
//!
//! Every executor ends up here (in-process, or `pipeline exec-stage` on a cluster node), so there
//! is one commit path and one set of guarantees: nothing half-written is ever in the cache.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::context::{RunEnv, Runners, StageContext, StageLog};
use super::events::{ProgressHandle, StageOutcome};
use super::job::StageJob;
use crate::cache::{CacheStatus, CacheStore, LockWait, Manifest, StageLock};
use crate::error::FsContext;

pub fn execute_stage(
    job: &StageJob,
    runners: Runners,
    store: &CacheStore,
    env: &RunEnv,
    progress: &ProgressHandle,
    cancel: &AtomicBool,
) -> StageOutcome {
    match execute_inner(job, runners, store, env, progress, cancel) {
        Ok(outcome) => outcome,
        Err(e) if cancel.load(Ordering::Relaxed) => {
            let _ = e;
            StageOutcome::Cancelled
        }
        Err(e) => StageOutcome::Failed {
            error: format!("{e:#}"),
            log: Some(job.log_path(&store.root)),
        },
    }
}

fn execute_inner(
    job: &StageJob,
    runners: Runners,
    store: &CacheStore,
    env: &RunEnv,
    progress: &ProgressHandle,
    cancel: &AtomicBool,
) -> anyhow::Result<StageOutcome> {
    let (_lock, wait) = StageLock::acquire(&store.locks_dir(), &job.key.0, |holder| {
        let holder = if holder.is_empty() {
            "holder unknown"
        } else {
            holder
        };
        progress.note(format!("waiting for another run computing it ({holder})"));
    })?;
    if let LockWait::TookOverStale { holder } = &wait {
        progress.note(format!(
            "took over a stale lock left by a killed process ({holder})"
        ));
    }
    match store.status(&job.key, false) {
        CacheStatus::Hit => return Ok(StageOutcome::CachedByOther),
        CacheStatus::Corrupt(reason) => {
            let moved = store.quarantine(&job.key)?;
            progress.note(format!(
                "cache entry was corrupt ({reason}); moved to {} and recomputing",
                moved.display()
            ));
        }
        CacheStatus::Miss => {}
    }
    let mut inputs = std::collections::BTreeMap::new();
    for (name, key) in &job.key_inputs.inputs {
        let dir = store.out_dir(key);
        anyhow::ensure!(
            dir.is_dir(),
            "input `{name}` ({}) is not in the cache",
            key.short()
        );
        inputs.insert(name.clone(), dir);
    }
    let temp = store.begin(&job.key)?;
    // Not created here: only resumable stages use it (they create it), and a folder made and
    // removed for every stage costs more than a trivial stage itself.
    let scratch = store.scratch_dir(&job.key);
    let log_path = job.log_path(&store.root);
    let log = StageLog::create(&log_path).fs("create", &log_path)?;
    log.line(format!(
        "# stage {} ({}) key {}",
        job.def.name, job.def.kind, job.key
    ));
    let out = temp.out_dir();
    let ctx = StageContext {
        job,
        env,
        inputs,
        out: &out,
        scratch: &scratch,
        log: &log,
        threads: job.def.resources.cores.min(env.threads).max(1),
        progress,
        cancel,
    };
    let started = Instant::now();
    let result = runners.get(job.def.kind).run(&ctx);
    if cancel.load(Ordering::Relaxed) {
        log.line("# cancelled");
        return Ok(StageOutcome::Cancelled);
    }
    if let Err(e) = result {
        log.line(format!("# failed: {e:#}"));
        return Err(e);
    }
    let duration = started.elapsed();
    let manifest = Manifest {
        format: crate::cache::manifest::MANIFEST_FORMAT,
        key: job.key.clone(),
        stage: job.def.name.clone(),
        key_inputs: job.key_inputs.clone(),
        outputs: crate::cache::manifest::describe_outputs(&out)?,
        duration_s: duration.as_secs_f64(),
        created_at: chrono::Utc::now().to_rfc3339(),
        pipeline_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    log.line(format!("# done in {:.2}s", duration.as_secs_f64()));
    store.commit(temp, &manifest)?;
    Ok(StageOutcome::Ran { duration })
}
