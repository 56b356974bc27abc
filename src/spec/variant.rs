//! Model variants and the run parameters each one reads (the enums and their names are the
//! model's own, see `model::config`).
//!
//! A parameter a variant does not read is dropped from its runs, so an AE in a β sweep is one run
//! (not one per β) and its stage key does not depend on β.

pub use crate::model::config::{
    Activation, Backbone, DeviceChoice as Device, Likelihood, NoiseKind, Variant,
};

pub const VARIANT_NAMES: &[&str] = Variant::NAMES;

/// Parameters every variant reads: everything in `[train]` plus these.
const COMMON_MODEL: &[&str] = &["variant", "latent_dim", "likelihood"];

/// The network-family parameters: `architecture`, and the conv layout (read when it is "conv").
pub const ARCHITECTURE_PARAMS: &[&str] = &[
    "architecture",
    "conv_channels",
    "conv_kernel",
    "conv_stride",
    "conv_padding",
    "conv_dense",
];

pub const BACKBONE_NAMES: &[&str] = Backbone::NAMES;

/// What the spec layer knows of one variant beyond its name.
struct Traits {
    /// Reads [`ARCHITECTURE_PARAMS`] (every variant but `linear-ae`, which stays linear).
    architecture: bool,
    /// `[model]` parameters it reads besides `COMMON_MODEL`.
    reads: &'static [&'static str],
    /// Has an encoder distribution, so an IWAE bound.
    variational: bool,
    /// Its validation loss is measured on corrupted inputs.
    corrupted_validation: bool,
    /// Is compared with PCA (`evaluate.pca`).
    compared_with_pca: bool,
}

const PLAIN: Traits = Traits {
    architecture: true,
    reads: &["hidden", "activation"],
    variational: false,
    corrupted_validation: false,
    compared_with_pca: false,
};

/// The one place a variant's parameters and evaluation traits are declared.
fn traits(v: Variant) -> Traits {
    match v {
        Variant::Ae => PLAIN,
        Variant::Vae => Traits {
            reads: &["hidden", "activation", "beta", "kl_warmup_epochs"],
            variational: true,
            ..PLAIN
        },
        Variant::DenoisingAe => Traits {
            reads: &["hidden", "activation", "noise", "noise_level"],
            corrupted_validation: true,
            ..PLAIN
        },
        Variant::SparseAe => Traits {
            reads: &["hidden", "activation", "l1"],
            ..PLAIN
        },
        Variant::LinearAe => Traits {
            architecture: false,
            reads: &[],
            compared_with_pca: true,
            ..PLAIN
        },
    }
}

impl Variant {
    /// A variant by its name (or an alias such as `beta-vae`).
    pub fn parse(name: &str) -> Option<Variant> {
        parse_name(name)
    }

    pub fn is_variational(self) -> bool {
        traits(self).variational
    }

    pub fn validates_on_corrupted_inputs(self) -> bool {
        traits(self).corrupted_validation
    }

    pub fn is_compared_with_pca(self) -> bool {
        traits(self).compared_with_pca
    }

    /// Whether this variant reads run parameter `param`.
    pub fn reads(self, param: &str) -> bool {
        COMMON_MODEL.contains(&param)
            || super::raw::TRAIN_FIELDS.contains(&param)
            || traits(self).reads.contains(&param)
            || (traits(self).architecture && ARCHITECTURE_PARAMS.contains(&param))
    }
}

/// Every activation but `identity`, which only `linear-ae` uses (implicitly).
pub const ACTIVATION_NAMES: &[&str] = &["relu", "tanh", "selu", "sigmoid", "leaky-relu", "elu"];

pub const LIKELIHOOD_NAMES: &[&str] = Likelihood::NAMES;

pub const NOISE_NAMES: &[&str] = NoiseKind::NAMES;

pub const DEVICE_NAMES: &[&str] = Device::NAMES;

/// Parses a kebab-case name into one of the enums above via serde, so names live in one place.
pub fn parse_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_aliases_are_accepted() {
        for &v in Variant::ALL {
            assert_eq!(Variant::parse(v.name()), Some(v));
        }
        assert_eq!(Variant::parse("beta-vae"), Some(Variant::Vae));
        assert_eq!(Variant::parse("vea"), None);
        for name in ACTIVATION_NAMES {
            assert!(Activation::NAMES.contains(name), "{name}");
        }
    }

    #[test]
    fn unread_parameters_are_dropped() {
        assert!(Variant::Vae.reads("beta") && !Variant::Ae.reads("beta"));
        assert!(!Variant::LinearAe.reads("hidden") && Variant::LinearAe.reads("epochs"));
        assert!(Variant::DenoisingAe.reads("noise_level") && Variant::SparseAe.reads("l1"));
        assert!(
            Variant::SparseAe.reads("conv_channels") && !Variant::LinearAe.reads("architecture")
        );
    }
}
