//! The SLURM executor: each ready stage is submitted as one job (`sbatch --wrap`) whose command
//! is `pipeline exec-stage KEY` against the same cache, so it commits through the same locked,
//! atomic path as a local run. Jobs are submitted as their inputs complete (see the README for
//! why not all at once with `--dependency=afterok`) and tracked with one `squeue` per interval
//! for all of them, `scontrol show job` when squeue has forgotten one, and the stage's own
//! cache entry as the completion marker.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::events::{ProgressHandle, StageOutcome};
use super::executor::Executor;
use super::job::StageJob;
use crate::cache::{CacheStatus, CacheStore};
use crate::platform::shell_quote;
use crate::spec::executor::ExecutorSpec;

/// How often the queue is asked about the run's jobs (one `squeue` call for all of them).
const POLL: Duration = Duration::from_millis(200);

/// Jobs of one run in the queue at once (each waits in a thread of this process).
pub const SLURM_IN_FLIGHT: usize = 256;

/// Job states after which a job never runs again (`squeue -t all` names).
const FINAL_STATES: &[&str] = &[
    "COMPLETED",
    "FAILED",
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "CANCELLED",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
];

pub struct SlurmExecutor {
    pub store: CacheStore,
    /// The project folder, as the nodes must see it (a shared filesystem).
    pub project: PathBuf,
    /// The `pipeline` binary the jobs run (this one: it must be on the shared filesystem too).
    pub binary: PathBuf,
    pub data_mirror: Option<String>,
    pub settings: ExecutorSpec,
    board: JobBoard,
}

impl SlurmExecutor {
    /// Jobs see the project by its absolute path, the same on the nodes (shared filesystem).
    pub fn new(
        project: &Path,
        settings: ExecutorSpec,
        data_mirror: Option<String>,
    ) -> anyhow::Result<Self> {
        let project = std::path::absolute(project)?;
        Ok(SlurmExecutor {
            store: crate::project::Project::at(&project).store(),
            binary: std::env::current_exe()?,
            data_mirror,
            settings,
            board: JobBoard::default(),
            project,
        })
    }

    /// The job's script: refuse clearly when the node cannot see the project (no shared
    /// filesystem), then run the stage by key.
    pub fn job_script(&self, job: &StageJob, threads: Option<usize>) -> String {
        let bin = shell_quote(&self.binary.to_string_lossy());
        let project = shell_quote(&self.project.to_string_lossy());
        let jobs = shell_quote(&self.store.root.join("jobs").to_string_lossy());
        let mut run = format!("exec {bin} --project {project} exec-stage {}", job.key.0);
        if let Some(t) = threads {
            run.push_str(&format!(" --threads {t}"));
        }
        if let Some(m) = &self.data_mirror {
            run.push_str(&format!(" --data-mirror {}", shell_quote(m)));
        }
        format!(
            "if [ ! -d {jobs} ]; then echo \"pipeline: node $(hostname) cannot see the cache \
             {jobs}: the project, its .pipeline/ cache and results must be on a filesystem \
             shared by the submitting machine and every node\" >&2; exit 2; fi\n\
             if [ ! -x {bin} ]; then echo \"pipeline: node $(hostname) cannot run {bin}: the \
             pipeline binary must be on a filesystem shared with the nodes\" >&2; exit 2; fi\n\
             {run}\n"
        )
    }

    /// `sbatch` arguments for `job`: the spec's `[executor]` settings for its kind, its
    /// cores as `--cpus-per-task`, its GPUs as `--gres=gpu:N`.
    fn sbatch_args(&self, job: &StageJob, log: &Path) -> (Vec<String>, Option<usize>) {
        let r = self.settings.slurm_for(job.def.kind);
        let mut args = vec![
            "--parsable".to_owned(),
            format!("--job-name=pipeline:{}", job.def.name),
            format!("--output={}", log.display()),
            format!("--chdir={}", self.project.display()),
        ];
        for (flag, v) in [
            ("partition", &r.partition),
            ("account", &r.account),
            ("qos", &r.qos),
            ("time", &r.time),
            ("mem", &r.memory),
        ] {
            if let Some(v) = v {
                args.push(format!("--{flag}={v}"));
            }
        }
        let cores = job.def.resources.cores;
        let cpus = r
            .cpus
            .map(|c| c as usize)
            .or((cores != usize::MAX).then_some(cores));
        if let Some(c) = cpus {
            args.push(format!("--cpus-per-task={c}"));
        }
        if job.def.resources.gpus > 0 {
            args.push(format!("--gres=gpu:{}", job.def.resources.gpus));
        }
        (args, cpus)
    }

