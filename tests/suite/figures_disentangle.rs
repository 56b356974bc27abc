//! The disentanglement figures (issue 13) on tiny procedural shapes: MIG against β over a
//! seeded β grid without 1, the factor-labelled traversals, and the notices when a sweep has
//! no β grid or no MIG.

use std::path::{Path, PathBuf};

use pipeline::data::shapes::FACTOR_NAMES;

use crate::figures::svg_texts;
use crate::support::*;

const HEAD: &str = "[experiment]\nname = \"dis\"\nseed = 1\n[dataset]\nname = \"shapes\"\nn_train = 300\nn_test = 120\nsize = 16\n[model]\nhidden = [32]\nlikelihood = \"bernoulli\"\n[train]\nepochs = 2\nbatch_size = 50\n[plots]\nfigures = [\"mig_vs_beta\", \"factor_traversals\"]\n";

/// Runs `HEAD + body`; returns the run's `plot/` folder and the run's stderr.
fn run(p: &TestProject, body: &str) -> (PathBuf, String) {
    let spec = p.write("spec.toml", &format!("{HEAD}{body}"));
    let out = p.run(&["run", spec.to_str().unwrap()]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    (p.path().join("results/dis/latest/plot"), err)
}

fn notice_about(plot: &Path, figure: &str) -> Option<String> {
    let notes: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(plot.join("notices.json")).unwrap()).unwrap();
    notes
        .iter()
        .find(|n| n["subject"] == format!("figure {figure}"))
        .and_then(|n| n["message"].as_str().map(str::to_owned))
}

/// A row label names the unit and either a shapes factor with its MI or no factor.
fn is_unit_label(t: &str) -> bool {
    let Some((unit, rest)) = t.split_once(": ") else {
        return false;
    };
    unit.starts_with('z')
        && (rest == "no factor"
            || FACTOR_NAMES
                .iter()
                .any(|f| rest.starts_with(&format!("{f} (MI ")) && rest.ends_with(" of H)")))
}

#[test]
fn seeded_beta_grid_without_one_gives_a_mig_line_and_labelled_traversals() {
    let p = TestProject::new();
    let (plot, err) = run(
        &p,
        "[evaluate]\niwae_k = [1]\nmig = true\n[sweep]\nlatent_dim = [3]\nbeta = [0.5, 2]\nseed = [5, 9]\n",
    );
    let mig = svg_texts(&plot, "mig_vs_beta");
    // One line (one latent size), not one per seed.
    assert_eq!(mig.iter().filter(|t| *t == "VAE z=3").count(), 1, "{mig:?}");
    assert!(mig.iter().any(|t| t.contains("MIG")), "{mig:?}");
    let tr = svg_texts(&plot, "factor_traversals");
    let labels = tr.iter().filter(|t| is_unit_label(t)).count();
    assert_eq!(labels, 3, "one label per unit of the 3-D latent: {tr:?}");
    assert!(
        tr.iter()
            .any(|t| t.contains("β = 0.5") || t.contains("β = 2")),
        "{tr:?}"
    );
    // No notice either: the labels' MI matrix gives the MIG evaluate wrote.
    for fig in ["mig_vs_beta", "factor_traversals"] {
        assert!(notice_about(&plot, fig).is_none(), "{fig}: {err}");
    }
}

#[test]
fn one_member_has_no_beta_grid_and_no_mig_means_neither_figure() {
    let p = TestProject::new();
    let (plot, err) = run(
        &p,
        "[evaluate]\niwae_k = [1]\nmig = true\n[sweep]\nlatent_dim = [2]\n",
    );
    let why = notice_about(&plot, "mig_vs_beta").expect("mig_vs_beta notice");
    assert!(why.contains("β grid"), "{why}");
    assert!(err.contains("figure mig_vs_beta not drawn"), "{err}");
    // One member with MIG still has its labelled traversals.
    let tr = svg_texts(&plot, "factor_traversals");
    assert_eq!(tr.iter().filter(|t| is_unit_label(t)).count(), 2, "{tr:?}");

    let q = TestProject::new();
    let (plot, _) = run(
        &q,
        "[evaluate]\niwae_k = [1]\nmig = false\n[sweep]\nbeta = [0.5, 2]\nlatent_dim = [2]\n",
    );
    for fig in ["mig_vs_beta", "factor_traversals"] {
        let why = notice_about(&plot, fig).unwrap_or_else(|| panic!("no notice for {fig}"));
        assert!(why.contains("MIG"), "{fig}: {why}");
    }
}
