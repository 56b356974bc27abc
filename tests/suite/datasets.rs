//! The data stages through the CLI, offline: a spec's own IDX files, checked by sha256.

use std::io::Write;

use crate::support::*;
use pipeline::data::idx::{encode_images, encode_labels};

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Writes four tiny IDX files (n train, n/2 test, 4×4 pixels, classes 0..3) and returns the spec.
fn fixture(p: &TestProject, n: usize) -> String {
    own_spec(p, n, 4, "val_fraction = 0.25")
}

/// Writes the first `files` of the four IDX files (train images, train labels, test images,
/// test labels) and returns a spec naming only those, with `preprocess` as its [preprocess].
fn own_spec(p: &TestProject, n: usize, files: usize, preprocess: &str) -> String {
    let pixels = |n: usize| {
        (0..n * 16)
            .map(|i| (i * 37 % 256) as u8)
            .collect::<Vec<u8>>()
    };
    let labels = |n: usize| (0..n).map(|i| (i % 4) as u8).collect::<Vec<u8>>();
    let payloads = [
        ("train_images", encode_images(n, 4, 4, &pixels(n))),
        ("train_labels", encode_labels(&labels(n))),
        ("test_images", encode_images(n / 2, 4, 4, &pixels(n / 2))),
        ("test_labels", encode_labels(&labels(n / 2))),
    ];
    let mut entries = Vec::new();
    for (role, payload) in payloads.into_iter().take(files) {
        let sha = pipeline::data::sha256_hex(&payload);
        std::fs::create_dir_all(p.path().join("mine")).unwrap();
        std::fs::write(p.path().join(format!("mine/{role}.gz")), gz(&payload)).unwrap();
        entries.push(format!(
            "{role} = {{ path = \"mine/{role}.gz\", sha256 = \"{sha}\" }}"
        ));
    }
    format!(
        "[experiment]\nname = \"own\"\n[dataset]\nname = \"mine\"\nfiles = {{ {} }}\n[preprocess]\n{preprocess}\n[train]\nbatch_size = 8\n",
        entries.join(", ")
    )
}

/// Test-split count per class of a summary; own files get ten digit classes, the fixture uses 0..3.
fn test_histogram(summary: &serde_json::Value) -> Vec<u64> {
    let h: Vec<u64> = serde_json::from_value(summary["test"]["label_histogram"].clone()).unwrap();
    assert!(h[4..].iter().all(|&n| n == 0), "{h:?}");
    h[..4].to_vec()
}

/// `summary.json` of the preprocess stage as planned with `set`.
fn preprocess_summary(p: &TestProject, set: &[&str]) -> serde_json::Value {
    let key = keys(&p.plan_json("spec.toml", set))["preprocess/mine"].clone();
    let dir = p.path().join(".pipeline/cache").join(key).join("out");
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn training_files_alone_give_a_carved_test_split_and_its_fraction_reruns_preprocess() {
    let p = TestProject::new();
    p.write("spec.toml", &own_spec(&p, 40, 2, "test_fraction = 0.2"));
    let out = p.run(&["run", "spec.toml", "--stage", "preprocess"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = preprocess_summary(&p, &[]);
    // 10 images per class: 2 of each held out, val 0.1 (the default) of all 40.
    assert_eq!(test_histogram(&s), [2, 2, 2, 2]);
    assert_eq!(
        (s["val"]["n"].as_u64(), s["train"]["n"].as_u64()),
        (Some(4), Some(28))
    );
    let key = keys(&p.plan_json("spec.toml", &[]))["download/mine"].clone();
    let fetched = std::fs::read_dir(p.path().join(".pipeline/cache").join(key).join("out"))
        .unwrap()
        .count();
    assert_eq!(fetched, 2, "only the training files are downloaded");

    let set = ["--set", "preprocess.test_fraction=0.5"];
    let plan = statuses(&p.plan_json(
        "spec.toml",
        &[&set[..], &["--stage", "preprocess"]].concat(),
    ));
    assert_eq!(
        (
            plan["download/mine"].as_str(),
            plan["preprocess/mine"].as_str()
        ),
        ("cached", "will-run")
    );
    let out = p.run(&[&["run", "spec.toml", "--stage", "preprocess"][..], &set].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    let s = preprocess_summary(&p, &set);
    assert_eq!(test_histogram(&s), [5, 5, 5, 5]);
}

#[test]
fn own_files_are_fetched_verified_and_preprocessed() {
    let p = TestProject::new();
    p.write("spec.toml", &fixture(&p, 40));
    let out = p.run(&["run", "spec.toml", "--stage", "preprocess"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan = p.plan_json("spec.toml", &[]);
    let key = keys(&plan)["preprocess/mine"].clone();
    let dir = p.path().join(".pipeline/cache").join(key).join("out");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    let text = summary.to_string();
    assert!(
        text.contains("\"n\":30") && text.contains("\"n\":10") && text.contains("\"n\":20"),
        "{text}"
    );
    let train = pipeline::data::read_prepared(&dir.join("train.bin")).unwrap();
    assert_eq!((train.n, train.dim), (30, 16));
    assert!(train.images.iter().all(|&x| (0.0..=1.0).contains(&x)));
}

#[test]
fn a_file_that_fails_its_checksum_fails_the_stage_and_caches_nothing() {
    let p = TestProject::new();
    let spec = fixture(&p, 40);
    // Replace one file with other bytes after the spec recorded its checksum.
    std::fs::write(
        p.path().join("mine/test_labels.gz"),
        gz(&encode_labels(&[1; 20])),
    )
    .unwrap();
    p.write("spec.toml", &spec);
    let out = p.run(&["run", "spec.toml", "--stage", "download"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("✗ download/mine"), "{err}");
    let log = std::fs::read_dir(p.path().join(".pipeline/logs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let log = std::fs::read_to_string(log).unwrap();
    assert!(
        log.contains("failed to obtain test_labels file `")
            && log.contains("mine/test_labels.gz` for dataset `mine`: every source failed"),
        "{log}"
    );
    assert!(err.contains("checksum mismatch: expected sha256"), "{err}");
    assert!(p.cache_entries().is_empty());
}
