//! `pipeline compare` on real tiny runs: exact deltas and one changed hash input per member
//! when only `train.epochs` differs, β written as 1 and 1.0 joining, a member only one run has,
//! and training curves of old runs still overlaid after `gc` (from `history.parquet`).

use serde_json::Value as Json;

use crate::support::*;

const SPEC: &str = "[experiment]\nname = \"cmp\"\nseed = 1\n[dataset]\nname = \"shapes\"\nn_train = 300\nn_test = 120\nsize = 16\n[model]\nhidden = [32]\nlikelihood = \"bernoulli\"\n[train]\nepochs = 1\nbatch_size = 50\n[evaluate]\niwae_k = [1]\nmig = false\n[plots]\nfigures = [\"training_curves\"]\n[sweep]\nvariant = [\"ae\", \"vae\"]\nlatent_dim = [2]\n";

/// Runs `SPEC` with `beta = <betas>` and `--set` overrides; returns the run id.
fn run(p: &TestProject, betas: &str, set: &[&str]) -> String {
    let spec = p.write("spec.toml", &format!("{SPEC}beta = {betas}\n"));
    let mut args = vec!["run", spec.to_str().unwrap()];
    for s in set {
        args.extend(["--set", s]);
    }
    let out = p.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let latest = std::fs::read_link(p.path().join("results/cmp/latest")).unwrap();
    latest.to_string_lossy().into_owned()
}

fn compare_json(p: &TestProject, args: &[&str]) -> Json {
    let mut all = vec!["compare", "--json"];
    all.extend_from_slice(args);
    let out = p.run(&all);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("compare --json is JSON")
}

/// Member label → metric → mean, read from a run's own comparison table.
fn table_means(p: &TestProject, run: &str) -> Vec<(String, String, f64)> {
    let path = p
        .path()
        .join(format!("results/cmp/{run}/report/comparison.parquet"));
    let df = pipeline::tables::read_parquet(&path).unwrap();
    let mut out = Vec::new();
    for row in pipeline::tables::dataframe_to_rows(&df).unwrap() {
        let label = row["run"].to_string();
        for (k, v) in &row {
            if pipeline::metrics::metric(k).is_some() {
                out.push((label.clone(), k.clone(), v.as_f64().unwrap()));
            }
        }
    }
    out
}

fn member<'a>(doc: &'a Json, label: &str) -> &'a Json {
    doc["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["member"] == label)
        .unwrap_or_else(|| panic!("no member {label} in {doc}"))
}

