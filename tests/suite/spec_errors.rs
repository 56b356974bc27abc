//! Bad specs: each must be rejected with its location, the offending value and a useful message.

use crate::support::*;

const HEAD: &str = "[experiment]\nname = \"t\"\n[dataset]\nname = \"mnist\"\n";

/// Training files only, under the header's `[dataset]`.
const OWN_TRAIN_FILES: &str = "files = { train_images = { path = \"x.gz\", sha256 = \"SHA\" }, train_labels = { path = \"y.gz\", sha256 = \"SHA\" } }\n";
const SET_TRAIN_IMAGES: &str = "dataset.files.train_images={ path = \"x.gz\", sha256 = \"SHA\" }";
const SET_TRAIN_LABELS: &str = "dataset.files.train_labels={ path = \"y.gz\", sha256 = \"SHA\" }";

/// (case, spec after the 4 header lines, --set args, expected location, expected message parts)
const CASES: &[(&str, &str, &[&str], &str, &[&str])] = &[
    ("conv layout does not fit", "[model]\narchitecture = \"conv\"\nconv_channels = [32, 32, 64]\n", &[], "spec.toml:7:17", &["`model.conv_channels`", "does not fit 28×28 images", "convolution 2 sees 7×7"]),
    ("default conv layout does not fit", "[model]\narchitecture = \"conv\"\nconv_kernel = 3\n", &[], "spec.toml:6:16", &["`model.architecture`", "does not fit 28×28 images"]),
    ("conv model above the memory ceiling", "[model]\narchitecture = \"conv\"\nconv_channels = [4096, 4096]\n", &[], "spec.toml:7:17", &["`model.conv_channels`", "training this model needs about"]),
    ("unknown architecture", "[model]\narchitecture = \"cnn\"\n", &[], "spec.toml:6:16", &["unknown value \"cnn\""]),
    ("conv padding not below kernel", "[model]\narchitecture = \"conv\"\nconv_padding = 4\n", &[], "spec.toml:7:16", &["must be at most 3, got 4"]),
    ("unknown key", "[model]\nlatnt_dim = 2\n", &[], "spec.toml:6:1", &["unknown field `latnt_dim`", "did you mean `latent_dim`?"]),
    ("key in wrong section", "[model]\nepochs = 3\n", &[], "spec.toml:6:1", &["unknown field `epochs`", "belongs in the [train] section"]),
    ("wrong type", "[model]\nlatent_dim = \"two\"\n", &[], "spec.toml:6:14", &["`model.latent_dim`", "invalid type: string \"two\", expected an integer"]),
    ("latent zero", "[model]\nlatent_dim = 0\n", &[], "spec.toml:6:14", &["`model.latent_dim`", "must be at least 1, got 0"]),
    ("negative beta", "[model]\nbeta = -1.0\n", &[], "spec.toml:6:8", &["`model.beta`", "must be ≥ 0, got -1"]),
    ("zero epochs", "[train]\nepochs = 0\n", &[], "spec.toml:6:10", &["`train.epochs`", "must be at least 1, got 0"]),
    ("batch larger than dataset", "[preprocess]\nsubset = 100\n[train]\nbatch_size = 128\n", &[], "spec.toml:8:14", &["batch size 128 is larger than the training set (90 images"]),
    ("duplicate sweep value", "[sweep]\nbeta = [1, 2, 1]\n", &[], "spec.toml:6:15", &["`sweep.beta[2]`", "duplicate sweep value 1"]),
    ("duplicate include member", "[sweep]\nbeta = [1, 2]\ninclude = [{ beta = 2.0 }]\n", &[], "spec.toml:7:12", &["duplicate sweep member"]),
    ("unknown variant", "[model]\nvariant = \"vea\"\n", &[], "spec.toml:6:11", &["unknown value \"vea\"", "did you mean `vae`?"]),
    ("unknown variant in sweep", "[sweep]\nvariant = [\"ae\", \"sparse\"]\n", &[], "spec.toml:6:18", &["unknown value \"sparse\"", "did you mean `sparse-ae`?"]),
    ("unknown sweep parameter", "[sweep]\nlatentdim = [2, 5]\n", &[], "spec.toml:6:13", &["unknown sweep parameter \"latentdim\"", "did you mean `latent_dim`?"]),
    ("unknown dataset", "", &["dataset.name=mnsit"], "--set dataset.name=mnsit", &["unknown dataset \"mnsit\"", "did you mean `mnist`?"]),
    ("syntax error", "[model]\nlatent_dim = \n", &[], "spec.toml:6:14", &["string values must be quoted"]),
    ("val fraction out of range", "[preprocess]\nval_fraction = 1.5\n", &[], "spec.toml:6:16", &["must be in [0, 1), got 1.5"]),
    ("zero learning rate", "[train]\nlr = 0.0\n", &[], "spec.toml:6:6", &["must be > 0, got 0"]),
    ("unknown activation", "[model]\nactivation = \"rleu\"\n", &[], "spec.toml:6:14", &["unknown value \"rleu\"", "did you mean `relu`?"]),
    ("override out of range", "", &["model.latent_dim=0"], "--set model.latent_dim=0", &["must be at least 1, got 0"]),
    ("override unknown key", "", &["model.latnt=3"], "--set model.latnt=3", &["unknown field `latnt`", "did you mean `latent_dim`?"]),
    ("override without =", "", &["model.latent_dim"], "--set model.latent_dim", &["not of the form key.path=value"]),
    ("sweep axis not a list", "[sweep]\nbeta = 2\n", &[], "spec.toml:6:8", &["a sweep axis must be a non-empty list, got 2"]),
    ("unknown variant section", "[variants.vea]\nbeta = 2.0\n", &[], "spec.toml:5:", &["unknown variant \"vea\""]),
    ("exclude matches nothing", "[sweep]\nbeta = [1, 2]\nexclude = [{ beta = 3 }]\n", &[], "spec.toml:7:12", &["matches no sweep member"]),
    ("unknown executor kind", "[executor]\nkind = \"slrum\"\n", &[], "spec.toml:6:8", &["unknown value \"slrum\"", "did you mean `slurm`?"]),
    ("bad slurm time", "[executor]\ntime = \"1h\"\n", &[], "spec.toml:6:8", &["`executor.time`", "is not a SLURM time limit"]),
    ("unknown executor stage kind", "[executor.trian]\ncpus = 2\n", &[], "spec.toml:5:", &["unknown key \"trian\"", "did you mean `train`?"]),
    ("zero slurm cpus", "[executor.train]\ncpus = 0\n", &[], "spec.toml:6:8", &["`executor.train.cpus`", "must be at least 1, got 0"]),
    ("unknown mig units", "[evaluate]\nmig_units = \"activ\"\n", &[], "spec.toml:6:13", &["`evaluate.mig_units`", "unknown value \"activ\"", "did you mean `active`?"]),
    ("unknown figure", "[plots]\nfigures = [\"prior_sample\"]\n", &[], "spec.toml:6:12", &["unknown value \"prior_sample\"", "did you mean `prior_samples`?"]),
    ("adam betas out of range", "[train]\nadam_betas = [0.9, 1.5]\n", &[], "spec.toml:6:14", &["must be two numbers in [0, 1)"]),
    ("masking noise above one", "[model]\nvariant = \"denoising-ae\"\nnoise = \"masking\"\nnoise_level = 1.5\n", &[], "spec.toml:8:15", &["must be in [0, 1), got 1.5"]),
    ("class out of range", "[preprocess]\nclasses = [1, 12]\n", &[], "spec.toml:6:15", &["`preprocess.classes[1]`", "must be at most 9, got 12"]),
    ("test fraction out of range", "[preprocess]\ntest_fraction = 1.0\n", &[], "spec.toml:6:17", &["`preprocess.test_fraction`", "must be in [0, 1), got 1"]),
    ("test and val fractions leave no training data", "[preprocess]\nval_fraction = 0.3\ntest_fraction = 0.7\n", &[], "spec.toml:7:17", &["`preprocess.test_fraction`", "must be below 1, got 0.3 + 0.7"]),
    ("own files without test files", OWN_TRAIN_FILES, &[], "spec.toml:5:9", &["`dataset.files`", "`test_images` and `test_labels` missing", "set `preprocess.test_fraction`"]),
    ("own test files missing, files from --set", "", &[SET_TRAIN_IMAGES, SET_TRAIN_LABELS], "--set dataset.files.train_labels=", &["`test_images` and `test_labels` missing"]),
    ("own files without train labels", "files = { train_images = { path = \"x.gz\", sha256 = \"SHA\" } }\n[preprocess]\ntest_fraction = 0.2\n", &[], "spec.toml:5:9", &["needs `train_labels`"]),
    ("command unknown input", "[[command]]\nname = \"a\"\ncmd = \"true\"\ninputs = [\"nope\"]\n", &[], "spec.toml:8:10", &["reads `nope`, but no stage has that name"]),
    ("command cycle", "[[command]]\nname = \"a\"\ncmd = \"true\"\ninputs = [\"b\"]\n[[command]]\nname = \"b\"\ncmd = \"true\"\ninputs = [\"a\"]\n", &[], "spec.toml:", &["stages form a cycle: ", " → "]),
    ("section overridden by a value", "", &["model=3"], "--set model=3", &["`model`", "expected a table", "--set model.KEY=VALUE"]),
    ("override with a TOML syntax error", "", &["model.hidden=[1,"], "--set model.hidden=[1,", &["not valid TOML"]),
    ("duplicate key", "[model]\nlatent_dim = 2\nlatent_dim = 3\n", &[], "spec.toml:7:1", &["duplicate key `latent_dim` in [model]"]),
    ("duplicate table", "[model]\nlatent_dim = 2\n[model]\nbeta = 2.0\n", &[], "spec.toml:7:", &["table [model] is defined twice"]),
    ("hidden experiment name", "", &["experiment.name=.hidden"], "--set experiment.name=.hidden", &["must not start with '.'"]),
    ("experiment name with a slash", "", &["experiment.name=a/b"], "--set experiment.name=a/b", &["contains '/'"]),
    ("anomaly class out of range", "[evaluate]\nanomaly_normal_classes = [99]\n", &[], "spec.toml:6:27", &["`evaluate.anomaly_normal_classes[0]`", "must be at most 9, got 99"]),
    ("anomaly classes leave nothing anomalous", "[evaluate]\nanomaly_normal_classes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n", &[], "spec.toml:6:", &["lists every class"]),
    ("exclude removes every member", "[sweep]\nbeta = [1, 2]\nexclude = [{ beta = 1 }, { beta = 2 }]\n", &[], "spec.toml:7:", &["`sweep.exclude`", "excludes all 2 sweep member(s)"]),
    ("unknown param placeholder", "[[command]]\nname = \"a\"\ncmd = \"echo {param.n}\"\nparams = { m = 1 }\n", &[], "spec.toml:7:7", &["`command[0].cmd`", "uses {param.n}", "did you mean `m`?"]),
    ("unknown input placeholder", "[[command]]\nname = \"a\"\ncmd = \"cat {in.b}/x\"\n", &[], "spec.toml:7:7", &["uses {in.b}", "`inputs` has no `b`"]),
    ("model too large for memory", "[model]\nhidden = [1048576]\nlatent_dim = 65536\n", &[], "spec.toml:6:10", &["`model.hidden`", "TiB", "above the 8.0 GiB ceiling", "PIPELINE_MAX_MODEL_MEMORY"]),
    ("own data file missing", "files = { train_images = { path = \"nope/x.gz\", sha256 = \"SHA\" }, train_labels = { url = \"http://127.0.0.1:9/y.gz\", sha256 = \"SHA\" } }\n[preprocess]\ntest_fraction = 0.2\n", &[], "spec.toml:5:35", &["`dataset.files.train_images.path`", "nope/x.gz\" does not exist"]),
    ("command missing dep file", "[[command]]\nname = \"a\"\ncmd = \"true\"\ndeps = [\"missing.py\"]\n", &[], "spec.toml:8:", &["missing.py\" does not exist"]),
];

