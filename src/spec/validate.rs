//! Raw spec → validated spec: defaults, ranges, names; the sweep is expanded in `sweep.rs`.

use std::collections::BTreeMap;

use super::check::Checker;
use super::diagnostics::{did_you_mean, SpecErrors};
use super::raw::{RawCommand, RawDataset, RawEvaluate, RawPlots, RawPreprocess, RawSpec};
use super::source::SpecSource;
use super::sweep;
use super::validated::*;
use super::variant::parse_name;

/// Datasets the catalog knows: name, number of classes, training images per class.
pub const KNOWN_DATASETS: &[(&str, usize, &[usize])] = &[
    (
        "mnist",
        10,
        &[5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    ),
    ("fashion-mnist", 10, &[6000; 10]),
    ("shapes", 3, &[]),
];

pub fn validate(src: &SpecSource, raw: RawSpec) -> Result<Spec, SpecErrors> {
    let mut c = Checker::new(src);
    let experiment = experiment(&mut c, &raw);
    let dataset = raw.dataset.as_ref().map(|d| dataset(&mut c, d));
    let preprocess = preprocess(
        &mut c,
        raw.preprocess.clone().unwrap_or_default(),
        experiment.seed,
        dataset.as_ref(),
    );
    let n_train = dataset
        .as_ref()
        .and_then(|d| training_set_size(d, &preprocess));
    let runs = if dataset.is_some() || raw.sweep.is_some() || raw.model.is_some() {
        sweep::expand(&mut c, &raw, experiment.seed, n_train)
    } else {
        Vec::new()
    };
    let evaluate = evaluate(
        &mut c,
        raw.evaluate.clone().unwrap_or_default(),
        dataset.as_ref(),
    );
    let plots = plots(&mut c, raw.plots.clone().unwrap_or_default());
    let commands = commands(&mut c, &raw.command);
    if dataset.is_none() && !runs.is_empty() && raw.model.is_some() {
        c.fail("model", "training runs need a [dataset] section");
    }
    c.finish()?;
    let dir = std::path::absolute(&src.path)
        .ok()
        .and_then(|p| p.parent().map(|p| p.to_path_buf()))
        .unwrap_or_default();
    Ok(Spec {
        path: src.path.clone(),
        dir,
        text: src.text.clone(),
        overrides: src.overrides.iter().map(|o| o.raw.clone()).collect(),
        experiment,
        dataset,
        preprocess,
        runs,
        evaluate,
        plots,
        commands,
    })
}

fn experiment(c: &mut Checker, raw: &RawSpec) -> Experiment {
    let e = raw.experiment.clone().unwrap_or_default();
    let stem = c
        .src
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    let name = e.name.unwrap_or(stem);
    if !is_safe_name(&name) {
        c.fail(
            "experiment.name",
            format!("\"{name}\" must be non-empty and use only letters, digits, '-', '_' and '.'"),
        );
    }
    let seed = c.int("experiment.seed", e.seed, 0, 0, i64::MAX) as u64;
    Experiment {
        name,
        seed,
        description: e.description.unwrap_or_default(),
    }
}

pub fn is_safe_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
}

