//! Turns a `RawDataset` into prepared `train.bin` / `val.bin` / `test.bin`, a `summary.json`
//! and a `contact_sheet.png`: the splits chosen by `split.rs` (class filter, stratified subset,
//! seeded train/val split, optional carved test split), then pixel scaling or binarization.

use super::contact_sheet::write_contact_sheet;
use super::dataset::{RawDataset, RawSplit};
pub use super::prepared::Binarize;
use super::prepared::{PreparedError, PreparedHeader, PreparedWriter, VERSION};
pub use super::split::{split_indices, stratified_subset, SplitIndices};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Preprocessing options; plain data so the core can hash them into the preprocess key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreprocessOptions {
    pub binarize: Binarize,
    /// Fraction of the (filtered, subset) training pool moved to the validation split, drawn
    /// uniformly at random with `split_seed` (not stratified). With `test_fraction` it is a
    /// share of the training files instead (see `split::val_share`).
    pub val_fraction: f64,
    /// When > 0, the test split is this fraction of the training files, stratified by class
    /// and seeded by `split_seed`, and the dataset's own test files are not read. Left out of
    /// the serialized options at 0 so prepared headers and cache keys stay as they were.
    #[serde(skip_serializing_if = "is_zero")]
    pub test_fraction: f64,
    pub split_seed: u64,
    /// Keep this many training examples, class proportions preserved (largest remainder).
    pub subset: Option<usize>,
    /// Keep only these classes in train and val (one-class anomaly experiments). Test keeps
    /// every class so normal and anomalous examples can both be scored; labels are not remapped.
    pub classes: Option<Vec<u8>>,
    /// Recorded for the trainer: feed images as flat vectors rather than `rows × cols`.
    pub flatten: bool,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        PreprocessOptions {
            binarize: Binarize::None,
            val_fraction: 0.1,
            test_fraction: 0.0,
            split_seed: 0,
            subset: None,
            classes: None,
            flatten: true,
        }
    }
}

/// Statistics of one written split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    pub file: String,
    pub n: usize,
    /// Count per class index (length `n_classes`).
    pub label_histogram: Vec<usize>,
    /// Mean and standard deviation of the stored pixel values.
    pub pixel_mean: f64,
    pub pixel_std: f64,
}

/// What `preprocess` wrote; also saved as `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreprocessSummary {
    pub dataset: String,
    pub rows: usize,
    pub cols: usize,
    pub class_names: Vec<String>,
    pub options: PreprocessOptions,
    pub train: SplitSummary,
    pub val: SplitSummary,
    pub test: SplitSummary,
    pub contact_sheet: String,
    pub payload_sha256: Vec<(String, String)>,
}

