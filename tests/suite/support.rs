//! Test helpers: a temp project with specs, and running the `pipeline` binary in it.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub struct TestProject {
    pub dir: tempfile::TempDir,
}

impl TestProject {
    pub fn new() -> Self {
        TestProject {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("pipeline").expect("binary");
        c.current_dir(self.path())
            .env_remove("PIPELINE_PROJECT")
            .env_remove("PIPELINE_DATA_MIRROR");
        c
    }

    /// Runs `pipeline ARGS` with plain progress and returns the output (any exit code).
    pub fn run(&self, args: &[&str]) -> Output {
        let mut c = self.cmd();
        c.args(args);
        if args.first() == Some(&"run") {
            c.args(["--progress", "plain"]);
        }
        c.output().expect("pipeline runs")
    }

    pub fn plan_json(&self, spec: &str, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["plan", spec, "--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "plan failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("plan --json is JSON")
    }

    /// The `out/` folder of `stage`'s cache entry, as planned for `spec` now.
    pub fn entry_out(&self, spec: &str, stage: &str) -> PathBuf {
        let key = keys(&self.plan_json(spec, &[]))[stage].clone();
        self.path().join(".pipeline/cache").join(key).join("out")
    }

    pub fn cache_entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.path().join(".pipeline/cache"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One field of every stage in a `plan --json` document, by stage name.
fn column(plan: &serde_json::Value, field: &str) -> std::collections::BTreeMap<String, String> {
    plan["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s[field].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub fn statuses(plan: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    column(plan, "status")
}

pub fn keys(plan: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    column(plan, "key")
}

/// Runs a one-stage spec twice with a different param, leaving two cache entries and two runs.
pub fn two_runs_of_one_stage(p: &TestProject) {
    let spec =
        "[[command]]\nname = \"a\"\ncmd = \"echo {param.v} > {out}/v\"\nparams = { v = 1 }\n";
    p.write("spec.toml", spec);
    assert!(p.run(&["run", "spec.toml"]).status.success());
    p.write("spec.toml", &spec.replace("v = 1", "v = 2"));
    assert!(p.run(&["run", "spec.toml"]).status.success());
    assert_eq!(p.cache_entries().len(), 2);
}

/// Each of `figures` was drawn under `results` (a run's results folder): a PNG of more than a
/// blank canvas, and its SVG.
pub fn assert_figures_drawn(results: &Path, figures: &[&str]) {
    for fig in figures {
        let png = results.join(format!("plot/{fig}.png"));
        assert!(
            std::fs::metadata(&png)
                .map(|m| m.len() > 2000)
                .unwrap_or(false),
            "{} missing or tiny",
            png.display()
        );
        assert!(
            results.join(format!("plot/{fig}.svg")).exists(),
            "{fig}.svg"
        );
    }
}
