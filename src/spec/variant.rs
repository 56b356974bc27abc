//! Model variants and the run parameters each one reads (the enums are the model's own).
//!
//! A parameter a variant does not read is dropped from its runs, so an AE in a β sweep is one run
//! (not one per β) and its stage key does not depend on β.

use serde::{Deserialize, Serialize};

pub use crate::model::config::{Activation, DeviceChoice as Device, Likelihood, Variant};

pub const VARIANT_NAMES: &[&str] = &["ae", "vae", "denoising-ae", "sparse-ae", "linear-ae"];

/// Parameters every variant reads: everything in `[train]` plus these.
const COMMON_MODEL: &[&str] = &["variant", "latent_dim", "likelihood"];

impl Variant {
    pub fn parse(name: &str) -> Option<Variant> {
        Some(match name {
            "ae" => Variant::Ae,
            "vae" | "beta-vae" => Variant::Vae,
            "denoising-ae" => Variant::DenoisingAe,
            "sparse-ae" => Variant::SparseAe,
            "linear-ae" => Variant::LinearAe,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Variant::Ae => "ae",
            Variant::Vae => "vae",
            Variant::DenoisingAe => "denoising-ae",
            Variant::SparseAe => "sparse-ae",
            Variant::LinearAe => "linear-ae",
        }
    }

    pub fn is_variational(self) -> bool {
        self == Variant::Vae
    }

    /// Whether this variant reads run parameter `param`.
    pub fn reads(self, param: &str) -> bool {
        if COMMON_MODEL.contains(&param) || super::raw::TRAIN_FIELDS.contains(&param) {
            return true;
        }
        match param {
            "hidden" | "activation" => self != Variant::LinearAe,
            "beta" | "kl_warmup_epochs" => self == Variant::Vae,
            "noise" | "noise_level" => self == Variant::DenoisingAe,
            "l1" => self == Variant::SparseAe,
            _ => false,
        }
    }
}

pub const ACTIVATION_NAMES: &[&str] = &["relu", "tanh", "selu", "sigmoid", "leaky-relu", "elu"];

pub const LIKELIHOOD_NAMES: &[&str] = &["bernoulli", "gaussian"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseKind {
    Gaussian,
    Masking,
}

pub const NOISE_NAMES: &[&str] = &["gaussian", "masking"];

pub const DEVICE_NAMES: &[&str] = &["cpu", "cuda", "auto", "cpu-autodiff"];

/// Parses a kebab-case name into one of the enums above via serde, so names live in one place.
pub fn parse_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name)).ok()
}