    fn submit(&self, job: &StageJob) -> Result<(String, PathBuf), String> {
        // What the node's `pipeline exec-stage KEY` runs (and checks against KEY).
        job.save(&self.store)
            .map_err(|e| format!("failed to save the stage's job: {e:#}"))?;
        let dir = self.store.root.join("logs").join("slurm");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("failed to create {}: {e}", dir.display()))?;
        let pattern = job.log_path(&dir).with_extension("%j.log");
        let pattern = dir.join(pattern.file_name().expect("log file name"));
        let (mut args, threads) = self.sbatch_args(job, &pattern);
        args.push(format!("--wrap={}", self.job_script(job, threads)));
        let out = Command::new("sbatch")
            .args(&args)
            .output()
            .map_err(|e| format!("failed to run sbatch ({e}): is SLURM installed here?"))?;
        if !out.status.success() {
            return Err(format!(
                "sbatch refused the job: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        // `--parsable` prints `ID` or `ID;CLUSTER`.
        let id = text.trim().split(';').next().unwrap_or("").to_owned();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("sbatch printed no job id: {text:?}"));
        }
        let log = PathBuf::from(pattern.to_string_lossy().replace("%j", &id));
        Ok((id, log))
    }

    fn outcome_of(
        &self,
        job: &StageJob,
        id: &str,
        state: &str,
        log: PathBuf,
        started: Instant,
    ) -> StageOutcome {
        let cached = matches!(self.store.status(&job.key, false), CacheStatus::Hit);
        if state == "COMPLETED" && cached {
            return StageOutcome::Ran {
                duration: started.elapsed(),
            };
        }
        let error = if state == "COMPLETED" {
            format!("SLURM job {id} COMPLETED but its stage left no cache entry")
        } else {
            format!("SLURM job {id} ended {state}")
        };
        StageOutcome::Failed {
            error,
            log: Some(log),
        }
    }
}

impl Executor for SlurmExecutor {
    fn uses_local_resources(&self) -> bool {
        false
    }

    fn run(&self, job: &StageJob, progress: &ProgressHandle, cancel: &AtomicBool) -> StageOutcome {
        // Another run may have committed it since this one planned: never submit a cached stage.
        if matches!(self.store.status(&job.key, false), CacheStatus::Hit) {
            return StageOutcome::CachedByOther;
        }
        let started = Instant::now();
        let submitted = self.submit(job);
        note_submission(started.elapsed());
        let (id, log) = match submitted {
            Ok(submitted) => submitted,
            Err(error) => return StageOutcome::Failed { error, log: None },
        };
        progress.note(format!("SLURM job {id}"));
        live_jobs().insert(id.clone());
        self.board.watch(&id);
        let outcome = loop {
            if cancel.load(Ordering::Relaxed) {
                scancel(&id);
                break StageOutcome::Cancelled;
            }
            match self.board.state(&id) {
                Some(state) if FINAL_STATES.contains(&state.as_str()) => {
                    break self.outcome_of(job, &id, &state, log, started)
                }
                Some(_) => {}
                None => {
                    // Forgotten by the controller: the cache entry is the completion marker.
                    let state = if matches!(self.store.status(&job.key, false), CacheStatus::Hit) {
                        "COMPLETED"
                    } else {
                        "UNKNOWN (the controller no longer knows it)"
                    };
                    break self.outcome_of(job, &id, state, log, started);
                }
            }
            std::thread::sleep(POLL);
        };
        self.board.forget(&id);
        live_jobs().remove(&id);
        outcome
    }
}

/// How many jobs this process submitted and the time spent submitting them (saving the job,
/// `sbatch`): the executor's own per-stage cost, apart from the cluster's scheduling.
static SUBMISSIONS: Mutex<(u32, Duration)> = Mutex::new((0, Duration::ZERO));

fn note_submission(took: Duration) {
    let mut s = SUBMISSIONS.lock().unwrap_or_else(|e| e.into_inner());
    s.0 += 1;
    s.1 += took;
}

/// "SLURM: N jobs submitted, X ms per submission", when this process submitted any.
pub fn submission_summary() -> Option<String> {
    let (n, total) = *SUBMISSIONS.lock().unwrap_or_else(|e| e.into_inner());
    (n > 0).then(|| {
        let per = total.as_secs_f64() * 1e3 / n as f64;
        format!("SLURM: {n} jobs submitted, {per:.1} ms per submission (job file + sbatch)")
    })
}

