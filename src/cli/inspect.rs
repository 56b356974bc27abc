//! `pipeline plan`, `dag` and `why`: looking at what a run would do, without running it.

use std::fmt::Write;
use std::path::PathBuf;

use super::args::{DagFormat, SpecArgs};
use crate::error::UserError;
use crate::project::Project;
use crate::registry::{runs, why};
use crate::workflow;
use crate::workflow::assess::StageStatus;
use crate::workflow::timings::Timings;

pub fn plan(project: &Project, spec: SpecArgs, json: bool) -> anyhow::Result<()> {
    let p = workflow::plan(
        project,
        &spec.spec,
        &spec.set,
        &spec.stages,
        true,
        None,
        &mut Timings::off(),
    )?;
    p.save_jobs(&project.store())?;
    let a = &p.assessment;
    if json {
        let stages: Vec<serde_json::Value> = p
            .graph
            .stages
            .iter()
            .zip(&a.status)
            .map(|(s, st)| {
                let mut v = serde_json::json!({
                    "name": s.def.name,
                    "kind": s.def.kind,
                    "key": s.key,
                    "inputs": s.def.inputs.values().collect::<Vec<_>>(),
                    "resources": s.def.resources,
                });
                let status = serde_json::to_value(st).expect("status serializes");
                v.as_object_mut()
                    .expect("object")
                    .extend(status.as_object().expect("tagged").clone());
                v
            })
            .collect();
        let doc = serde_json::json!({
            "experiment": p.spec.experiment.name,
            "spec": p.spec.path,
            "overrides": p.spec.overrides,
            "summary": summary(a),
            "stages": stages,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    let width = p
        .graph
        .stages
        .iter()
        .map(|s| s.def.name.len())
        .max()
        .unwrap_or(10);
    let mut out = String::new();
    for (s, st) in p.graph.stages.iter().zip(&a.status) {
        let (label, reason) = match st {
            StageStatus::Cached => ("cached", String::new()),
            StageStatus::WillRun { reason } => ("will run", reason.clone()),
            StageStatus::Blocked { reason } => ("blocked", reason.clone()),
            StageStatus::NotNeeded => ("not needed", String::new()),
        };
        let _ = write!(
            out,
            "{:<width$}  {:<10}  {}  {:<10}",
            s.def.name,
            s.def.kind.name(),
            s.key.short(),
            label
        );
        if !reason.is_empty() {
            let _ = write!(out, "  {reason}");
        }
        out.push('\n');
    }
    let sm = summary(a);
    let _ = writeln!(
        out,
        "\n{} stages: {} cached, {} will run, {} blocked, {} not needed",
        p.graph.len(),
        sm["cached"],
        sm["will_run"],
        sm["blocked"],
        sm["not_needed"]
    );
    print!("{out}");
    Ok(())
}

fn summary(a: &crate::workflow::assess::Assessment) -> serde_json::Value {
    serde_json::json!({
        "cached": a.count(|s| matches!(s, StageStatus::Cached)),
        "will_run": a.count(|s| matches!(s, StageStatus::WillRun { .. })),
        "blocked": a.count(|s| matches!(s, StageStatus::Blocked { .. })),
        "not_needed": a.count(|s| matches!(s, StageStatus::NotNeeded)),
    })
}

pub fn dag(project: &Project, spec: SpecArgs, format: DagFormat) -> anyhow::Result<()> {
    let p = workflow::plan(
        project,
        &spec.spec,
        &spec.set,
        &spec.stages,
        false,
        None,
        &mut Timings::off(),
    )?;
    let g = &p.graph;
    let id = |i: usize| format!("s{i}");
    let mut out = String::new();
    match format {
        DagFormat::Text => {
            for s in &g.stages {
                let ins: Vec<&str> = s
                    .deps
                    .iter()
                    .map(|&d| g.stages[d].def.name.as_str())
                    .collect();
                if ins.is_empty() {
                    let _ = writeln!(out, "{}", s.def.name);
                } else {
                    let _ = writeln!(out, "{} <- {}", s.def.name, ins.join(", "));
                }
            }
        }
        DagFormat::Dot => {
            out.push_str(
                "digraph pipeline {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
            );
            for (i, s) in g.stages.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  {} [label=\"{}\\n{}\"];",
                    id(i),
                    s.def.name,
                    s.def.kind
                );
            }
            for (i, s) in g.stages.iter().enumerate() {
                for &d in &s.deps {
                    let _ = writeln!(out, "  {} -> {};", id(d), id(i));
                }
            }
            out.push_str("}\n");
        }
        DagFormat::Mermaid => {
            out.push_str("flowchart LR\n");
            for (i, s) in g.stages.iter().enumerate() {
                let _ = writeln!(out, "  {}[\"{}\"]", id(i), s.def.name);
            }
            for (i, s) in g.stages.iter().enumerate() {
                for &d in &s.deps {
                    let _ = writeln!(out, "  {} --> {}", id(d), id(i));
                }
            }
        }
    }
    print!("{out}");
    Ok(())
}

pub fn why(
    project: &Project,
    stage: &str,
    spec: Option<PathBuf>,
    set: Vec<String>,
) -> anyhow::Result<()> {
    let state = project.state_dir();
    let last = runs::latest(&state, |r| r.stages.iter().any(|s| s.name == stage));
    let spec_path = match (spec, &last) {
        (Some(p), _) => p,
        (None, Some(r)) => PathBuf::from(&r.spec_path),
        (None, None) => {
            return Err(UserError::usage(format!(
                "no recorded run has a stage `{stage}`; pass --spec to plan it"
            ))
            .into())
        }
    };
    let set = if set.is_empty() {
        last.as_ref()
            .map(|r| r.overrides.clone())
            .unwrap_or_default()
    } else {
        set
    };
    let p = workflow::plan(
        project,
        &spec_path,
        &set,
        &[],
        false,
        None,
        &mut Timings::off(),
    )?;
    let i = p.graph.index_of(stage).ok_or_else(|| {
        UserError::usage(format!(
            "spec {} has no stage `{stage}`",
            spec_path.display()
        ))
    })?;
    let now = &p.graph.stages[i];
    let cached = matches!(p.assessment.status[i], StageStatus::Cached);
    println!("{stage} ({}) key {}", now.def.kind, now.key.short());
    println!("status: {}", if cached { "cached" } else { "not cached" });
    let Some(rec) = last
        .as_ref()
        .and_then(|r| r.stages.iter().find(|s| s.name == stage).map(|s| (r, s)))
    else {
        println!("no earlier run of this stage is recorded");
        return Ok(());
    };
    let (run, before) = rec;
    println!(
        "last recorded run: {} (state {}, key {})",
        run.run_id,
        before.state,
        before.key.short()
    );
    let changes = why::diff(&before.key_inputs, &now.key_inputs);
    if changes.is_empty() {
        println!("hash inputs are identical to that run");
    } else {
        println!("hash inputs that changed:");
        for c in &changes {
            println!("  {c}");
            // An input's key changed: name the producing stage so the user can ask `why` of it.
            if let Some(input) = c.path.strip_prefix("inputs.") {
                if let Some(producer) = now.def.inputs.get(input) {
                    println!("    (run `pipeline why {producer}` to see why that input changed)");
                }
            }
        }
    }
    Ok(())
}
