//! What a run would do: which stages are cached, which will run and why, which are blocked.
//!
//! Here and not in `plan/`: it weighs the plan against the cache and the last run's record,
//! which sit above the plan.

use rayon::prelude::*;

use crate::cache::{CacheStatus, CacheStore};
use crate::plan::StageGraph;
use crate::registry::{why, RunRecord};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum StageStatus {
    Cached,
    WillRun {
        reason: String,
    },
    Blocked {
        reason: String,
    },
    /// Not selected, or only read by stages that are cached.
    NotNeeded,
}

pub struct Assessment {
    pub status: Vec<StageStatus>,
    /// Stages to execute.
    pub need: Vec<bool>,
    /// Stages with a valid cache entry.
    pub cached: Vec<bool>,
}

impl Assessment {
    pub fn count(&self, f: impl Fn(&StageStatus) -> bool) -> usize {
        self.status.iter().filter(|s| f(s)).count()
    }
}

/// Walks back from `roots`: a cached stage ends the walk (its inputs are not needed).
pub fn assess(
    graph: &StageGraph,
    roots: &[usize],
    store: &CacheStore,
    last: Option<&RunRecord>,
) -> Assessment {
    let n = graph.len();
    let cache: Vec<CacheStatus> = graph
        .stages
        .par_iter()
        .map(|s| store.status(&s.key, false))
        .collect();
    let cached: Vec<bool> = cache
        .iter()
        .map(|c| matches!(c, CacheStatus::Hit))
        .collect();
    let mut need = vec![false; n];
    let mut seen = vec![false; n];
    let mut stack: Vec<usize> = roots.to_vec();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) || cached[i] {
            continue;
        }
        need[i] = true;
        stack.extend(&graph.stages[i].deps);
    }
    let mut status: Vec<StageStatus> = Vec::with_capacity(n);
    let last_by_name: std::collections::HashMap<&str, &crate::registry::StageRecord> = last
        .map(|r| r.stages.iter().map(|s| (s.name.as_str(), s)).collect())
        .unwrap_or_default();
    // Topological order: inputs are decided before the stages reading them.
    for (i, s) in graph.stages.iter().enumerate() {
        let st = if cached[i] {
            StageStatus::Cached
        } else if !need[i] {
            StageStatus::NotNeeded
        } else if let Some(reason) = crate::stages::cannot_run(&s.def) {
            StageStatus::Blocked { reason }
        } else if let Some(&d) = s
            .deps
            .iter()
            .find(|&&d| matches!(status[d], StageStatus::Blocked { .. }))
        {
            StageStatus::Blocked {
                reason: format!("input `{}` is blocked", graph.stages[d].def.name),
            }
        } else {
            StageStatus::WillRun {
                reason: miss_reason(
                    &cache[i],
                    last_by_name.get(s.def.name.as_str()).copied(),
                    &s.key_inputs,
                ),
            }
        };
        status.push(st);
    }
    Assessment {
        status,
        need,
        cached,
    }
}

fn miss_reason(
    cache: &CacheStatus,
    last: Option<&crate::registry::StageRecord>,
    now: &crate::plan::KeyInputs,
) -> String {
    if let CacheStatus::Corrupt(why) = cache {
        return format!("cache entry is corrupt ({why})");
    }
    let Some(last) = last else {
        return "new stage: no earlier run recorded".into();
    };
    let changes = why::diff(&last.key_inputs, now);
    if !changes.is_empty() {
        return format!("changed since last run: {}", why::summarize(&changes));
    }
    match last.state {
        crate::registry::StageState::Failed => "failed in the last run".into(),
        s if s.unfinished() => format!("did not finish in the last run ({s})"),
        _ => "same inputs as the last run, but its cache entry is gone (removed or garbage-collected)".into(),
    }
}
