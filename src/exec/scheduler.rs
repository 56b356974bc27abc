//! The local scheduler: runs needed stages as their inputs complete, within job/core/GPU limits.
//! A failure stops the stages that read it (transitively) and lets independent ones finish.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;

use super::events::{Event, ProgressHandle, StageOutcome};
use super::executor::Executor;
use super::job::StageJob;
use super::state::{StageResult, StageState};
use crate::plan::StageGraph;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Stages running at once.
    pub jobs: usize,
    /// Cores shared by running stages (a stage asks for `resources.cores`).
    pub cores: usize,
    /// GPU slots; a stage asking for more than this fails at once.
    pub gpus: usize,
}

/// Runs every stage with `need[i]`; stages not needed must already be cached (`cached[i]`).
pub fn run_stages(
    graph: &StageGraph,
    need: &[bool],
    cached: &[bool],
    limits: Limits,
    executor: &dyn Executor,
    events: Option<Sender<Event>>,
    cancel: &AtomicBool,
) -> Vec<StageResult> {
    let n = graph.len();
    let mut state: Vec<StageResult> = (0..n)
        .map(|i| {
            StageResult::of(if cached[i] {
                StageState::Cached
            } else {
                StageState::Skipped
            })
        })
        .collect();
    let dependents = graph.dependents();
    let mut waiting_on: Vec<usize> = (0..n)
        .map(|i| graph.stages[i].deps.iter().filter(|&&d| need[d]).count())
        .collect();
    let mut ready: Vec<usize> = (0..n).filter(|&i| need[i] && waiting_on[i] == 0).collect();
    for i in 0..n {
        if need[i] {
            state[i] = StageResult::of(StageState::NotStarted);
        }
    }
    let (done_tx, done_rx) = channel::<(usize, StageOutcome)>();
    let (work_tx, work_rx) = channel::<(usize, StageJob, ProgressHandle)>();
    let work_rx = Mutex::new(work_rx);
    let (mut running, mut cores_used, mut gpus_used) = (0usize, 0usize, 0usize);
    // A fixed pool of workers, not a thread per stage: starting a thread costs about as much
    // as a trivial stage's own work.
    let workers = limits.jobs.max(1).min(need.iter().filter(|&&x| x).count());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (work_rx, done_tx) = (&work_rx, done_tx.clone());
            scope.spawn(move || loop {
                let next = work_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok((i, job, progress)) = next else { break };
                progress.send(Event::Started {
                    stage: job.def.name.clone(),
                });
                let outcome = executor.run(&job, &progress, cancel);
                let _ = done_tx.send((i, outcome));
            });
        }
        loop {
            // Launch in plan order whatever fits; an oversized stage runs alone.
            let mut k = 0;
            while k < ready.len() && !cancel.load(Ordering::Relaxed) && running < limits.jobs.max(1)
            {
                let i = ready[k];
                let res = cost(graph.stages[i].def.resources, limits, executor);
                if res.gpus > limits.gpus {
                    ready.remove(k);
                    let error = format!(
                        "needs {} GPU slot(s) but this run has {} (pass --gpus N)",
                        res.gpus, limits.gpus
                    );
                    let outcome = StageOutcome::Failed { error, log: None };
                    if let Some(tx) = &events {
                        let _ = tx.send(Event::Finished {
                            stage: graph.stages[i].def.name.clone(),
                            outcome: outcome.clone(),
                        });
                    }
                    block_dependents(graph, &dependents, need, i, &mut state);
                    state[i] = StageResult::from(outcome);
                    continue;
                }
                let fits = (cores_used + res.cores <= limits.cores || running == 0)
                    && gpus_used + res.gpus <= limits.gpus;
                if !fits {
                    k += 1;
                    continue;
                }
                ready.remove(k);
                running += 1;
                cores_used += res.cores;
                gpus_used += res.gpus;
                let job = StageJob::from_planned(&graph.stages[i]);
                let progress = ProgressHandle::new(&job.def.name, events.clone());
                let _ = work_tx.send((i, job, progress));
            }
            if running == 0 {
                // No worker has anything left to do: closing the queue lets them leave.
                drop(work_tx);
                break;
            }
            let (i, outcome) = done_rx.recv().expect("workers hold a sender");
            running -= 1;
            let res = cost(graph.stages[i].def.resources, limits, executor);
            cores_used -= res.cores;
            gpus_used -= res.gpus;
            if let Some(tx) = &events {
                let _ = tx.send(Event::Finished {
                    stage: graph.stages[i].def.name.clone(),
                    outcome: outcome.clone(),
                });
            }
            if outcome.succeeded() {
                for &j in &dependents[i] {
                    if need[j] && state[j].state == StageState::NotStarted {
                        waiting_on[j] -= 1;
                        if waiting_on[j] == 0 {
                            ready.push(j);
                        }
                    }
                }
                ready.sort_unstable();
            } else if !matches!(outcome, StageOutcome::Cancelled) {
                block_dependents(graph, &dependents, need, i, &mut state);
            }
            state[i] = StageResult::from(outcome);
        }
    });
    // No stage runs any more: the command stages' watcher can go.
    super::process_group::release();
    state
}

/// What a running stage takes of the run's cores and GPU slots. A stage may ask for more cores
/// than the run has (`usize::MAX` = all of them): it gets all. Stages of an executor that runs
/// them elsewhere (a cluster) take nothing here: the cluster allots its own.
fn cost(
    mut r: crate::plan::Resources,
    limits: Limits,
    executor: &dyn Executor,
) -> crate::plan::Resources {
    if !executor.uses_local_resources() {
        return crate::plan::Resources { cores: 0, gpus: 0 };
    }
    r.cores = r.cores.min(limits.cores.max(1));
    r
}

/// Marks everything downstream of a failed stage as blocked.
fn block_dependents(
    graph: &StageGraph,
    dependents: &[Vec<usize>],
    need: &[bool],
    failed: usize,
    state: &mut [StageResult],
) {
    let name = graph.stages[failed].def.name.clone();
    let mut stack = dependents[failed].clone();
    while let Some(j) = stack.pop() {
        if need[j] && state[j].state == StageState::NotStarted {
            state[j] = StageResult::blocked_by(name.clone());
            stack.extend(&dependents[j]);
        }
    }
}
