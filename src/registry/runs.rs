//! Run records: what each `pipeline run` planned, computed and reused, kept under
//! `.pipeline/runs/` (for `why` and `gc`) and `results/<experiment>/<run-id>/` (for people).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::plan::{KeyInputs, StageKey, StageKind};

/// Bumped when the record's shape changes.
pub const RUN_RECORD_FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub format: u32,
    pub run_id: String,
    pub experiment: String,
    pub spec_path: String,
    pub spec_text: String,
    pub overrides: Vec<String>,
    pub selectors: Vec<String>,
    pub started_at: String,
    pub finished_at: String,
    /// `succeeded`, `failed` or `interrupted`.
    pub status: String,
    pub stages: Vec<StageRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageRecord {
    pub name: String,
    pub kind: StageKind,
    pub key: StageKey,
    /// `cached`, `ran`, `failed`, `blocked`, `cancelled`, `not-started` or `skipped`.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    pub key_inputs: KeyInputs,
}

/// A sortable, unique id: UTC time plus process id.
pub fn new_run_id() -> String {
    format!(
        "{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id()
    )
}

pub fn runs_dir(state: &Path) -> PathBuf {
    state.join("runs")
}

/// Writes the record under `.pipeline/runs/`; returns its bytes for the results copy.
pub fn save(state: &Path, record: &RunRecord) -> anyhow::Result<Vec<u8>> {
    let dir = runs_dir(state);
    std::fs::create_dir_all(&dir)?;
    let bytes = serde_json::to_vec_pretty(record)?;
    write_atomic(&dir.join(format!("{}.json", record.run_id)), &bytes)?;
    Ok(bytes)
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("failed to write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("failed to write {}", path.display()))?;
    Ok(())
}

/// Run record paths, newest first.
pub fn list(state: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(runs_dir(state))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths.reverse();
    paths
}

pub fn load(path: &Path) -> anyhow::Result<RunRecord> {
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("failed to parse run record {}", path.display()))
}

/// The newest record matching `filter`.
pub fn latest(state: &Path, filter: impl Fn(&RunRecord) -> bool) -> Option<RunRecord> {
    list(state)
        .iter()
        .filter_map(|p| load(p).ok())
        .find(|r| filter(r))
}

/// Copies published stage outputs into `results/<experiment>/<run-id>/` and points `latest` at it.
pub fn publish(
    results: &Path,
    record: &RunRecord,
    record_bytes: &[u8],
    published: &[(String, PathBuf)],
) -> anyhow::Result<PathBuf> {
    let exp_dir = results.join(&record.experiment);
    let dir = exp_dir.join(&record.run_id);
    std::fs::create_dir_all(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    for (stage, out) in published {
        let dest = dir.join(stage.replace('/', "_"));
        copy_tree(out, &dest)?;
    }
    write_atomic(&dir.join("run.json"), record_bytes)?;
    std::fs::write(dir.join("stages.tsv"), stage_table(record))?;
    let link = exp_dir.join("latest");
    let tmp = exp_dir.join(format!(".latest.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&record.run_id, &tmp)?;
    std::fs::rename(&tmp, &link)?;
    Ok(dir)
}

fn stage_table(record: &RunRecord) -> String {
    let mut s = String::from("stage\tkind\tstate\tseconds\tkey\n");
    for st in &record.stages {
        let secs = st.duration_s.map(|d| format!("{d:.2}")).unwrap_or_default();
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            st.name,
            st.kind,
            st.state,
            secs,
            st.key.short()
        ));
    }
    s
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry?;
        let rel = entry
            .path()
            .strip_prefix(from)
            .expect("walk stays under root");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("failed to copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}
