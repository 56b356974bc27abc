//! Sweep expansion: grid, include/exclude, per-variant parameters and de-duplication.

use crate::support::*;
use pipeline::spec::variant::Variant;

fn load(p: &TestProject, body: &str) -> pipeline::spec::Spec {
    let path = p.write(
        "spec.toml",
        &format!("[experiment]\nname = \"t\"\n[dataset]\nname = \"mnist\"\n{body}"),
    );
    pipeline::spec::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn labels(s: &pipeline::spec::Spec) -> Vec<String> {
    s.runs.iter().map(|r| r.label.clone()).collect()
}

#[test]
fn grid_is_the_cartesian_product() {
    let p = TestProject::new();
    let s = load(
        &p,
        "[sweep]\nlatent_dim = [2, 5, 10, 20]\nbeta = [0.5, 1, 2]\nseed = [1, 2]\n",
    );
    assert_eq!(s.runs.len(), 4 * 3 * 2);
    assert!(
        labels(&s).contains(&"vae-z10-b0.5-s2".to_owned()),
        "{:?}",
        labels(&s)
    );
    let mut l = labels(&s);
    l.dedup();
    assert_eq!(l.len(), 24, "labels are unique");
}

#[test]
fn ae_is_not_duplicated_per_beta() {
    let p = TestProject::new();
    let s = load(
        &p,
        "[sweep]\nvariant = [\"ae\", \"vae\"]\nlatent_dim = [2, 5]\nbeta = [0.5, 1, 2, 4, 8]\n",
    );
    let aes: Vec<_> = s
        .runs
        .iter()
        .filter(|r| r.run.variant == Variant::Ae)
        .collect();
    assert_eq!(aes.len(), 2, "{:?}", labels(&s));
    assert!(aes.iter().all(|r| r.run.beta.is_none()));
    assert_eq!(s.runs.len(), 2 + 2 * 5);
    assert_eq!(aes[0].label, "ae-z2");
}

#[test]
fn include_adds_members_and_exclude_removes_them() {
    let p = TestProject::new();
    let s = load(
        &p,
        "[sweep]\nlatent_dim = [2, 5]\nbeta = [1, 4]\nexclude = [{ latent_dim = 5, beta = 4 }]\ninclude = [{ variant = \"sparse-ae\", latent_dim = 32 }]\n",
    );
    let l = labels(&s);
    assert_eq!(l.len(), 4, "{l:?}");
    assert!(!l.contains(&"vae-z5-b4".to_owned()), "{l:?}");
    assert!(l.contains(&"sparse-ae-z32".to_owned()), "{l:?}");
    let sparse = s
        .runs
        .iter()
        .find(|r| r.run.variant == Variant::SparseAe)
        .unwrap();
    assert_eq!(
        sparse.run.l1,
        Some(1e-3),
        "sparse AE reads its own default λ"
    );
    assert_eq!(sparse.run.beta, None);
}

#[test]
fn per_variant_defaults_apply_only_to_that_variant() {
    let p = TestProject::new();
    let s = load(
        &p,
        "[train]\nepochs = 5\n[variants.ae]\nepochs = 20\n[variants.denoising-ae]\nnoise = \"masking\"\nnoise_level = 0.25\n[sweep]\nvariant = [\"ae\", \"vae\", \"denoising-ae\"]\n",
    );
    let by = |v: Variant| {
        s.runs
            .iter()
            .find(|r| r.run.variant == v)
            .unwrap()
            .run
            .clone()
    };
    assert_eq!(by(Variant::Ae).epochs, 20);
    assert_eq!(by(Variant::Vae).epochs, 5);
    let noise = by(Variant::DenoisingAe).noise.unwrap();
    assert_eq!(noise.level, 0.25);
    assert!(by(Variant::Vae).noise.is_none());
}

#[test]
fn linear_ae_reads_no_hidden_layers_or_activation() {
    let p = TestProject::new();
    let s = load(
        &p,
        "[model]\nvariant = \"linear-ae\"\nhidden = [512, 256]\nactivation = \"tanh\"\n",
    );
    assert_eq!(s.runs.len(), 1);
    assert!(s.runs[0].run.hidden.is_none() && s.runs[0].run.activation.is_none());
}

#[test]
fn no_sweep_means_one_run_from_the_defaults() {
    let p = TestProject::new();
    let s = load(&p, "[model]\nlatent_dim = 7\n");
    assert_eq!(labels(&s), vec!["vae".to_owned()]);
    assert_eq!(s.runs[0].run.latent_dim, 7);
}

#[test]
fn set_overrides_a_sweep_axis() {
    let p = TestProject::new();
    let path = p.write(
        "spec.toml",
        "[dataset]\nname = \"mnist\"\n[sweep]\nlatent_dim = [2, 5]\n",
    );
    let s = pipeline::spec::load(
        &path,
        &[
            "sweep.latent_dim=[3]".into(),
            "dataset.name=fashion-mnist".into(),
        ],
    )
    .unwrap();
    assert_eq!(s.runs.len(), 1);
    assert_eq!(s.runs[0].run.latent_dim, 3);
    assert_eq!(s.dataset.unwrap().name, "fashion-mnist");
    assert_eq!(s.overrides.len(), 2);
}