/// Why preprocessing failed.
#[derive(Debug, thiserror::Error)]
pub enum PreprocessError {
    #[error("invalid preprocess options: {0}")]
    Options(String),
    #[error(transparent)]
    Prepared(#[from] PreparedError),
    #[error("failed to write {}: {error}", .file.display())]
    Write {
        file: PathBuf,
        error: std::io::Error,
    },
    #[error("failed to write {}: {detail}", .file.display())]
    Png { file: PathBuf, detail: String },
}

/// Pixel value table: each u8 maps to its stored f32 (one lookup per pixel, no branches).
pub fn pixel_lut(binarize: &Binarize) -> [f32; 256] {
    std::array::from_fn(|v| {
        let x = v as f64 / 255.0;
        match binarize {
            Binarize::Static { threshold } => (x > *threshold) as u8 as f32,
            Binarize::None | Binarize::Dynamic => x as f32,
        }
    })
}

/// Mean and standard deviation of `lut[v]` over a value histogram (exact, no pass over floats).
pub fn stats_from_histogram(hist: &[u64; 256], lut: &[f32; 256]) -> (f64, f64) {
    let count: u64 = hist.iter().sum();
    if count == 0 {
        return (0.0, 0.0);
    }
    let (mut s, mut s2) = (0.0f64, 0.0f64);
    for (h, &v) in hist.iter().zip(lut.iter()) {
        s += *h as f64 * v as f64;
        s2 += *h as f64 * v as f64 * v as f64;
    }
    let mean = s / count as f64;
    (mean, (s2 / count as f64 - mean * mean).max(0.0).sqrt())
}

fn validate(raw: &RawDataset, opts: &PreprocessOptions) -> Result<(), PreprocessError> {
    let bad = |m: String| Err(PreprocessError::Options(m));
    if !(0.0..1.0).contains(&opts.val_fraction) {
        return bad(format!(
            "val_fraction {} is outside [0, 1)",
            opts.val_fraction
        ));
    }
    if !(0.0..1.0).contains(&opts.test_fraction) {
        return bad(format!(
            "test_fraction {} is outside [0, 1)",
            opts.test_fraction
        ));
    }
    if opts.test_fraction > 0.0 && opts.val_fraction + opts.test_fraction >= 1.0 {
        return bad(format!(
            "val_fraction {} + test_fraction {} leave no training data",
            opts.val_fraction, opts.test_fraction
        ));
    }
    if opts.test_fraction == 0.0 && raw.test.n == 0 && raw.train.n > 0 {
        return bad(format!(
            "{} has no test split: set test_fraction to carve one out of the training files",
            raw.name
        ));
    }
    if let Binarize::Static { threshold } = opts.binarize {
        if !(0.0..=1.0).contains(&threshold) {
            return bad(format!("binarize threshold {threshold} is outside [0, 1]"));
        }
    }
    if opts.subset == Some(0) {
        return bad("subset must be at least 1".into());
    }
    if let Some(classes) = &opts.classes {
        let n = raw.class_names.len();
        if classes.is_empty() {
            return bad("classes is empty".into());
        }
        if let Some(c) = classes.iter().find(|&&c| c as usize >= n) {
            return bad(format!(
                "class {c} does not exist in {} ({n} classes)",
                raw.name
            ));
        }
    }
    Ok(())
}

/// Value histogram kept as four interleaved sub-histograms: runs of equal values (the zero
/// background) would otherwise serialize on one counter's store→load chain.
struct ValueCounts([[u64; 256]; 4]);

impl ValueCounts {
    fn add(&mut self, pixels: &[u8]) {
        let mut quads = pixels.chunks_exact(4);
        for q in &mut quads {
            self.0[0][q[0] as usize] += 1;
            self.0[1][q[1] as usize] += 1;
            self.0[2][q[2] as usize] += 1;
            self.0[3][q[3] as usize] += 1;
        }
        for &v in quads.remainder() {
            self.0[0][v as usize] += 1;
        }
    }

    fn total(&self) -> [u64; 256] {
        std::array::from_fn(|v| self.0.iter().map(|h| h[v]).sum())
    }
}

struct SplitJob<'a> {
    name: &'static str,
    source: &'a RawSplit,
    indices: Vec<usize>,
}

/// Writes one split through the LUT in small chunks: peak memory stays at the raw u8 data
/// instead of a full f32 copy.
fn write_split(
    raw: &RawDataset,
    job: &SplitJob,
    header: PreparedHeader,
    lut: &[f32; 256],
    out_dir: &Path,
) -> Result<SplitSummary, PreprocessError> {
    let dim = raw.rows * raw.cols;
    let file = format!("{}.bin", job.name);
    let mut writer = PreparedWriter::create(&out_dir.join(&file), &header)?;
    let mut counts = ValueCounts([[0; 256]; 4]);
    let mut label_histogram = vec![0usize; raw.class_names.len().max(1)];
    let mut labels = Vec::with_capacity(job.indices.len());
    let n_factors = raw.factor_names.len();
    let mut factors = job
        .source
        .factors
        .as_ref()
        .map(|_| Vec::with_capacity(job.indices.len() * n_factors));
    let images_per_chunk = (16384 / dim).max(1);
    let mut chunk = Vec::with_capacity(images_per_chunk * dim);
    for group in job.indices.chunks(images_per_chunk) {
        chunk.clear();
        for &i in group {
            let src = &job.source.pixels[i * dim..(i + 1) * dim];
            counts.add(src);
            chunk.extend(src.iter().map(|&v| lut[v as usize]));
            let label = job.source.labels[i];
            labels.push(label);
            if let Some(slot) = label_histogram.get_mut(label as usize) {
                *slot += 1;
            }
            if let (Some(dst), Some(src)) = (factors.as_mut(), job.source.factors.as_ref()) {
                dst.extend_from_slice(&src[i * n_factors..(i + 1) * n_factors]);
            }
        }
        writer.write_pixels(&chunk)?;
    }
    writer.finish(&labels, factors.as_deref())?;
    let (pixel_mean, pixel_std) = stats_from_histogram(&counts.total(), lut);
    Ok(SplitSummary {
        file,
        n: job.indices.len(),
        label_histogram,
        pixel_mean,
        pixel_std,
    })
}

