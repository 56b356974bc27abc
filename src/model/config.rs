//! Model and training configuration for the AE/VAE family, as read from the experiment TOML.
use serde::{Deserialize, Serialize};

use super::ModelError;

/// Which member of the autoencoder family to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// Deterministic autoencoder.
    Ae,
    /// Gaussian-encoder VAE; `beta` weights the KL (β = 1 is the plain VAE, otherwise β-VAE).
    Vae,
    /// Autoencoder fed a corrupted input and asked for the clean one (`noise` required).
    DenoisingAe,
    /// Autoencoder with an L1 penalty `l1` on the code.
    SparseAe,
    /// x → z → x with no hidden layers and no nonlinearity (the PCA comparison).
    LinearAe,
}

/// Hidden-layer nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    Relu,
    Tanh,
    Selu,
    Sigmoid,
    LeakyRelu,
    Elu,
    /// No nonlinearity; used by `linear-ae` and for output layers.
    Identity,
}

/// Decoder likelihood, which fixes the reconstruction loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// Decoder emits logits; recon = BCE-with-logits summed over pixels.
    Bernoulli,
    /// Decoder emits means; recon = squared error summed over pixels
    /// (the negative log-density of N(mean, 1/2) up to a constant).
    Gaussian,
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
    #[serde(default = "one")]
    pub beta: f32,
    #[serde(default)]
    pub kl_warmup_epochs: usize,
    #[serde(default)]
    pub noise: Option<Noise>,
    #[serde(default)]
    pub l1: f32,
}

fn one() -> f32 {
    1.0
}

/// Where the training runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceChoice {
    /// The hand-written fast path.
    Cpu,
    /// dfdx autodiff on the CPU: slow, but the same code as `Cuda`, to check it without a GPU.
    CpuAutodiff,
    Cuda,
    /// CUDA when compiled with the `cuda` feature and a device opens, else CPU.
    Auto,
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
        Self {
            epochs: 10,
            batch_size: 128,
            lr: 1e-3,
            betas: (0.9, 0.999),
            weight_decay: 0.0,
            seed: 0,
            device: DeviceChoice::Cpu,
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
