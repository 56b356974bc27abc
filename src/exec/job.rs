//! A stage packaged to run on its own by key (here, or as `pipeline exec-stage KEY` elsewhere).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::cache::CacheStore;
use crate::error::UserError;
use crate::plan::{KeyInputs, PlannedStage, StageDef, StageKey};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageJob {
    pub def: StageDef,
    pub key: StageKey,
    pub key_inputs: KeyInputs,
}

impl StageJob {
    pub fn from_planned(s: &PlannedStage) -> Self {
        StageJob {
            def: s.def.clone(),
            key: s.key.clone(),
            key_inputs: s.key_inputs.clone(),
        }
    }

    fn path(store: &CacheStore, key: &StageKey) -> PathBuf {
        store.root.join("jobs").join(format!("{}.json", key.0))
    }

    /// Saved so another process (a cluster node) can run the stage by key.
    /// A job file already holding exactly this job is left as it is: rewriting it on every
    /// plan would only cost a new file per stage.
    pub fn save(&self, store: &CacheStore) -> anyhow::Result<PathBuf> {
        let path = Self::path(store, &self.key);
        let bytes = serde_json::to_vec_pretty(self)?;
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            return Ok(path);
        }
        std::fs::create_dir_all(path.parent().expect("jobs dir"))?;
        // Unique per call: stages with identical definitions share a key (and so a job file),
        // and the SLURM executor saves their jobs from several threads at once.
        static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("json.{}.{n}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// The job saved for `key`, refused unless what it would run hashes to `key`: the key is
    /// recomputed from the stage definition itself (dependency files read afresh), so an
    /// edited job file cannot commit its output under the original key.
    pub fn load(store: &CacheStore, key: &StageKey) -> anyhow::Result<Self> {
        let path = Self::path(store, key);
        let text = std::fs::read(&path).with_context(|| {
            format!(
                "failed to read job {} (run `pipeline plan` on the spec first)",
                path.display()
            )
        })?;
        let job: StageJob = serde_json::from_slice(&text)
            .map_err(|e| mismatch(&path, key, format!("it is not a valid job ({e})")))?;
        job.verify(key).map_err(|why| mismatch(&path, key, why))?;
        Ok(job)
    }

    /// Why this job does not compute `key`, if it does not.
    fn verify(&self, key: &StageKey) -> Result<(), String> {
        let roles = self.def.inputs.keys().ne(self.key_inputs.inputs.keys());
        if roles {
            return Err("its inputs differ from the ones hashed".into());
        }
        let now = KeyInputs::of(&self.def, self.key_inputs.inputs.clone())
            .map_err(|(p, e)| format!("dependency file {} cannot be read ({e})", p.display()))?;
        let recomputed = now.key();
        if recomputed != *key || self.key != *key {
            return Err(format!(
                "its stage definition hashes to {}",
                recomputed.short()
            ));
        }
        Ok(())
    }

    pub fn log_path(&self, project_state: &Path) -> PathBuf {
        let safe: String = self
            .def
            .name
            .chars()
            .map(|c| if c == '/' { '_' } else { c })
            .collect();
        project_state
            .join("logs")
            .join(format!("{safe}.{}.log", self.key.short()))
    }
}

/// A job file that does not compute the key it is saved under: a usage error (exit 2).
fn mismatch(path: &Path, key: &StageKey, why: String) -> anyhow::Error {
    UserError::usage(format!(
        "job file {} does not match its key {}: {why}; it was edited or is stale, so nothing \
         ran (run `pipeline plan` on the spec to write it again)",
        path.display(),
        key.short()
    ))
    .into()
}
