//! The parameters each built-in stage kind reads: one explicit struct per kind, hashed into its key.
//!
//! Adding a field here invalidates that stage kind's cache entries; so does bumping its
//! implementation version (see `implementation_version`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::{EvaluateSpec, PlotsSpec, PreprocessSpec, RunSpec, ShapesSpec};

use super::stage::StageKind;

/// Bump a kind's number when its code changes what it writes.
pub fn implementation_version(kind: StageKind) -> u32 {
    match kind {
        StageKind::Download => 1,
        StageKind::Preprocess => 1,
        StageKind::Train => 1,
        StageKind::Evaluate => 3,
        StageKind::Plot => 4,
        StageKind::Report => 1,
        StageKind::Command => 1,
    }
}

/// Download reads the dataset's identity and file checksums, not where the bytes come from:
/// every source is verified against the same sha256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadParams {
    pub dataset: String,
    /// File role → sha256 of the decompressed payload, for files the spec names itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// Only the training files are fetched: the test split is carved out of them
    /// (`preprocess.test_fraction`). Left out when false so existing keys stay valid.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub train_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessParams {
    /// The dataset's name and procedural options; its files reach this key through the
    /// download stage's key, so where they were read from does not matter.
    pub dataset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shapes: Option<ShapesSpec>,
    pub options: PreprocessSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    pub run: RunSpec,
    /// "corrupted" for a denoising AE, whose validation loss is measured on corrupted inputs
    /// (since this field exists); absent otherwise, so other runs keep their keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<String>,
}

/// Evaluation options that apply to this run's variant only (IWAE means nothing for an AE).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvaluateParams {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub iwae_k: Vec<usize>,
    pub knn_k: usize,
    pub probe: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_normal_classes: Option<Vec<u8>>,
    pub pca: bool,
    pub mig: bool,
}

impl EvaluateParams {
    pub fn for_run(e: &EvaluateSpec, run: &RunSpec) -> Self {
        EvaluateParams {
            iwae_k: if run.variant.is_variational() {
                e.iwae_k.clone()
            } else {
                Vec::new()
            },
            knn_k: e.knn_k,
            probe: e.probe,
            anomaly_normal_classes: e.anomaly_normal_classes.clone(),
            pca: e.pca && run.variant == crate::spec::variant::Variant::LinearAe,
            mig: e.mig,
        }
    }
}

/// One row of the comparison: a run's label and its swept values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    pub label: String,
    pub sweep_values: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlotParams {
    pub plots: PlotsSpec,
    pub members: Vec<MemberRow>,
    pub dataset: String,
}

/// The cached part of the report (tables, embedded figures). The spec text, run timings and
/// cache hits differ per run, so they are added when the run's results are published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportParams {
    pub members: Vec<MemberRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandParams {
    pub cmd: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub outputs: Vec<String>,
}
