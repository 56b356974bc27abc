//! A comparison of recorded runs: the runs named (failed ones skipped unless asked for), their
//! members joined on the sweep key, what each member hashed differently, the data guard, and
//! the cells of member × metric with their deltas and tests.

use std::path::Path;

use super::cells::{cells, Cell};
use super::inputs::{data_differences, member_changes};
use super::stats::Correction;
use super::table::{joined_keys, MemberKey, RunTable};
use crate::error::UserError;
use crate::metrics::{metric, Metric, METRICS};
use crate::registry::{refs, RunRecord};

/// What `pipeline compare` was asked, past argument parsing.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Run reference of the baseline (default: the first run).
    pub baseline: Option<String>,
    /// Metric columns to compare (default: every registered metric some run has).
    pub metrics: Vec<String>,
    pub only_changed: bool,
    pub correction: Correction,
    /// Compare failed and interrupted runs too.
    pub all: bool,
}

/// One member of the joined table.
#[derive(Debug, Clone)]
pub struct MemberInfo {
    pub key: MemberKey,
    pub label: String,
    /// Per run: whether the run has this member.
    pub present: Vec<bool>,
    /// Per run: its hash-input changes against the baseline (empty for the baseline).
    pub changes: Vec<Vec<String>>,
}

impl MemberInfo {
    /// Some run lacks this member.
    pub fn partial(&self) -> bool {
        self.present.iter().any(|p| !p)
    }
}

pub struct Comparison {
    pub runs: Vec<RunTable>,
    pub baseline: usize,
    /// Runs named but left out (failed, interrupted), with why.
    pub skipped: Vec<String>,
    pub members: Vec<MemberInfo>,
    pub metrics: Vec<&'static Metric>,
    pub cells: Vec<Cell>,
    /// Per run: how its data or preprocess stages differ from the baseline's (empty: same).
    pub data_differences: Vec<Vec<String>>,
    pub correction: Correction,
    pub only_changed: bool,
}

impl Comparison {
    /// The cells shown (`--only-changed` hides those where no run differs).
    pub fn shown_cells(&self) -> impl Iterator<Item = &Cell> {
        self.cells
            .iter()
            .filter(move |c| !self.only_changed || c.changed() || self.members[c.member].partial())
    }

    /// All runs measured on the same data and preprocessing.
    pub fn comparable(&self) -> bool {
        self.data_differences.iter().all(Vec::is_empty)
    }

    pub fn run_id(&self, r: usize) -> &str {
        &self.runs[r].record.run_id
    }
}

/// The metrics asked for, checked against the registry, or every one some run has.
fn chosen_metrics(asked: &[String], runs: &[RunTable]) -> anyhow::Result<Vec<&'static Metric>> {
    if asked.is_empty() {
        let has = |m: &Metric| {
            runs.iter()
                .any(|r| r.members.values().any(|x| x.values.contains_key(m.column)))
        };
        return Ok(METRICS.iter().filter(|m| has(m)).collect());
    }
    asked
        .iter()
        .map(|name| {
            metric(name).ok_or_else(|| {
                let known: Vec<&str> = METRICS.iter().map(|m| m.column).collect();
                UserError::usage(format!(
                    "--metrics: `{name}` is not a metric; known: {}",
                    known.join(", ")
                ))
                .into()
            })
        })
        .collect()
}

/// The runs `references` name (and the baseline, when it is not among them), each record
/// resolved by the registry and its table read from `results`.
pub fn build(
    state: &Path,
    results: &Path,
    references: &[String],
    opts: &CompareOptions,
) -> anyhow::Result<Comparison> {
    let mut records: Vec<RunRecord> = Vec::new();
    let mut skipped = Vec::new();
    for reference in references {
        let record = refs::resolve(state, reference, None)?;
        if record.status != "succeeded" && !opts.all {
            skipped.push(format!(
                "run {} ({reference}) skipped: it {}; pass --all to compare it anyway",
                record.run_id, record.status
            ));
            continue;
        }
        records.push(record);
    }
    let mut baseline = 0;
    if let Some(reference) = &opts.baseline {
        let record = refs::resolve(state, reference, None)?;
        baseline = match records.iter().position(|r| r.run_id == record.run_id) {
            Some(i) => i,
            None => {
                records.insert(0, record);
                0
            }
        };
    }
    if records.len() < 2 {
        return Err(UserError::usage(format!(
            "compare needs two runs or more to compare, and has {}{}",
            records.len(),
            if skipped.is_empty() {
                String::new()
            } else {
                format!(" ({})", skipped.join("; "))
            }
        ))
        .into());
    }
    let runs: Vec<RunTable> = records
        .into_iter()
        .map(|r| RunTable::read(results, r).map_err(|e| UserError::usage(format!("{e:#}")).into()))
        .collect::<anyhow::Result<_>>()?;
    let metrics = chosen_metrics(&opts.metrics, &runs)?;
    let base = &runs[baseline];
    let members: Vec<MemberInfo> = joined_keys(&runs)
        .into_iter()
        .map(|(key, label, present)| {
            let changes = runs
                .iter()
                .enumerate()
                .map(|(r, run)| {
                    match (r == baseline, base.members.get(&key), run.members.get(&key)) {
                        (false, Some(b), Some(m)) => {
                            let mut labels = b.row_labels.clone();
                            labels.extend(m.row_labels.iter().cloned());
                            member_changes(&base.record, &run.record, &labels)
                        }
                        _ => Vec::new(),
                    }
                })
                .collect();
            MemberInfo {
                key,
                label,
                present,
                changes,
            }
        })
        .collect();
    let keys: Vec<MemberKey> = members.iter().map(|m| m.key.clone()).collect();
    let cells = cells(&runs, baseline, &keys, &metrics, opts.correction);
    let data_differences = runs
        .iter()
        .map(|r| data_differences(&base.record, &r.record))
        .collect();
    Ok(Comparison {
        runs,
        baseline,
        skipped,
        members,
        metrics,
        cells,
        data_differences,
        correction: opts.correction,
        only_changed: opts.only_changed,
    })
}
