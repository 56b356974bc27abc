//! One `pipeline run` (or `plan`) from spec to run record: load, plan, assess, execute, record, publish.

pub mod assess;
mod record;
pub mod timings;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::error::{at_path, UserError};
use crate::exec::RunEnv;
use crate::exec::{self, Event, Limits, LocalExecutor, StageJob};
use crate::plan::{self, StageGraph, StageKind};
use crate::project::Project;
use crate::registry::provenance::{self, GitState};
use crate::registry::{runs, RunRecord, RunStatus, StageRecord, StageState};
use crate::spec::executor::ExecutorKind;
use crate::spec::{self, Spec};
use assess::{assess, Assessment};
use record::{record_and_publish, ReportParts};
use timings::Timings;

pub struct Planned {
    pub spec: Spec,
    pub graph: StageGraph,
    pub assessment: Assessment,
}

/// Loads and validates the spec, builds the graph and checks the cache. Nothing runs.
/// `gpus`: the run's GPU slots (`pipeline run --gpus`), checked against what stages ask for;
/// `timings` gets the phases (`Timings::off()` where nobody asked).
pub fn plan(
    project: &Project,
    spec_path: &Path,
    set: &[String],
    selectors: &[String],
    with_reasons: bool,
    gpus: Option<usize>,
    timings: &mut Timings,
) -> anyhow::Result<Planned> {
    let machine = spec::Machine::from_env(gpus).map_err(UserError::usage)?;
    let spec = spec::load_on(spec_path, set, &machine).map_err(UserError::InvalidSpec)?;
    timings.mark("load spec");
    let graph = plan::build_graph(&spec).map_err(UserError::InvalidSpec)?;
    let roots = plan::select(&graph, selectors).map_err(UserError::usage)?;
    timings.mark("graph and keys");
    let store = project.store();
    // Reasons compare with the last run; reading that record is only worth it when asked.
    let last = if with_reasons {
        last_run(project, &spec.experiment.name)
    } else {
        None
    };
    let assessment = assess(&graph, &roots, &store, last.as_ref());
    timings.mark("cache check");
    Ok(Planned {
        spec,
        graph,
        assessment,
    })
}

impl Planned {
    /// Saves the job of every stage that would run, so each can also be run by key
    /// (`pipeline exec-stage`, as a cluster node does). `pipeline plan` does this; a local run
    /// does not need it (a file per stage is a good part of a trivial stage's cost), and the
    /// SLURM executor saves each job as it submits it.
    pub fn save_jobs(&self, store: &crate::cache::CacheStore) -> anyhow::Result<()> {
        for (i, s) in self.graph.stages.iter().enumerate() {
            if self.assessment.need[i] {
                StageJob::from_planned(s)
                    .save(store)
                    .map_err(|e| at_path(e, "save a stage job in", &store.root.join("jobs")))?;
            }
        }
        Ok(())
    }
}

/// The executor the run uses, with the limits it runs under: SLURM jobs wait in the cluster's
/// queue, not on this machine's cores, so at least `SLURM_IN_FLIGHT` may be in flight.
fn executor_for(
    project: &Project,
    opts: &RunOptions,
    spec: &Spec,
    env: RunEnv,
) -> anyhow::Result<(Box<dyn exec::Executor>, Limits)> {
    Ok(match opts.executor.unwrap_or(spec.executor.kind) {
        ExecutorKind::Local => {
            let store = project.store();
            (
                Box::new(LocalExecutor {
                    runners: crate::stages::RUNNERS,
                    store,
                    env,
                }),
                opts.limits,
            )
        }
        ExecutorKind::Slurm => {
            if let Some(why) = exec::slurm::cluster_unavailable() {
                return Err(UserError::usage(format!(
                    "the slurm executor needs a SLURM cluster reachable from here: {why}"
                ))
                .into());
            }
            let settings = spec.executor.clone();
            let slurm = exec::slurm::SlurmExecutor::new(&project.root, settings, env.data_mirror)?;
            let many = exec::slurm::SLURM_IN_FLIGHT;
            (
                Box::new(slurm),
                Limits {
                    jobs: opts.limits.jobs.max(many),
                    ..opts.limits
                },
            )
        }
    })
}

/// The newest recorded run of `experiment`, found in the run index (one record is parsed).
pub fn last_run(project: &Project, experiment: &str) -> Option<RunRecord> {
    let state = project.state_dir();
    let listing = crate::registry::index::load(&state).ok()?;
    let newest = listing
        .entries
        .iter()
        .rev()
        .find(|e| e.experiment == experiment)?;
    runs::load_id(&state, &newest.id).ok()
}

pub struct RunOptions {
    pub spec: PathBuf,
    pub set: Vec<String>,
    pub selectors: Vec<String>,
    pub limits: Limits,
    pub data_mirror: Option<String>,
    /// None: no display (benchmarks, tests); Some(tty?): bars or lines.
    pub display: Option<bool>,
    /// `--executor`; None: the spec's `[executor] kind` (default local).
    pub executor: Option<ExecutorKind>,
}

pub struct RunReport {
    pub record: RunRecord,
    pub results: PathBuf,
    /// Failed stages: name, error, log file.
    pub failures: Vec<(String, String, Option<PathBuf>)>,
    /// Stages not started because an input failed.
    pub blocked: usize,
    /// Saving the record or publishing the results failed (the record says so where it could).
    pub finish_error: Option<anyhow::Error>,
}

