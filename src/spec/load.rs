//! Reading a spec file: TOML syntax and shape errors (with did-you-mean), then `--set` overrides.

use std::path::Path;

use serde::Deserialize;

use super::diagnostics::{did_you_mean, Location, SpecError, SpecErrors};
use super::raw::{RawSpec, MODEL_FIELDS, TRAIN_FIELDS};
use super::source::{Override, SpecSource};

/// Field names of each section, for "did you mean" and "belongs in [train]" hints.
const SECTION_FIELDS: &[(&str, &[&str])] = &[
    ("experiment", &["name", "seed", "description"]),
    ("dataset", &["name", "files", "n_train", "n_test", "size"]),
    (
        "preprocess",
        &[
            "binarize",
            "threshold",
            "val_fraction",
            "test_fraction",
            "split_seed",
            "subset",
            "classes",
            "flatten",
        ],
    ),
    ("model", MODEL_FIELDS),
    ("train", TRAIN_FIELDS),
    (
        "evaluate",
        &[
            "iwae_k",
            "iwae_images",
            "knn_k",
            "probe",
            "anomaly_normal_classes",
            "pca",
            "mig",
        ],
    ),
    ("plots", &["figures", "formats"]),
];

/// Reads and parses the spec, applying overrides; shape errors are returned located.
pub fn read_raw(path: &Path, set: &[String]) -> Result<(SpecSource, RawSpec), SpecErrors> {
    let unreadable = |message: String, hint: Option<String>| {
        SpecErrors(vec![SpecError {
            location: Location::WholeFile(path.display().to_string()),
            key: String::new(),
            message,
            hint,
        }])
    };
    // Opening a FIFO or device blocks, out of reach of Ctrl-C and SIGTERM: refuse it first.
    if let Some(meta) = std::fs::metadata(path).ok().filter(|m| !m.is_file()) {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "not a regular file"
        };
        return Err(unreadable(
            format!("failed to read spec: it is {what}"),
            Some("give the path of a .toml file".into()),
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| unreadable(format!("failed to read spec: {e}"), None))?;
    let mut errors = Vec::new();
    let mut overrides = Vec::new();
    for raw in set {
        match Override::parse(raw) {
            Ok(o) => overrides.push(o),
            Err(message) => errors.push(SpecError {
                location: Location::Override(raw.clone()),
                key: String::new(),
                message,
                hint: None,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(SpecErrors(errors));
    }
    let src = SpecSource::new(path, text, overrides);
    let raw: RawSpec = toml::from_str(&src.text).map_err(|e| {
        let location = match e.span() {
            Some(span) => src.at_offset(span.start),
            None => Location::WholeFile(src.display_path()),
        };
        SpecErrors(vec![shape_error(location, e.message())])
    })?;
    if src.overrides.is_empty() {
        return Ok((src, raw));
    }
    // Re-read with each override applied in turn, so a bad one is named.
    let mut table: toml::Table = toml::from_str(&src.text).expect("parsed above");
    let mut last = raw;
    for o in &src.overrides {
        let location = Location::Override(o.raw.clone());
        if let Err(message) = o.apply(&mut table) {
            return Err(SpecErrors(vec![shape_error(location, &message)]));
        }
        last = RawSpec::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| SpecErrors(vec![shape_error(location, e.message())]))?;
    }
    Ok((src, last))
}

/// A serde/TOML message turned into a spec error, with a hint for unknown fields.
fn shape_error(location: Location, message: &str) -> SpecError {
    let message = message.trim().to_owned();
    let hint = unknown_field_hint(&message);
    SpecError {
        location,
        key: String::new(),
        message,
        hint,
    }
}

/// serde writes "unknown field `x`, expected one of `a`, `b`": suggest the nearest, or the section
/// the field belongs to when it is a known field of another section.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    if let Some(h) = did_you_mean(field, candidates.iter().copied()) {
        return Some(h);
    }
    let home = SECTION_FIELDS
        .iter()
        .find(|(_, fields)| fields.contains(&field))
        .map(|(section, _)| *section)?;
    let here_is_that_section = SECTION_FIELDS
        .iter()
        .any(|(s, fields)| *s == home && fields.iter().all(|f| candidates.contains(f)));
    (!here_is_that_section).then(|| format!("`{field}` belongs in the [{home}] section"))
}
