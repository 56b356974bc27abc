//! Where a project keeps things: `.pipeline/` (cache, locks, runs, logs), `data/`, `results/`.

use std::path::{Path, PathBuf};

use crate::cache::CacheStore;

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// The folder `pipeline` runs in, unless `--project` or `PIPELINE_PROJECT` names another.
    pub fn open(root: Option<&Path>) -> Self {
        let root = root
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("PIPELINE_PROJECT").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));
        let root = std::path::absolute(&root).unwrap_or(root);
        Project { root }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".pipeline")
    }

    pub fn store(&self) -> CacheStore {
        CacheStore::new(self.state_dir())
    }

    pub fn results_dir(&self) -> PathBuf {
        self.root.join("results")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }
}