pub fn run(project: &Project, opts: &RunOptions, cancel: &AtomicBool) -> anyhow::Result<RunReport> {
    // The id is taken now, so ids sort by start time whatever order concurrent runs end in.
    let started = chrono::Utc::now();
    let mut timings = Timings::from_env();
    let (run_id, started_at) = (runs::run_id_at(started), started.to_rfc3339());
    let _project_lock = crate::cache::lock::ProjectLock::shared(&project.state_dir())?;
    let gpus = Some(opts.limits.gpus);
    let (path, set, selectors) = (&opts.spec, &opts.set, &opts.selectors);
    let planned = plan(project, path, set, selectors, false, gpus, &mut timings)?;
    let (spec, graph, a) = (&planned.spec, &planned.graph, &planned.assessment);
    let store = project.store();
    let env = RunEnv {
        project: project.root.clone(),
        data_mirror: opts.data_mirror.clone(),
        threads: opts.limits.cores,
    };
    let (executor, limits) = executor_for(project, opts, spec, env)?;
    let (tx, display) = match opts.display {
        Some(tty) => {
            let (tx, rx) = std::sync::mpsc::channel();
            (Some(tx), Some(exec::progress::spawn_display(rx, tty)))
        }
        None => (None, None),
    };
    let to_run = a.need.iter().filter(|&&x| x).count();
    if let Some(tx) = &tx {
        let _ = tx.send(Event::Planned {
            total: graph.len(),
            cached: a.cached.iter().filter(|&&c| c).count(),
            to_run,
        });
    }
    let states = exec::run_stages(
        graph,
        &a.need,
        &a.cached,
        limits,
        executor.as_ref(),
        tx,
        cancel,
    );
    if let Some(d) = display {
        let _ = d.join();
    }
    timings.mark("stages");
    let results_rel = Path::new("results")
        .join(&spec.experiment.name)
        .join(&run_id);
    let mut record = RunRecord {
        format: runs::RUN_RECORD_FORMAT,
        run_id,
        experiment: spec.experiment.name.clone(),
        spec_path: std::path::absolute(&opts.spec)
            .unwrap_or(opts.spec.clone())
            .display()
            .to_string(),
        spec_sha256: crate::data::sha256_hex(spec.text.as_bytes()),
        spec_text: spec.text.clone(),
        overrides: spec.overrides.clone(),
        selectors: opts.selectors.clone(),
        started_at,
        finished_at: String::new(),
        status: RunStatus::Succeeded,
        error: None,
        tool_version: provenance::tool_version(),
        host: crate::platform::hostname(),
        devices: provenance::devices_used(
            graph
                .stages
                .iter()
                .zip(&states)
                .filter(|(_, st)| st.state == StageState::Ran)
                .map(|(s, _)| &s.def),
        ),
        git: GitState::of(&spec.dir),
        results: results_rel.display().to_string(),
        stages: Vec::with_capacity(graph.len()),
    };
    let mut failures = Vec::new();
    let (mut failed, mut blocked, mut interrupted) = (0, 0, false);
    let (mut published, mut trained) = (Vec::new(), Vec::new());
    for (s, st) in graph.stages.iter().zip(&states) {
        let state = st.state;
        let duration_s = st.duration.map(|d| d.as_secs_f64());
        let log = st.log.as_ref().map(|l| l.display().to_string());
        let mut error = st.error.clone();
        match state {
            StageState::Failed => {
                failed += 1;
                let e = error.clone().unwrap_or_default();
                failures.push((s.def.name.clone(), e, st.log.clone()));
            }
            StageState::Blocked => {
                blocked += 1;
                let input = st.failed_input.as_deref().unwrap_or("?");
                error = Some(format!("input `{input}` failed"));
            }
            _ => {}
        }
        interrupted |= matches!(state, StageState::Cancelled | StageState::NotStarted);
        if s.def.publish && state.succeeded() {
            published.push((s.def.name.clone(), store.out_dir(&s.key)));
        }
        if s.def.kind == StageKind::Train && state.succeeded() {
            trained.push((s.def.name.clone(), store.out_dir(&s.key)));
        }
        record.stages.push(StageRecord {
            name: s.def.name.clone(),
            kind: s.def.kind,
            key: s.key.clone(),
            state,
            cache_hit: state == StageState::Cached,
            duration_s,
            error,
            log,
            key_inputs: s.key_inputs.clone(),
        });
    }
    record.status = if interrupted {
        RunStatus::Interrupted
    } else if failed > 0 {
        RunStatus::Failed
    } else {
        RunStatus::Succeeded
    };
    record.finished_at = chrono::Utc::now().to_rfc3339();
    timings.mark("record");
    let report_parts = ReportParts::of(graph, &record, &store);
    let (results, finish_error) = record_and_publish(
        project,
        &mut record,
        &published,
        &trained,
        report_parts,
        &mut timings,
    );
    // Freeing a graph of thousands of stages takes longer than a no-op rerun's bookkeeping:
    // off the path to the summary (a process that exits first leaves it to the kernel).
    // (Should no thread start, the closure and the graph are simply dropped here.)
    let _ = std::thread::Builder::new().spawn(move || drop(planned));
    if let Some(line) = timings.summary() {
        eprintln!("{line}");
    }
    if interrupted {
        return Err(UserError::Interrupted(format!(
            "run {} stopped; completed stages are cached",
            record.run_id
        ))
        .into());
    }
    Ok(RunReport {
        record,
        results,
        failures,
        blocked,
        finish_error,
    })
}
