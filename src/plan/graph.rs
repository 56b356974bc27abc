//! The stage graph: built from definitions, sealed (inputs resolved, cycles rejected, keys computed).

use std::collections::{BTreeMap, HashMap};

use super::key::{KeyInputs, StageKey};
use super::stage::{StageDef, StageKind};

/// A stage in a sealed graph.
#[derive(Debug, Clone)]
pub struct PlannedStage {
    pub def: StageDef,
    /// Indices of the stages this one reads, in `def.inputs` order.
    pub deps: Vec<usize>,
    pub key_inputs: KeyInputs,
    pub key: StageKey,
}

/// A sealed graph: stages in topological order (every stage after its inputs).
#[derive(Debug, Clone, Default)]
pub struct StageGraph {
    pub stages: Vec<PlannedStage>,
    by_name: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GraphError {
    #[error("duplicate stage name `{0}`")]
    DuplicateName(String),
    #[error("stage `{stage}` reads `{input}`, but no stage has that name{hint}")]
    UnknownInput {
        stage: String,
        input: String,
        hint: String,
    },
    #[error("stages form a cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    #[error("failed to hash dependency file {path} of stage `{stage}`: {message}")]
    FileDep {
        stage: String,
        path: String,
        message: String,
    },
}

/// A graph being built; `seal` checks it and computes keys.
#[derive(Default)]
pub struct GraphBuilder {
    defs: Vec<StageDef>,
}

impl GraphBuilder {
    pub fn add(&mut self, def: StageDef) {
        self.defs.push(def);
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.defs.iter().map(|d| d.name.as_str())
    }

    pub fn seal(self) -> Result<StageGraph, GraphError> {
        let mut index = HashMap::with_capacity(self.defs.len());
        for (i, d) in self.defs.iter().enumerate() {
            if index.insert(d.name.clone(), i).is_some() {
                return Err(GraphError::DuplicateName(d.name.clone()));
            }
        }
        let mut deps = Vec::with_capacity(self.defs.len());
        for d in &self.defs {
            let mut ds = Vec::with_capacity(d.inputs.len());
            for producer in d.inputs.values() {
                match index.get(producer) {
                    Some(&j) => ds.push(j),
                    None => {
                        let hint = crate::spec::diagnostics::did_you_mean(
                            producer,
                            self.defs.iter().map(|d| d.name.as_str()),
                        )
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                        return Err(GraphError::UnknownInput {
                            stage: d.name.clone(),
                            input: producer.clone(),
                            hint,
                        });
                    }
                }
            }
            deps.push(ds);
        }
        let order = topological_order(&deps).map_err(|cycle| {
            GraphError::Cycle(cycle.iter().map(|&i| self.defs[i].name.clone()).collect())
        })?;
        // Renumber into topological order.
        let mut new_index = vec![0; order.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let mut defs: Vec<Option<StageDef>> = self.defs.into_iter().map(Some).collect();
        let sorted: Vec<(StageDef, Vec<usize>)> = order
            .iter()
            .map(|&old| {
                let def = defs[old].take().expect("each stage once");
                (def, deps[old].iter().map(|&d| new_index[d]).collect())
            })
            .collect();
        let keyed = key_by_level(&sorted)?;
        let stages: Vec<PlannedStage> = sorted
            .into_iter()
            .zip(keyed)
            .map(|((def, deps), (key_inputs, key))| PlannedStage {
                def,
                deps,
                key_inputs,
                key,
            })
            .collect();
        let by_name = stages
            .iter()
            .enumerate()
            .map(|(i, s)| (s.def.name.clone(), i))
            .collect();
        Ok(StageGraph { stages, by_name })
    }
}

impl StageGraph {
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// The first stage of a kind (plot and report are one per plan).
    pub fn index_of_kind(&self, kind: StageKind) -> Option<usize> {
        self.stages.iter().position(|s| s.def.kind == kind)
    }

    pub fn len(&self) -> usize {
        self.stages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// For each stage, the stages that read it.
    pub fn dependents(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.stages.len()];
        for (i, s) in self.stages.iter().enumerate() {
            for &d in &s.deps {
                out[d].push(i);
            }
        }
        out
    }
}

/// Every stage's key inputs and key, from its inputs' keys (`sorted` is in topological order).
/// Level by level (a stage's level is one more than its deepest input's), each level's stages in
/// parallel: a sweep's thousands of trainings form one level.
fn key_by_level(
    sorted: &[(StageDef, Vec<usize>)],
) -> Result<Vec<(KeyInputs, StageKey)>, GraphError> {
    use rayon::prelude::*;
    let mut level = vec![0usize; sorted.len()];
    let mut levels: Vec<Vec<usize>> = Vec::new();
    for (i, (_, deps)) in sorted.iter().enumerate() {
        level[i] = deps.iter().map(|&d| level[d] + 1).max().unwrap_or(0);
        if levels.len() <= level[i] {
            levels.resize(level[i] + 1, Vec::new());
        }
        levels[level[i]].push(i);
    }
    let mut keyed: Vec<Option<(KeyInputs, StageKey)>> = vec![None; sorted.len()];
    for members in &levels {
        let done: Vec<Result<(KeyInputs, StageKey), GraphError>> = members
            .par_iter()
            .with_min_len(64)
            .map(|&i| {
                let (def, deps) = &sorted[i];
                let inputs: BTreeMap<String, StageKey> = def
                    .inputs
                    .keys()
                    .zip(deps)
                    .map(|(role, &d)| {
                        let (_, key) = keyed[d].as_ref().expect("inputs are keyed first");
                        (role.clone(), key.clone())
                    })
                    .collect();
                let key_inputs =
                    KeyInputs::of(def, inputs).map_err(|(path, e)| GraphError::FileDep {
                        stage: def.name.clone(),
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                let key = key_inputs.key();
                Ok((key_inputs, key))
            })
            .collect();
        for (&i, result) in members.iter().zip(done) {
            keyed[i] = Some(result?);
        }
    }
    Ok(keyed
        .into_iter()
        .map(|k| k.expect("every stage has a level"))
        .collect())
}

/// Kahn's algorithm; on a cycle, returns one cycle's members in order.
fn topological_order(deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    let n = deps.len();
    let mut indegree = vec![0usize; n];
    let mut dependents = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        indegree[i] = ds.len();
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut ready: std::collections::VecDeque<usize> =
        (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_front() {
        order.push(i);
        for &j in &dependents[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push_back(j);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Walk input edges among the remaining stages until a stage repeats.
    let mut cur = (0..n)
        .find(|&i| indegree[i] > 0)
        .expect("a stage in a cycle");
    let mut path: Vec<usize> = Vec::new();
    loop {
        if let Some(pos) = path.iter().position(|&p| p == cur) {
            let mut cycle: Vec<usize> = path[pos..].to_vec();
            cycle.reverse();
            cycle.push(cycle[0]);
            return Err(cycle);
        }
        path.push(cur);
        cur = *deps[cur]
            .iter()
            .find(|&&d| indegree[d] > 0)
            .expect("cycle continues");
    }
}
