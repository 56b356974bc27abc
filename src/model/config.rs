//! Model and training configuration for the AE/VAE family, as read from the experiment TOML.
use serde::{Deserialize, Serialize};

use super::conv::ConvLayout;
use super::ModelError;

/// An enum whose serde names are given once, with every value (`ALL`) and its name (`name`)
/// derived from that list.
macro_rules! named_enum {
    ($(#[$meta:meta])* pub enum $ty:ident {
        $($(#[$vmeta:meta])* $v:ident = $name:literal,)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $ty {
            $($(#[$vmeta])* #[serde(rename = $name)] $v,)*
        }

        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$v),*];
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The name specs and checkpoints use.
            pub fn name(self) -> &'static str {
                match self { $($ty::$v => $name,)* }
            }
        }
    };
}

named_enum! {
    /// Which member of the autoencoder family to train.
    pub enum Variant {
        /// Deterministic autoencoder.
        Ae = "ae",
        /// Gaussian-encoder VAE; `beta` weights the KL (β = 1 is the plain VAE, otherwise β-VAE).
        #[serde(alias = "beta-vae")]
        Vae = "vae",
        /// Autoencoder fed a corrupted input and asked for the clean one (`noise` required).
        DenoisingAe = "denoising-ae",
        /// Autoencoder with an L1 penalty `l1` on the code.
        SparseAe = "sparse-ae",
        /// x → z → x with no hidden layers and no nonlinearity (the PCA comparison).
        LinearAe = "linear-ae",
    }
}

named_enum! {
    /// The network family: dense layers only, or convolutions around a dense core.
    pub enum Backbone {
        Mlp = "mlp",
        /// [`ConvLayout`]: strided convolutions, a dense layer, transposed convolutions.
        Conv = "conv",
    }
}

named_enum! {
    /// Hidden-layer nonlinearity.
    pub enum Activation {
        Relu = "relu",
        Tanh = "tanh",
        Selu = "selu",
        Sigmoid = "sigmoid",
        LeakyRelu = "leaky-relu",
        Elu = "elu",
        /// No nonlinearity; used by `linear-ae` and for output layers.
        Identity = "identity",
    }
}

named_enum! {
    /// Decoder likelihood, which fixes the reconstruction loss.
    pub enum Likelihood {
        /// Decoder emits logits; recon = BCE-with-logits summed over pixels.
        Bernoulli = "bernoulli",
        /// Decoder emits means; recon = squared error summed over pixels
        /// (the negative log-density of N(mean, 1/2) up to a constant).
        Gaussian = "gaussian",
    }
}

named_enum! {
    /// Which corruption a denoising autoencoder sees (its [`Noise`] without the level).
    pub enum NoiseKind {
        Gaussian = "gaussian",
        Masking = "masking",
    }
}

impl NoiseKind {
    /// The corruption at `level`: the standard deviation, or the share of pixels zeroed.
    pub fn at_level(self, level: f32) -> Noise {
        match self {
            NoiseKind::Gaussian => Noise::Gaussian { std: level },
            NoiseKind::Masking => Noise::Masking { p: level },
        }
    }
}

/// Input corruption for the denoising autoencoder.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Noise {
    /// x + std·ε, ε ~ N(0, 1).
    Gaussian { std: f32 },
    /// Each pixel zeroed with probability `p`.
    Masking { p: f32 },
}

/// Architecture and objective; stored as JSON in every checkpoint so the model can be rebuilt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub variant: Variant,
    pub input_dim: usize,
    pub latent_dim: usize,
    /// Encoder hidden widths, input side first; the decoder mirrors them.
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub likelihood: Likelihood,
    #[serde(default = "default_beta")]
    pub beta: f32,
    #[serde(default)]
    pub kl_warmup_epochs: usize,
    #[serde(default)]
    pub noise: Option<Noise>,
    #[serde(default)]
    pub l1: f32,
    /// The convolutional layout; `None` is the MLP of `hidden` (left out of checkpoints then,
    /// so MLP checkpoints read and write as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv: Option<ConvLayout>,
}

fn default_beta() -> f32 {
    defaults::BETA as f32
}

named_enum! {
    /// Where the training runs.
    pub enum DeviceChoice {
        /// The hand-written fast path.
        Cpu = "cpu",
        Cuda = "cuda",
        /// CUDA when compiled with the `cuda` feature and a device opens, else CPU.
        Auto = "auto",
        /// dfdx autodiff on the CPU: slow, but the same code as `Cuda`, to check it without a GPU.
        CpuAutodiff = "cpu-autodiff",
    }
}

