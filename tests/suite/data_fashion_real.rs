//! Real-data check on Debian's Fashion-MNIST (`apt-get install dataset-fashion-mnist`):
//! checksums, counts, label histograms and pixel statistics. Skips with a printed reason when
//! the files are absent, unless `PIPELINE_TEST_REQUIRE` names `fashion-mnist`.

use crate::common;

use pipeline::data::catalog::lookup;
use pipeline::data::fetch::{fetch_file, FetchOptions};
use pipeline::data::prepared::read_prepared;
use pipeline::data::preprocess::{preprocess, PreprocessOptions};
use pipeline::data::raw::{load_raw, RawSource};
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;

#[test]
fn debian_fashion_mnist_counts_histograms_checksums_and_pixel_stats() {
    if !common::require("fashion-mnist") {
        return;
    }
    let entry = lookup("fashion-mnist").unwrap();
    let specs = entry.file_specs();
    let tmp = TempDir::new().unwrap();
    let opts = FetchOptions {
        data_dir: tmp.path().join("data"),
        mirror: None,
        system_dirs: vec![PathBuf::from("/usr/share/datasets")],
        connect_timeout: Duration::from_secs(1),
        read_timeout: Duration::from_secs(1),
        retries: 0,
        backoff: Duration::from_millis(1),
        allow_network: false,
    };
    // fetch_file verifies the catalog sha256 of every decompressed payload.
    for spec in &specs {
        let dest = tmp.path().join("raw").join(spec.gz_name());
        let report = fetch_file("fashion-mnist", spec, &opts, &dest, &mut |_| {}).unwrap();
        assert!(
            report.source.starts_with("system folder"),
            "{}",
            report.source
        );
        assert_eq!(report.sha256, spec.sha256);
    }
    // The folder the download stage filled, loaded the way the preprocess stage does it.
    let dir = tmp.path().join("raw");
    let raw = load_raw(RawSource::Catalog { entry, dir: &dir }).unwrap();
    assert_eq!(raw.payload_sha256.len(), 4);
    assert_eq!(
        (raw.train.n, raw.test.n, raw.rows, raw.cols),
        (60_000, 10_000, 28, 28)
    );

    let out = tmp.path().join("prepared");
    let options = PreprocessOptions {
        val_fraction: 0.0,
        ..Default::default()
    };
    let summary = preprocess(&raw, &options, &out).unwrap();
    assert_eq!(summary.train.label_histogram, vec![6_000; 10]);
    assert_eq!(summary.test.label_histogram, vec![1_000; 10]);
    assert_eq!(summary.class_names[9], "Ankle boot");
    // Published Fashion-MNIST training statistics: mean 0.2860, std 0.3530.
    assert!(
        (summary.train.pixel_mean - 0.2860).abs() < 1e-3,
        "mean {}",
        summary.train.pixel_mean
    );
    assert!(
        (summary.train.pixel_std - 0.3530).abs() < 1e-3,
        "std {}",
        summary.train.pixel_std
    );

    // The stored floats agree with the summary (independent pass over the prepared file).
    let test = read_prepared(&out.join("test.bin")).unwrap();
    assert_eq!(test.n, 10_000);
    let mean = test.images.iter().map(|&x| x as f64).sum::<f64>() / test.images.len() as f64;
    assert!(
        (mean - summary.test.pixel_mean).abs() < 1e-6,
        "{mean} vs {}",
        summary.test.pixel_mean
    );
    assert!(test.images.iter().all(|x| (0.0..=1.0).contains(x)));
}
