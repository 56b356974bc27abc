//! What differs between two runs in what they hashed: per member, the hash inputs of its
//! stages (the same diff `pipeline why` shows), and run-wide, whether the data and preprocess
//! stages agree (when they do not, the runs' numbers are not measured on the same test set).

use crate::plan::StageKind;
use crate::registry::{why, RunRecord, StageRecord};

/// The stage a name ends in: `train/vae-z2-b1` → `vae-z2-b1`.
fn member_of(stage: &str) -> Option<&str> {
    stage.split_once('/').map(|(_, m)| m)
}

/// Hash-input changes (`params.run.epochs: 10 → 20`) from `base` to `other` of the stages of
/// the members labelled `row_labels`, once each. Changed `inputs.*` keys are left out: they
/// only say that an upstream stage changed, and that stage's own change is listed.
pub fn member_changes(base: &RunRecord, other: &RunRecord, row_labels: &[String]) -> Vec<String> {
    let mine =
        |s: &&StageRecord| member_of(&s.name).is_some_and(|m| row_labels.iter().any(|l| l == m));
    let mut out: Vec<String> = Vec::new();
    for before in base.stages.iter().filter(mine) {
        let Some(after) = other.stages.iter().find(|s| s.name == before.name) else {
            continue;
        };
        for change in why::diff(&before.key_inputs, &after.key_inputs) {
            let text = change.to_string();
            if !change.path.starts_with("inputs.") && !out.contains(&text) {
                out.push(text);
            }
        }
    }
    out
}

/// The stage kinds that decide what the test set is.
const DATA_KINDS: &[StageKind] = &[StageKind::Download, StageKind::Preprocess];

/// One line per data or preprocess stage whose key differs from `base` to `other` (with its
/// changed hash inputs), empty when the runs measured on the same data.
pub fn data_differences(base: &RunRecord, other: &RunRecord) -> Vec<String> {
    let data = |r: &RunRecord| -> Vec<StageRecord> {
        r.stages
            .iter()
            .filter(|s| DATA_KINDS.contains(&s.kind))
            .cloned()
            .collect()
    };
    let (a, b) = (data(base), data(other));
    let mut out = Vec::new();
    for before in &a {
        match b.iter().find(|s| s.kind == before.kind) {
            Some(after) if after.key != before.key => {
                let changes: Vec<String> = why::diff(&before.key_inputs, &after.key_inputs)
                    .iter()
                    .filter(|c| !c.path.starts_with("inputs."))
                    .map(|c| c.to_string())
                    .collect();
                let why = if changes.is_empty() {
                    "an input of it changed".to_owned()
                } else {
                    changes.join("; ")
                };
                out.push(format!(
                    "{} stage differs ({} → {}): {why}",
                    before.kind,
                    before.key.short(),
                    after.key.short()
                ));
            }
            Some(_) => {}
            None => out.push(format!("{} stage only in {}", before.kind, base.run_id)),
        }
    }
    for after in b.iter().filter(|s| a.iter().all(|x| x.kind != s.kind)) {
        out.push(format!("{} stage only in {}", after.kind, other.run_id));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_come_after_the_kind() {
        assert_eq!(member_of("train/vae-z2-b1"), Some("vae-z2-b1"));
        assert_eq!(member_of("preprocess"), None);
    }
}