/// Every default of the model's and the trainer's settings, written once: a spec that leaves
/// a setting out gets it, and so do [`TrainConfig::default`] and configs read without the field.
/// Numbers are `f64` because spec values are (and are hashed into stage keys as such).
pub mod defaults {
    use super::{Activation, Backbone, DeviceChoice, Likelihood, NoiseKind, Variant};

    pub const VARIANT: Variant = Variant::Vae;
    pub const LATENT_DIM: usize = 2;
    pub const HIDDEN: &[usize] = &[400];
    pub const BACKBONE: Backbone = Backbone::Mlp;
    /// Two halvings fit 28×28 (→ 7×7) as well as 32×32 and 64×64; the dSprites papers' four
    /// (`[32, 32, 64, 64]`) fit 32×32 and 64×64.
    pub const CONV_CHANNELS: &[usize] = &[32, 64];
    pub const CONV_KERNEL: usize = 4;
    pub const CONV_STRIDE: usize = 2;
    pub const CONV_PADDING: usize = 1;
    pub const CONV_DENSE: usize = 256;
    pub const ACTIVATION: Activation = Activation::Relu;
    pub const LIKELIHOOD: Likelihood = Likelihood::Bernoulli;
    pub const BETA: f64 = 1.0;
    pub const KL_WARMUP_EPOCHS: usize = 0;
    pub const NOISE: NoiseKind = NoiseKind::Gaussian;
    pub const NOISE_LEVEL: f64 = 0.3;
    /// The L1 weight of a sparse AE; other variants have no penalty (0).
    pub const L1: f64 = 1e-3;
    pub const EPOCHS: usize = 10;
    pub const BATCH_SIZE: usize = 128;
    pub const LR: f64 = 1e-3;
    pub const ADAM_BETAS: [f64; 2] = [0.9, 0.999];
    pub const WEIGHT_DECAY: f64 = 0.0;
    pub const DEVICE: DeviceChoice = DeviceChoice::Cpu;
}

/// Optimizer and loop settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f32,
    pub betas: (f32, f32),
    pub weight_decay: f32,
    pub seed: u64,
    pub device: DeviceChoice,
    /// Resample x ~ Bernoulli(pixel) for every training batch of every epoch.
    pub dynamic_binarization: bool,
    /// Worker threads (rayon pool and matrix products); `None` uses all cores.
    pub threads: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let [b1, b2] = defaults::ADAM_BETAS;
        Self {
            epochs: defaults::EPOCHS,
            batch_size: defaults::BATCH_SIZE,
            lr: defaults::LR as f32,
            betas: (b1 as f32, b2 as f32),
            weight_decay: defaults::WEIGHT_DECAY as f32,
            seed: 0,
            device: defaults::DEVICE,
            dynamic_binarization: false,
            threads: None,
        }
    }
}

impl ModelConfig {
    /// The pytorch/examples `vae` reference: 784-400-20, ReLU, Bernoulli decoder.
    pub fn reference_vae(hidden: usize, latent: usize) -> Self {
        Self {
            variant: Variant::Vae,
            input_dim: 784,
            latent_dim: latent,
            hidden: vec![hidden],
            activation: Activation::Relu,
            likelihood: Likelihood::Bernoulli,
            beta: 1.0,
            kl_warmup_epochs: 0,
            noise: None,
            l1: 0.0,
            conv: None,
        }
    }

    /// A conv VAE on `side`×`side` images with the default layout of `channels`.
    pub fn conv_vae(channels: &[usize], side: usize, latent: usize) -> Self {
        Self {
            input_dim: side * side,
            hidden: Vec::new(),
            conv: Some(ConvLayout {
                channels: channels.to_vec(),
                kernel: defaults::CONV_KERNEL,
                stride: defaults::CONV_STRIDE,
                padding: defaults::CONV_PADDING,
                dense: defaults::CONV_DENSE,
                height: side,
                width: side,
            }),
            ..Self::reference_vae(defaults::CONV_DENSE, latent)
        }
    }

    pub fn is_vae(&self) -> bool {
        self.variant == Variant::Vae
    }

    /// The activation actually applied to hidden layers (`linear-ae` forces identity).
    pub fn hidden_activation(&self) -> Activation {
        if self.variant == Variant::LinearAe {
            Activation::Identity
        } else {
            self.activation
        }
    }

