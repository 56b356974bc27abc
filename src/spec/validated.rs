//! The validated spec: every value checked, defaults filled in, sweep expanded into runs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::variant::{Activation, Backbone, Device, Likelihood, NoiseKind, Variant};
use crate::model::config::defaults;
use crate::model::conv::ConvLayout;
use crate::model::{ModelConfig, TrainConfig};

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
    /// `[executor]`: where the stages run (never part of a key).
    pub executor: super::executor::ExecutorSpec,
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

/// A conv model's layout as validated (the image size comes from the data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConvSpec {
    /// Always [`Backbone::Conv`]; written so the key and labels say "conv".
    pub architecture: Backbone,
    pub conv_channels: Vec<usize>,
    pub conv_kernel: usize,
    pub conv_stride: usize,
    pub conv_padding: usize,
    pub conv_dense: usize,
}

impl ConvSpec {
    /// The model's layout of this spec on `height`×`width` images.
    pub fn layout(&self, height: usize, width: usize) -> ConvLayout {
        ConvLayout {
            channels: self.conv_channels.clone(),
            kernel: self.conv_kernel,
            stride: self.conv_stride,
            padding: self.conv_padding,
            dense: self.conv_dense,
            height,
            width,
        }
    }
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
    /// The conv layout when `architecture = "conv"`; its fields sit beside the others in the
    /// key, and an MLP has none, so MLP keys are what they were before conv models existed.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<ConvSpec>,
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

impl RunSpec {
    /// The model's and the trainer's own configuration for this run: the one conversion from
    /// the validated spec (whose numbers are the hashed `f64`s) to what the trainer reads.
    /// Parameters the variant does not read take the values the model ignores them at. The
    /// destructuring is exhaustive, so a new run parameter does not compile until it is
    /// passed on here.
    pub fn configs(
        &self,
        (height, width): (usize, usize),
        dynamic_binarization: bool,
        threads: usize,
    ) -> (ModelConfig, TrainConfig) {
        let RunSpec {
            variant,
            latent_dim,
            hidden,
            conv,
            activation,
            likelihood,
            beta,
            kl_warmup_epochs,
            noise,
            l1,
            epochs,
            batch_size,
            lr,
            adam_betas: [b1, b2],
            weight_decay,
            seed,
            device,
        } = self.clone();
        let model = ModelConfig {
            variant,
            input_dim: height * width,
            latent_dim,
            hidden: hidden.unwrap_or_default(),
            activation: activation.unwrap_or(Activation::Identity),
            likelihood,
            beta: beta.unwrap_or(defaults::BETA) as f32,
            kl_warmup_epochs: kl_warmup_epochs.unwrap_or(defaults::KL_WARMUP_EPOCHS),
            noise: noise.map(|n| n.kind.at_level(n.level as f32)),
            l1: l1.unwrap_or(0.0) as f32,
            conv: conv.map(|c| c.layout(height, width)),
        };
        let train = TrainConfig {
            epochs,
            batch_size,
            lr: lr as f32,
            betas: (b1 as f32, b2 as f32),
            weight_decay: weight_decay as f32,
            seed,
            device,
            dynamic_binarization,
            threads: Some(threads),
        };
        (model, train)
    }
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

/// One row of the comparison: a run's label and its swept values (what plot and report hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub label: String,
    pub sweep_values: BTreeMap<String, String>,
}

impl From<&SweepMember> for MemberRow {
    fn from(m: &SweepMember) -> Self {
        MemberRow {
            label: m.label.clone(),
            sweep_values: m.sweep_values.clone(),
        }
    }
}

/// `[evaluate]`, and, projected onto what a run's variant reads (`stages::evaluate::params_for`),
/// the evaluate stage's hashed parameters: a new key here is a new parameter there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iwae_k: Vec<usize>,
    /// Test images the IWAE bound is computed on (the first ones); left out of the key at its
    /// default (and for AEs, which have no IWAE bound).
    #[serde(
        default = "crate::metrics::default_iwae_images",
        skip_serializing_if = "crate::metrics::is_default_iwae_images"
    )]
    pub iwae_images: usize,
    pub knn_k: usize,
    pub probe: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_normal_classes: Option<Vec<u8>>,
    pub pca: bool,
    pub mig: bool,
    /// Left out of the key at its default (all units), so earlier keys stay valid.
    #[serde(default, skip_serializing_if = "crate::metrics::MigUnits::is_all")]
    pub mig_units: crate::metrics::MigUnits,
}

/// The figures `plots.figures` accepts: the plot stage's figure registry.
pub static FIGURE_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(crate::stages::plot::figure_names);
/// What `plots.figures` is when left out (the opt-in figures are not in it).
pub static DEFAULT_FIGURE_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(crate::stages::plot::default_figure_names);

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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(variant: Variant) -> RunSpec {
        RunSpec {
            variant,
            latent_dim: 3,
            hidden: None,
            conv: None,
            activation: None,
            likelihood: Likelihood::Gaussian,
            beta: None,
            kl_warmup_epochs: None,
            noise: None,
            l1: None,
            epochs: 2,
            batch_size: 8,
            lr: 0.01,
            adam_betas: [0.5, 0.9],
            weight_decay: 0.0,
            seed: 4,
            device: Device::Cpu,
        }
    }

    #[test]
    fn configs_pass_every_parameter_and_unread_ones_at_neutral_values() {
        let vae = RunSpec {
            beta: Some(4.0),
            hidden: Some(vec![16]),
            activation: Some(Activation::Tanh),
            ..run(Variant::Vae)
        };
        let (m, t) = vae.configs((2, 5), true, 3);
        assert_eq!(
            (m.input_dim, m.latent_dim, m.beta, m.hidden.clone()),
            (10, 3, 4.0, vec![16])
        );
        assert_eq!(
            (t.lr, t.betas, t.seed, t.threads),
            (0.01, (0.5, 0.9), 4, Some(3))
        );
        assert!(t.dynamic_binarization && m.validate().is_ok() && t.validate().is_ok());
        let noisy = RunSpec {
            noise: Some(NoiseSpec {
                kind: NoiseKind::Masking,
                level: 0.25,
            }),
            ..run(Variant::DenoisingAe)
        };
        let (m, _) = noisy.configs((2, 5), false, 1);
        assert_eq!(m.noise, Some(crate::model::Noise::Masking { p: 0.25 }));
        let (m, _) = run(Variant::LinearAe).configs((2, 5), false, 1);
        assert_eq!(
            (m.activation, m.beta, m.l1),
            (Activation::Identity, 1.0, 0.0)
        );
        assert!(m.hidden.is_empty() && m.validate().is_ok());
    }
}
