//! What a running stage sees besides its typed params and context: inputs, output, log, cancel;
//! and the interface every stage kind's code implements for the executor (`StageRunner`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::events::ProgressHandle;
use super::job::StageJob;
use crate::plan::Input;

/// Settings of the whole run that do not change any stage's output.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunEnv {
    /// The project folder (holds `.pipeline/`, `data/`, `results/`).
    pub project: PathBuf,
    /// `--data-mirror` / `PIPELINE_DATA_MIRROR`.
    pub data_mirror: Option<String>,
    /// Threads a stage may use for its own parallel work.
    pub threads: usize,
}

pub struct StageContext<'a> {
    pub job: &'a StageJob,
    pub env: &'a RunEnv,
    /// Input name → that input's committed output folder (read-only).
    pub inputs: BTreeMap<String, PathBuf>,
    /// Where the stage writes; becomes the cache entry's `out/` on success.
    pub out: &'a Path,
    /// Survives interruption (for resumable stages, which create it); deleted after commit.
    pub scratch: &'a Path,
    pub log: &'a StageLog,
    /// Threads this stage may use: its `resources.cores`, capped by the run's `--cores`.
    pub threads: usize,
    pub progress: &'a ProgressHandle,
    pub cancel: &'a AtomicBool,
}

impl StageContext<'_> {
    /// The committed output folder of one of the stage's inputs.
    pub fn input(&self, input: Input) -> anyhow::Result<&Path> {
        let role = input.role();
        self.inputs
            .get(&role)
            .map(PathBuf::as_path)
            .ok_or_else(|| anyhow::anyhow!("stage has no input named `{role}`"))
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Computes one stage's outputs into `ctx.out`. Returning `Ok` commits them to the cache.
/// Implemented by every stage kind (in `stages/`); the executor only ever sees this.
pub trait StageRunner: Sync {
    fn run(&self, ctx: &StageContext) -> anyhow::Result<()>;
}

/// The code of each stage kind, as the workflow hands it to the executor (`stages::RUNNERS`):
/// execution depends on this interface, not on the kinds.
#[derive(Clone, Copy)]
pub struct Runners(pub fn(crate::plan::StageKind) -> &'static dyn StageRunner);

impl Runners {
    pub fn get(self, kind: crate::plan::StageKind) -> &'static dyn StageRunner {
        (self.0)(kind)
    }
}

/// A stage's log file, shared by its threads.
pub struct StageLog {
    pub path: PathBuf,
    file: Mutex<File>,
}

impl StageLog {
    pub fn create(path: &Path) -> std::io::Result<StageLog> {
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p)?;
        }
        Ok(StageLog {
            path: path.to_owned(),
            file: Mutex::new(File::create(path)?),
        })
    }

    pub fn line(&self, text: impl AsRef<str>) {
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(f, "{}", text.as_ref());
    }

    pub fn try_clone_file(&self) -> std::io::Result<File> {
        self.file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .try_clone()
    }

    /// The last `n` lines, for failure summaries.
    pub fn tail(path: &Path, n: usize) -> String {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}
