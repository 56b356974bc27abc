//! The plot stage on sweep shapes the shipped examples lack (seeds, latent sizes 1/3/7, β grids
//! without 1, one member, one training class), on tiny procedural shapes: issue 9's figure
//! bugs, and the figures a sweep cannot have reported rather than silently left out.

use std::path::{Path, PathBuf};

use crate::support::*;

const HEAD: &str = "[experiment]\nname = \"figs\"\nseed = 1\n[dataset]\nname = \"shapes\"\nn_train = 300\nn_test = 120\nsize = 16\n[model]\nhidden = [32]\nlikelihood = \"bernoulli\"\n[train]\nepochs = 2\nbatch_size = 50\n[evaluate]\niwae_k = [1]\nmig = false\n";

/// Runs `HEAD + body`; returns the run's `plot/` folder, its stderr and the HTML report.
fn run(p: &TestProject, body: &str) -> (PathBuf, String, String) {
    let spec = p.write("spec.toml", &format!("{HEAD}{body}"));
    let out = p.run(&["run", spec.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let latest = p.path().join("results/figs/latest");
    let html = std::fs::read_to_string(latest.join("report.html")).unwrap();
    (latest.join("plot"), stderr(&out), html)
}

fn svg(plot: &Path, name: &str) -> String {
    std::fs::read_to_string(plot.join(format!("{name}.svg")))
        .unwrap_or_else(|e| panic!("{name}.svg: {e}"))
}

fn notices(plot: &Path) -> Vec<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(plot.join("notices.json")).unwrap()).unwrap()
}

fn notice_about<'a>(notes: &'a [serde_json::Value], figure: &str) -> Option<&'a str> {
    notes
        .iter()
        .find(|n| n["subject"] == format!("figure {figure}"))
        .and_then(|n| n["message"].as_str())
}

#[test]
fn seeded_sweep_without_beta_one_or_validation() {
    let p = TestProject::new();
    let (plot, err, html) = run(
        &p,
        "[preprocess]\nval_fraction = 0.0\n[evaluate]\nanomaly_normal_classes = [0]\n\
         [sweep]\nvariant = [\"ae\", \"vae\"]\nlatent_dim = [1, 3]\nbeta = [0.5, 2]\nseed = [5, 9]\n",
    );
    // Rate–distortion: one point per (latent size, β), not one per seed.
    let rd = svg(&plot, "rate_distortion");
    let labels = rd.matches(">β=0.5<").count();
    assert!(
        (1..=2).contains(&labels),
        "{labels} β=0.5 labels for 2 latent sizes"
    );
    assert!(rd.contains("mean ± sd of 2 seeds"));
    // AE vs VAE without β = 1: the VAE is drawn at the β closest to 1, named in the title.
    let mvl = svg(&plot, "metric_vs_latent");
    assert!(mvl.contains(">VAE<"), "no VAE series in metric_vs_latent");
    assert!(mvl.contains("(β = 0.5)"));
    // No validation split: the title does not promise dashed validation curves.
    let tc = svg(&plot, "training_curves");
    assert!(
        !tc.contains("dashed: validation"),
        "training curves promise validation"
    );
    // Every seed's anomaly histogram has its own file (`b0.5` kept whole).
    for seed in [5, 9] {
        let png = plot.join(format!("anomaly_scores_vae-z3-b0.5-s{seed}.png"));
        assert!(png.exists(), "{} missing", png.display());
    }
    // ROC: one legend entry per setting (2 AEs + 4 VAEs), not per run (12).
    let roc = svg(&plot, "anomaly_roc");
    assert_eq!(roc.matches("(AUROC").count(), 6, "legend entries");
    assert!(roc.contains("2 seeds"));
    // No 2-D latent: the scatter and the manifold are reported as left out.
    let notes = notices(&plot);
    for fig in ["latent_scatter", "manifold"] {
        let why = notice_about(&notes, fig).unwrap_or_else(|| panic!("no notice for {fig}"));
        assert!(why.contains("2-D latent") && why.contains("1, 3"), "{why}");
        assert!(err.contains(&format!("figure {fig} not drawn")), "{err}");
        assert!(html.contains(&format!("figure {fig} not drawn")));
    }
    // Trained on every class with only anomaly_normal_classes set: warned.
    let why = notice_about(&notes, "anomaly").expect("anomaly warning");
    assert!(why.contains("preprocess.classes = [0]"), "{why}");
    assert!(err.contains("figure anomaly warning"), "{err}");
    for fig in ["interpolation", "arithmetic"] {
        assert!(plot.join(format!("{fig}.png")).exists(), "{fig} missing");
        assert!(html.contains(&format!("{fig}")));
    }
}

#[test]
fn one_member_of_one_class_with_a_seven_dimensional_latent() {
    let p = TestProject::new();
    let (plot, err, _) = run(
        &p,
        "[preprocess]\nclasses = [1]\n[sweep]\nvariant = [\"ae\"]\nlatent_dim = [7]\n",
    );
    let notes = notices(&plot);
    let why = notice_about(&notes, "rate_distortion").expect("rate_distortion notice");
    assert!(why.contains("no VAE"), "{why}");
    for fig in [
        "prior_samples",
        "manifold",
        "traversals",
        "metric_vs_latent",
        "anomaly",
    ] {
        assert!(
            notice_about(&notes, fig).is_some(),
            "no notice for {fig}: {err}"
        );
    }
    // The test split keeps every class, so the arithmetic has two class means.
    for fig in [
        "reconstructions",
        "interpolation",
        "arithmetic",
        "training_curves",
    ] {
        assert!(
            plot.join(format!("{fig}.png")).exists(),
            "{fig} missing: {err}"
        );
    }
}

#[test]
fn a_single_beta_is_no_rate_distortion_curve() {
    let p = TestProject::new();
    let (plot, err, _) = run(
        &p,
        "[plots]\nfigures = [\"rate_distortion\", \"interpolation\", \"arithmetic\", \"traversals\"]\n\
         [sweep]\nlatent_dim = [1, 2]\nbeta = [4]\n",
    );
    let notes = notices(&plot);
    let why = notice_about(&notes, "rate_distortion").expect("rate_distortion notice");
    assert!(why.contains("β = 4"), "{why}");
    assert!(err.contains("figure rate_distortion not drawn"), "{err}");
    for fig in ["interpolation", "arithmetic", "traversals"] {
        assert!(plot.join(format!("{fig}.png")).exists(), "{fig} missing");
    }
}
