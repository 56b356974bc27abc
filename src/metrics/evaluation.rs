//! What one model's evaluation measured (`metrics.json` of the evaluate stage), read back by
//! the plot and report stages; the metric registry reads its columns from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Test images the IWAE bound is computed on when `[evaluate] iwae_images` is not set: enough
/// for a stable estimate, few enough that k = 500 stays affordable on a CPU.
pub const DEFAULT_IWAE_IMAGES: usize = 1000;

/// Serde helpers: stage parameters leave `iwae_images` out at its default, so keys from before
/// the setting existed stay valid.
pub fn default_iwae_images() -> usize {
    DEFAULT_IWAE_IMAGES
}

pub fn is_default_iwae_images(n: &usize) -> bool {
    *n == DEFAULT_IWAE_IMAGES
}

/// The number of test images the IWAE bound actually uses: the first `setting`, or all of a
/// smaller test split. Evaluate computes the bound on these and the report says how many.
pub fn iwae_image_count(n_test: usize, setting: usize) -> usize {
    n_test.min(setting)
}

/// What `metrics.json` holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EvalMetrics {
    pub n_test: usize,
    pub latent_dim: usize,
    /// Reconstruction decoded from the mean code z = μ (no sampling): per image, summed over
    /// pixels, averaged over the test set.
    pub recon_bce: f64,
    pub recon_mse: f64,
    /// Peak signal-to-noise ratio of those reconstructions in dB (pixels in [0, 1]).
    #[serde(default)]
    pub recon_psnr: Option<f64>,
    /// The ELBO's own reconstruction term (the model's likelihood loss: BCE with logits or
    /// squared error) at one sampled z, so that `elbo = −(recon + kl)`.
    pub recon: f64,
    pub kl: f64,
    pub elbo: f64,
    /// k → IWAE bound on log p(x) (VAEs); −bound is the NLL estimate.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub iwae: BTreeMap<usize, f64>,
    /// Test images the IWAE bound was computed on (the first ones), which the report names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iwae_images: Option<usize>,
    pub active_units: usize,
    pub knn_accuracy: Option<f64>,
    pub probe_accuracy: Option<f64>,
    pub anomaly_auroc: Option<f64>,
    pub pca_mse: Option<f64>,
    /// k → PCA's test MSE with k components, around the model's latent size (the curve the
    /// linear AE's point should sit on).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pca_mse_by_k: BTreeMap<usize, f64>,
    pub linear_ae_mse: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principal_angles_deg: Vec<f64>,
    pub mig: Option<f64>,
    /// Which units the MIG scored (`[evaluate] mig_units`); absent in earlier files: all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mig_units: Option<super::MigUnits>,
    pub seconds: f64,
}

impl EvalMetrics {
    /// The tightest IWAE bound (largest k) as `(k, bound)`.
    pub fn tightest_iwae(&self) -> Option<(usize, f64)> {
        self.iwae.iter().next_back().map(|(&k, &b)| (k, b))
    }
}
