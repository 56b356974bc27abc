//! The prepared split format read by the trainer: a small header (fixed fields + provenance
//! JSON), then f32 pixels in [0,1] (little endian), u8 labels and optional u8 factors.
//!
//! Layout: `PIPEPREP` | version u32 | binarize u32 | n u64 | rows u32 | cols u32 |
//! n_classes u32 | n_factors u32 | json_len u32 | JSON | zero padding to a multiple of 8 |
//! pixels `n*rows*cols` f32 | labels `n` u8 | factors `n*n_factors` u8. All integers LE.

use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// How pixels in [0,1] are binarized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
pub enum Binarize {
    /// Greyscale `v / 255`.
    #[default]
    None,
    /// `1` where `v / 255 > threshold`, else `0`.
    Static { threshold: f64 },
    /// Greyscale stored; the trainer draws Bernoulli pixels each epoch (Burda et al. 2016).
    Dynamic,
}

pub const MAGIC: &[u8; 8] = b"PIPEPREP";
pub const VERSION: u32 = 1;
const FIXED_LEN: usize = 8 + 4 + 4 + 8 + 4 * 5;

/// Everything about a split except the arrays; stored as JSON in the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedHeader {
    pub version: u32,
    pub dataset: String,
    /// `train`, `val` or `test`.
    pub split: String,
    pub n: usize,
    pub rows: usize,
    pub cols: usize,
    pub n_classes: usize,
    /// `Dynamic` means pixels are greyscale and the trainer resamples binary pixels each epoch.
    pub binarize: Binarize,
    pub class_names: Vec<String>,
    pub factor_names: Vec<String>,
    /// `(file name, sha256 of decompressed payload)` of the source files.
    pub payload_sha256: Vec<(String, String)>,
    /// The preprocess options that produced this file.
    pub options: serde_json::Value,
}

/// One split in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedSplit {
    /// `n * dim` pixels in [0,1], row-major per image.
    pub images: Vec<f32>,
    pub labels: Vec<u8>,
    pub n: usize,
    pub dim: usize,
    pub rows: usize,
    pub cols: usize,
    pub class_names: Vec<String>,
    /// `n * header.factor_names.len()` ground-truth factors, when the dataset has them.
    pub factors: Option<Vec<u8>>,
    pub header: PreparedHeader,
}

/// Why a prepared file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum PreparedError {
    #[error("failed to write {}: {error}", .file.display())]
    Write { file: PathBuf, error: io::Error },
    #[error("failed to read {}: {error}", .file.display())]
    Read { file: PathBuf, error: io::Error },
    #[error("failed to read {}: not a prepared file (bad magic)", .file.display())]
    BadMagic { file: PathBuf },
    #[error("failed to read {}: format version {got}, this build reads {VERSION}", .file.display())]
    Version { file: PathBuf, got: u32 },
    #[error("failed to read {}: {detail}", .file.display())]
    Invalid { file: PathBuf, detail: String },
}

fn binarize_code(b: &Binarize) -> u32 {
    match b {
        Binarize::None => 0,
        Binarize::Static { .. } => 1,
        Binarize::Dynamic => 2,
    }
}

/// Streams a prepared file into `<path>.tmp-<pid>` and renames it into place on `finish`, so
/// a reader never sees a half-written file under the final name.
pub struct PreparedWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: BufWriter<File>,
}

impl PreparedWriter {
    pub fn create(path: &Path, header: &PreparedHeader) -> Result<Self, PreparedError> {
        let tmp = path.with_extension(format!("bin.tmp-{}", std::process::id()));
        let werr = |error| PreparedError::Write {
            file: path.into(),
            error,
        };
        let file = File::create(&tmp).map_err(werr)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let json = serde_json::to_vec(header).expect("header serializes");
        let mut fixed = Vec::with_capacity(FIXED_LEN + json.len() + 8);
        fixed.extend_from_slice(MAGIC);
        fixed.extend_from_slice(&VERSION.to_le_bytes());
        fixed.extend_from_slice(&binarize_code(&header.binarize).to_le_bytes());
        fixed.extend_from_slice(&(header.n as u64).to_le_bytes());
        for v in [
            header.rows,
            header.cols,
            header.n_classes,
            header.factor_names.len(),
            json.len(),
        ] {
            fixed.extend_from_slice(&(v as u32).to_le_bytes());
        }
        fixed.extend_from_slice(&json);
        fixed.resize(fixed.len().next_multiple_of(8), 0);
        out.write_all(&fixed).map_err(werr)?;
        Ok(PreparedWriter {
            path: path.into(),
            tmp,
            out,
        })
    }

