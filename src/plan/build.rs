//! Spec → stage graph: shared download/preprocess, per-run train/evaluate, then plot and report.

use crate::data::catalog::FileRef;
use crate::spec::variant::Device;
use crate::spec::{DataFileSpec, Location, MemberRow, Spec, SpecError, SpecErrors};
use crate::stages::command::{CommandContext, CommandParams, CommandStage};
use crate::stages::download::{DatasetFilesContext, DownloadParams, DownloadStage};
use crate::stages::evaluate::{self, EvaluateStage};
use crate::stages::plot::{PlotContext, PlotParams, PlotStage};
use crate::stages::preprocess::{PreprocessParams, PreprocessStage};
use crate::stages::report::{ReportParams, ReportStage};
use crate::stages::train::{TrainParams, TrainStage};

use super::graph::{GraphBuilder, GraphError, StageGraph};
use super::stage::{Input, Resources, StageDef};

pub fn build_graph(spec: &Spec) -> Result<StageGraph, SpecErrors> {
    let mut g = GraphBuilder::default();
    if let Some(ds) = &spec.dataset {
        let files = own_files(spec);
        let pre_name = format!("preprocess/{}", ds.name);
        let mut pre = StageDef::new::<PreprocessStage>(
            &pre_name,
            &PreprocessParams {
                dataset: ds.name.clone(),
                shapes: ds.shapes.clone(),
                options: spec.preprocess.clone(),
            },
            &files,
        );
        if ds.shapes.is_none() {
            let dl_name = format!("download/{}", ds.name);
            let params = DownloadParams {
                dataset: ds.name.clone(),
                files: needed_files(spec)
                    .map(|(r, f)| (r.clone(), f.sha256.clone()))
                    .collect(),
                train_only: spec.preprocess.carves_test(),
            };
            g.add(StageDef::new::<DownloadStage>(&dl_name, &params, &files));
            pre = pre.reads(Input::Raw, &dl_name);
        }
        g.add(pre);
        for m in &spec.runs {
            let train = format!("train/{}", m.label);
            let mut t = StageDef::new::<TrainStage>(&train, &TrainParams::for_run(&m.run), &())
                .reads(Input::Data, &pre_name);
            // Training uses every core it is given (threaded matrix products); the scheduler caps
            // this at --cores, so trainings run one after another at full speed.
            t.resources = Resources {
                cores: usize::MAX,
                gpus: usize::from(m.run.device == Device::Cuda),
            };
            g.add(t);
            let params = evaluate::params_for(&spec.evaluate, &m.run);
            let eval =
                StageDef::new::<EvaluateStage>(format!("evaluate/{}", m.label), &params, &())
                    .reads(Input::Model, &train)
                    .reads(Input::Data, &pre_name);
            g.add(eval);
        }
        if !spec.runs.is_empty() {
            let members: Vec<MemberRow> = spec.runs.iter().map(MemberRow::from).collect();
            // Plot and report read every member's stages (and the data, for the figures).
            let read_members = |mut d: StageDef| {
                for m in &spec.runs {
                    d = d
                        .reads(Input::Train(&m.label), &format!("train/{}", m.label))
                        .reads(Input::Evaluate(&m.label), &format!("evaluate/{}", m.label));
                }
                d.reads(Input::Data, &pre_name)
            };
            let plot_params = PlotParams {
                plots: spec.plots.clone(),
                members: members.clone(),
                dataset: ds.name.clone(),
            };
            let plot_context = PlotContext {
                anomaly_normal_classes: spec.evaluate.anomaly_normal_classes.clone(),
            };
            let mut p = read_members(StageDef::new::<PlotStage>(
                "plot",
                &plot_params,
                &plot_context,
            ));
            p.publish = true;
            let plot_name = p.name.clone();
            g.add(p);
            let report = StageDef::new::<ReportStage>("report", &ReportParams { members }, &());
            let mut r = read_members(report).reads(Input::Plot, &plot_name);
            r.publish = true;
            g.add(r);
        }
    }
    for c in &spec.commands {
        let params = CommandParams {
            cmd: c.cmd.clone(),
            params: c.params.clone(),
            outputs: c.outputs.clone(),
        };
        let context = CommandContext {
            workdir: spec.dir.clone(),
        };
        let mut d = StageDef::new::<CommandStage>(&c.name, &params, &context);
        for i in &c.inputs {
            d = d.reads(Input::Stage(i), i);
        }
        d.file_deps = c.deps.clone();
        d.resources = Resources {
            cores: c.cores,
            gpus: c.gpus,
        };
        d.publish = c.publish;
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
fn own_files(spec: &Spec) -> DatasetFilesContext {
    let files = needed_files(spec)
        .map(|(role, f)| {
            let file = FileRef {
                path: f.path.as_ref().map(|p| spec.dir.join(p)),
                url: f.url.clone(),
                sha256: f.sha256.clone(),
            };
            (role.clone(), file)
        })
        .collect();
    DatasetFilesContext { files }
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
