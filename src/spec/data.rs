//! The `[dataset]` and `[preprocess]` sections: catalog names or the spec's own files, split
//! options (validation and carved test fractions, subset, classes) and what they imply for the
//! training set size.

use std::collections::BTreeMap;

use super::check::Checker;
use super::diagnostics::did_you_mean;
use super::raw::{RawDataset, RawPreprocess};
use super::validate::name_problem;
use super::validated::*;
use super::variant::parse_name;
use crate::data::catalog;

/// File roles of a spec's own dataset.
const ROLES: [&str; 4] = ["train_images", "train_labels", "test_images", "test_labels"];

pub(super) fn dataset(c: &mut Checker, d: &RawDataset) -> DatasetSpec {
    let files: BTreeMap<String, DataFileSpec> = d
        .files
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(role, f)| {
            let key = format!("dataset.files.{role}");
            if !ROLES.contains(&role.as_str()) {
                let hint = did_you_mean(&role, ROLES);
                c.fail_hint(&key, format!("unknown file role \"{role}\""), hint);
            }
            if f.path.is_none() && f.url.is_none() {
                c.fail(&key, "needs `path` or `url`");
            }
            let sha = f.sha256.unwrap_or_default();
            if sha.len() != 64 || !sha.chars().all(|ch| ch.is_ascii_hexdigit()) {
                c.fail(
                    &format!("{key}.sha256"),
                    format!(
                        "must be 64 hex digits (sha256 of the decompressed file), got \"{sha}\""
                    ),
                );
            }
            (
                role,
                DataFileSpec {
                    path: f.path,
                    url: f.url,
                    sha256: sha.to_lowercase(),
                },
            )
        })
        .collect();
    let name = d.name.clone().unwrap_or_default();
    let known = catalog::lookup(&name).is_some();
    if files.is_empty() && !known {
        let hint = did_you_mean(&name, catalog::names().iter().copied()).or_else(|| {
            Some(format!(
                "name a catalog dataset ({}) or give your own `files`",
                catalog::names().join(", ")
            ))
        });
        c.fail_hint("dataset.name", format!("unknown dataset \"{name}\""), hint);
    } else if !files.is_empty() {
        if let Some(problem) = name_problem(&name) {
            c.fail(
                "dataset.name",
                format!("\"{name}\" {problem} (it names your dataset's folders)"),
            );
        }
    }
    let shapes = (name == "shapes").then(|| ShapesSpec {
        n_train: c.usize("dataset.n_train", d.n_train, 20_000, 1, 737_280),
        n_test: c.usize("dataset.n_test", d.n_test, 2_000, 1, 737_280),
        size: {
            let s = c.usize("dataset.size", d.size, 32, 16, 64);
            if ![16, 32, 64].contains(&s) {
                c.fail("dataset.size", format!("must be 16, 32 or 64, got {s}"));
            }
            s
        },
    });
    DatasetSpec {
        name,
        files,
        shapes,
    }
}

pub(super) fn preprocess(
    c: &mut Checker,
    p: RawPreprocess,
    seed: u64,
    ds: Option<&DatasetSpec>,
) -> PreprocessSpec {
    let binarize = c
        .name(
            "preprocess.binarize",
            p.binarize.as_deref(),
            "none",
            BINARIZE_NAMES,
            parse_name,
        )
        .unwrap_or(Binarize::None);
    let threshold = c.float(
        "preprocess.threshold",
        p.threshold,
        0.5,
        0.0,
        true,
        1.0,
        true,
    );
    let val_fraction = c.float(
        "preprocess.val_fraction",
        p.val_fraction,
        0.1,
        0.0,
        false,
        1.0,
        true,
    );
    let test_fraction = c.float(
        "preprocess.test_fraction",
        p.test_fraction,
        0.0,
        0.0,
        false,
        1.0,
        true,
    );
    if test_fraction > 0.0 && val_fraction + test_fraction >= 1.0 {
        c.fail_hint(
            "preprocess.test_fraction",
            format!(
                "val_fraction + test_fraction must be below 1, got {val_fraction} + {test_fraction}"
            ),
            Some("both are shares of the training files; the rest is the training split".into()),
        );
    }
    let split_seed = c.int(
        "preprocess.split_seed",
        p.split_seed,
        seed as i64,
        0,
        i64::MAX,
    ) as u64;
    let n_classes = ds.and_then(class_count);
    let subset = p
        .subset
        .map(|s| c.usize("preprocess.subset", Some(s), 1, 1, i64::MAX));
    let classes = p.classes.map(|cls| {
        if cls.is_empty() {
            c.fail(
                "preprocess.classes",
                "must list at least one class (or be left out)",
            );
        }
        let mut seen = Vec::new();
        for (i, &k) in cls.iter().enumerate() {
            let max = n_classes.unwrap_or(256) as i64 - 1;
            let key = format!("preprocess.classes[{i}]");
            let k = c.int(&key, Some(k), 0, 0, max) as u8;
            if seen.contains(&k) {
                c.fail(&key, format!("class {k} is listed twice"));
            }
            seen.push(k);
        }
        seen
    });
    PreprocessSpec {
        binarize,
        threshold,
        val_fraction,
        test_fraction,
        split_seed,
        subset,
        classes,
        flatten: p.flatten.unwrap_or(true),
    }
}

