//! One test per invalidation source, and tests that irrelevant changes keep keys unchanged.

use std::collections::BTreeMap;

use crate::support::*;

const BASE: &str = "[experiment]\nname = \"t\"\ndescription = \"d\"\n[dataset]\nname = \"mnist\"\n[model]\nlatent_dim = 2\n";

fn keys_of(p: &TestProject, text: &str, set: &[&str]) -> BTreeMap<String, String> {
    let path = p.write("spec.toml", text);
    // Planning checks that local data files exist; their content is only read when run.
    for file in text
        .split("path = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
    {
        p.write(file, "");
    }
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    let spec = pipeline::spec::load(&path, &set).unwrap_or_else(|e| panic!("{e}"));
    let g = pipeline::plan::build_graph(&spec).unwrap_or_else(|e| panic!("{e}"));
    g.stages
        .iter()
        .map(|s| (s.def.name.clone(), s.key.0.clone()))
        .collect()
}

/// Names of stages whose key differs between the two specs.
fn changed(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    a.iter()
        .filter(|(n, k)| b.get(*n) != Some(k))
        .map(|(n, _)| n.clone())
        .collect()
}

fn diff_with(set: &[&str]) -> Vec<String> {
    let p = TestProject::new();
    changed(&keys_of(&p, BASE, &[]), &keys_of(&p, BASE, set))
}

const DOWNSTREAM_OF_TRAIN: [&str; 4] = ["evaluate/vae", "plot", "report", "train/vae"];

#[test]
fn model_parameter_invalidates_train_and_what_reads_it() {
    assert_eq!(diff_with(&["model.latent_dim=5"]), DOWNSTREAM_OF_TRAIN);
}

#[test]
fn training_parameter_invalidates_train_and_what_reads_it() {
    assert_eq!(diff_with(&["train.lr=0.0005"]), DOWNSTREAM_OF_TRAIN);
    assert_eq!(diff_with(&["train.seed=7"]), DOWNSTREAM_OF_TRAIN);
}

#[test]
fn preprocess_option_invalidates_preprocess_and_downstream_not_download() {
    let d = diff_with(&["preprocess.val_fraction=0.2"]);
    assert!(
        d.contains(&"preprocess/mnist".to_owned()) && d.contains(&"train/vae".to_owned()),
        "{d:?}"
    );
    assert!(!d.contains(&"download/mnist".to_owned()));
}

#[test]
fn dataset_invalidates_everything_data_dependent() {
    let p = TestProject::new();
    let a = keys_of(&p, BASE, &[]);
    let b = keys_of(&p, BASE, &["dataset.name=fashion-mnist"]);
    assert_ne!(a["train/vae"], b["train/vae"]);
    assert_ne!(a["download/mnist"], b["download/fashion-mnist"]);
}

#[test]
fn beta_invalidates_a_vae() {
    assert_eq!(diff_with(&["model.beta=4.0"]), DOWNSTREAM_OF_TRAIN);
}

#[test]
fn beta_does_not_invalidate_an_ae() {
    let p = TestProject::new();
    let a = keys_of(&p, BASE, &["model.variant=ae"]);
    let b = keys_of(&p, BASE, &["model.variant=ae", "model.beta=4.0"]);
    assert!(changed(&a, &b).is_empty(), "{:?}", changed(&a, &b));
}

#[test]
fn evaluation_option_invalidates_evaluate_not_train() {
    assert_eq!(
        diff_with(&["evaluate.knn_k=10"]),
        ["evaluate/vae", "plot", "report"]
    );
}

#[test]
fn iwae_samples_do_not_invalidate_an_ae_evaluation() {
    let p = TestProject::new();
    let a = keys_of(&p, BASE, &["model.variant=ae"]);
    let b = keys_of(&p, BASE, &["model.variant=ae", "evaluate.iwae_k=[1, 500]"]);
    assert!(changed(&a, &b).is_empty());
    assert_eq!(
        diff_with(&["evaluate.iwae_k=[1, 500]"]),
        ["evaluate/vae", "plot", "report"]
    );
}

#[test]
fn iwae_images_at_its_default_keeps_keys_and_otherwise_invalidates_vae_evaluations() {
    assert!(diff_with(&["evaluate.iwae_images=1000"]).is_empty());
    assert_eq!(
        diff_with(&["evaluate.iwae_images=200"]),
        ["evaluate/vae", "plot", "report"]
    );
    let p = TestProject::new();
    let a = keys_of(&p, BASE, &["model.variant=ae"]);
    let b = keys_of(&p, BASE, &["model.variant=ae", "evaluate.iwae_images=200"]);
    // An AE computes no IWAE bound, so nothing of an AE-only sweep changes.
    assert!(changed(&a, &b).is_empty());
}

#[test]
fn plot_settings_invalidate_plots_not_training() {
    assert_eq!(diff_with(&["plots.formats=[\"png\"]"]), ["plot", "report"]);
}

#[test]
fn comments_whitespace_and_key_order_do_not_invalidate_computation() {
    let p = TestProject::new();
    let a = keys_of(&p, BASE, &[]);
    let reordered = "# a comment\n[dataset]\nname   =   \"mnist\"\n\n[model]\nlatent_dim = 2 # two\n[experiment]\ndescription = \"d\"\nname = \"t\"\n";
    let b = keys_of(&p, reordered, &[]);
    assert!(changed(&a, &b).is_empty(), "{:?}", changed(&a, &b));
}

#[test]
fn experiment_name_does_not_invalidate_computation() {
    let d = diff_with(&["experiment.name=renamed", "experiment.description=other"]);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn where_data_files_come_from_does_not_invalidate() {
    let p = TestProject::new();
    let sha = "ab".repeat(32);
    let spec = |dir: &str| {
        let file =
            |role: &str| format!("{role} = {{ path = \"{dir}/{role}.gz\", sha256 = \"{sha}\" }}");
        let roles = ["train_images", "train_labels", "test_images", "test_labels"]
            .map(file)
            .join(", ");
        format!("[dataset]\nname = \"own\"\nfiles = {{ {roles} }}\n")
    };
    let a = keys_of(&p, &spec("a"), &[]);
    let b = keys_of(&p, &spec("elsewhere"), &[]);
    assert!(changed(&a, &b).is_empty(), "{:?}", changed(&a, &b));
    let c = keys_of(&p, &spec("a").replace(&sha, &"cd".repeat(32)), &[]);
    assert!(changed(&a, &c).contains(&"download/own".to_owned()));
}

const CMDS: &str = "[[command]]\nname = \"a\"\ncmd = \"echo {param.n} > {out}/x\"\nparams = { n = 1 }\noutputs = [\"x\"]\ndeps = [\"script.sh\"]\n\n[[command]]\nname = \"b\"\ncmd = \"cat {in.a}/x > {out}/y\"\ninputs = [\"a\"]\n";

fn command_keys(p: &TestProject, text: &str) -> BTreeMap<String, String> {
    if !p.path().join("script.sh").exists() {
        p.write("script.sh", "echo hi\n");
    }
    keys_of(p, text, &[])
}

#[test]
fn command_text_invalidates_the_stage_and_its_readers() {
    let p = TestProject::new();
    let a = command_keys(&p, CMDS);
    let b = command_keys(&p, &CMDS.replace("echo {param.n}", "printf %s {param.n}"));
    assert_eq!(changed(&a, &b), ["a", "b"]);
}

#[test]
fn command_param_invalidates() {
    let p = TestProject::new();
    let a = command_keys(&p, CMDS);
    assert_eq!(
        changed(&a, &command_keys(&p, &CMDS.replace("n = 1", "n = 2"))),
        ["a", "b"]
    );
}

#[test]
fn dependency_file_content_invalidates_but_touching_it_does_not() {
    let p = TestProject::new();
    let a = command_keys(&p, CMDS);
    std::thread::sleep(std::time::Duration::from_millis(20));
    p.write("script.sh", "echo hi\n"); // same bytes, new mtime
    assert!(changed(&a, &command_keys(&p, CMDS)).is_empty());
    p.write("script.sh", "echo bye\n");
    assert_eq!(changed(&a, &command_keys(&p, CMDS)), ["a", "b"]);
}

#[test]
fn declared_outputs_invalidate() {
    let p = TestProject::new();
    let a = command_keys(&p, CMDS);
    assert_eq!(
        changed(
            &a,
            &command_keys(
                &p,
                &CMDS.replace("outputs = [\"x\"]", "outputs = [\"x\", \"z\"]")
            )
        ),
        ["a", "b"]
    );
}

#[test]
fn resources_and_publishing_do_not_invalidate() {
    let p = TestProject::new();
    let a = command_keys(&p, CMDS);
    let b = command_keys(
        &p,
        &CMDS.replace(
            "inputs = [\"a\"]",
            "inputs = [\"a\"]\ncores = 2\npublish = true",
        ),
    );
    assert!(changed(&a, &b).is_empty());
}

#[test]
fn implementation_version_and_input_keys_are_hashed() {
    use pipeline::plan::{KeyInputs, StageKey, StageKind};
    let base = KeyInputs {
        kind: StageKind::Train,
        implementation_version: 1,
        params: serde_json::json!({"a": 1}),
        inputs: [("data".to_owned(), StageKey("0".repeat(64)))].into(),
        file_deps: Default::default(),
    };
    let mut bumped = base.clone();
    bumped.implementation_version = 2;
    assert_ne!(base.key(), bumped.key());
    let mut other_input = base.clone();
    other_input
        .inputs
        .insert("data".into(), StageKey("1".repeat(64)));
    assert_ne!(base.key(), other_input.key());
    let same = base.clone();
    assert_eq!(base.key(), same.key());
}

#[test]
fn sweep_order_does_not_change_training_keys() {
    let p = TestProject::new();
    let a = keys_of(&p, &format!("{BASE}[sweep]\nbeta = [1, 2]\n"), &[]);
    let b = keys_of(&p, &format!("{BASE}[sweep]\nbeta = [2, 1]\n"), &[]);
    assert_eq!(a["train/vae-b1"], b["train/vae-b1"]);
    assert_eq!(a["train/vae-b2"], b["train/vae-b2"]);
}

/// Own files, `roles` of them, at fixed paths with a fixed checksum, under dataset `own`.
fn own_files_spec(roles: &[&str], preprocess: &str) -> String {
    let sha = "ab".repeat(32);
    let files = roles
        .iter()
        .map(|r| format!("{r} = {{ path = \"d/{r}.gz\", sha256 = \"{sha}\" }}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("[dataset]\nname = \"own\"\nfiles = {{ {files} }}\n[preprocess]\n{preprocess}\n[model]\nlatent_dim = 2\n")
}

const TRAIN_FILES: [&str; 2] = ["train_images", "train_labels"];
const ALL_FILES: [&str; 4] = ["train_images", "train_labels", "test_images", "test_labels"];

#[test]
fn test_fraction_invalidates_preprocess_not_download_of_the_same_files() {
    let p = TestProject::new();
    let a = keys_of(
        &p,
        &own_files_spec(&TRAIN_FILES, "test_fraction = 0.2"),
        &[],
    );
    let b = keys_of(
        &p,
        &own_files_spec(&TRAIN_FILES, "test_fraction = 0.3"),
        &[],
    );
    assert_eq!(
        changed(&a, &b),
        [
            "evaluate/vae",
            "plot",
            "preprocess/own",
            "report",
            "train/vae"
        ]
    );
    // Test files given next to a carved test split are not fetched, so not hashed either.
    let c = keys_of(&p, &own_files_spec(&ALL_FILES, "test_fraction = 0.2"), &[]);
    assert!(changed(&a, &c).is_empty(), "{:?}", changed(&a, &c));
}

#[test]
fn carving_a_test_split_from_a_catalog_dataset_narrows_its_download() {
    let d = diff_with(&["preprocess.test_fraction=0.2"]);
    for stage in ["download/mnist", "preprocess/mnist", "train/vae"] {
        assert!(d.contains(&stage.to_owned()), "{stage} not in {d:?}");
    }
    // Zero is the default: writing it out changes no key, so existing caches stay valid.
    assert!(diff_with(&["preprocess.test_fraction=0.0"]).is_empty());
}
