//! The spec exactly as written in TOML: every field optional, unknown keys rejected.
//!
//! Integers are read as `i64` so that `latent_dim = 0` or `epochs = -1` reach range validation
//! (with the offending value) instead of failing as a type error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::run_params::{
    RawModel, RawRunParams, RawTrain, MODEL_FIELDS, RUN_PARAM_NAMES, TRAIN_FIELDS,
};

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub experiment: Option<RawExperiment>,
    pub dataset: Option<RawDataset>,
    pub preprocess: Option<RawPreprocess>,
    pub model: Option<RawModel>,
    pub train: Option<RawTrain>,
    pub evaluate: Option<RawEvaluate>,
    pub plots: Option<RawPlots>,
    pub sweep: Option<RawSweep>,
    /// Per-variant defaults, e.g. `[variants.sparse-ae] l1 = 1e-3`.
    #[serde(default)]
    pub variants: BTreeMap<String, RawRunParams>,
    #[serde(default)]
    pub command: Vec<RawCommand>,
    pub executor: Option<super::executor::RawExecutor>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawExperiment {
    pub name: Option<String>,
    pub seed: Option<i64>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDataset {
    pub name: Option<String>,
    /// Own files instead of a catalog entry: `files = { train_images = { path = "…", sha256 = "…" } }`.
    pub files: Option<BTreeMap<String, RawDataFile>>,
    /// Procedural shapes only.
    pub n_train: Option<i64>,
    pub n_test: Option<i64>,
    pub size: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawDataFile {
    pub path: Option<String>,
    pub url: Option<String>,
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPreprocess {
    pub binarize: Option<String>,
    pub threshold: Option<f64>,
    pub val_fraction: Option<f64>,
    pub test_fraction: Option<f64>,
    pub split_seed: Option<i64>,
    pub subset: Option<i64>,
    pub classes: Option<Vec<i64>>,
    pub flatten: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvaluate {
    pub iwae_k: Option<Vec<i64>>,
    pub iwae_images: Option<i64>,
    pub knn_k: Option<i64>,
    pub probe: Option<bool>,
    pub anomaly_normal_classes: Option<Vec<i64>>,
    pub pca: Option<bool>,
    pub mig: Option<bool>,
    pub mig_units: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlots {
    pub figures: Option<Vec<String>>,
    pub formats: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct RawSweep {
    #[serde(default)]
    pub include: Vec<toml::Table>,
    #[serde(default)]
    pub exclude: Vec<toml::Table>,
    /// Grid axes: `latent_dim = [2, 5]`; checked against `RawRunParams` field names later.
    #[serde(flatten)]
    pub axes: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    pub name: Option<String>,
    pub cmd: Option<String>,
    #[serde(default)]
    pub params: toml::Table,
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub outputs: Vec<String>,
    /// Files whose content is part of the stage key (scripts, configs), relative to the spec.
    #[serde(default)]
    pub deps: Vec<String>,
    pub cores: Option<i64>,
    pub gpus: Option<i64>,
    pub publish: Option<bool>,
}
