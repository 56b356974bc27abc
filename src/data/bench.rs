//! `pipeline bench data`: times decoding + preprocessing of a full IDX dataset (Fashion-MNIST)
//! and reports peak resident memory against the size of the decoded f32 data.

use super::catalog::{lookup, FileSpec};
use super::preprocess::{preprocess, PreprocessError, PreprocessOptions, PreprocessSummary};
use super::raw::{find_dataset_files, load_idx_dataset, RawError};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Timings and memory of one benchmark run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub dataset: String,
    pub images: usize,
    /// Reading, gunzipping, hashing and validating the four IDX files.
    pub decode_seconds: f64,
    /// Splitting, scaling and writing the prepared files, summary and contact sheet.
    pub preprocess_seconds: f64,
    pub total_seconds: f64,
    /// User + system CPU time of the process over the run (all threads): a measure that does
    /// not depend on how busy the machine is, unlike wall time.
    pub cpu_seconds: Option<f64>,
    /// `VmHWM` of this process after the run (reset before it where the kernel allows).
    pub peak_rss_bytes: Option<u64>,
    /// Whether the peak was reset before the run; if not, it includes earlier work.
    pub peak_rss_reset: bool,
    /// `images × rows × cols × 4`: the decoded data as f32.
    pub decoded_f32_bytes: u64,
    pub summary: PreprocessSummary,
}

impl BenchReport {
    /// Peak RSS as a multiple of the decoded f32 data (goal: < 2).
    pub fn peak_ratio(&self) -> Option<f64> {
        self.peak_rss_bytes
            .map(|p| p as f64 / self.decoded_f32_bytes as f64)
    }
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Raw(#[from] RawError),
    #[error(transparent)]
    Preprocess(#[from] PreprocessError),
    #[error("failed to create benchmark folder {}: {error}", .dir.display())]
    TempDir { dir: PathBuf, error: std::io::Error },
}

/// Decodes and preprocesses the Fashion-MNIST files found in `raw_dir` (`.gz` or raw names)
/// into a scratch folder that is removed afterwards.
pub fn bench_preprocess(
    raw_dir: &Path,
    opts: &PreprocessOptions,
) -> Result<BenchReport, BenchError> {
    bench_dataset("fashion-mnist", raw_dir, opts)
}

/// As `bench_preprocess` for any IDX catalog dataset.
pub fn bench_dataset(
    dataset: &str,
    raw_dir: &Path,
    opts: &PreprocessOptions,
) -> Result<BenchReport, BenchError> {
    let entry =
        lookup(dataset).unwrap_or_else(|| panic!("bench: `{dataset}` is not in the catalog"));
    let specs: Vec<FileSpec> = entry.file_specs();
    let paths = find_dataset_files(raw_dir, &specs)?;
    let scratch = std::env::temp_dir().join(format!("pipeline-bench-data-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|error| BenchError::TempDir {
        dir: scratch.clone(),
        error,
    })?;
    let peak_rss_reset = crate::process_stats::reset_peak_rss();

    let cpu_start = crate::process_stats::cpu_seconds();
    let start = Instant::now();
    let raw = load_idx_dataset(dataset, &paths, Some(&specs), entry.class_names());
    let decode_seconds = start.elapsed().as_secs_f64();
    let result = raw.map_err(BenchError::from).and_then(|raw| {
        let images = raw.train.n + raw.test.n;
        let decoded_f32_bytes = (images * raw.rows * raw.cols * 4) as u64;
        let t = Instant::now();
        let summary = preprocess(&raw, opts, &scratch)?;
        Ok((
            images,
            decoded_f32_bytes,
            t.elapsed().as_secs_f64(),
            summary,
        ))
    });
    let total_seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = crate::process_stats::cpu_seconds()
        .zip(cpu_start)
        .map(|(end, begin)| end - begin);
    let peak_rss_bytes = crate::process_stats::peak_rss_bytes();
    let _ = std::fs::remove_dir_all(&scratch);
    let (images, decoded_f32_bytes, preprocess_seconds, summary) = result?;
    Ok(BenchReport {
        dataset: dataset.into(),
        images,
        decode_seconds,
        preprocess_seconds,
        total_seconds,
        cpu_seconds,
        peak_rss_bytes,
        peak_rss_reset,
        decoded_f32_bytes,
        summary,
    })
}