#[test]
fn every_bad_spec_is_rejected_with_location_and_message() {
    assert!(CASES.len() >= 15);
    let p = TestProject::new();
    let mut failures = Vec::new();
    for (name, body, set, loc, parts) in CASES {
        // Any well-formed checksum: these specs are rejected before a file is read.
        let sha = "ab".repeat(32);
        let spec = p.write("spec.toml", &format!("{HEAD}{body}").replace("SHA", &sha));
        let set: Vec<String> = set.iter().map(|s| s.replace("SHA", &sha)).collect();
        let result = pipeline::spec::load(&spec, &set)
            .and_then(|s| pipeline::plan::build_graph(&s).map(|_| ()));
        match result {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(e) => {
                let text = e.to_string();
                if !text.contains(loc) || parts.iter().any(|part| !text.contains(part)) {
                    failures.push(format!(
                        "{name}: expected location {loc:?} and {parts:?} in:\n{text}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn all_errors_in_a_spec_are_reported_at_once() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        &format!("{HEAD}[model]\nlatent_dim = 0\nbeta = -2.0\n[train]\nepochs = 0\n"),
    );
    let out = p.run(&["plan", "spec.toml"]);
    let err = stderr(&out);
    assert!(err.contains("invalid spec: 3 errors"), "{err}");
}

#[test]
fn invalid_spec_exits_2_and_runs_nothing() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        "[[command]]\nname = \"a\"\ncmd = \"touch ran\"\ncores = 0\n",
    );
    let out = p.run(&["run", "spec.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("spec.toml:4:9"), "{}", stderr(&out));
    assert!(!p.path().join("ran").exists());
    assert!(p.cache_entries().is_empty());
}

/// Tiny procedural data: nothing to download, a batch size the data allows.
const SHAPES: &str =
    "[dataset]\nname = \"shapes\"\nn_train = 60\nn_test = 20\nsize = 16\n[train]\nbatch_size = 8\n";

/// Runs `pipeline ARGS`, which must refuse the spec: exit 2, no run record, results or cache
/// entry. Returns stderr.
fn refused(p: &TestProject, case: &str, args: &[&str]) -> String {
    let out = p.run(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{case}: {err}");
    assert!(!err.contains("panicked at"), "{case}: {err}");
    assert!(
        p.cache_entries().is_empty(),
        "{case}: cached {:?}",
        p.cache_entries()
    );
    assert!(
        !p.path().join("results").exists(),
        "{case}: results written"
    );
    let runs = p.path().join(".pipeline/runs");
    let records = std::fs::read_dir(&runs).map_or(0, |d| d.count());
    assert_eq!(
        records,
        0,
        "{case}: run record written in {}",
        runs.display()
    );
    err
}

#[test]
fn specs_that_define_no_stages_are_rejected_and_nothing_is_written() {
    for (case, text) in [
        ("empty", ""),
        ("comment only", "# nothing yet\n"),
        ("experiment only", "[experiment]\nname = \"e\"\n"),
        ("sweep without a dataset", "[sweep]\nlatent_dim = [2, 3]\n"),
    ] {
        let p = TestProject::new();
        p.write("spec.toml", text);
        let err = refused(&p, case, &["run", "spec.toml"]);
        assert!(
            err.contains("spec.toml:1:1") && err.contains("[dataset]"),
            "{case}: {err}"
        );
    }
}

#[test]
fn a_sweep_excluding_every_member_runs_nothing() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        &format!("{SHAPES}[sweep]\nlatent_dim = [2]\nexclude = [{{ latent_dim = 2 }}]\n"),
    );
    let err = refused(&p, "exclude all", &["run", "spec.toml"]);
    assert!(
        err.contains("spec.toml:10:11") && err.contains("excludes all 1"),
        "{err}"
    );
}

/// A command that would run first, and one asking for a GPU slot the run does not have.
const GPU_COMMANDS: &str = "[[command]]\nname = \"first\"\ncmd = \"touch {out}/x\"\noutputs = [\"x\"]\n[[command]]\nname = \"gpu\"\ncmd = \"true\"\ngpus = 1\n";

#[test]
fn gpu_slots_are_checked_before_anything_runs() {
    let p = TestProject::new();
    p.write("spec.toml", GPU_COMMANDS);
    let err = refused(&p, "gpus", &["run", "spec.toml", "--gpus", "0"]);
    assert!(
        err.contains("spec.toml:8:8") && err.contains("pass --gpus 1"),
        "{err}"
    );
    // Planning alone knows no --gpus; with a slot the same spec runs.
    assert!(p.run(&["plan", "spec.toml"]).status.success());
    let ok = p.run(&["run", "spec.toml", "--gpus", "1"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

#[test]
fn cuda_training_is_checked_before_anything_runs() {
    let p = TestProject::new();
    p.write("spec.toml", &format!("{SHAPES}device = \"cuda\"\n"));
    // Without CUDA compiled in; with it, without --gpus (the default is 0).
    let err = refused(&p, "cuda", &["run", "spec.toml"]);
    let why = if cfg!(feature = "cuda") {
        "this run has --gpus 0"
    } else {
        "needs a build with CUDA support"
    };
    assert!(err.contains("spec.toml:8:10") && err.contains(why), "{err}");
}

#[test]
fn the_model_memory_ceiling_is_configurable() {
    let p = TestProject::new();
    p.write("spec.toml", &format!("{SHAPES}[model]\nhidden = [64]\n"));
    let plan = |ceiling: &str| {
        let mut cmd = p.cmd();
        cmd.env("PIPELINE_MAX_MODEL_MEMORY", ceiling);
        cmd.args(["plan", "spec.toml"]).output().unwrap()
    };
    let low = stderr(&plan("64KiB"));
    assert!(
        low.contains("spec.toml:9:10") && low.contains("above the 64.0 KiB ceiling"),
        "{low}"
    );
    assert!(plan("2MiB").status.success());
    let bad = plan("lots");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("is not a size"), "{}", stderr(&bad));
}

#[test]
fn a_subset_larger_than_the_data_is_a_stated_warning() {
    let p = TestProject::new();
    p.write(
        "spec.toml",
        &format!("{SHAPES}[preprocess]\nsubset = 1000\n"),
    );
    let out = p.run(&["run", "spec.toml", "--stage", "preprocess"]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: preprocess.subset = 1000 is more than the 60 training images"),
        "{err}"
    );
}

#[test]
fn a_failed_own_file_is_named_by_role_and_path() {
    let p = TestProject::new();
    p.write("d/exist", "not the file");
    let sha = "ab".repeat(32);
    let file = format!("{{ path = \"d/exist\", sha256 = \"{sha}\" }}");
    p.write(
        "spec.toml",
        &format!("[dataset]\nname = \"own\"\nfiles = {{ train_images = {file}, train_labels = {file} }}\n[preprocess]\ntest_fraction = 0.2\n"),
    );
    let out = p.run(&["run", "spec.toml", "--stage", "download"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("failed to obtain train_images file `"),
        "{err}"
    );
    assert!(err.contains("d/exist` for dataset `own`"), "{err}");
}