#[test]
fn runs_differing_only_in_epochs_compare_exactly() {
    let p = TestProject::new();
    let a = run(&p, "[1]", &[]);
    let b = run(&p, "[1]", &["train.epochs=2"]);
    let doc = compare_json(&p, &[&a, &b]);
    assert_eq!(doc["baseline"], a.as_str());
    assert_eq!(doc["comparable"], true, "same data: no banner");
    // Each run's value is its own table's, and Δ is their exact difference (read from the
    // Parquet form: JSON parsing may be off by an ulp).
    let long = p.path().join("cmp.parquet");
    let out = p.run(&[
        "compare",
        &a,
        &b,
        "--format",
        "parquet",
        "-o",
        long.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = pipeline::tables::dataframe_to_rows(&pipeline::tables::read_parquet(&long).unwrap())
        .unwrap();
    let (ta, tb) = (table_means(&p, &a), table_means(&p, &b));
    assert_eq!(
        rows.len(),
        2 * ta.len(),
        "one row per member × metric × run"
    );
    for (label, column, va) in &ta {
        let vb = tb
            .iter()
            .find(|x| &x.0 == label && &x.1 == column)
            .unwrap()
            .2;
        let of_run = |run: &str| {
            rows.iter()
                .find(|r| {
                    r["member"].to_string() == *label
                        && r["metric"].to_string() == *column
                        && r["run"].to_string() == run
                })
                .unwrap_or_else(|| panic!("no row {label} {column} {run}"))
        };
        let f = |r: &pipeline::tables::Row, k: &str| r.get(k).and_then(|v| v.as_f64());
        assert_eq!(f(of_run(&a), "mean"), Some(*va));
        assert_eq!(f(of_run(&b), "mean"), Some(vb));
        assert_eq!(f(of_run(&b), "delta"), Some(vb - va), "{label} {column}");
        // One seed a side: no test, never flagged.
        assert!(f(of_run(&b), "p").is_none() && f(of_run(&b), "significant") == Some(0.0));
    }
    for label in ["ae-z2", "vae-z2-b1"] {
        let changes = &member(&doc, label)["changed_inputs"][&b];
        assert_eq!(
            changes.as_array().unwrap(),
            &vec![Json::from("params.run.epochs: 1 → 2")],
            "{label}"
        );
    }
    let md = stdout(&p.run(&["compare", &a, &b]));
    assert!(
        md.contains("- vae-z2-b1 (R1 vs R0): params.run.epochs: 1 → 2"),
        "{md}"
    );
}

#[test]
fn beta_written_as_1_and_1_0_joins_and_an_extra_member_is_only_in_one_run() {
    let p = TestProject::new();
    let a = run(&p, "[1]", &[]);
    let b = run(&p, "[1.0, 2.0]", &[]);
    let doc = compare_json(&p, &[&a, &b]);
    let joined = member(&doc, "vae-z2-b1");
    assert_eq!(
        joined["present_in"].as_array().unwrap().len(),
        2,
        "{joined}"
    );
    assert_eq!(joined["only_in_some"], false);
    let extra = member(&doc, "vae-z2-b2");
    assert_eq!(extra["present_in"], serde_json::json!([b]));
    assert_eq!(extra["only_in_some"], true);
    assert_eq!(doc["members"].as_array().unwrap().len(), 3, "ae, β=1, β=2");
    let md = stdout(&p.run(&["compare", &a, &b]));
    assert!(md.contains("- vae-z2-b2: only in R1"), "{md}");
    assert!(md.contains("(absent)"), "{md}");
}

fn train_entry(p: &TestProject, run: &str, stage: &str) -> std::path::PathBuf {
    let record: Json = serde_json::from_slice(
        &std::fs::read(p.path().join(format!(".pipeline/runs/{run}.json"))).unwrap(),
    )
    .unwrap();
    let key = record["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == stage)
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    p.path().join(".pipeline/cache").join(key)
}

fn overlay_html(p: &TestProject, a: &str, b: &str) -> String {
    let html = p.path().join("cmp.html");
    let out = p.run(&["compare", a, b, "--html", html.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read_to_string(&html).unwrap()
}

#[test]
fn curves_of_old_runs_still_overlay_after_gc() {
    let p = TestProject::new();
    let a = run(&p, "[1]", &[]);
    let b = run(&p, "[1]", &["train.epochs=2"]);
    let _newest = run(&p, "[1]", &["train.epochs=3"]);
    // Before gc, a run without history.parquet (an older run) is read from the cache.
    let history = p.path().join(format!("results/cmp/{a}/history.parquet"));
    let kept = std::fs::read(&history).unwrap();
    std::fs::remove_file(&history).unwrap();
    let html = overlay_html(&p, &a, &b);
    assert!(
        html.contains("curves of run R0 read from the cache"),
        "{html}"
    );
    assert!(!html.contains("no curves for run"));
    std::fs::write(&history, kept).unwrap();
    let gc = p.run(&["gc", "--keep-runs", "1"]);
    assert!(gc.status.success(), "{}", stderr(&gc));
    for run in [&a, &b] {
        assert!(
            !train_entry(&p, run, "train/vae-z2-b1").exists(),
            "gc kept the train stage of {run}: the test would not show anything"
        );
    }
    let html = overlay_html(&p, &a, &b);
    let curves = html.split("<h2>Training curves</h2>").nth(1).unwrap();
    let curves = curves.split("<h2>").next().unwrap();
    assert!(curves.contains("data:image/png;base64,"), "{curves}");
    assert!(
        !curves.contains("no curves for run") && !curves.contains("from the cache"),
        "{curves}"
    );
    assert!(!html.contains("src=\"http"), "not self-contained");
    // The spec diff shows what differs, overrides included.
    assert!(
        html.contains("+ --set train.epochs=2"),
        "spec diff lacks the override"
    );
    // A run published without its history (an older run), its cache gone: said, not hidden.
    std::fs::remove_file(&history).unwrap();
    let html = overlay_html(&p, &a, &b);
    assert!(
        html.contains(&format!("no curves for run R0 ({a})")),
        "{html}"
    );
}

#[test]
fn runs_on_different_data_get_a_banner_and_only_changed_hides_equal_cells() {
    let p = TestProject::new();
    let a = run(&p, "[1]", &[]);
    let b = run(&p, "[1]", &["dataset.n_test=100"]);
    let doc = compare_json(&p, &[&a, &b]);
    assert_eq!(doc["comparable"], false, "{doc}");
    let why = doc["runs"][1]["data_differences"].as_array().unwrap();
    assert!(
        why.iter().any(|d| d.as_str().unwrap().contains("n_test")),
        "{why:?}"
    );
    let md = stdout(&p.run(&["compare", &a, &b]));
    assert!(
        md.contains("WARNING: the runs differ in their data or preprocessing"),
        "{md}"
    );
    // The same run twice: nothing differs, so --only-changed shows no cell.
    let same = compare_json(&p, &[&a, &a, "--only-changed"]);
    assert_eq!(same["cells"].as_array().unwrap().len(), 0, "{same}");
    assert_eq!(same["comparable"], true);
    let all = compare_json(&p, &[&a, &a]);
    assert!(!all["cells"].as_array().unwrap().is_empty());
}
