//! Run references: how a command names a recorded run (full id, unique prefix, `latest`,
//! `latest~N`, `@tag`), resolved over the run index or refused (exit 2) with the candidates.

use std::path::Path;

use crate::error::UserError;
use crate::registry::annotations::Annotations;
use crate::registry::index::{self, IndexEntry};
use crate::registry::runs::{self, RunRecord};
use crate::registry::state::RunStatus;

/// The run `reference` names, among runs of `experiment` when given.
///
/// `latest` and `latest~N` count succeeded runs only (newest first), so a failed attempt does not
/// shift what `latest~1` means; a full id, prefix or tag names any run.
pub fn resolve(
    state: &Path,
    reference: &str,
    experiment: Option<&str>,
) -> anyhow::Result<RunRecord> {
    let listing = index::load(state)?;
    let id = resolve_id(state, &listing.entries, reference, experiment)?;
    runs::load_id(state, &id)
}

/// The id of the run `reference` names among `entries` (oldest first, as the index holds them).
pub fn resolve_id(
    state: &Path,
    entries: &[IndexEntry],
    reference: &str,
    experiment: Option<&str>,
) -> anyhow::Result<String> {
    let in_scope = |e: &IndexEntry| experiment.is_none_or(|x| e.experiment == x);
    let of_experiment = || {
        experiment
            .map(|e| format!(" of experiment {e}"))
            .unwrap_or_default()
    };
    if let Some(back) = latest_offset(reference)? {
        let mut succeeded = entries
            .iter()
            .rev()
            .filter(|e| in_scope(e) && e.status == RunStatus::Succeeded);
        return succeeded.nth(back).map(|e| e.id.clone()).ok_or_else(|| {
            UserError::usage(format!(
                "`{reference}`: there are not {} succeeded runs{}",
                back + 1,
                of_experiment()
            ))
            .into()
        });
    }
    let id = match reference.strip_prefix('@') {
        Some(tag) => by_tag(state, tag)?,
        None => by_id(entries, reference)?,
    };
    let entry = entries.iter().find(|e| e.id == id);
    match entry {
        Some(e) if !in_scope(e) => Err(UserError::usage(format!(
            "run {id} is of experiment {}, not {}",
            e.experiment,
            experiment.unwrap_or_default()
        ))
        .into()),
        Some(_) => Ok(id),
        None => Err(UserError::usage(format!(
            "`{reference}` names run {id}, whose record is gone (removed by hand?)"
        ))
        .into()),
    }
}

fn by_tag(state: &Path, tag: &str) -> anyhow::Result<String> {
    let annotations = Annotations::load(state);
    if let Some(id) = annotations.tags.get(tag) {
        return Ok(id.clone());
    }
    let known: Vec<String> = annotations.tags.keys().map(|t| format!("@{t}")).collect();
    Err(UserError::usage(match known.as_slice() {
        [] => format!("no run is tagged `{tag}` (no tags yet: `pipeline tag RUN {tag}` adds one)"),
        _ => format!("no run is tagged `{tag}`; tags: {}", known.join(", ")),
    })
    .into())
}

/// A full id, or a prefix of exactly one id.
fn by_id(entries: &[IndexEntry], reference: &str) -> anyhow::Result<String> {
    if reference.is_empty() {
        return Err(UserError::usage(
            "an empty run reference: give a run id (or its start), latest, latest~N or @tag",
        )
        .into());
    }
    if let Some(e) = entries.iter().find(|e| e.id == reference) {
        return Ok(e.id.clone());
    }
    let matches: Vec<&str> = entries
        .iter()
        .rev()
        .map(|e| e.id.as_str())
        .filter(|id| id.starts_with(reference))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err(UserError::usage(format!(
            "no recorded run matches `{reference}`{}; `pipeline runs` lists them",
            close_matches(entries, reference)
        ))
        .into()),
        many => Err(UserError::usage(format!(
            "`{reference}` is ambiguous: it matches {} runs: {}; give more of the id",
            many.len(),
            many.join(", ")
        ))
        .into()),
    }
}

/// `; close matches: …` with the ids nearest to `reference` (longest shared start, then edit
/// distance), or nothing when no run is recorded.
fn close_matches(entries: &[IndexEntry], reference: &str) -> String {
    let shared = |id: &str| {
        id.chars()
            .zip(reference.chars())
            .take_while(|(a, b)| a == b)
            .count()
    };
    let mut ranked: Vec<(usize, usize, &str)> = entries
        .iter()
        .map(|e| {
            let id = e.id.as_str();
            let head: String = id.chars().take(reference.chars().count()).collect();
            (
                usize::MAX - shared(id),
                strsim::levenshtein(&head, reference),
                id,
            )
        })
        .collect();
    ranked.sort();
    let near: Vec<&str> = ranked.iter().take(3).map(|(_, _, id)| *id).collect();
    if near.is_empty() {
        return " (no run is recorded yet)".into();
    }
    format!("; close matches: {}", near.join(", "))
}

/// `latest` → 0, `latest~N` → N; anything else is not a `latest` reference.
fn latest_offset(reference: &str) -> anyhow::Result<Option<usize>> {
    let Some(rest) = reference.strip_prefix("latest") else {
        return Ok(None);
    };
    if rest.is_empty() {
        return Ok(Some(0));
    }
    match rest.strip_prefix('~').map(str::parse::<usize>) {
        Some(Ok(n)) => Ok(Some(n)),
        _ => Err(UserError::usage(format!(
            "`{reference}` is not a run reference: write latest, latest~N (N = 1, 2, …), @tag, or a run id"
        ))
        .into()),
    }
}
