//! A stage packaged to run on its own by key (here, or as `pipeline exec-stage KEY` elsewhere).

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::cache::CacheStore;
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
    pub fn save(&self, store: &CacheStore) -> anyhow::Result<PathBuf> {
        let path = Self::path(store, &self.key);
        std::fs::create_dir_all(path.parent().expect("jobs dir"))?;
        let tmp = path.with_extension(format!("json.{}", std::process::id()));
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    pub fn load(store: &CacheStore, key: &StageKey) -> anyhow::Result<Self> {
        let path = Self::path(store, key);
        let text = std::fs::read(&path).with_context(|| {
            format!(
                "failed to read job {} (run `pipeline run` or `pipeline plan` first)",
                path.display()
            )
        })?;
        let job: StageJob = serde_json::from_slice(&text)?;
        anyhow::ensure!(
            job.key_inputs.key() == job.key,
            "job file {} does not match its key",
            path.display()
        );
        Ok(job)
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
