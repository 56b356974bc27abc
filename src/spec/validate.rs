//! Raw spec → validated spec: defaults, ranges, names; `[dataset]` and `[preprocess]` are
//! checked in `data.rs`, the sweep is expanded in `sweep.rs`.

use std::collections::BTreeMap;

use super::check::Checker;
use super::data::{self, training_set_size};
use super::diagnostics::{did_you_mean, SpecError, SpecErrors};
use super::machine::Machine;
use super::raw::{RawCommand, RawEvaluate, RawPlots, RawSpec};
use super::source::SpecSource;
use super::sweep;
use super::validated::*;

pub fn validate(src: &SpecSource, raw: RawSpec, machine: &Machine) -> Result<Spec, SpecErrors> {
    let mut c = Checker::new(src, machine);
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
    let data = sweep::DataFacts {
        n_train: dataset
            .as_ref()
            .and_then(|d| training_set_size(d, &preprocess)),
        input_dim: dataset.as_ref().and_then(data::input_dim),
        image: dataset.as_ref().and_then(data::image_size),
    };
    let runs = if dataset.is_some() || raw.sweep.is_some() || raw.model.is_some() {
        sweep::expand(&mut c, &raw, experiment.seed, data)
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
    let executor = super::executor::executor(&mut c, raw.executor.as_ref());
    if dataset.is_none() {
        needs_dataset(&mut c, &raw);
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
        executor,
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
    if let Some(problem) = name_problem(&name) {
        c.fail(
            "experiment.name",
            format!("\"{name}\" {problem} (it names the folder results/<name>/)"),
        );
    }
    let seed = c.int("experiment.seed", e.seed, 0, 0, i64::MAX) as u64;
    Experiment {
        name,
        seed,
        description: e.description.unwrap_or_default(),
    }
}

/// Training stages need a dataset: without one, only `[[command]]` stages can run, and a spec
/// with neither would "succeed" having done nothing.
fn needs_dataset(c: &mut Checker, raw: &RawSpec) {
    let run_sections = [
        ("model", raw.model.is_some()),
        ("train", raw.train.is_some()),
        ("sweep", raw.sweep.is_some()),
        ("variants", !raw.variants.is_empty()),
        ("preprocess", raw.preprocess.is_some()),
    ];
    let hint = Some(
        "add a [dataset] section, e.g. one with name = \"shapes\" (procedural, no download)"
            .to_owned(),
    );
    if let Some((section, _)) = run_sections.iter().find(|(_, present)| *present) {
        c.fail_hint(
            section,
            format!("[{section}] configures training runs, which need a [dataset] section"),
            hint,
        );
    } else if raw.command.is_empty() {
        // Nothing in the file to point at: its start.
        c.errors.push(SpecError {
            location: c.src.at_offset(0),
            key: String::new(),
            message: "the spec defines no stages: it has no [dataset] to train on and no \
                      [[command]]"
                .into(),
            hint: hint.map(|h| format!("{h}, or a [[command]] stage")),
        });
    }
}

/// Why `s` cannot name a folder (the experiment's results, a dataset, a stage), if it cannot.
pub fn name_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("must not be empty".into());
    }
    if s.starts_with('.') {
        return Some("must not start with '.'".into());
    }
    s.chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || "-_.".contains(*ch)))
        .map(|ch| format!("contains {ch:?}: use only letters, digits, '-', '_' and '.'"))
}

pub fn is_safe_name(s: &str) -> bool {
    name_problem(s).is_none()
}

fn evaluate(c: &mut Checker, e: RawEvaluate, ds: Option<&DatasetSpec>) -> EvaluateSpec {
    let iwae_k = e
        .iwae_k
        .unwrap_or_else(|| vec![1, 50])
        .iter()
        .enumerate()
        .map(|(i, &k)| c.usize(&format!("evaluate.iwae_k[{i}]"), Some(k), 1, 1, 100_000))
        .collect();
    let anomaly_normal_classes = e
        .anomaly_normal_classes
        .map(|cls| normal_classes(c, &cls, ds.and_then(data::class_count)));
    EvaluateSpec {
        iwae_k,
        iwae_images: c.usize(
            "evaluate.iwae_images",
            e.iwae_images,
            crate::metrics::DEFAULT_IWAE_IMAGES as i64,
            1,
            1_000_000,
        ),
        knn_k: c.usize("evaluate.knn_k", e.knn_k, 5, 1, 1000),
        probe: e.probe.unwrap_or(true),
        anomaly_normal_classes,
        pca: e.pca.unwrap_or(true),
        mig: e.mig.unwrap_or(ds.is_some_and(|d| d.name == "shapes")),
        mig_units: c
            .name(
                "evaluate.mig_units",
                e.mig_units.as_deref(),
                "all",
                crate::metrics::MigUnits::NAMES,
                super::variant::parse_name,
            )
            .unwrap_or_default(),
    }
}

