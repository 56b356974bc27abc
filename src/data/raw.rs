//! Loading a [`RawDataset`] from four verified IDX files (or two, when only the training files
//! are used), a spec's own files or the generated `shapes`.

use super::catalog::{CatalogEntry, FileRole, FileSpec};
pub use super::dataset::{RawDataset, RawSplit};
use super::idx::{self, IdxError, IdxImages};
use super::shapes::{try_generate, ShapesError, ShapesOptions};
use super::{sha256_hex, verify};
use std::path::{Path, PathBuf};

/// Why a dataset could not be loaded from its files.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error(transparent)]
    Idx(#[from] IdxError),
    #[error("failed to verify {}: expected sha256 {expected}, got {got}", .file.display())]
    Checksum {
        file: PathBuf,
        expected: String,
        got: String,
    },
    #[error("failed to find {name} (or {name}.gz) in {}", .dir.display())]
    Missing { name: String, dir: PathBuf },
    #[error("failed to load {}: train images are {train_rows}×{train_cols} but test images are {test_rows}×{test_cols}", .dir.display())]
    ShapeMismatch {
        dir: PathBuf,
        train_rows: usize,
        train_cols: usize,
        test_rows: usize,
        test_cols: usize,
    },
    #[error("failed to load {}: label {label} is outside the {n_classes} classes", .file.display())]
    LabelOutOfRange {
        file: PathBuf,
        label: u8,
        n_classes: usize,
    },
    #[error(transparent)]
    Shapes(#[from] ShapesError),
}

/// What the preprocess stage turns into a `RawDataset`.
#[derive(Debug, Clone)]
pub enum RawSource<'a> {
    /// A catalog IDX dataset whose four files (verified by `fetch_file`) are in `dir`.
    Catalog {
        entry: &'a CatalogEntry,
        dir: &'a Path,
    },
    /// A spec's own files (`DatasetFiles::file_specs`) in `FileRole::ALL` order: all four, or
    /// the two training files when the test split is carved out of them.
    Files {
        name: &'a str,
        paths: &'a [PathBuf],
        specs: &'a [FileSpec],
        class_names: Vec<String>,
    },
    /// The procedural shapes dataset.
    Shapes(&'a ShapesOptions),
}

/// Loads or generates the dataset described by `source`.
pub fn load_raw(source: RawSource) -> Result<RawDataset, RawError> {
    match source {
        RawSource::Catalog { entry, dir } => load_catalog_dataset(entry, dir),
        RawSource::Files {
            name,
            paths,
            specs,
            class_names,
        } => load_idx_dataset(name, paths, Some(specs), class_names),
        RawSource::Shapes(opts) => Ok(try_generate(opts)?.into_raw()),
    }
}

/// Finds each spec's file in `dir` (`<name>.gz` preferred, then `<name>`), in spec order.
pub fn find_dataset_files(dir: &Path, specs: &[FileSpec]) -> Result<Vec<PathBuf>, RawError> {
    specs
        .iter()
        .map(|s| {
            [dir.join(s.gz_name()), dir.join(&s.name)]
                .into_iter()
                .find(|p| p.is_file())
                .ok_or_else(|| RawError::Missing {
                    name: s.name.clone(),
                    dir: dir.into(),
                })
        })
        .collect()
}

/// Loads a catalog dataset from a folder holding its four files (`.gz` or raw), verifying
/// every payload against the catalog sha256.
pub fn load_catalog_dataset(entry: &CatalogEntry, dir: &Path) -> Result<RawDataset, RawError> {
    let specs = entry.file_specs();
    let paths = find_dataset_files(dir, &specs)?;
    load_idx_dataset(entry.name, &paths, Some(&specs), entry.class_names())
}

struct Loaded {
    path: PathBuf,
    payload_sha: String,
    images: Option<IdxImages>,
    labels: Option<Vec<u8>>,
}

fn load_one(path: &Path, role: FileRole, expected_sha: Option<&str>) -> Result<Loaded, RawError> {
    let payload = idx::read_payload(path)?;
    let payload_sha = sha256_hex(&payload);
    if let Some(expected) = expected_sha {
        verify::check_sha256(expected, payload_sha.clone()).map_err(|_| RawError::Checksum {
            file: path.into(),
            expected: expected.into(),
            got: payload_sha.clone(),
        })?;
    }
    let (images, labels) = match role {
        FileRole::TrainImages | FileRole::TestImages => {
            (Some(idx::decode_images(path, payload)?), None)
        }
        FileRole::TrainLabels | FileRole::TestLabels => {
            (None, Some(idx::decode_labels(path, payload)?))
        }
    };
    Ok(Loaded {
        path: path.into(),
        payload_sha,
        images,
        labels,
    })
}

/// Loads the four IDX files (in `FileRole::ALL` order: train images, train labels, test images,
/// test labels), or only the first two for a dataset whose test split is carved out of its
/// training files; the test split is then empty. With `specs`, each payload's sha256 must
/// match. Decoding and hashing of the big files run in parallel: on 2 cores this roughly halves
/// the wall time.
pub fn load_idx_dataset(
    name: &str,
    paths: &[PathBuf],
    specs: Option<&[FileSpec]>,
    class_names: Vec<String>,
) -> Result<RawDataset, RawError> {
    assert!(
        paths.len() == 4 || paths.len() == 2,
        "load_idx_dataset needs 4 paths, or 2 for training files only"
    );
    let sha = |i: usize| specs.and_then(|s| s.get(i)).map(|s| s.sha256.as_str());
    let load_pair = |at: usize, images: FileRole, labels: FileRole| {
        rayon::join(
            || load_one(&paths[at], images, sha(at)),
            || load_one(&paths[at + 1], labels, sha(at + 1)),
        )
    };
    let ((train_img, train_lab), test) = rayon::join(
        || load_pair(0, FileRole::TrainImages, FileRole::TrainLabels),
        || (paths.len() == 4).then(|| load_pair(2, FileRole::TestImages, FileRole::TestLabels)),
    );
    let (train_img, train_lab) = (train_img?, train_lab?);
    let test = match test {
        Some((img, lab)) => Some((img?, lab?)),
        None => None,
    };
    let mut loaded = vec![&train_img, &train_lab];
    if let Some((img, lab)) = &test {
        loaded.extend([img, lab]);
    }
    let provenance = loaded
        .iter()
        .map(|l| {
            let file = l.path.file_name().unwrap_or_default().to_string_lossy();
            (
                file.trim_end_matches(".gz").to_string(),
                l.payload_sha.clone(),
            )
        })
        .collect();
    let (train, tr_shape) = into_split(train_img, train_lab, class_names.len())?;
    let test = match test {
        Some((img, lab)) => {
            let (test, te_shape) = into_split(img, lab, class_names.len())?;
            if tr_shape != te_shape {
                return Err(RawError::ShapeMismatch {
                    dir: paths[0].parent().unwrap_or(Path::new(".")).into(),
                    train_rows: tr_shape.0,
                    train_cols: tr_shape.1,
                    test_rows: te_shape.0,
                    test_cols: te_shape.1,
                });
            }
            test
        }
        None => RawSplit {
            n: 0,
            pixels: Vec::new(),
            labels: Vec::new(),
            factors: None,
        },
    };
    Ok(RawDataset {
        name: name.to_string(),
        rows: tr_shape.0,
        cols: tr_shape.1,
        class_names,
        train,
        test,
        payload_sha256: provenance,
        factor_names: Vec::new(),
    })
}

fn into_split(
    images: Loaded,
    labels: Loaded,
    n_classes: usize,
) -> Result<(RawSplit, (usize, usize)), RawError> {
    let img = images.images.expect("images role decodes images");
    let lab = labels.labels.expect("labels role decodes labels");
    idx::check_counts(&images.path, &labels.path, &img, &lab)?;
    if n_classes > 0 {
        if let Some(&bad) = lab.iter().find(|&&l| l as usize >= n_classes) {
            return Err(RawError::LabelOutOfRange {
                file: labels.path,
                label: bad,
                n_classes,
            });
        }
    }
    let shape = (img.rows, img.cols);
    Ok((
        RawSplit {
            n: img.n,
            pixels: img.pixels,
            labels: lab,
            factors: None,
        },
        shape,
    ))
}