    /// Appends pixels (call repeatedly; the total must be `n * rows * cols`).
    pub fn write_pixels(&mut self, pixels: &[f32]) -> Result<(), PreparedError> {
        let res = if cfg!(target_endian = "little") {
            self.out.write_all(bytemuck::cast_slice(pixels))
        } else {
            pixels
                .iter()
                .try_for_each(|p| self.out.write_all(&p.to_le_bytes()))
        };
        res.map_err(|error| PreparedError::Write {
            file: self.path.clone(),
            error,
        })
    }

    /// Writes labels and factors, syncs and renames into place.
    pub fn finish(mut self, labels: &[u8], factors: Option<&[u8]>) -> Result<(), PreparedError> {
        let path = self.path.clone();
        let werr = |error| PreparedError::Write {
            file: path.clone(),
            error,
        };
        let res = (|| {
            self.out.write_all(labels)?;
            if let Some(f) = factors {
                self.out.write_all(f)?;
            }
            let file = self.out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            fs::rename(&self.tmp, &self.path)
        })();
        if res.is_err() {
            let _ = fs::remove_file(&self.tmp);
        }
        res.map_err(werr)
    }
}

/// Writes a split atomically.
pub fn write_prepared(path: &Path, split: &PreparedSplit) -> Result<(), PreparedError> {
    let mut w = PreparedWriter::create(path, &split.header)?;
    w.write_pixels(&split.images)?;
    w.finish(&split.labels, split.factors.as_deref())
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// Reads a split: the header, then pixels straight into the f32 buffer with one read.
pub fn read_prepared(path: &Path) -> Result<PreparedSplit, PreparedError> {
    let rerr = |error| PreparedError::Read {
        file: path.into(),
        error,
    };
    let invalid = |detail: String| PreparedError::Invalid {
        file: path.into(),
        detail,
    };
    let mut file = File::open(path).map_err(rerr)?;
    let file_len = file.metadata().map_err(rerr)?.len();
    let mut fixed = [0u8; FIXED_LEN];
    file.read_exact(&mut fixed).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => PreparedError::BadMagic { file: path.into() },
        _ => rerr(e),
    })?;
    if &fixed[..8] != MAGIC {
        return Err(PreparedError::BadMagic { file: path.into() });
    }
    let version = u32_at(&fixed, 8) as u32;
    if version != VERSION {
        return Err(PreparedError::Version {
            file: path.into(),
            got: version,
        });
    }
    let n = u64::from_le_bytes(fixed[16..24].try_into().unwrap()) as usize;
    let (rows, cols, n_factors, json_len) = (
        u32_at(&fixed, 24),
        u32_at(&fixed, 28),
        u32_at(&fixed, 36),
        u32_at(&fixed, 40),
    );
    let data_start = (FIXED_LEN + json_len).next_multiple_of(8);
    // Checked: the header's numbers come from the file, and a wrapped product could match
    // a short file and then ask for an impossible allocation.
    let expected = [n as u64, rows as u64, cols as u64, 4]
        .iter()
        .try_fold(1u64, |a, &b| a.checked_mul(b))
        .and_then(|images| images.checked_add(n as u64))
        .and_then(|s| s.checked_add((n as u64).checked_mul(n_factors as u64)?))
        .and_then(|s| s.checked_add(data_start as u64));
    if expected != Some(file_len) {
        let expected = expected.map_or("more than 2^64".to_string(), |e| e.to_string());
        return Err(invalid(format!(
            "file has {file_len} bytes, header says {expected} (truncated or trailing data)"
        )));
    }
    // Every size below now fits in the file's length.
    let dim = rows * cols;
    let mut json = vec![0u8; data_start - FIXED_LEN];
    file.read_exact(&mut json).map_err(rerr)?;
    let header: PreparedHeader = serde_json::from_slice(&json[..json_len])
        .map_err(|e| invalid(format!("bad header JSON: {e}")))?;
    if header.n != n
        || header.rows != rows
        || header.cols != cols
        || header.factor_names.len() != n_factors
    {
        return Err(invalid(
            "header JSON disagrees with the fixed header fields".into(),
        ));
    }
    let mut images = vec![0f32; n * dim];
    file.read_exact(bytemuck::cast_slice_mut(&mut images))
        .map_err(rerr)?;
    if cfg!(target_endian = "big") {
        images
            .iter_mut()
            .for_each(|p| *p = f32::from_bits(u32::from_le(p.to_bits())));
    }
    let mut labels = vec![0u8; n];
    file.read_exact(&mut labels).map_err(rerr)?;
    let factors = if n_factors > 0 {
        let mut f = vec![0u8; n * n_factors];
        file.read_exact(&mut f).map_err(rerr)?;
        Some(f)
    } else {
        None
    };
    Ok(PreparedSplit {
        images,
        labels,
        n,
        dim,
        rows,
        cols,
        class_names: header.class_names.clone(),
        factors,
        header,
    })
}
