//! The run index, `.pipeline/runs/index.jsonl`: one line per run record holding what `runs`,
//! `--where`, run references and `latest~N` need, so none of them parses a full record.
//!
//! Each line is a pure function of its record ([`IndexEntry::of`]) and lines are kept sorted
//! by run id (= start time) under a file lock, so the file rebuilt by `pipeline runs --reindex`
//! is byte-identical to the one grown by appends, whatever order concurrent runs finished in.
//! Records written without an index (older versions, a crash between the two writes) are
//! noticed by comparing the index's ids with the record file names, and added on first use.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::runs::{self, RunRecord};
use super::state::{RunStatus, StageState};
use crate::error::FsContext;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// First, so a line's id is read without parsing the rest ([`line_id`]).
    pub id: String,
    pub format: u32,
    pub experiment: String,
    pub status: RunStatus,
    pub started_at: String,
    pub finished_at: String,
    pub spec_path: String,
    pub spec_sha256: String,
    pub overrides: Vec<String>,
    pub selectors: Vec<String>,
    pub tool_version: String,
    pub host: String,
    pub devices: Vec<String>,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub results: String,
    /// Stage count per state (states with none left out).
    pub stages: BTreeMap<StageState, usize>,
    /// Seconds spent in stages that ran.
    pub stage_seconds: f64,
    /// First line of the run's error, if it has one.
    pub error: Option<String>,
    /// The spec's values after `--set`, by dotted path (`train.lr`); lists as JSON arrays.
    /// Arrays of tables (`[[command]]`) are left out: no dotted path names one of their
    /// values, and a sweep of thousands of commands would put its whole spec in every line.
    pub values: BTreeMap<String, serde_json::Value>,
}

impl IndexEntry {
    pub fn of(r: &RunRecord) -> IndexEntry {
        let mut stages = BTreeMap::new();
        for s in &r.stages {
            *stages.entry(s.state).or_insert(0) += 1;
        }
        IndexEntry {
            id: r.run_id.clone(),
            format: r.format,
            experiment: r.experiment.clone(),
            status: r.status,
            started_at: r.started_at.clone(),
            finished_at: r.finished_at.clone(),
            spec_path: r.spec_path.clone(),
            spec_sha256: if r.spec_sha256.is_empty() {
                crate::data::sha256_hex(r.spec_text.as_bytes())
            } else {
                r.spec_sha256.clone()
            },
            overrides: r.overrides.clone(),
            selectors: r.selectors.clone(),
            tool_version: r.tool_version.clone(),
            host: r.host.clone(),
            devices: r.devices.clone(),
            git_commit: r.git.as_ref().map(|g| g.commit.clone()),
            git_dirty: r.git.as_ref().map(|g| g.dirty),
            results: if r.results.is_empty() {
                format!("results/{}/{}", r.experiment, r.run_id)
            } else {
                r.results.clone()
            },
            stages,
            // A fold from +0: an empty f64 `sum()` is -0, which would print as "-0".
            stage_seconds: r
                .stages
                .iter()
                .filter_map(|s| s.duration_s)
                .fold(0.0, |a, b| a + b),
            error: r
                .error
                .as_ref()
                .map(|e| e.lines().next().unwrap_or("").to_owned()),
            values: crate::spec::values::of(&r.spec_text, &r.overrides),
        }
    }

    pub fn count(&self, state: StageState) -> usize {
        self.stages.get(&state).copied().unwrap_or(0)
    }

    fn line(&self) -> String {
        let mut line = serde_json::to_string(self).expect("an index entry serializes");
        line.push('\n');
        line
    }
}

/// The index's entries, oldest first, and the records that could not be read into it.
pub struct Listing {
    pub entries: Vec<IndexEntry>,
    pub unreadable: Vec<(PathBuf, anyhow::Error)>,
}

/// Every recorded run, from the index (brought up to date with the records first if they
/// differ). Reading never fails for want of write access: the repaired index is then only kept
/// in memory.
pub fn load(state: &Path) -> anyhow::Result<Listing> {
    let ids: BTreeSet<String> = runs::list_ids(state).into_iter().collect();
    if ids.is_empty() && !index_path(state).exists() {
        // Nothing recorded: nothing to write either (a read creates no folders).
        return Ok(Listing {
            entries: Vec::new(),
            unreadable: Vec::new(),
        });
    }
    if let Some(entries) = read_if_current(state, &ids) {
        return Ok(Listing {
            entries,
            unreadable: Vec::new(),
        });
    }
    let _lock = IndexLock::take(state).ok();
    Ok(sync(state, false))
}