/// Own files must hold what the splits read: the training files always, the test files unless
/// the test split is carved out of the training files. Checked here rather than when the
/// download stage finds a file missing, so the user learns about `test_fraction` up front.
pub(super) fn check_files(c: &mut Checker, d: &DatasetSpec, p: &PreprocessSpec) {
    if d.files.is_empty() {
        return;
    }
    let missing = |roles: &[&'static str]| -> Vec<&'static str> {
        roles
            .iter()
            .copied()
            .filter(|r| !d.files.contains_key(*r))
            .collect()
    };
    for role in missing(&["train_images", "train_labels"]) {
        c.fail(
            "dataset.files",
            format!("your own dataset needs `{role}` (every split is drawn from it)"),
        );
    }
    // A local path is checked now rather than when the download stage gets to it; with a
    // `url` as well the path is only the first place tried.
    let dir = c.src.dir();
    for (role, f) in &d.files {
        let needed = !p.carves_test() || role.starts_with("train_");
        let Some(path) = f.path.as_ref().filter(|_| needed && f.url.is_none()) else {
            continue;
        };
        let full = dir.join(path);
        if !full.is_file() {
            c.fail_hint(
                &format!("dataset.files.{role}.path"),
                format!("{role} file \"{}\" does not exist", full.display()),
                Some("paths are relative to the spec's folder; fix the path, or add a `url` to fetch the file from".into()),
            );
        }
    }
    let test = missing(&["test_images", "test_labels"]);
    if !p.carves_test() && !test.is_empty() {
        c.fail_hint(
            "dataset.files",
            format!(
                "`{}` missing and preprocess.test_fraction = 0 (use the dataset's own test split)",
                test.join("` and `")
            ),
            Some(
                "give the test files, or set `preprocess.test_fraction` (e.g. 0.2) to hold out \
                 a stratified test split of the training files"
                    .into(),
            ),
        );
    }
}

/// Training images after test split, class filter, subset and validation split, when the
/// dataset's per-class counts are known (catalog datasets, or shapes without a carved test).
pub fn training_set_size(d: &DatasetSpec, p: &PreprocessSpec) -> Option<usize> {
    if !d.files.is_empty() {
        return None;
    }
    let per_class: Vec<usize> = if let Some(s) = &d.shapes {
        if p.carves_test() {
            // Shapes' classes are drawn at random: per-class rounding is not known up front.
            return None;
        }
        vec![s.n_train]
    } else {
        catalog::lookup(&d.name)?
            .train_per_class
            .iter()
            .enumerate()
            .filter(|(k, _)| {
                p.classes
                    .as_ref()
                    .is_none_or(|cls| cls.contains(&(*k as u8)))
            })
            .map(|(_, &n)| n - (n as f64 * p.test_fraction).round() as usize)
            .collect()
    };
    if p.carves_test() && p.val_fraction + p.test_fraction >= 1.0 {
        // Already reported on `preprocess.test_fraction`; a batch-size error would only echo it.
        return None;
    }
    let total: usize = per_class.iter().sum();
    let total = p.subset.map_or(total, |s| s.min(total));
    // The same share as `data::split::val_share` applies to the pool at run time.
    let share = if p.carves_test() {
        p.val_fraction / (1.0 - p.test_fraction)
    } else {
        p.val_fraction
    };
    Some(total - ((total as f64 * share).round() as usize).min(total))
}

/// Classes of a catalog dataset; `None` for a spec's own files (their labels are read later).
pub fn class_count(d: &DatasetSpec) -> Option<usize> {
    if !d.files.is_empty() {
        return None;
    }
    catalog::lookup(&d.name).map(|e| e.class_names.len())
}

/// Width of a flattened image, when known before the data is read (catalog and shapes).
pub fn input_dim(d: &DatasetSpec) -> Option<usize> {
    image_size(d).map(|(h, w)| h * w)
}

/// Image height and width, where known before the data is read (not for own files).
pub fn image_size(d: &DatasetSpec) -> Option<(usize, usize)> {
    if let Some(s) = &d.shapes {
        return Some((s.size, s.size));
    }
    if !d.files.is_empty() {
        return None;
    }
    catalog::lookup(&d.name).map(|e| (e.rows, e.cols))
}