    /// Rejects configurations the engine cannot train, with a message naming the field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |msg: String| Err(ModelError::Config(msg));
        if self.input_dim == 0 || self.latent_dim == 0 {
            return bad("input_dim and latent_dim must be positive".into());
        }
        if self.hidden.contains(&0) {
            return bad("hidden widths must be positive".into());
        }
        if self.variant == Variant::LinearAe && !self.hidden.is_empty() {
            return bad("linear-ae has no hidden layers; set hidden = []".into());
        }
        if let Some(conv) = &self.conv {
            if self.variant == Variant::LinearAe {
                return bad("linear-ae stays linear; it has no conv layout".into());
            }
            if conv.height * conv.width != self.input_dim {
                return bad(format!(
                    "the conv layout is for {}×{} images but input_dim is {}",
                    conv.height, conv.width, self.input_dim
                ));
            }
            conv.sides().map_err(ModelError::Config)?;
        }
        if self.variant == Variant::DenoisingAe && self.noise.is_none() {
            return bad("denoising-ae needs a noise setting".into());
        }
        match self.noise {
            Some(Noise::Gaussian { std }) if !(std >= 0.0 && std.is_finite()) => {
                return bad(format!("noise std must be finite and >= 0, got {std}"));
            }
            Some(Noise::Masking { p }) if !(0.0..1.0).contains(&p) => {
                return bad(format!("masking noise p must be in [0, 1), got {p}"));
            }
            _ => {}
        }
        if !(self.beta >= 0.0 && self.beta.is_finite()) {
            return bad(format!("beta must be finite and >= 0, got {}", self.beta));
        }
        if !(self.l1 >= 0.0 && self.l1.is_finite()) {
            return bad(format!("l1 must be finite and >= 0, got {}", self.l1));
        }
        Ok(())
    }

    /// KL weight in a given 0-based epoch: β ramped linearly over `kl_warmup_epochs`,
    /// reaching full β in the last warm-up epoch.
    pub fn kl_weight(&self, epoch: usize) -> f32 {
        if self.kl_warmup_epochs == 0 {
            self.beta
        } else {
            self.beta * ((epoch + 1) as f32 / self.kl_warmup_epochs as f32).min(1.0)
        }
    }
}

impl TrainConfig {
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |msg: String| Err(ModelError::Config(msg));
        if self.batch_size == 0 {
            return bad("batch_size must be positive".into());
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(format!("lr must be positive, got {}", self.lr));
        }
        let (b1, b2) = self.betas;
        if !((0.0..1.0).contains(&b1) && (0.0..1.0).contains(&b2)) {
            return bad(format!("adam betas must be in [0, 1), got ({b1}, {b2})"));
        }
        if self.threads == Some(0) {
            return bad("threads must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_warmup_ramps_linearly_to_beta() {
        let m = ModelConfig {
            beta: 4.0,
            kl_warmup_epochs: 4,
            ..ModelConfig::reference_vae(8, 2)
        };
        let w: Vec<f32> = (0..6).map(|e| m.kl_weight(e)).collect();
        assert_eq!(w, [1.0, 2.0, 3.0, 4.0, 4.0, 4.0]);
        let none = ModelConfig {
            kl_warmup_epochs: 0,
            ..m
        };
        assert_eq!(none.kl_weight(0), 4.0);
    }

    #[test]
    fn config_round_trips_through_toml_with_kebab_case_names() {
        let text = r#"
            variant = "denoising-ae"
            input_dim = 784
            latent_dim = 2
            hidden = [256, 64]
            activation = "leaky-relu"
            likelihood = "gaussian"
            noise = { kind = "masking", p = 0.25 }
        "#;
        let m: ModelConfig = toml::from_str(text).unwrap();
        assert_eq!(m.variant, Variant::DenoisingAe);
        assert_eq!(m.noise, Some(Noise::Masking { p: 0.25 }));
        assert_eq!(m.beta, 1.0);
        m.validate().unwrap();
        let back: ModelConfig = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn invalid_configs_are_rejected_with_the_field_named() {
        let mut m = ModelConfig::reference_vae(8, 2);
        m.variant = Variant::LinearAe;
        assert!(m.validate().unwrap_err().to_string().contains("hidden"));
        m.variant = Variant::DenoisingAe;
        m.hidden.clear();
        assert!(m.validate().unwrap_err().to_string().contains("noise"));
    }
}