/// Rebuilds the index from the records alone; returns how many runs it lists.
pub fn reindex(state: &Path) -> anyhow::Result<Listing> {
    let _lock = IndexLock::take(state)?;
    Ok(sync(state, true))
}

/// Adds or replaces `record`'s line (called after the record file is written).
pub fn record_saved(state: &Path, record: &RunRecord) -> anyhow::Result<()> {
    let _lock = IndexLock::take(state)?;
    let path = index_path(state);
    let line = IndexEntry::of(record).line();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // First index of a project with records: build it from all of them.
            sync(state, true);
            return Ok(());
        }
        Err(e) => return Err(crate::error::FsError::new("read", &path, e).into()),
    };
    let mut lines: BTreeMap<String, String> = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| Some((line_id(l)?.to_owned(), l.to_owned())))
        .collect();
    let newest = lines
        .keys()
        .next_back()
        .is_none_or(|last| *last < record.run_id);
    if newest && text.is_empty() || newest && text.ends_with('\n') {
        let mut f = OpenOptions::new()
            .append(true)
            .open(&path)
            .fs("open", &path)?;
        f.write_all(line.as_bytes()).fs("append to", &path)?;
        return Ok(());
    }
    lines.insert(record.run_id.clone(), line);
    runs::write_atomic(&path, lines.into_values().collect::<String>().as_bytes())
}

pub fn index_path(state: &Path) -> PathBuf {
    runs::runs_dir(state).join("index.jsonl")
}

/// The id of an index line, read from its start (`{"id":"…"`).
fn line_id(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("{\"id\":\"")?;
    rest.split_once('"').map(|(id, _)| id)
}

/// The index's entries when it lists exactly `ids`, in id order, each line whole and parseable.
fn read_if_current(state: &Path, ids: &BTreeSet<String>) -> Option<Vec<IndexEntry>> {
    let text = std::fs::read_to_string(index_path(state)).ok()?;
    if !text.is_empty() && !text.ends_with('\n') {
        return None;
    }
    let entries: Vec<IndexEntry> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .ok()?;
    let same = entries.len() == ids.len() && entries.iter().all(|e| ids.contains(&e.id));
    let sorted = entries.windows(2).all(|w| w[0].id < w[1].id);
    (same && sorted).then_some(entries)
}

/// Makes the index list exactly the readable records (under the lock), reusing lines whose
/// record is still there unless `from_scratch`. Writes only when the bytes change.
fn sync(state: &Path, from_scratch: bool) -> Listing {
    let path = index_path(state);
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let mut known: BTreeMap<String, IndexEntry> = BTreeMap::new();
    if !from_scratch {
        for line in old.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            if let Ok(e) = serde_json::from_str::<IndexEntry>(line) {
                known.insert(e.id.clone(), e);
            }
        }
    }
    let mut entries = Vec::new();
    let mut unreadable = Vec::new();
    let mut ids = runs::list_ids(state);
    ids.reverse();
    for id in ids {
        if let Some(e) = known.remove(&id) {
            entries.push(e);
            continue;
        }
        match runs::load_id(state, &id) {
            Ok(r) => entries.push(IndexEntry::of(&r)),
            Err(e) => unreadable.push((runs::runs_dir(state).join(format!("{id}.json")), e)),
        }
    }
    let text: String = entries.iter().map(IndexEntry::line).collect();
    if text != old {
        // Best effort: a read-only project still lists its runs, from this in-memory copy.
        let _ = runs::write_atomic(&path, text.as_bytes());
    }
    Listing {
        entries,
        unreadable,
    }
}

/// Held while the index is written: appends and rewrites from concurrent runs take turns.
struct IndexLock(File);

impl IndexLock {
    fn take(state: &Path) -> anyhow::Result<IndexLock> {
        let dir = runs::runs_dir(state);
        std::fs::create_dir_all(&dir).fs("create", &dir)?;
        let path = dir.join("index.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .fs("open", &path)?;
        file.lock().fs("lock", &path)?;
        Ok(IndexLock(file))
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
