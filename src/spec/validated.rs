//! The validated spec: every value checked, defaults filled in, sweep expanded into runs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::variant::{Activation, Device, Likelihood, NoiseKind, Variant};

#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file as given on the command line.
    pub path: PathBuf,
    /// Folder the spec lives in: relative paths in it (command deps, data files) resolve here.
    pub dir: PathBuf,
    pub text: String,
    /// The `--set` arguments applied, as typed.
    pub overrides: Vec<String>,
    pub experiment: Experiment,
    pub dataset: Option<DatasetSpec>,
    pub preprocess: PreprocessSpec,
    pub runs: RunList,
    pub evaluate: EvaluateSpec,
    pub plots: PlotsSpec,
    pub commands: Vec<CommandSpec>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Experiment {
    pub name: String,
    pub seed: u64,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetSpec {
    pub name: String,
    /// Files named by the spec itself; empty for catalog datasets.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub files: BTreeMap<String, DataFileSpec>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shapes: Option<ShapesSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFileSpec {
    pub path: Option<String>,
    pub url: Option<String>,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShapesSpec {
    pub n_train: usize,
    pub n_test: usize,
    pub size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Binarize {
    None,
    Static,
    Dynamic,
}

pub const BINARIZE_NAMES: &[&str] = &["none", "static", "dynamic"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessSpec {
    pub binarize: Binarize,
    pub threshold: f64,
    pub val_fraction: f64,
    /// 0: the dataset's own test split. Otherwise a stratified share of the training files is
    /// held out as the test split. Not serialized at 0, so specs without it keep their keys.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub test_fraction: f64,
    pub split_seed: u64,
    pub subset: Option<usize>,
    pub classes: Option<Vec<u8>>,
    pub flatten: bool,
}

impl PreprocessSpec {
    /// True when the test split comes out of the training files, so the dataset's own test
    /// files are neither needed nor downloaded.
    pub fn carves_test(&self) -> bool {
        self.test_fraction > 0.0
    }
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseSpec {
    pub kind: NoiseKind,
    pub level: f64,
}

/// One training run: exactly the parameters its variant reads, nothing else.
///
/// Serialized as-is into the train stage key, so an unread parameter is `None` and skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub variant: Variant,
    pub latent_dim: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hidden: Option<Vec<usize>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub activation: Option<Activation>,
    pub likelihood: Likelihood,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub beta: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kl_warmup_epochs: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub noise: Option<NoiseSpec>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub l1: Option<f64>,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub adam_betas: [f64; 2],
    pub weight_decay: f64,
    pub seed: u64,
    pub device: Device,
}

/// A run plus how it is named and which sweep values produced it (for tables).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepMember {
    pub label: String,
    pub run: RunSpec,
    /// Swept parameter → value as written, restricted to what the variant reads.
    pub sweep_values: BTreeMap<String, String>,
}

pub type RunList = Vec<SweepMember>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateSpec {
    pub iwae_k: Vec<usize>,
    pub knn_k: usize,
    pub probe: bool,
    pub anomaly_normal_classes: Option<Vec<u8>>,
    pub pca: bool,
    pub mig: bool,
}

/// The figures `plots.figures` accepts: the plot stage's figure registry.
pub static FIGURE_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(crate::stages::plot::figure_names);

pub const FORMAT_NAMES: &[&str] = &["png", "svg"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlotsSpec {
    pub figures: Vec<String>,
    pub formats: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandSpec {
    pub name: String,
    pub cmd: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    /// Files hashed into the key, resolved against the spec's folder.
    pub deps: Vec<PathBuf>,
    pub cores: usize,
    pub gpus: usize,
    pub publish: bool,
    /// Index in the spec's `[[command]]` list, for error locations.
    #[serde(skip)]
    pub index: usize,
}
