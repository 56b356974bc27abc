//! Run records: what each `pipeline run` planned, computed and reused, kept under
//! `.pipeline/runs/` (for `why` and `gc`) and `results/<experiment>/<run-id>/` (for people).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::cache::transfer::{copy_tree, Links};
use crate::error::{FsContext, FsError};
use crate::plan::{KeyInputs, StageKey, StageKind};
use crate::registry::provenance::GitState;
use crate::registry::state::{RunStatus, StageState};

/// Bumped when the record's shape changes. Format 1 records (without the provenance fields,
/// with no `cache_hit` per stage) still load: the new fields default, `cache_hit` is derived.
pub const RUN_RECORD_FORMAT: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    pub format: u32,
    /// Taken when the run starts, so ids sort by start time.
    pub run_id: String,
    pub experiment: String,
    pub spec_path: String,
    /// Of `spec_text`.
    #[serde(default)]
    pub spec_sha256: String,
    pub spec_text: String,
    pub overrides: Vec<String>,
    pub selectors: Vec<String>,
    pub started_at: String,
    pub finished_at: String,
    pub status: RunStatus,
    /// Why a run whose stages all succeeded still failed (publishing its results, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `pipeline` version that ran it.
    #[serde(default)]
    pub tool_version: String,
    #[serde(default)]
    pub host: String,
    /// Devices the stages that ran used (`cpu`, `cuda`, `auto`), sorted.
    #[serde(default)]
    pub devices: Vec<String>,
    /// Git state of the spec's working tree, when it is in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitState>,
    /// `results/<experiment>/<run-id>`, relative to the project folder.
    #[serde(default)]
    pub results: String,
    pub stages: Vec<StageRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageRecord {
    pub name: String,
    pub kind: StageKind,
    pub key: StageKey,
    pub state: StageState,
    /// Its output came from the cache (format 1 records: derived from `state` on load).
    #[serde(default)]
    pub cache_hit: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    pub key_inputs: KeyInputs,
}

impl RunRecord {
    pub fn count(&self, state: StageState) -> usize {
        self.stages.iter().filter(|s| s.state == state).count()
    }
}

/// A sortable, unique id: UTC time plus process id.
pub fn new_run_id() -> String {
    run_id_at(chrono::Utc::now())
}

/// The id of a run started at `at` (in this process).
pub fn run_id_at(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}-{}", at.format("%Y%m%dT%H%M%S%.3fZ"), std::process::id())
}

pub fn runs_dir(state: &Path) -> PathBuf {
    state.join("runs")
}

/// Writes the record under `.pipeline/runs/` and its line in the index; returns the record's
/// bytes for the results copy.
pub fn save(state: &Path, record: &RunRecord) -> anyhow::Result<Vec<u8>> {
    save_serialized(state, record, serde_json::to_vec_pretty(record)?)
}

/// `save`, with the record already serialized (`bytes`, as `save` writes it).
pub fn save_serialized(
    state: &Path,
    record: &RunRecord,
    bytes: Vec<u8>,
) -> anyhow::Result<Vec<u8>> {
    let dir = runs_dir(state);
    std::fs::create_dir_all(&dir).fs("create", &dir)?;
    write_atomic(&dir.join(format!("{}.json", record.run_id)), &bytes)?;
    // The index is derived from the records and repairs itself on its next read: a failure to
    // update it is news, not a failed run.
    if let Err(e) = crate::registry::index::record_saved(state, record) {
        eprintln!("warning: run {} is recorded, but the run index was not updated ({e:#}); the next `pipeline runs` adds it", record.run_id);
    }
    Ok(bytes)
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    if let Err(e) = std::fs::write(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(FsError::new("write", &tmp, e).into());
    }
    std::fs::rename(&tmp, path).fs("write", path)?;
    Ok(())
}

/// Run record paths, newest first.
pub fn list(state: &Path) -> Vec<PathBuf> {
    let dir = runs_dir(state);
    list_ids(state)
        .iter()
        .map(|id| dir.join(format!("{id}.json")))
        .collect()
}

/// Ids of the recorded runs (file names, no record is read), newest first.
pub fn list_ids(state: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(runs_dir(state))
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    name.strip_suffix(".json").map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids.reverse();
    ids
}

pub fn load(path: &Path) -> anyhow::Result<RunRecord> {
    let bytes = std::fs::read(path).fs("read", path)?;
    let mut record: RunRecord = serde_json::from_slice(&bytes)
        .with_context(|| format!("failed to parse run record {}", path.display()))?;
    anyhow::ensure!(
        record.format <= RUN_RECORD_FORMAT,
        "run record {} is of format {}, newer than this pipeline reads ({RUN_RECORD_FORMAT}): \
         use a newer pipeline",
        path.display(),
        record.format
    );
    if record.format < 2 {
        for s in &mut record.stages {
            s.cache_hit = s.state == StageState::Cached;
        }
    }
    Ok(record)
}

/// The record of run `id` under `.pipeline/runs/`.
pub fn load_id(state: &Path, id: &str) -> anyhow::Result<RunRecord> {
    load(&runs_dir(state).join(format!("{id}.json")))
}

/// Every run record, newest first, split into those that load and those that do not.
#[derive(Default)]
pub struct RunRecords {
    pub records: Vec<RunRecord>,
    pub unreadable: Vec<(PathBuf, anyhow::Error)>,
}

impl RunRecords {
    pub fn load(state: &Path) -> RunRecords {
        let mut all = RunRecords::default();
        for path in list(state) {
            match load(&path) {
                Ok(r) => all.records.push(r),
                Err(e) => all.unreadable.push((path, e)),
            }
        }
        all
    }

    /// One line per unreadable record: which file, why, and how to fix it.
    pub fn describe_unreadable(&self) -> String {
        self.unreadable
            .iter()
            .map(|(path, e)| {
                format!(
                    "run record {} is unreadable ({e:#}); remove it, or repair it from its copy \
                     results/<experiment>/<run-id>/run.json\n",
                    path.display()
                )
            })
            .collect()
    }
}

/// The newest record matching `filter`.
pub fn latest(state: &Path, filter: impl Fn(&RunRecord) -> bool) -> Option<RunRecord> {
    list(state)
        .iter()
        .filter_map(|p| load(p).ok())
        .find(|r| filter(r))
}

/// Where a run's results go: `results/<experiment>/<run-id>/`.
pub fn results_dir(results: &Path, record: &RunRecord) -> PathBuf {
    results.join(&record.experiment).join(&record.run_id)
}

/// Copies published stage outputs (name, cache `out/` folder) into the run's results folder.
pub fn publish_outputs(dir: &Path, published: &[(String, PathBuf)]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).fs("create", dir)?;
    for (stage, out) in published {
        let dest = dir.join(stage.replace('/', "_"));
        copy_tree(out, &dest, Links::Refuse)
            .with_context(|| format!("failed to publish stage {stage}"))?;
    }
    Ok(())
}

/// Writes `run.json` and `stages.tsv` into the run's results folder and points `latest` at it.
pub fn publish_record(dir: &Path, record: &RunRecord, record_bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic(&dir.join("run.json"), record_bytes)?;
    let table = dir.join("stages.tsv");
    std::fs::write(&table, stage_table(record)).fs("write", &table)?;
    let exp_dir = dir
        .parent()
        .expect("a run folder is inside its experiment's folder");
    let link = exp_dir.join("latest");
    let tmp = exp_dir.join(format!(".latest.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&record.run_id, &tmp).fs("create link", &tmp)?;
    std::fs::rename(&tmp, &link).fs("replace", &link)?;
    Ok(())
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
