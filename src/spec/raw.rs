//! The spec exactly as written in TOML: every field optional, unknown keys rejected.
//!
//! Integers are read as `i64` so that `latent_dim = 0` or `epochs = -1` reach range validation
//! (with the offending value) instead of failing as a type error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

/// Model and training parameters: the only things a sweep may vary.
///
/// `[model]`, `[train]`, `[variants.X]` and sweep members all use this one shape so that
/// merging them is a field-by-field overlay.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRunParams {
    pub variant: Option<String>,
    pub latent_dim: Option<i64>,
    pub hidden: Option<Vec<i64>>,
    pub activation: Option<String>,
    pub likelihood: Option<String>,
    pub beta: Option<f64>,
    pub kl_warmup_epochs: Option<i64>,
    pub noise: Option<String>,
    pub noise_level: Option<f64>,
    pub l1: Option<f64>,
    pub epochs: Option<i64>,
    pub batch_size: Option<i64>,
    pub lr: Option<f64>,
    pub adam_betas: Option<Vec<f64>>,
    pub weight_decay: Option<f64>,
    pub seed: Option<i64>,
    pub device: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub variant: Option<String>,
    pub latent_dim: Option<i64>,
    pub hidden: Option<Vec<i64>>,
    pub activation: Option<String>,
    pub likelihood: Option<String>,
    pub beta: Option<f64>,
    pub kl_warmup_epochs: Option<i64>,
    pub noise: Option<String>,
    pub noise_level: Option<f64>,
    pub l1: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrain {
    pub epochs: Option<i64>,
    pub batch_size: Option<i64>,
    pub lr: Option<f64>,
    pub adam_betas: Option<Vec<f64>>,
    pub weight_decay: Option<f64>,
    pub seed: Option<i64>,
    pub device: Option<String>,
}

impl RawRunParams {
    /// `[model]` and `[train]` as one overlayable parameter set.
    pub fn from_sections(model: &RawModel, train: &RawTrain) -> Self {
        RawRunParams {
            variant: model.variant.clone(),
            latent_dim: model.latent_dim,
            hidden: model.hidden.clone(),
            activation: model.activation.clone(),
            likelihood: model.likelihood.clone(),
            beta: model.beta,
            kl_warmup_epochs: model.kl_warmup_epochs,
            noise: model.noise.clone(),
            noise_level: model.noise_level,
            l1: model.l1,
            epochs: train.epochs,
            batch_size: train.batch_size,
            lr: train.lr,
            adam_betas: train.adam_betas.clone(),
            weight_decay: train.weight_decay,
            seed: train.seed,
            device: train.device.clone(),
        }
    }

    /// Fields set in `top` win over `self`.
    pub fn overlay(&self, top: &RawRunParams) -> RawRunParams {
        macro_rules! pick {
            ($($f:ident),*) => { RawRunParams { $($f: top.$f.clone().or_else(|| self.$f.clone()),)* } };
        }
        pick!(
            variant,
            latent_dim,
            hidden,
            activation,
            likelihood,
            beta,
            kl_warmup_epochs,
            noise,
            noise_level,
            l1,
            epochs,
            batch_size,
            lr,
            adam_betas,
            weight_decay,
            seed,
            device
        )
    }

    /// Which section a run parameter lives in, for error locations (`model.beta`, `train.lr`).
    pub fn section_of(field: &str) -> &'static str {
        if TRAIN_FIELDS.contains(&field) {
            "train"
        } else {
            "model"
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvaluate {
    pub iwae_k: Option<Vec<i64>>,
    pub knn_k: Option<i64>,
    pub probe: Option<bool>,
    pub anomaly_normal_classes: Option<Vec<i64>>,
    pub pca: Option<bool>,
    pub mig: Option<bool>,
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

/// Field names of `[model]` and `[train]`; together, the parameters a sweep may vary.
pub const MODEL_FIELDS: &[&str] = &[
    "variant",
    "latent_dim",
    "hidden",
    "activation",
    "likelihood",
    "beta",
    "kl_warmup_epochs",
    "noise",
    "noise_level",
    "l1",
];
pub const TRAIN_FIELDS: &[&str] = &[
    "epochs",
    "batch_size",
    "lr",
    "adam_betas",
    "weight_decay",
    "seed",
    "device",
];

/// Every run parameter, in the canonical order used for sweep axes and run labels.
pub static RUN_PARAM_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| MODEL_FIELDS.iter().chain(TRAIN_FIELDS).copied().collect());