fn dataset(c: &mut Checker, d: &RawDataset) -> DatasetSpec {
    let files: BTreeMap<String, DataFileSpec> = d
        .files
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(role, f)| {
            let key = format!("dataset.files.{role}");
            if !["train_images", "train_labels", "test_images", "test_labels"]
                .contains(&role.as_str())
            {
                let hint = did_you_mean(
                    &role,
                    ["train_images", "train_labels", "test_images", "test_labels"],
                );
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
            Some((
                role,
                DataFileSpec {
                    path: f.path,
                    url: f.url,
                    sha256: sha.to_lowercase(),
                },
            ))
        })
        .collect();
    if !files.is_empty() {
        for role in ["train_images", "train_labels", "test_images", "test_labels"] {
            if !files.contains_key(role) {
                c.fail(
                    "dataset.files",
                    format!("your own dataset needs all four files; `{role}` is missing"),
                );
            }
        }
    }
    let name = d.name.clone().unwrap_or_default();
    let known = KNOWN_DATASETS.iter().any(|(n, _, _)| *n == name);
    if files.is_empty() && !known {
        let hint = did_you_mean(&name, KNOWN_DATASETS.iter().map(|(n, _, _)| *n)).or_else(|| {
            Some(
                "name a catalog dataset (mnist, fashion-mnist, shapes) or give your own `files`"
                    .into(),
            )
        });
        c.fail_hint("dataset.name", format!("unknown dataset \"{name}\""), hint);
    } else if !files.is_empty() && !is_safe_name(&name) {
        c.fail(
            "dataset.name",
            format!("\"{name}\" must name your dataset (letters, digits, '-', '_', '.')"),
        );
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

fn preprocess(
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
    let split_seed = c.int(
        "preprocess.split_seed",
        p.split_seed,
        seed as i64,
        0,
        i64::MAX,
    ) as u64;
    let n_classes = ds
        .and_then(|d| KNOWN_DATASETS.iter().find(|k| k.0 == d.name))
        .map(|k| k.1);
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
        split_seed,
        subset,
        classes,
        flatten: p.flatten.unwrap_or(true),
    }
}

/// Training images after class filter, subset and validation split, when the dataset is known.
pub fn training_set_size(d: &DatasetSpec, p: &PreprocessSpec) -> Option<usize> {
    let total = if let Some(s) = &d.shapes {
        s.n_train
    } else {
        let (_, _, per_class) = KNOWN_DATASETS.iter().find(|k| k.0 == d.name)?;
        match &p.classes {
            Some(cls) => cls
                .iter()
                .map(|&k| per_class.get(k as usize).copied().unwrap_or(0))
                .sum(),
            None => per_class.iter().sum(),
        }
    };
    let total = p.subset.map_or(total, |s| s.min(total));
    Some(total - (total as f64 * p.val_fraction).round() as usize)
}

fn evaluate(c: &mut Checker, e: RawEvaluate, ds: Option<&DatasetSpec>) -> EvaluateSpec {
    let iwae_k = e
        .iwae_k
        .unwrap_or_else(|| vec![1, 50])
        .iter()
        .enumerate()
        .map(|(i, &k)| c.usize(&format!("evaluate.iwae_k[{i}]"), Some(k), 1, 1, 100_000))
        .collect();
    let anomaly_normal_classes = e.anomaly_normal_classes.map(|cls| {
        cls.iter()
            .enumerate()
            .map(|(i, &k)| {
                c.int(
                    &format!("evaluate.anomaly_normal_classes[{i}]"),
                    Some(k),
                    0,
                    0,
                    255,
                ) as u8
            })
            .collect()
    });
    EvaluateSpec {
        iwae_k,
        knn_k: c.usize("evaluate.knn_k", e.knn_k, 5, 1, 1000),
        probe: e.probe.unwrap_or(true),
        anomaly_normal_classes,
        pca: e.pca.unwrap_or(true),
        mig: e.mig.unwrap_or(ds.is_some_and(|d| d.name == "shapes")),
    }
}

fn plots(c: &mut Checker, p: RawPlots) -> PlotsSpec {
    let list =
        |c: &mut Checker, key: &str, v: Option<Vec<String>>, names: &[&str]| -> Vec<String> {
            let v = v.unwrap_or_else(|| names.iter().map(|s| s.to_string()).collect());
            for (i, s) in v.iter().enumerate() {
                if !names.contains(&s.as_str()) {
                    let hint = did_you_mean(s, names.iter().copied())
                        .or_else(|| Some(format!("expected one of: {}", names.join(", "))));
                    c.fail_hint(
                        &format!("{key}[{i}]"),
                        format!("unknown value \"{s}\""),
                        hint,
                    );
                }
            }
            v
        };
    PlotsSpec {
        figures: list(c, "plots.figures", p.figures, FIGURE_NAMES),
        formats: list(c, "plots.formats", p.formats, FORMAT_NAMES),
    }
}

fn commands(c: &mut Checker, raw: &[RawCommand]) -> Vec<CommandSpec> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let key = format!("command[{i}]");
        let name = r.name.clone().unwrap_or_default();
        if !is_safe_name(&name) {
            c.fail(
                &format!("{key}.name"),
                format!(
                    "\"{name}\" must be non-empty and use only letters, digits, '-', '_' and '.'"
                ),
            );
        } else if let Some(first) = seen.insert(name.clone(), i) {
            c.fail(
                &format!("{key}.name"),
                format!("duplicate stage name \"{name}\" (also command[{first}])"),
            );
        }
        let cmd = r.cmd.clone().unwrap_or_default();
        if cmd.trim().is_empty() {
            c.fail(&key, "needs a non-empty `cmd`");
        }
        for (j, o) in r.outputs.iter().enumerate() {
            let p = std::path::Path::new(o);
            if o.is_empty()
                || p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                c.fail(
                    &format!("{key}.outputs[{j}]"),
                    format!("\"{o}\" must be a relative path inside the stage's output folder"),
                );
            }
        }
        let dir = c
            .src
            .path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default();
        let deps = r
            .deps
            .iter()
            .enumerate()
            .map(|(j, d)| {
                let p = dir.join(d);
                if !p.is_file() {
                    c.fail(
                        &format!("{key}.deps[{j}]"),
                        format!("file \"{}\" does not exist", p.display()),
                    );
                }
                p
            })
            .collect();
        let params = r
            .params
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or_default()))
            .collect();
        out.push(CommandSpec {
            name,
            cmd,
            params,
            inputs: r.inputs.clone(),
            outputs: r.outputs.clone(),
            deps,
            cores: c.usize(&format!("{key}.cores"), r.cores, 1, 1, 1024),
            gpus: c.usize(&format!("{key}.gpus"), r.gpus, 0, 0, 64),
            publish: r.publish.unwrap_or(false),
            index: i,
        });
    }
    out
}
