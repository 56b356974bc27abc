//! The plot stage on sweep shapes the shipped examples lack (seeds, latent sizes 1/3/7, β grids
//! without 1, one member, one training class), on tiny procedural shapes: issue 9's figure
//! bugs, and the figures a sweep cannot have reported rather than silently left out.

use std::path::{Path, PathBuf};

use crate::support::*;

const HEAD: &str = "[experiment]\nname = \"figs\"\nseed = 1\n[dataset]\nname = \"shapes\"\nn_train = 300\nn_test = 120\nsize = 16\n[model]\nhidden = [32]\nlikelihood = \"bernoulli\"\n[train]\nepochs = 2\nbatch_size = 50\n[evaluate]\niwae_k = [1]\nmig = false\n";

/// Runs `HEAD + body` (which may go on with `[evaluate]` keys); returns the run's `plot/`
/// folder, its stderr and the HTML report (none when the report stage failed).
fn run(p: &TestProject, body: &str) -> (PathBuf, String, Option<String>) {
    let spec = p.write("spec.toml", &format!("{HEAD}{body}"));
    let out = p.run(&["run", spec.to_str().unwrap()]);
    let err = stderr(&out);
    let latest = p.path().join("results/figs/latest");
    assert!(
        latest.join("plot/figures.json").exists(),
        "plot stage failed: {err}"
    );
    let html = std::fs::read_to_string(latest.join("report.html")).ok();
    assert!(out.status.success() || html.is_none(), "{err}");
    (latest.join("plot"), err, html)
}

/// The texts of a figure's SVG, one per `<text>` element, trimmed.
pub(crate) fn svg_texts(plot: &Path, name: &str) -> Vec<String> {
    let svg = std::fs::read_to_string(plot.join(format!("{name}.svg")))
        .unwrap_or_else(|e| panic!("{name}.svg: {e}"));
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            Some(
                t.split_once('>')?
                    .1
                    .split_once("</text>")?
                    .0
                    .trim()
                    .to_owned(),
            )
        })
        .collect()
}

fn count(texts: &[String], f: impl Fn(&str) -> bool) -> usize {
    texts.iter().filter(|t| f(t)).count()
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
        "anomaly_normal_classes = [0]\n[preprocess]\nval_fraction = 0.0\n\
         [sweep]\nvariant = [\"ae\", \"vae\"]\nlatent_dim = [1, 3]\nbeta = [0.5, 2]\nseed = [5, 9]\n",
    );
    // Rate–distortion: one point per (latent size, β), not one per seed.
    let rd = svg_texts(&plot, "rate_distortion");
    let labels = count(&rd, |t| t == "β=0.5");
    assert!(
        (1..=2).contains(&labels),
        "{labels} β=0.5 labels for 2 latent sizes"
    );
    assert_eq!(
        count(&rd, |t| t.contains("mean ± sd of 2 seeds")),
        1,
        "{rd:?}"
    );
    // AE vs VAE without β = 1: the VAE is drawn at the β closest to 1, named in the title.
    let mvl = svg_texts(&plot, "metric_vs_latent");
    assert!(count(&mvl, |t| t == "VAE") > 0, "no VAE series: {mvl:?}");
    assert_eq!(count(&mvl, |t| t.contains("(β = 0.5)")), 1, "{mvl:?}");
    // No validation split: the title does not promise dashed validation curves.
    let tc = svg_texts(&plot, "training_curves").join("\n");
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
    let roc = svg_texts(&plot, "anomaly_roc");
    assert_eq!(count(&roc, |t| t.contains("(AUROC")), 6, "{roc:?}");
    assert_eq!(count(&roc, |t| t.contains("2 seeds")), 6, "{roc:?}");
    // No 2-D latent: the scatter and the manifold are reported as left out.
    let notes = notices(&plot);
    for fig in ["latent_scatter", "manifold"] {
        let why = notice_about(&notes, fig).unwrap_or_else(|| panic!("no notice for {fig}"));
        assert!(why.contains("2-D latent") && why.contains("1, 3"), "{why}");
        assert!(err.contains(&format!("figure {fig} not drawn")), "{err}");
    }
    // Trained on every class with only anomaly_normal_classes set: warned.
    let why = notice_about(&notes, "anomaly").expect("anomaly warning");
    assert!(why.contains("preprocess.classes = [0]"), "{why}");
    assert!(err.contains("figure anomaly warning"), "{err}");
    for fig in ["interpolation", "arithmetic"] {
        assert!(plot.join(format!("{fig}.png")).exists(), "{fig} missing");
    }
    // The report stage's seed pivot is another matter (tables); where it ran, the notices show.
    if let Some(html) = html {
        assert!(html.contains("figure manifold not drawn"));
    }
}

#[test]
fn one_member_of_one_class_with_a_seven_dimensional_latent() {
    let p = TestProject::new();
    let (plot, err, html) = run(
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
    let html = html.expect("report written");
    assert!(
        html.contains("figure rate_distortion not drawn"),
        "report lacks the notices"
    );
    assert!(html.contains("Latent arithmetic") && html.contains("Interpolation in latent space"));
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
