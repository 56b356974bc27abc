//! The report stage on the sweep shapes of issue 9, run for real on tiny shapes data.

use crate::support::*;

/// Issue 9's sweep: AE and VAE, latent sizes 3 and 7, β 0.25 and 16, three seeds.
const BETA_SWEEP_OVER_SEEDS: &str = r#"[experiment]
name = "seeds"
seed = 1

[dataset]
name = "shapes"
n_train = 240
n_test = 60
size = 16

[preprocess]
val_fraction = 0.1

[model]
hidden = [16]

[train]
epochs = 1
batch_size = 50

[evaluate]
iwae_k = [1, 3]
iwae_images = 40
probe = false

[plots]
figures = ["training_curves"]

[sweep]
variant = ["ae", "vae"]
latent_dim = [3, 7]
beta = [0.25, 16]
seed = [1, 2, 3]
"#;

/// Runs `spec` in a new project; returns the project and the run output.
fn run_spec(spec: &str) -> (TestProject, String) {
    let p = TestProject::new();
    p.write("spec.toml", spec);
    let out = p.run(&["run", "spec.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    (p, stderr(&out))
}

#[test]
fn issue_9_beta_sweep_over_seeds_gets_its_tables_and_report() {
    let (p, _) = run_spec(BETA_SWEEP_OVER_SEEDS);
    let report = p.path().join("results/seeds/latest/report");
    for name in [
        "comparison",
        "comparison_by_seed",
        "pivot_elbo_latent_x_beta",
        "pivot_kl_latent_x_beta",
        "pivot_elbo_recon_latent_x_beta",
    ] {
        assert!(
            report.join(format!("{name}.csv")).exists(),
            "{name}.csv missing"
        );
    }
    let pivot = std::fs::read_to_string(report.join("pivot_elbo_latent_x_beta.md")).unwrap();
    assert!(pivot.contains("mean over 3 seeds"), "{pivot}");
    let seeds = std::fs::read_to_string(report.join("comparison_by_seed.md")).unwrap();
    assert!(seeds.contains(" ± "), "{seeds}");
    let table = std::fs::read_to_string(report.join("comparison.md")).unwrap();
    assert!(table.contains("k=3, 40 images"), "{table}");
    // The metric added through the registry alone reaches the table, with its legend line.
    assert!(
        table.contains("| PSNR at z=μ (dB) |") && table.contains("- PSNR at z=μ (dB): "),
        "{table}"
    );
    let html = std::fs::read_to_string(p.path().join("results/seeds/latest/report.html")).unwrap();
    assert!(html.contains("latent size × β (mean over 3 seeds)"));
}

#[test]
fn issue_9_a_sweep_without_a_pivot_says_so_in_the_report_and_the_run_output() {
    let spec = BETA_SWEEP_OVER_SEEDS
        .replace("beta = [0.25, 16]", "beta = [0.25]")
        .replace("seed = [1, 2, 3]", "seed = [1]")
        .replace("latent_dim = [3, 7]", "latent_dim = [3]");
    let (p, output) = run_spec(&spec);
    assert!(
        output.contains("no latent size × β pivot: β takes one value (0.25)"),
        "{output}"
    );
    let html = std::fs::read_to_string(p.path().join("results/seeds/latest/report.html")).unwrap();
    assert!(html.contains("<h2>Notices</h2>") && html.contains("β takes one value (0.25)"));
    // One seed: n is 1 and the sd is left empty.
    let seeds = std::fs::read_to_string(
        p.path()
            .join("results/seeds/latest/report/comparison_by_seed.md"),
    )
    .unwrap();
    let rows: Vec<&str> = seeds
        .lines()
        .filter(|l| l.starts_with("| "))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 2, "{seeds}");
    assert!(rows.iter().all(|r| !r.contains('±')), "{seeds}");
}
