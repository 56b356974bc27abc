//! Stage keys of the shipped experiments, pinned: refactoring how a spec becomes stages must not
//! change any key (a changed key silently throws away every user's cache).
//!
//! The fixture `stage_keys.txt` was generated from the code before the spec → stage contract
//! was restructured. Regenerate it only on purpose (a stage kind's `implementation_version`
//! bump, a new hashed parameter), with `PIPELINE_BLESS_STAGE_KEYS=1 cargo test --test suite
//! stage_keys`, and say in the commit which keys changed and why.

use std::path::Path;

const FIXTURE: &str = "tests/suite/stage_keys.txt";

/// Each shipped experiment as written, plus `--set` variants covering what the shipped files
/// leave at defaults: each variant's own parameters, a carved test split, another dataset,
/// seeds, evaluation options and figures.
const CASES: &[(&str, &[&str])] = &[
    ("anomaly", &[]),
    ("beta_sweep", &[]),
    ("lecture_figures", &[]),
    ("quickstart", &[]),
    ("shapes_beta", &[]),
    (
        "quickstart",
        &[
            "model.variant=\"denoising-ae\"",
            "sweep.variant=[\"denoising-ae\"]",
        ],
    ),
    (
        "quickstart",
        &[
            "sweep.variant=[\"denoising-ae\"]",
            "model.noise=\"gaussian\"",
            "model.noise_level=0.5",
        ],
    ),
    (
        "quickstart",
        &[
            "sweep.variant=[\"sparse-ae\", \"linear-ae\"]",
            "model.l1=0.01",
        ],
    ),
    (
        "quickstart",
        &["sweep.seed=[1, 2, 3]", "model.kl_warmup_epochs=2"],
    ),
    ("beta_sweep", &["dataset.name=\"fashion-mnist\""]),
    (
        "beta_sweep",
        &[
            "preprocess.test_fraction=0.2",
            "preprocess.binarize=\"static\"",
        ],
    ),
    (
        "anomaly",
        &[
            "preprocess.subset=500",
            "evaluate.probe=false",
            "evaluate.pca=true",
        ],
    ),
    (
        "lecture_figures",
        &[
            "train.device=\"auto\"",
            "train.adam_betas=[0.5, 0.9]",
            "train.weight_decay=0.0001",
        ],
    ),
    (
        "lecture_figures",
        &[
            "plots.formats=[\"svg\"]",
            "evaluate.iwae_k=[5]",
            "evaluate.knn_k=3",
        ],
    ),
];

/// One line per stage: case, stage name, key.
fn current_keys() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = String::new();
    for (name, set) in CASES {
        let case = if set.is_empty() {
            name.to_string()
        } else {
            format!("{name} {}", set.join(" "))
        };
        let path = root.join("experiments").join(format!("{name}.toml"));
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        let spec = pipeline::spec::load(&path, &set)
            .unwrap_or_else(|e| panic!("{case}: spec does not load: {e:?}"));
        let graph = pipeline::plan::build_graph(&spec)
            .unwrap_or_else(|e| panic!("{case}: graph does not build: {e:?}"));
        for s in &graph.stages {
            out.push_str(&format!("{case} | {} | {}\n", s.def.name, s.key));
        }
    }
    out
}

#[test]
fn shipped_experiments_keep_their_stage_keys() {
    let now = current_keys();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    if std::env::var_os("PIPELINE_BLESS_STAGE_KEYS").is_some() {
        std::fs::write(&path, &now).unwrap();
    }
    let pinned = std::fs::read_to_string(&path).expect("stage key fixture");
    let changed: Vec<String> = pinned
        .lines()
        .zip(now.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("  was {a}\n  now {b}"))
        .collect();
    assert!(
        changed.is_empty() && pinned.lines().count() == now.lines().count(),
        "{} of {} stage keys changed ({} stages pinned, {} now):\n{}",
        changed.len(),
        pinned.lines().count(),
        pinned.lines().count(),
        now.lines().count(),
        changed.join("\n")
    );
}
