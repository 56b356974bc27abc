//! Raw spec → validated spec: defaults, ranges, names; `[dataset]` and `[preprocess]` are
//! checked in `data.rs`, the sweep is expanded in `sweep.rs`.

use std::collections::BTreeMap;

use super::check::Checker;
use super::data::{self, training_set_size};
use super::diagnostics::{did_you_mean, SpecErrors};
use super::raw::{RawCommand, RawEvaluate, RawPlots, RawSpec};
use super::source::SpecSource;
use super::sweep;
use super::validated::*;

pub fn validate(src: &SpecSource, raw: RawSpec) -> Result<Spec, SpecErrors> {
    let mut c = Checker::new(src);
    let experiment = experiment(&mut c, &raw);
    let dataset = raw.dataset.as_ref().map(|d| data::dataset(&mut c, d));
    let preprocess = data::preprocess(
        &mut c,
        raw.preprocess.clone().unwrap_or_default(),
        experiment.seed,
        dataset.as_ref(),
    );
    if let Some(d) = &dataset {
        data::check_files(&mut c, d, &preprocess);
    }
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
        figures: list(c, "plots.figures", p.figures, &FIGURE_NAMES),
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
