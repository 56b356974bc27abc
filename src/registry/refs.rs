//! Run references: how a command names a recorded run (full id, unique prefix, `latest`,
//! `latest~N`), resolved to its record or refused with the candidates.

use std::path::Path;

use crate::error::UserError;
use crate::registry::runs::{self, RunRecord};

/// The run `reference` names, among runs of `experiment` when given.
///
/// `latest` and `latest~N` count succeeded runs only (newest first), so a failed attempt does not
/// shift what `latest~1` means; a full id or prefix names any run.
pub fn resolve(
    state: &Path,
    reference: &str,
    experiment: Option<&str>,
) -> anyhow::Result<RunRecord> {
    let in_scope = |r: &RunRecord| experiment.is_none_or(|e| r.experiment == e);
    if let Some(back) = latest_offset(reference)? {
        let succeeded: Vec<RunRecord> = runs::list(state)
            .iter()
            .filter_map(|p| runs::load(p).ok())
            .filter(|r| in_scope(r) && r.status == "succeeded")
            .collect();
        return succeeded.into_iter().nth(back).ok_or_else(|| {
            UserError::usage(format!(
                "`{reference}`: there are not {} succeeded runs{}",
                back + 1,
                experiment
                    .map(|e| format!(" of experiment {e}"))
                    .unwrap_or_default()
            ))
            .into()
        });
    }
    let ids: Vec<String> = runs::list(state)
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let matches: Vec<&String> = ids.iter().filter(|id| id.starts_with(reference)).collect();
    match matches.as_slice() {
        [one] => {
            let record = runs::load(&runs::runs_dir(state).join(format!("{one}.json")))?;
            if !in_scope(&record) {
                return Err(UserError::usage(format!(
                    "run {one} is of experiment {}, not {}",
                    record.experiment,
                    experiment.unwrap_or_default()
                ))
                .into());
            }
            Ok(record)
        }
        [] => Err(UserError::usage(format!(
            "no recorded run matches `{reference}`; `pipeline runs` lists them"
        ))
        .into()),
        many => Err(UserError::usage(format!(
            "`{reference}` is ambiguous: it matches {}; give more of the id",
            many.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()),
    }
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
