//! Stage definitions: what a stage is, what it reads, and what it needs to run.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageKind {
    Download,
    Preprocess,
    Train,
    Evaluate,
    Plot,
    Report,
    Command,
}

pub const STAGE_KIND_NAMES: &[&str] = &[
    "download",
    "preprocess",
    "train",
    "evaluate",
    "plot",
    "report",
    "command",
];

impl StageKind {
    pub fn name(self) -> &'static str {
        STAGE_KIND_NAMES[self as usize]
    }

    pub fn parse(s: &str) -> Option<StageKind> {
        crate::spec::variant::parse_name(s)
    }
}

impl fmt::Display for StageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a stage asks of the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub cores: usize,
    pub gpus: usize,
}

impl Default for Resources {
    fn default() -> Self {
        Resources { cores: 1, gpus: 0 }
    }
}

/// A stage before keys are known: its inputs are referred to by stage name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageDef {
    /// Unique within a plan, e.g. `train/vae-z2-b1`.
    pub name: String,
    pub kind: StageKind,
    pub implementation_version: u32,
    /// Exactly the parameters the stage reads; hashed into the key.
    pub params: serde_json::Value,
    /// Input name (as the stage refers to it) → producing stage's name.
    pub inputs: BTreeMap<String, String>,
    /// Files whose content is hashed into the key.
    #[serde(default)]
    pub file_deps: Vec<std::path::PathBuf>,
    pub resources: Resources,
    /// Copy outputs into `results/<experiment>/<run>/` after a run.
    pub publish: bool,
    /// Run-time settings that must not change the output (not hashed): working folder, etc.
    #[serde(default)]
    pub context: serde_json::Value,
}
