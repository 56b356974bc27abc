//! `RawDataset`: decoded train/test images and labels (u8 pixels) before preprocessing, the
//! type every loader (IDX files, `shapes`) produces and every preprocessing step reads.

/// One split as decoded: `n` images of `rows*cols` u8 pixels, labels, optional factors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSplit {
    pub n: usize,
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
    /// Ground-truth generative factors, `n × factor_names.len()` (procedural datasets only).
    pub factors: Option<Vec<u8>>,
}

/// A whole dataset in memory, with the provenance needed by the prepared-file header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDataset {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    pub class_names: Vec<String>,
    pub train: RawSplit,
    pub test: RawSplit,
    /// `(file name, sha256 of decompressed payload)` for each source file; for procedural
    /// datasets a description of the generator instead.
    pub payload_sha256: Vec<(String, String)>,
    /// Names of the factor columns when splits carry factors, e.g. `["shape", "scale", …]`.
    pub factor_names: Vec<String>,
}
