//! `experiments/quickstart.toml` end to end, offline: tables, figures and the HTML report.

use crate::support::*;

#[test]
fn quickstart_runs_end_to_end_offline() {
    let p = TestProject::new();
    let spec = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/quickstart.toml");
    let out = p.run(&["run", spec]);
    assert!(out.status.success(), "{}", stderr(&out));
    let latest = p.path().join("results/quickstart/latest");
    let table = std::fs::read_to_string(latest.join("report/comparison.md")).unwrap();
    for run in ["ae-z2", "ae-z5", "vae-z2", "vae-z5"] {
        assert!(table.contains(run), "{run} missing from\n{table}");
    }
    assert!(
        latest.join("report/comparison.csv").exists()
            && latest.join("report/comparison.parquet").exists()
    );
    assert_figures_drawn(
        &latest,
        &[
            "prior_samples",
            "reconstructions",
            "latent_scatter",
            "manifold",
            "traversals",
            "training_curves",
        ],
    );
    let html = std::fs::read_to_string(latest.join("report.html")).unwrap();
    assert!(
        html.contains("data:image/png;base64,") && html.contains("vae-z5"),
        "report lacks figures or tables"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "report is not self-contained"
    );
    let again = p.run(&["run", spec]);
    assert!(again.status.success());
    assert!(
        stderr(&again).contains("0 ran, 11 cached"),
        "{}",
        stderr(&again)
    );
}
