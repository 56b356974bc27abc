//! The run parameters (`[model]` and `[train]` keys, the only things a sweep may vary), declared
//! once: the section structs, the overlayable union, and the name lists all come from one list.
use serde::{Deserialize, Serialize};

macro_rules! run_params {
    (
        model { $($m:ident: $mt:ty),* $(,)? }
        train { $($t:ident: $tt:ty),* $(,)? }
    ) => {
        /// `[model]` as written.
        #[derive(Debug, Clone, Default, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawModel {
            $(pub $m: Option<$mt>,)*
        }

        /// `[train]` as written.
        #[derive(Debug, Clone, Default, Deserialize, Serialize)]
        #[serde(deny_unknown_fields)]
        pub struct RawTrain {
            $(pub $t: Option<$tt>,)*
        }

        /// Model and training parameters together. `[model]` + `[train]`, `[variants.X]` and
        /// sweep members all use this one shape so that merging them is a field-by-field
        /// overlay.
        #[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        pub struct RawRunParams {
            $(pub $m: Option<$mt>,)*
            $(pub $t: Option<$tt>,)*
        }

        /// Field names of `[model]`.
        pub const MODEL_FIELDS: &[&str] = &[$(stringify!($m)),*];
        /// Field names of `[train]`.
        pub const TRAIN_FIELDS: &[&str] = &[$(stringify!($t)),*];

        impl RawRunParams {
            /// `[model]` and `[train]` as one overlayable parameter set.
            pub fn from_sections(model: &RawModel, train: &RawTrain) -> Self {
                RawRunParams {
                    $($m: model.$m.clone(),)*
                    $($t: train.$t.clone(),)*
                }
            }

            /// Fields set in `top` win over `self`.
            pub fn overlay(&self, top: &RawRunParams) -> RawRunParams {
                RawRunParams {
                    $($m: top.$m.clone().or_else(|| self.$m.clone()),)*
                    $($t: top.$t.clone().or_else(|| self.$t.clone()),)*
                }
            }
        }
    };
}

// Integers are read as `i64` so that `latent_dim = 0` or `epochs = -1` reach range validation
// (with the offending value) instead of failing as a type error.
run_params! {
    model {
        variant: String,
        latent_dim: i64,
        hidden: Vec<i64>,
        activation: String,
        likelihood: String,
        beta: f64,
        kl_warmup_epochs: i64,
        noise: String,
        noise_level: f64,
        l1: f64,
        architecture: String,
        conv_channels: Vec<i64>,
        conv_kernel: i64,
        conv_stride: i64,
        conv_padding: i64,
        conv_dense: i64,
    }
    train {
        epochs: i64,
        batch_size: i64,
        lr: f64,
        adam_betas: Vec<f64>,
        weight_decay: f64,
        seed: i64,
        device: String,
    }
}

impl RawRunParams {
    /// Which section a run parameter lives in, for error locations (`model.beta`, `train.lr`).
    pub fn section_of(field: &str) -> &'static str {
        if TRAIN_FIELDS.contains(&field) {
            "train"
        } else {
            "model"
        }
    }
}

/// Every run parameter, in the canonical order used for sweep axes and run labels.
pub static RUN_PARAM_NAMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| MODEL_FIELDS.iter().chain(TRAIN_FIELDS).copied().collect());
