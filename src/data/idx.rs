//! IDX file reader/writer (the MNIST format) for gzip or raw files, with strict validation of
//! magic, dimensions and payload length; every error names the file.

use super::is_gzip;
use flate2::read::MultiGzDecoder;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Magic of unsigned-byte label files: 0x00 0x00, type 0x08, 1 dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Magic of unsigned-byte image files: 0x00 0x00, type 0x08, 3 dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;

/// Why an IDX file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    #[error("failed to read {}: {error}", .file.display())]
    Read { file: PathBuf, error: io::Error },
    #[error("failed to decode {}: corrupt gzip: {detail}", .file.display())]
    Gzip { file: PathBuf, detail: String },
    #[error("failed to decode {}: {len} bytes is shorter than the {need}-byte IDX header", .file.display())]
    TooShort {
        file: PathBuf,
        len: usize,
        need: usize,
    },
    #[error("failed to decode {}: wrong magic 0x{got:08x}, expected 0x{expected:08x}", .file.display())]
    WrongMagic {
        file: PathBuf,
        got: u32,
        expected: u32,
    },
    #[error("failed to decode {}: element type 0x{dtype:02x} is not supported (only unsigned byte 0x08)", .file.display())]
    UnsupportedType { file: PathBuf, dtype: u8 },
    #[error("failed to decode {}: payload has {got} bytes but the header ({dims}) needs {expected}: {}", .file.display(), if .got < .expected { "file is truncated" } else { "trailing bytes after the data" })]
    Length {
        file: PathBuf,
        dims: String,
        expected: u64,
        got: u64,
    },
    #[error("failed to decode {}: the header's dimensions ({dims}) multiply past 2^64 bytes; the file is not a valid IDX file", .file.display())]
    Overflow { file: PathBuf, dims: String },
    #[error("failed to decode {}: dimension of size zero ({dims})", .file.display())]
    ZeroDim { file: PathBuf, dims: String },
    #[error("failed to load {} with {}: {n_images} images but {n_labels} labels", .images.display(), .labels.display())]
    CountMismatch {
        images: PathBuf,
        labels: PathBuf,
        n_images: usize,
        n_labels: usize,
    },
}

/// Decoded image file: `n` images of `rows × cols` unsigned bytes, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    pub n: usize,
    pub rows: usize,
    pub cols: usize,
    pub pixels: Vec<u8>,
}

/// Reads a file in one read and gunzips it if it starts with the gzip magic (by content, so a
/// misnamed file still works).
pub fn read_payload(path: &Path) -> Result<Vec<u8>, IdxError> {
    let bytes = std::fs::read(path).map_err(|error| IdxError::Read {
        file: path.into(),
        error,
    })?;
    if !is_gzip(&bytes) {
        return Ok(bytes);
    }
    // ISIZE (last 4 bytes) is the uncompressed size mod 2^32: a good capacity hint, never trusted.
    let hint = bytes[bytes.len().saturating_sub(4)..]
        .try_into()
        .map(u32::from_le_bytes)
        .unwrap_or(0) as usize;
    let mut out = Vec::new();
    // Only a hint: if even that much memory is not available, let the decoder grow the buffer.
    let _ = out.try_reserve_exact(hint.min(1 << 30));
    MultiGzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .map_err(|e| IdxError::Gzip {
            file: path.into(),
            detail: e.to_string(),
        })?;
    Ok(out)
}

/// Validates the header of `payload` and returns its dimension sizes.
fn parse_header(file: &Path, payload: &[u8], expected_magic: u32) -> Result<Vec<usize>, IdxError> {
    let ndims = (expected_magic & 0xff) as usize;
    let need = 4 + 4 * ndims;
    if payload.len() < 4 {
        return Err(IdxError::TooShort {
            file: file.into(),
            len: payload.len(),
            need,
        });
    }
    let magic = u32::from_be_bytes(payload[0..4].try_into().unwrap());
    if magic >> 16 == 0 && (magic & 0xff) as usize == ndims && (magic >> 8) & 0xff != 0x08 {
        return Err(IdxError::UnsupportedType {
            file: file.into(),
            dtype: (magic >> 8) as u8,
        });
    }
    if magic != expected_magic {
        return Err(IdxError::WrongMagic {
            file: file.into(),
            got: magic,
            expected: expected_magic,
        });
    }
    if payload.len() < need {
        return Err(IdxError::TooShort {
            file: file.into(),
            len: payload.len(),
            need,
        });
    }
    let dims: Vec<usize> = payload[4..need]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()) as usize)
        .collect();
    let dims_text = dims
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×");
    if dims.contains(&0) {
        return Err(IdxError::ZeroDim {
            file: file.into(),
            dims: dims_text,
        });
    }
    let got = (payload.len() - need) as u64;
    // Checked: three u32 dimensions can multiply past u64 and wrap onto the real length.
    let Some(expected) = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
    else {
        return Err(IdxError::Overflow {
            file: file.into(),
            dims: dims_text,
        });
    };
    if got != expected {
        return Err(IdxError::Length {
            file: file.into(),
            dims: dims_text,
            expected,
            got,
        });
    }
    Ok(dims)
}

/// Decodes an image payload (already decompressed); `file` is only used in errors.
pub fn decode_images(file: &Path, mut payload: Vec<u8>) -> Result<IdxImages, IdxError> {
    let dims = parse_header(file, &payload, IMAGES_MAGIC)?;
    // In-place shift instead of a second 47 MB allocation.
    payload.drain(..16);
    Ok(IdxImages {
        n: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels: payload,
    })
}

/// Decodes a label payload (already decompressed).
pub fn decode_labels(file: &Path, mut payload: Vec<u8>) -> Result<Vec<u8>, IdxError> {
    parse_header(file, &payload, LABELS_MAGIC)?;
    payload.drain(..8);
    Ok(payload)
}

pub fn read_images(path: &Path) -> Result<IdxImages, IdxError> {
    decode_images(path, read_payload(path)?)
}

pub fn read_labels(path: &Path) -> Result<Vec<u8>, IdxError> {
    decode_labels(path, read_payload(path)?)
}

/// Loads an images file and its labels file, checking that the counts agree.
pub fn read_pair(images_path: &Path, labels_path: &Path) -> Result<(IdxImages, Vec<u8>), IdxError> {
    let images = read_images(images_path)?;
    let labels = read_labels(labels_path)?;
    check_counts(images_path, labels_path, &images, &labels)?;
    Ok((images, labels))
}

/// Fails when the number of images and labels differ.
pub fn check_counts(
    images_path: &Path,
    labels_path: &Path,
    images: &IdxImages,
    labels: &[u8],
) -> Result<(), IdxError> {
    if images.n != labels.len() {
        return Err(IdxError::CountMismatch {
            images: images_path.into(),
            labels: labels_path.into(),
            n_images: images.n,
            n_labels: labels.len(),
        });
    }
    Ok(())
}

/// Encodes images as an uncompressed IDX payload (fixtures, exports).
pub fn encode_images(n: usize, rows: usize, cols: usize, pixels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + pixels.len());
    out.extend_from_slice(&IMAGES_MAGIC.to_be_bytes());
    for d in [n, rows, cols] {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// Encodes labels as an uncompressed IDX payload.
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}