/// Writes `train.bin`, `val.bin`, `test.bin`, `summary.json` and `contact_sheet.png` into
/// `out_dir` (created if missing). Each file appears atomically.
pub fn preprocess(
    raw: &RawDataset,
    opts: &PreprocessOptions,
    out_dir: &Path,
) -> Result<PreprocessSummary, PreprocessError> {
    validate(raw, opts)?;
    std::fs::create_dir_all(out_dir).map_err(|error| PreprocessError::Write {
        file: out_dir.into(),
        error,
    })?;
    let SplitIndices {
        train,
        val,
        test,
        test_from_train,
    } = split_indices(raw, opts);
    let lut = pixel_lut(&opts.binarize);
    let options_json = serde_json::to_value(opts).expect("options serialize");
    let sheet_indices = train.clone();
    let jobs = vec![
        SplitJob {
            name: "train",
            source: &raw.train,
            indices: train,
        },
        SplitJob {
            name: "val",
            source: &raw.train,
            indices: val,
        },
        SplitJob {
            name: "test",
            source: if test_from_train {
                &raw.train
            } else {
                &raw.test
            },
            indices: test,
        },
    ];
    let header_for = |job: &SplitJob| PreparedHeader {
        version: VERSION,
        dataset: raw.name.clone(),
        split: job.name.to_string(),
        n: job.indices.len(),
        rows: raw.rows,
        cols: raw.cols,
        n_classes: raw.class_names.len(),
        binarize: opts.binarize.clone(),
        class_names: raw.class_names.clone(),
        factor_names: raw.factor_names.clone(),
        payload_sha256: raw.payload_sha256.clone(),
        options: options_json.clone(),
    };
    // Splits are independent files: write them concurrently (train on one core, val+test and
    // the contact sheet on the other).
    let sheet_path = out_dir.join("contact_sheet.png");
    let (summaries, sheet) = rayon::join(
        || {
            jobs.par_iter()
                .map(|job| write_split(raw, job, header_for(job), &lut, out_dir))
                .collect::<Result<Vec<_>, _>>()
        },
        || write_contact_sheet(&sheet_path, raw, &sheet_indices, &lut),
    );
    sheet?;
    let mut summaries = summaries?.into_iter();
    let summary = PreprocessSummary {
        dataset: raw.name.clone(),
        rows: raw.rows,
        cols: raw.cols,
        class_names: raw.class_names.clone(),
        options: opts.clone(),
        train: summaries.next().unwrap(),
        val: summaries.next().unwrap(),
        test: summaries.next().unwrap(),
        contact_sheet: "contact_sheet.png".into(),
        payload_sha256: raw.payload_sha256.clone(),
    };
    let json = serde_json::to_vec_pretty(&summary).expect("summary serializes");
    let path = out_dir.join("summary.json");
    let tmp = out_dir.join(format!("summary.json.tmp-{}", std::process::id()));
    std::fs::write(&tmp, json)
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|error| PreprocessError::Write { file: path, error })?;
    Ok(summary)
}
