//! Evaluation metrics on plain arrays: AUROC/ROC, PCA, principal angles, latent-space
//! diagnostics (active units, MIG), kNN / linear-probe accuracy and small statistics helpers;
//! what an evaluation holds ([`EvalMetrics`]) and the registry of its table columns ([`METRICS`]).
//!
//! Conventions shared by every function here:
//! - a matrix of `n` rows and `d` columns is a row-major slice of length `n * d`;
//! - class labels are `u8`, binary labels are `bool` (true = positive / anomalous);
//! - inputs are checked and reported through [`MetricsError`], never by panicking.

pub mod auroc;
pub mod classify;
mod eigen;
pub mod evaluation;
pub mod latent;
pub mod pca;
pub mod registry;
pub mod stats;
pub mod subspace;

pub use auroc::{auroc, roc_curve, RocCurve};
pub use classify::{knn_accuracy, knn_predict, linear_probe_accuracy, LinearProbe, ProbeConfig};
pub use evaluation::{
    default_iwae_images, is_default_iwae_images, iwae_image_count, EvalMetrics, DEFAULT_IWAE_IMAGES,
};
pub use latent::{
    active_units, mutual_information_gap, ActiveUnits, Mig, MigUnits, ACTIVE_UNIT_THRESHOLD,
    MIG_BINS,
};
pub use pca::Pca;
pub use registry::{metric, Direction, Format, Metric, METRICS};
pub use stats::{log_mean_exp, mean_sd, MeanSd};
pub use subspace::principal_angles_deg;

/// Why a metric could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    #[error("{what}: expected length {expected}, got {actual}")]
    Shape {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("non-finite value in {0}")]
    NonFinite(&'static str),
}

pub type MetricsResult<T> = Result<T, MetricsError>;

/// Checks that `data` holds an `n × d` matrix.
pub(crate) fn check_matrix(
    what: &'static str,
    data: &[f32],
    n: usize,
    d: usize,
) -> MetricsResult<()> {
    if data.len() != n * d {
        return Err(MetricsError::Shape {
            what,
            expected: n * d,
            actual: data.len(),
        });
    }
    if data.iter().any(|v| !v.is_finite()) {
        return Err(MetricsError::NonFinite(what));
    }
    Ok(())
}

/// Checks that a per-row companion slice (labels, scores) has one entry per row.
pub(crate) fn check_len(what: &'static str, len: usize, expected: usize) -> MetricsResult<()> {
    if len != expected {
        return Err(MetricsError::Shape {
            what,
            expected,
            actual: len,
        });
    }
    Ok(())
}