fn scancel(id: &str) {
    let _ = Command::new("scancel").arg(id).output();
}

/// This process's jobs still in the queue: an immediate exit (a second Ctrl-C) skips the
/// threads that would cancel them one by one, so it cancels them through this list.
static LIVE_JOBS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn live_jobs() -> std::sync::MutexGuard<'static, BTreeSet<String>> {
    LIVE_JOBS.lock().unwrap_or_else(|e| e.into_inner())
}

/// `scancel`s every job this process submitted that has not ended; for exits that skip the
/// executor's own clean-up.
pub fn cancel_live_jobs() {
    let ids: Vec<String> = live_jobs().iter().cloned().collect();
    if !ids.is_empty() {
        let _ = Command::new("scancel").args(&ids).output();
    }
}

/// The states of this run's jobs, refreshed by one `squeue` call per [`POLL`] for all of them.
#[derive(Default)]
struct JobBoard {
    inner: Mutex<Board>,
}

#[derive(Default)]
struct Board {
    watched: BTreeSet<String>,
    states: HashMap<String, String>,
    fetched: Option<Instant>,
}

impl JobBoard {
    fn watch(&self, id: &str) {
        let mut b = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        b.watched.insert(id.to_owned());
        // A new job is not in the last answer: ask again on the next look.
        b.fetched = None;
    }

    fn forget(&self, id: &str) {
        let mut b = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        b.watched.remove(id);
        b.states.remove(id);
    }

    /// The job's state (`PENDING`, `RUNNING`, `COMPLETED`, …), or `None` when neither squeue
    /// nor scontrol knows the job any more.
    fn state(&self, id: &str) -> Option<String> {
        let mut b = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if b.fetched.is_none_or(|t| t.elapsed() >= POLL) {
            let ids: Vec<&str> = b.watched.iter().map(String::as_str).collect();
            let states = squeue(&ids.join(","));
            b.states = states;
            b.fetched = Some(Instant::now());
        }
        if let Some(s) = b.states.get(id) {
            return Some(s.clone());
        }
        drop(b);
        scontrol_state(id)
    }
}

/// `squeue -t all` for these jobs: id → state. Empty when squeue fails (scontrol is asked then).
fn squeue(ids: &str) -> HashMap<String, String> {
    let out = Command::new("squeue")
        .args(["-h", "-t", "all", "-o", "%i %T", "-j", ids])
        .output();
    let Ok(out) = out else { return HashMap::new() };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (id, state) = l.trim().split_once(' ')?;
            Some((id.to_owned(), state.trim().to_owned()))
        })
        .collect()
}

/// `JobState=` of `scontrol show job -o ID` (works without accounting, until MinJobAge).
fn scontrol_state(id: &str) -> Option<String> {
    let out = Command::new("scontrol")
        .args(["show", "job", "-o", id])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let state = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("JobState="))?;
    Some(state.to_owned())
}

/// Whether a SLURM cluster answers here, or why not (for the tests' skip policy and errors).
pub fn cluster_unavailable() -> Option<String> {
    match Command::new("sinfo").args(["-h", "-o", "%T"]).output() {
        Err(e) => Some(format!("no `sinfo` on PATH ({e}): SLURM is not installed")),
        Ok(o) if !o.status.success() => Some(format!(
            "sinfo failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(o) if String::from_utf8_lossy(&o.stdout).trim().is_empty() => {
            Some("sinfo lists no nodes".into())
        }
        Ok(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_that_cannot_see_the_cache_fails_with_that_message() {
        let gone = std::env::temp_dir().join("pipeline-no-such-project-for-slurm");
        let exec = SlurmExecutor::new(&gone, ExecutorSpec::default(), None).unwrap();
        let job: StageJob = serde_json::from_value(serde_json::json!({
            "def": {"name": "s", "kind": "command", "implementation_version": 1, "params": {},
                    "inputs": {}, "resources": {"cores": 1, "gpus": 0}, "publish": false},
            "key": "0".repeat(64),
            "key_inputs": {"kind": "command", "implementation_version": 1, "params": {}, "inputs": {}}
        }))
        .unwrap_or_else(|e| panic!("job fixture: {e}"));
        let out = Command::new("sh")
            .arg("-c")
            .arg(exec.job_script(&job, None))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("cannot see the cache") && err.contains("shared"),
            "{err}"
        );
    }
}