/// The test images of these classes are "normal", all others anomalous: each must be a class
/// of the dataset, and at least one class must be left to be anomalous.
fn normal_classes(c: &mut Checker, cls: &[i64], n_classes: Option<usize>) -> Vec<u8> {
    let key = "evaluate.anomaly_normal_classes";
    if cls.is_empty() {
        c.fail(key, "must list at least one class (or be left out)");
    }
    let max = n_classes.unwrap_or(256) as i64 - 1;
    let mut seen: Vec<u8> = Vec::new();
    for (i, &k) in cls.iter().enumerate() {
        let at = format!("{key}[{i}]");
        let k = c.int(&at, Some(k), 0, 0, max) as u8;
        if seen.contains(&k) {
            c.fail(&at, format!("class {k} is listed twice"));
        }
        seen.push(k);
    }
    if n_classes.is_some_and(|n| seen.len() >= n) {
        c.fail_hint(
            key,
            "lists every class of the dataset, so no test image is anomalous",
            Some("leave at least one class out: its images are the anomalies".into()),
        );
    }
    seen
}

/// `plots.figures` when left out: every figure but the opt-in ones.
fn default_figures() -> Option<Vec<String>> {
    Some(DEFAULT_FIGURE_NAMES.iter().map(|s| s.to_string()).collect())
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
        figures: list(
            c,
            "plots.figures",
            p.figures.or_else(default_figures),
            &FIGURE_NAMES,
        ),
        formats: list(c, "plots.formats", p.formats, FORMAT_NAMES),
    }
}

/// A path's components without `.`: `o`, `./o` and `o/` name one output.
fn same_path(p: &std::path::Path) -> Vec<std::path::Component<'_>> {
    p.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

fn commands(c: &mut Checker, raw: &[RawCommand]) -> Vec<CommandSpec> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let key = format!("command[{i}]");
        let name = r.name.clone().unwrap_or_default();
        if let Some(problem) = name_problem(&name) {
            c.fail(&format!("{key}.name"), format!("\"{name}\" {problem}"));
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
        placeholders(c, &key, r);
        let mut outputs_seen = BTreeMap::new();
        for (j, o) in r.outputs.iter().enumerate() {
            let p = std::path::Path::new(o);
            if o.is_empty()
                || o.contains('\0')
                || p.is_absolute()
                || p.components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                c.fail(
                    &format!("{key}.outputs[{j}]"),
                    format!(
                        "{o:?} must be a relative path inside the stage's output folder (no NUL)"
                    ),
                );
            } else if let Some(first) = outputs_seen.insert(same_path(p), j) {
                c.fail(
                    &format!("{key}.outputs[{j}]"),
                    format!(
                        "\"{o}\" is listed twice (also outputs[{first}]); name each output once"
                    ),
                );
            }
        }
        let dir = c.src.dir();
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
            gpus: gpu_slots(c, &key, r.gpus),
            publish: r.publish.unwrap_or(false),
            index: i,
        });
    }
    out
}

/// `{in.NAME}` and `{param.NAME}` in `cmd` must name one of the stage's `inputs` / `params`,
/// or the stage would fail only once everything before it had run.
fn placeholders(c: &mut Checker, key: &str, r: &RawCommand) {
    let cmd = r.cmd.as_deref().unwrap_or_default();
    let params: Vec<&str> = r.params.keys().map(String::as_str).collect();
    let inputs: Vec<&str> = r.inputs.iter().map(String::as_str).collect();
    for (prefix, names, field) in [("{in.", &inputs, "inputs"), ("{param.", &params, "params")] {
        for (start, _) in cmd.match_indices(prefix) {
            let rest = &cmd[start + prefix.len()..];
            let name = rest.split('}').next().unwrap_or(rest);
            if names.contains(&name) {
                continue;
            }
            let hint = did_you_mean(name, names.iter().copied())
                .or_else(|| Some(format!("declare it in the command's `{field}`")));
            c.fail_hint(
                &format!("{key}.cmd"),
                format!("uses {prefix}{name}}}, but `{field}` has no `{name}`"),
                hint,
            );
        }
    }
}

/// GPU slots a command asks for; more than this run has (`--gpus`) could never be scheduled.
fn gpu_slots(c: &mut Checker, key: &str, gpus: Option<i64>) -> usize {
    let at = format!("{key}.gpus");
    let n = c.usize(&at, gpus, 0, 0, 64);
    if let Some(have) = c.machine.gpus.filter(|&have| n > have) {
        c.fail_hint(
            &at,
            format!("needs {n} GPU slot(s), but this run has --gpus {have}"),
            Some(format!("pass --gpus {n} (or more) to `pipeline run`")),
        );
    }
    n
}
