//! The run registry's store: format-2 records, the index under concurrent runs, `--reindex`,
//! format-1 records, run ids taken at start, and tags/notes that never rewrite a record.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

/// A one-stage command spec of experiment `reg`; `cmd` runs in the stage.
pub fn spec(cmd: &str) -> String {
    format!(
        "[experiment]\nname = \"reg\"\nseed = 1\ndescription = \"registry test\"\n\n\
         [[command]]\nname = \"s\"\ncmd = \"{cmd}\"\noutputs = [\"o\"]\npublish = true\n"
    )
}

fn runs_dir(p: &TestProject) -> PathBuf {
    p.path().join(".pipeline/runs")
}

fn record_ids(p: &TestProject) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(runs_dir(p))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".json")
                .map(str::to_owned)
        })
        .collect();
    ids.sort();
    ids
}

fn index(p: &TestProject) -> String {
    std::fs::read_to_string(runs_dir(p).join("index.jsonl")).unwrap_or_default()
}

pub fn record(p: &TestProject, id: &str) -> Value {
    let text = std::fs::read_to_string(runs_dir(p).join(format!("{id}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `pipeline ARGS` started in the project, not waited for.
fn spawn(p: &TestProject, args: &[&str]) -> std::process::Child {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("pipeline"))
        .current_dir(p.path())
        .env_remove("PIPELINE_PROJECT")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn pipeline")
}

/// `runs --json`, asserting it succeeded.
pub fn runs_json(p: &TestProject, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["runs", "--json"];
    args.extend_from_slice(extra);
    let out = p.run(&args);
    assert!(out.status.success(), "runs failed: {}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The index lists exactly the records, one whole JSON line each, sorted by id.
fn assert_index_valid(p: &TestProject) {
    let text = index(p);
    assert!(
        text.ends_with('\n'),
        "index ends with a whole line: {text:?}"
    );
    let ids: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("index line is JSON")["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, record_ids(p), "index ids = record ids, in id order");
}

#[test]
fn eight_concurrent_runs_give_eight_records_and_a_valid_index() {
    let p = TestProject::new();
    // One computes the stage while the others wait on its lock: they finish close together, in
    // no particular order, so appends race.
    p.write("spec.toml", &spec("echo done > {out}/o; sleep 0.3"));
    let children: Vec<_> = (0..8)
        .map(|i| {
            let seed = format!("experiment.seed={i}");
            spawn(
                &p,
                &["run", "spec.toml", "--progress", "none", "--set", &seed],
            )
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(record_ids(&p).len(), 8, "eight records");
    assert_index_valid(&p);
    let listed = runs_json(&p, &[]);
    assert_eq!(listed.len(), 8);
    let mut seeds: Vec<String> = listed
        .iter()
        .map(|r| r["values"]["experiment.seed"].to_string())
        .collect();
    seeds.sort();
    assert_eq!(seeds, (0..8).map(|i| i.to_string()).collect::<Vec<_>>());
    assert_reindex_identical(&p);
}

/// Rebuilt from the records alone, the index is byte for byte what the appends made.
fn assert_reindex_identical(p: &TestProject) {
    let grown = index(p);
    assert!(p.run(&["runs", "--reindex"]).status.success());
    assert_eq!(index(p), grown, "--reindex is byte-identical");
}

#[test]
fn a_project_without_an_index_gets_one_on_first_use_identical_to_reindex() {
    let p = TestProject::new();
    p.write("spec.toml", &spec("echo a > {out}/o"));
    for v in ["1", "2", "3"] {
        assert!(p
            .run(&["run", "spec.toml", "--set", &format!("experiment.seed={v}")])
            .status
            .success());
    }
    let grown = index(&p);
    assert_eq!(grown.lines().count(), 3);
    std::fs::remove_file(runs_dir(&p).join("index.jsonl")).unwrap();
    assert_eq!(runs_json(&p, &[]).len(), 3, "listed without an index");
    assert_eq!(index(&p), grown, "built on first use, the same bytes");
    // A record the index does not know yet (written by an older pipeline) is picked up.
    let first = record_ids(&p)[0].clone();
    let mut copy = record(&p, &first);
    let older = format!("19990101T000000.000Z-{}", std::process::id());
    copy["run_id"] = Value::String(older.clone());
    std::fs::write(runs_dir(&p).join(format!("{older}.json")), copy.to_string()).unwrap();
    assert_eq!(runs_json(&p, &[]).len(), 4);
    assert_index_valid(&p);
    let synced = index(&p);
    assert!(p.run(&["runs", "--reindex"]).status.success());
    assert_eq!(index(&p), synced);
}

#[test]
fn format_2_records_say_where_a_run_came_from() {
    let p = TestProject::new();
    let text = spec("echo a > {out}/o");
    p.write("spec.toml", &text);
    let git = crate::common::require("git");
    if git {
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .current_dir(p.path())
                .args(args)
                .output()
                .unwrap();
            assert!(
                ok.status.success(),
                "git {args:?}: {}",
                String::from_utf8_lossy(&ok.stderr)
            );
        };
        git(&["init", "-q"]);
        git(&["add", "spec.toml"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-qm",
            "spec",
        ]);
    }
    let out = p.run(&[
        "run",
        "spec.toml",
        "--set",
        "experiment.seed=7",
        "--stage",
        "s",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = record_ids(&p).pop().unwrap();
    let r = record(&p, &id);
    assert_eq!(r["format"], 2);
    assert_eq!(r["status"], "succeeded");
    assert_eq!(r["overrides"][0], "experiment.seed=7");
    assert_eq!(r["selectors"][0], "s");
    assert_eq!(
        r["spec_sha256"],
        pipeline::data::sha256_hex(text.as_bytes())
    );
    assert_eq!(r["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r["host"], pipeline::platform::hostname());
    assert_eq!(r["devices"][0], "cpu");
    assert_eq!(r["results"], format!("results/reg/{id}"));
    assert!(p
        .path()
        .join(r["results"].as_str().unwrap())
        .join("run.json")
        .is_file());
    let stage = &r["stages"][0];
    assert_eq!(
        (stage["state"].as_str(), stage["cache_hit"].as_bool()),
        (Some("ran"), Some(false))
    );
    assert!(stage["duration_s"].as_f64().is_some() && stage["key_inputs"].is_object());
    if git {
        assert_eq!(r["git"]["commit"].as_str().map(str::len), Some(40));
        // The run wrote .pipeline/ and results/ into the tree: untracked files make it dirty.
        assert_eq!(r["git"]["dirty"], true);
    }
    // A rerun is all cache hits.
    assert!(p.run(&["run", "spec.toml"]).status.success());
    let r2 = record(&p, &record_ids(&p).pop().unwrap());
    assert_eq!(r2["stages"][0]["cache_hit"], true);
    assert_eq!(
        r2["devices"].as_array().map(Vec::len),
        Some(0),
        "nothing ran"
    );
}

/// A record as the format-1 `pipeline` wrote it: no provenance, no `cache_hit`.
fn as_format_1(mut r: Value, id: &str) -> Value {
    let o = r.as_object_mut().unwrap();
    for k in [
        "spec_sha256",
        "tool_version",
        "host",
        "devices",
        "git",
        "results",
    ] {
        o.remove(k);
    }
    o.insert("format".into(), 1.into());
    o.insert("run_id".into(), id.into());
    for s in o["stages"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("cache_hit");
    }
    r
}

#[test]
fn format_1_records_still_list_resolve_and_count_as_cache_hits() {
    let p = TestProject::new();
    p.write("spec.toml", &spec("echo a > {out}/o"));
    assert!(p.run(&["run", "spec.toml"]).status.success());
    assert!(p.run(&["run", "spec.toml"]).status.success());
    let ids = record_ids(&p);
    let old = format!("20000101T000000.000Z-{}", std::process::id());
    let v1 = as_format_1(record(&p, &ids[1]), &old);
    std::fs::write(
        runs_dir(&p).join(format!("{old}.json")),
        serde_json::to_vec_pretty(&v1).unwrap(),
    )
    .unwrap();
    let listed = runs_json(&p, &["--sort", "id"]);
    assert_eq!(listed.len(), 3);
    assert_eq!(
        (listed[0]["id"].as_str(), listed[0]["format"].as_u64()),
        (Some(old.as_str()), Some(1))
    );
    assert_eq!(listed[0]["stages"]["cached"], 1);
    assert_eq!(listed[0]["results"], format!("results/reg/{old}"));
    let tagged = p.run(&["tag", "2000", "old"]);
    assert!(stdout(&tagged).contains(&old), "{}", stderr(&tagged));
    let table = stdout(&p.run(&["runs"]));
    assert!(table.contains(&old) && table.contains("@old"), "{table}");
}

#[test]
fn run_ids_are_taken_when_runs_start() {
    let p = TestProject::new();
    p.write(
        "slow.toml",
        &spec("sleep 2; echo a > {out}/o").replace("\"reg\"", "\"slow\""),
    );
    p.write(
        "fast.toml",
        &spec("echo b > {out}/o").replace("\"reg\"", "\"fast\""),
    );
    let slow = spawn(&p, &["run", "slow.toml", "--progress", "none"]);
    std::thread::sleep(Duration::from_millis(700));
    assert!(p.run(&["run", "fast.toml"]).status.success());
    assert!(slow.wait_with_output().unwrap().status.success());
    let grown = index(&p);
    let listed = runs_json(&p, &["--sort", "id"]);
    assert_eq!(
        index(&p),
        grown,
        "listing left the index as the runs wrote it"
    );
    let names: Vec<&str> = listed
        .iter()
        .map(|r| r["experiment"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["slow", "fast"],
        "the run started first has the smaller id"
    );
    assert!(
        listed[0]["finished_at"].as_str() > listed[1]["finished_at"].as_str(),
        "and finished last"
    );
    assert!(listed[0]["started_at"].as_str() < listed[1]["started_at"].as_str());
    // The run that started first was indexed last, yet its line is first.
    assert_index_valid(&p);
    assert_reindex_identical(&p);
}

#[test]
fn tags_and_notes_are_kept_beside_the_record_which_is_never_rewritten() {
    let p = TestProject::new();
    p.write("spec.toml", &spec("echo a > {out}/o"));
    assert!(p.run(&["run", "spec.toml"]).status.success());
    assert!(p.run(&["run", "spec.toml"]).status.success());
    let ids = record_ids(&p);
    let path = |id: &str| runs_dir(&p).join(format!("{id}.json"));
    let before = std::fs::read(path(&ids[0])).unwrap();
    let index_before = index(&p);
    assert!(p.run(&["tag", &ids[0], "baseline"]).status.success());
    let note = p.run(&["note", "latest~1", "lr too high, see \"plot\""]);
    assert!(stdout(&note).contains(&ids[0]), "{}", stderr(&note));
    assert_eq!(
        std::fs::read(path(&ids[0])).unwrap(),
        before,
        "record untouched"
    );
    assert_eq!(index(&p), index_before, "index untouched");
    let listed = runs_json(&p, &["--where", "@baseline"]);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["tags"][0], "baseline");
    assert_eq!(listed[0]["notes"][0], "lr too high, see \"plot\"");
    let table = stdout(&p.run(&["runs"]));
    assert!(
        table.contains("@baseline") && table.contains("  note: lr too high"),
        "{table}"
    );
    // Tagging another run moves the tag.
    let moved = p.run(&["tag", "latest", "@baseline"]);
    assert!(
        stdout(&moved).contains(&format!("moved from {}", ids[0])),
        "{}",
        stdout(&moved)
    );
    let now = runs_json(&p, &["--where", "@baseline"]);
    assert_eq!(now[0]["id"].as_str(), Some(ids[1].as_str()));
    let bad = p.run(&["tag", "latest", "no spaces"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let empty = p.run(&["note", "latest", " "]);
    assert_eq!(empty.status.code(), Some(2));
}

/// `gc` keeps what the newest runs use and leaves the index whole.
#[test]
fn gc_keep_runs_works_with_the_index() {
    let p = TestProject::new();
    two_runs_of_one_stage(&p);
    let index_before = index(&p);
    assert_eq!(index_before.lines().count(), 2);
    assert!(p.run(&["gc", "--keep-runs", "1"]).status.success());
    assert_eq!(
        p.cache_entries().len(),
        1,
        "the older run's entry is removed"
    );
    assert_eq!(index(&p), index_before);
    assert_eq!(runs_json(&p, &[]).len(), 2);
}
