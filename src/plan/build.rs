//! Spec → stage graph: shared download/preprocess, per-run train/evaluate, then plot and report.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::variant::Variant;
use crate::spec::{DataFileSpec, Location, Spec, SpecError, SpecErrors};

use super::graph::{GraphBuilder, GraphError, StageGraph};
use super::params::*;
use super::stage::{Resources, StageDef, StageKind};

fn def(
    name: String,
    kind: StageKind,
    params: impl Serialize,
    inputs: BTreeMap<String, String>,
) -> StageDef {
    StageDef {
        name,
        kind,
        implementation_version: implementation_version(kind),
        params: serde_json::to_value(params).expect("params serialize"),
        inputs,
        file_deps: Vec::new(),
        resources: Resources::default(),
        publish: false,
        context: serde_json::Value::Null,
    }
}

fn inputs<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn build_graph(spec: &Spec) -> Result<StageGraph, SpecErrors> {
    let mut g = GraphBuilder::default();
    let mut members = Vec::new();
    if let Some(ds) = &spec.dataset {
        let pre_name = format!("preprocess/{}", ds.name);
        let mut pre_inputs = BTreeMap::new();
        if ds.shapes.is_none() {
            let dl_name = format!("download/{}", ds.name);
            let files = needed_files(spec)
                .map(|(r, f)| (r.clone(), f.sha256.clone()))
                .collect();
            let mut d = def(
                dl_name.clone(),
                StageKind::Download,
                DownloadParams {
                    dataset: ds.name.clone(),
                    files,
                    train_only: spec.preprocess.carves_test(),
                },
                BTreeMap::new(),
            );
            d.context = serde_json::json!({ "files": own_files(spec) });
            g.add(d);
            pre_inputs.insert("raw".to_owned(), dl_name);
        }
        let mut pre = def(
            pre_name.clone(),
            StageKind::Preprocess,
            PreprocessParams {
                dataset: ds.name.clone(),
                shapes: ds.shapes.clone(),
                options: spec.preprocess.clone(),
            },
            pre_inputs,
        );
        pre.context = serde_json::json!({ "files": own_files(spec) });
        g.add(pre);
        for m in &spec.runs {
            let train = format!("train/{}", m.label);
            let mut t = def(
                train.clone(),
                StageKind::Train,
                TrainParams {
                    run: m.run.clone(),
                    validation: (m.run.variant == Variant::DenoisingAe)
                        .then(|| "corrupted".to_string()),
                },
                inputs([("data", &pre_name)]),
            );
            // Training uses every core it is given (threaded matrix products); the scheduler caps
            // this at --cores, so trainings run one after another at full speed.
            t.resources = Resources {
                cores: usize::MAX,
                gpus: usize::from(m.run.device == crate::spec::variant::Device::Cuda),
            };
            g.add(t);
            let eval = format!("evaluate/{}", m.label);
            g.add(def(
                eval,
                StageKind::Evaluate,
                EvaluateParams::for_run(&spec.evaluate, &m.run),
                inputs([("model", &train), ("data", &pre_name)]),
            ));
            members.push(MemberRow {
                label: m.label.clone(),
                sweep_values: m.sweep_values.clone(),
            });
        }
        if !spec.runs.is_empty() {
            let mut plot_inputs = BTreeMap::new();
            for m in &spec.runs {
                plot_inputs.insert(format!("train:{}", m.label), format!("train/{}", m.label));
                plot_inputs.insert(
                    format!("evaluate:{}", m.label),
                    format!("evaluate/{}", m.label),
                );
            }
            plot_inputs.insert("data".into(), pre_name.clone());
            let mut p = def(
                "plot".into(),
                StageKind::Plot,
                PlotParams {
                    plots: spec.plots.clone(),
                    members: members.clone(),
                    dataset: ds.name.clone(),
                },
                plot_inputs.clone(),
            );
            p.publish = true;
            p.context = serde_json::json!({ "anomaly_normal_classes": spec.evaluate.anomaly_normal_classes });
            g.add(p);
            plot_inputs.insert("plot".into(), "plot".into());
            let mut r = def(
                "report".into(),
                StageKind::Report,
                ReportParams {
                    members,
                    iwae_images: spec.evaluate.iwae_images,
                },
                plot_inputs,
            );
            r.publish = true;
            g.add(r);
        }
    }
    for c in &spec.commands {
        let ins = c.inputs.iter().map(|i| (i.clone(), i.clone())).collect();
        let mut d = def(
            c.name.clone(),
            StageKind::Command,
            CommandParams {
                cmd: c.cmd.clone(),
                params: c.params.clone(),
                outputs: c.outputs.clone(),
            },
            ins,
        );
        d.file_deps = c.deps.clone();
        d.resources = Resources {
            cores: c.cores,
            gpus: c.gpus,
        };
        d.publish = c.publish;
        d.context = serde_json::json!({ "workdir": spec.dir });
        g.add(d);
    }
    g.seal().map_err(|e| graph_error(spec, e))
}

/// The spec's own data files that will be read: test files given alongside a carved test
/// split (`preprocess.test_fraction`) are ignored, so they are neither fetched nor hashed.
fn needed_files(spec: &Spec) -> impl Iterator<Item = (&String, &DataFileSpec)> {
    let carves = spec.preprocess.carves_test();
    spec.dataset
        .iter()
        .flat_map(|d| d.files.iter())
        .filter(move |(role, _)| !carves || role.starts_with("train_"))
}

/// A spec's own data files with paths made absolute (where to read is not part of any key).
fn own_files(spec: &Spec) -> serde_json::Value {
    let resolved: serde_json::Map<String, serde_json::Value> = needed_files(spec)
        .map(|(role, f)| {
            let path = f.path.as_ref().map(|p| spec.dir.join(p));
            (
                role.clone(),
                serde_json::json!({ "path": path, "url": f.url, "sha256": f.sha256 }),
            )
        })
        .collect();
    serde_json::Value::Object(resolved)
}

/// Graph errors come from `[[command]]` entries (built-in stages are wired correctly by
/// construction), so locate them there.
fn graph_error(spec: &Spec, e: GraphError) -> SpecErrors {
    let at = |name: &str, field: &str| -> Location {
        let idx = spec
            .commands
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.index);
        let src = crate::spec::source::SpecSource::new(&spec.path, spec.text.clone(), Vec::new());
        match idx {
            Some(i) => src.locate(&format!("command[{i}].{field}")),
            None => Location::WholeFile(spec.path.display().to_string()),
        }
    };
    let (location, key) = match &e {
        GraphError::DuplicateName(n) => (at(n, "name"), "name"),
        GraphError::UnknownInput { stage, .. } => (at(stage, "inputs"), "inputs"),
        GraphError::Cycle(c) => (at(&c[0], "inputs"), "inputs"),
        GraphError::FileDep { stage, .. } => (at(stage, "deps"), "deps"),
    };
    SpecErrors(vec![SpecError {
        location,
        key: key.into(),
        message: e.to_string(),
        hint: None,
    }])
}
