//! What the plot stage hashes (the figures asked for, the sweep's members, the dataset) and what
//! it reads unhashed (the anomaly classes, for labels).

use serde::{Deserialize, Serialize};

use crate::spec::{MemberRow, PlotsSpec};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlotParams {
    pub plots: PlotsSpec,
    pub members: Vec<MemberRow>,
    pub dataset: String,
}

/// Not hashed here, yet it changes the anomaly figure: it reaches this stage's key through its
/// evaluate inputs, whose keys hash `evaluate.anomaly_normal_classes` (so a change re-plots).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlotContext {
    pub anomaly_normal_classes: Option<Vec<u8>>,
}
