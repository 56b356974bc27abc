//! Running specs: caching, parallelism, failure propagation, results, `why`, `exec-stage`.

use std::time::{Duration, Instant};

use crate::support::*;

const CHAIN: &str = r#"[experiment]
name = "chain"

[[command]]
name = "gen"
cmd = "seq 1 {param.n} > {out}/numbers.txt"
params = { n = 5 }
outputs = ["numbers.txt"]

[[command]]
name = "sum"
cmd = "awk '{s+=$1} END {print s}' {in.gen}/numbers.txt > {out}/sum.txt"
inputs = ["gen"]
outputs = ["sum.txt"]
publish = true

[[command]]
name = "other"
cmd = "echo independent > {out}/o.txt"
"#;

fn count(err: &str, word: &str) -> usize {
    // "run <id>: 2 ran, 1 cached, ..."
    let line = err
        .lines()
        .find(|l| l.starts_with("run "))
        .unwrap_or_default();
    let counts = line.split_once(": ").map_or("", |(_, c)| c);
    counts
        .split(", ")
        .find_map(|part| {
            part.strip_suffix(&format!(" {word}"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(usize::MAX)
}

#[test]
fn second_run_is_all_cached_and_results_are_published() {
    let p = TestProject::new();
    p.write("spec.toml", CHAIN);
    let first = p.run(&["run", "spec.toml"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert_eq!(count(&stderr(&first), "ran"), 3, "{}", stderr(&first));
    let t = Instant::now();
    let second = p.run(&["run", "spec.toml"]);
    assert!(second.status.success());
    assert_eq!(count(&stderr(&second), "cached"), 3, "{}", stderr(&second));
    assert!(t.elapsed() < Duration::from_secs(5));
    let latest = p.path().join("results/chain/latest");
    assert_eq!(
        std::fs::read_to_string(latest.join("sum/sum.txt"))
            .unwrap()
            .trim(),
        "15"
    );
    assert!(latest.join("run.json").exists() && latest.join("stages.tsv").exists());
    assert!(
        !latest.join("other").exists(),
        "unpublished stage is not copied"
    );
}

#[test]
fn changing_one_parameter_reruns_only_what_depends_on_it() {
    let p = TestProject::new();
    p.write("spec.toml", CHAIN);
    assert!(p.run(&["run", "spec.toml"]).status.success());
    // Without its stages the spec would do nothing: refused, not an empty plan.
    let empty = p.run(&["plan", "spec.toml", "--set", "command=[]"]);
    assert_eq!(empty.status.code(), Some(2), "{}", stderr(&empty));
    p.write("spec.toml", &CHAIN.replace("n = 5", "n = 6"));
    let plan = p.plan_json("spec.toml", &[]);
    let st = statuses(&plan);
    assert_eq!(
        (st["gen"].as_str(), st["sum"].as_str(), st["other"].as_str()),
        ("will-run", "will-run", "cached")
    );
    let reason = plan["stages"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("params.params.n: 5 → 6"), "{reason}");
    let out = p.run(&["run", "spec.toml"]);
    assert_eq!(
        (count(&stderr(&out), "ran"), count(&stderr(&out), "cached")),
        (2, 1),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(p.path().join("results/chain/latest/sum/sum.txt"))
            .unwrap()
            .trim(),
        "21"
    );
}

#[test]
fn why_names_the_changed_hash_inputs() {
    let p = TestProject::new();
    p.write("spec.toml", CHAIN);
    assert!(p.run(&["run", "spec.toml"]).status.success());
    p.write("spec.toml", &CHAIN.replace("n = 5", "n = 9"));
    let out = p.run(&["why", "sum"]);
    let text = stdout(&out);
    assert!(text.contains("status: not cached"), "{text}");
    assert!(text.contains("inputs.gen:"), "{text}");
    assert!(text.contains("pipeline why gen"), "{text}");
    let gen = stdout(&p.run(&["why", "gen"]));
    assert!(gen.contains("params.params.n: 5 → 9"), "{gen}");
}

#[test]
fn independent_stages_run_in_parallel() {
    let p = TestProject::new();
    let mut spec = String::new();
    for i in 0..4 {
        spec.push_str(&format!(
            "[[command]]\nname = \"s{i}\"\ncmd = \"sleep 0.6; date +%s.%N > {{out}}/t\"\n"
        ));
    }
    p.write("spec.toml", &spec);
    let t = Instant::now();
    let out = p.run(&["run", "spec.toml", "--jobs", "4", "--cores", "4"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Serially this takes 2.4 s; four at once about 0.6 s.
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn jobs_limit_is_respected() {
    let p = TestProject::new();
    let mut spec = String::new();
    for i in 0..3 {
        // Each stage records how many stages were running when it started.
        spec.push_str(&format!(
            "[[command]]\nname = \"s{i}\"\ncmd = \"mkdir -p ../../../running; touch ../../../running/s{i}; ls ../../../running | wc -l > {{out}}/n; sleep 0.3; rm ../../../running/s{i}\"\n"
        ));
    }
    let spec = spec.replace(
        "../../../running",
        &p.path().join("running").display().to_string(),
    );
    p.write("spec.toml", &spec);
    let out = p.run(&["run", "spec.toml", "--jobs", "1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for e in p.cache_entries() {
        let n = std::fs::read_to_string(p.path().join(".pipeline/cache").join(e).join("out/n"))
            .unwrap();
        assert_eq!(n.trim(), "1");
    }
}

#[test]
fn failure_blocks_dependents_and_lets_independent_stages_finish() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        "[[command]]\nname = \"bad\"\ncmd = \"echo about to fail; echo details >&2; exit 3\"\n[[command]]\nname = \"after\"\ncmd = \"true\"\ninputs = [\"bad\"]\n[[command]]\nname = \"after2\"\ncmd = \"true\"\ninputs = [\"after\"]\n[[command]]\nname = \"fine\"\ncmd = \"sleep 0.3; echo ok > {out}/ok\"\n",
    );
    let out = p.run(&["run", "spec.toml"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("1 failed, 2 blocked"), "{err}");
    assert!(err.contains("✗ bad: command exited with status 3"), "{err}");
    assert!(err.contains("| details"), "log tail is shown: {err}");
    assert_eq!(p.cache_entries().len(), 1, "only `fine` is cached");
    let plan = statuses(&p.plan_json("spec.toml", &[]));
    assert_eq!(plan["fine"], "cached");
    assert_eq!(plan["bad"], "will-run");
}

#[test]
fn missing_declared_output_fails_the_stage() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        "[[command]]\nname = \"a\"\ncmd = \"true\"\noutputs = [\"model.bin\"]\n",
    );
    let out = p.run(&["run", "spec.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("declared output `model.bin` was not created"),
        "{}",
        stderr(&out)
    );
    assert!(p.cache_entries().is_empty());
}

#[test]
fn gpu_stage_without_gpu_slots_fails_clearly() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        "[[command]]\nname = \"g\"\ncmd = \"true\"\ngpus = 1\n",
    );
    let out = p.run(&["run", "spec.toml"]);
    // Refused when planning, as a spec error (exit 2), rather than failed once running.
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("needs 1 GPU slot(s), but this run has --gpus 0"),
        "{}",
        stderr(&out)
    );
    assert!(p.run(&["run", "spec.toml", "--gpus", "1"]).status.success());
}

#[test]
fn exec_stage_runs_one_stage_by_key_through_the_same_cache() {
    let p = TestProject::new();
    p.write("spec.toml", CHAIN);
    let unplanned = p.run(&["exec-stage", &"ab".repeat(32)]);
    assert_eq!(unplanned.status.code(), Some(1));
    assert!(
        stderr(&unplanned).contains("run `pipeline plan` on the spec first"),
        "{}",
        stderr(&unplanned)
    );
    // Run the first stage only; `plan` saves the job of the second, which runs by key as a
    // cluster node would run it.
    assert!(p
        .run(&["run", "spec.toml", "--stage", "gen"])
        .status
        .success());
    let plan = p.plan_json("spec.toml", &[]);
    let key = keys(&plan)["sum"].clone();
    let out = p.run(&["exec-stage", &key]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(statuses(&p.plan_json("spec.toml", &[]))["sum"], "cached");
    assert!(p.run(&["exec-stage", "xyz"]).status.code() == Some(2));
}

/// Issue 9, bug 10: `exec-stage KEY` ran whatever the job file said, so an edited `cmd`
/// committed its output under the original key (and `verify` found nothing wrong).
#[test]
fn exec_stage_refuses_a_job_file_edited_after_planning() {
    let p = TestProject::new();
    p.write("spec.toml", CHAIN);
    let key = keys(&p.plan_json("spec.toml", &[]))["gen"].clone();
    let job_path = p.path().join(".pipeline/jobs").join(format!("{key}.json"));
    let mut job: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&job_path).unwrap()).unwrap();
    job["def"]["params"]["cmd"] = "echo forged > {out}/numbers.txt".into();
    std::fs::write(&job_path, serde_json::to_vec_pretty(&job).unwrap()).unwrap();
    let out = p.run(&["exec-stage", &key]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not match its key") && stderr(&out).contains("pipeline plan"),
        "{}",
        stderr(&out)
    );
    assert!(p.cache_entries().is_empty(), "{:?}", p.cache_entries());
}

#[test]
fn runs_lists_recorded_runs() {
    let p = TestProject::new();
    p.write("spec.toml", CHAIN);
    assert!(p.run(&["run", "spec.toml"]).status.success());
    let text = stdout(&p.run(&["runs"]));
    assert!(
        text.lines().nth(1).unwrap().contains("chain") && text.contains("succeeded"),
        "{text}"
    );
}

#[test]
fn a_selected_cached_stage_does_not_rerun_its_removed_inputs() {
    let p = TestProject::new();
    p.write("spec.toml", CHAIN);
    assert!(p.run(&["run", "spec.toml"]).status.success());
    // Drop `gen`'s entry: `sum` is still cached, so selecting `sum` needs nothing.
    let gen = keys(&p.plan_json("spec.toml", &[]))["gen"].clone();
    std::fs::remove_dir_all(p.path().join(".pipeline/cache").join(gen)).unwrap();
    let st = statuses(&p.plan_json("spec.toml", &["--stage", "sum"]));
    assert_eq!(
        (st["sum"].as_str(), st["gen"].as_str()),
        ("cached", "not-needed"),
        "{st:?}"
    );
    let out = p.run(&["run", "spec.toml", "--stage", "sum"]);
    assert_eq!(count(&stderr(&out), "ran"), 0, "{}", stderr(&out));
}
