//! Preprocessing options (split sizes, stratified subset, class filter, binarization), the
//! prepared format and the procedural shapes dataset, on small in-test fixtures.

use crate::common;

use common::{fixture_dataset, idx_fixture, SIDE};
use pipeline::data::prepared::{read_prepared, write_prepared, PreparedError};
use pipeline::data::preprocess::{preprocess, Binarize, PreprocessError, PreprocessOptions};
use pipeline::data::raw::load_idx_dataset;
use pipeline::data::shapes::{self, ShapesOptions, FACTOR_SIZES};
use std::path::Path;
use tempfile::TempDir;

/// Index of each stored image, recovered from its first two pixels.
fn ids(split: &pipeline::data::PreparedSplit) -> Vec<usize> {
    split
        .images
        .chunks(split.dim)
        .map(|img| (img[0] * 255.0).round() as usize + 256 * (img[1] * 255.0).round() as usize)
        .collect()
}

#[test]
fn split_sizes_are_disjoint_and_cover_the_training_pool() {
    let tmp = TempDir::new().unwrap();
    let raw = fixture_dataset(tmp.path());
    let out = tmp.path().join("out");
    let opts = PreprocessOptions {
        val_fraction: 0.2,
        split_seed: 7,
        ..Default::default()
    };
    let summary = preprocess(&raw, &opts, &out).unwrap();
    assert_eq!(raw.train.n, 325);
    assert_eq!(
        (summary.train.n, summary.val.n, summary.test.n),
        (260, 65, 60)
    );
    let train = read_prepared(&out.join("train.bin")).unwrap();
    let val = read_prepared(&out.join("val.bin")).unwrap();
    let mut all: Vec<usize> = ids(&train).into_iter().chain(ids(&val)).collect();
    all.sort_unstable();
    assert_eq!(all, (0..325).collect::<Vec<_>>());
    for (id, label) in ids(&train).iter().zip(&train.labels) {
        assert_eq!(raw.train.labels[*id], *label);
    }
    assert_eq!(summary.test.label_histogram, vec![6; 10]);
    assert_eq!(train.header.payload_sha256, raw.payload_sha256);
    assert!(out.join("summary.json").is_file());
    let decoder = png::Decoder::new(std::fs::File::open(out.join("contact_sheet.png")).unwrap());
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!(
        (info.width, info.height),
        (10 * (SIDE as u32 + 2) + 2, 10 * (SIDE as u32 + 2) + 2)
    );
    // Same options, same bytes; another seed, another split.
    let again = tmp.path().join("again");
    preprocess(&raw, &opts, &again).unwrap();
    assert_eq!(
        std::fs::read(out.join("val.bin")).unwrap(),
        std::fs::read(again.join("val.bin")).unwrap()
    );
    let other = tmp.path().join("other");
    preprocess(
        &raw,
        &PreprocessOptions {
            split_seed: 8,
            ..opts
        },
        &other,
    )
    .unwrap();
    assert_ne!(
        ids(&val),
        ids(&read_prepared(&other.join("val.bin")).unwrap())
    );
}

#[test]
fn stratified_subset_keeps_class_proportions() {
    let tmp = TempDir::new().unwrap();
    let raw = fixture_dataset(tmp.path());
    let opts = PreprocessOptions {
        val_fraction: 0.0,
        subset: Some(100),
        ..Default::default()
    };
    let s = preprocess(&raw, &opts, &tmp.path().join("out")).unwrap();
    // Shares (10+5c)/325 of 100: floors 3,4,6,7,9,10,12,13,15,16 sum to 95; the 5 largest
    // remainders (classes 9 .92, 7 .85, 5 .77, 3 .69, 1 .62) get one more.
    assert_eq!(
        s.train.label_histogram,
        vec![3, 5, 6, 8, 9, 11, 12, 14, 15, 17]
    );
    assert_eq!(s.train.n, 100);
}

#[test]
fn class_filter_keeps_only_those_classes_in_train_and_val() {
    let tmp = TempDir::new().unwrap();
    let raw = fixture_dataset(tmp.path());
    let opts = PreprocessOptions {
        classes: Some(vec![3, 7]),
        ..Default::default()
    };
    let s = preprocess(&raw, &opts, &tmp.path().join("out")).unwrap();
    assert_eq!(s.train.n + s.val.n, 25 + 45);
    for (c, n) in s.train.label_histogram.iter().enumerate() {
        assert!(*n == 0 || c == 3 || c == 7);
    }
    assert_eq!(s.test.n, 60, "test keeps every class for anomaly scoring");
    let bad = PreprocessOptions {
        classes: Some(vec![10]),
        ..Default::default()
    };
    assert!(matches!(
        preprocess(&raw, &bad, &tmp.path().join("bad")),
        Err(PreprocessError::Options(_))
    ));
}

/// Ids of the test split carved with `opts`, after checking it is disjoint from train and val
/// and that the three splits cover every training image.
fn carved_test_ids(
    raw: &pipeline::data::RawDataset,
    opts: &PreprocessOptions,
    out: &Path,
) -> Vec<usize> {
    let s = preprocess(raw, opts, out).unwrap();
    let [train, val, test] = ["train", "val", "test"]
        .map(|n| ids(&read_prepared(&out.join(format!("{n}.bin"))).unwrap()));
    let mut all: Vec<usize> = train.iter().chain(&val).chain(&test).copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..raw.train.n).collect::<Vec<_>>(),
        "disjoint and complete"
    );
    assert_eq!(
        (s.train.n, s.val.n, s.test.n),
        (train.len(), val.len(), test.len())
    );
    test
}

#[test]
fn carved_test_split_is_disjoint_stratified_and_seeded() {
    let tmp = TempDir::new().unwrap();
    let (paths, specs) = idx_fixture(tmp.path());
    // Training files only: the dataset's own test files are never read.
    let classes = (0..10).map(|c| format!("c{c}")).collect();
    let raw = load_idx_dataset("toy", &paths[..2], Some(&specs[..2]), classes).unwrap();
    assert_eq!(
        (raw.train.n, raw.test.n, raw.payload_sha256.len()),
        (325, 0, 2)
    );
    // 0.25 of 10 + 5c is fractional for most classes, so per-class rounding is exercised.
    let opts = PreprocessOptions {
        val_fraction: 0.1,
        test_fraction: 0.25,
        split_seed: 5,
        ..Default::default()
    };
    let test = carved_test_ids(&raw, &opts, &tmp.path().join("a"));
    let prepared = read_prepared(&tmp.path().join("a/test.bin")).unwrap();
    for (id, label) in test.iter().zip(&prepared.labels) {
        assert_eq!(
            raw.train.labels[*id], *label,
            "labels travel with their images"
        );
    }
    for c in 0..10u8 {
        let n = raw.train.labels.iter().filter(|&&l| l == c).count() as f64;
        let got = prepared.labels.iter().filter(|&&l| l == c).count() as f64;
        assert!((got - 0.25 * n).abs() <= 1.0, "class {c}: {got} of {n}");
    }
    // Both fractions are shares of the training files: val is 0.1 of 325, not of what is left.
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("a/summary.json")).unwrap()).unwrap();
    let n_val = s["val"]["n"].as_u64().unwrap() as f64;
    assert!((n_val - 0.1 * 325.0).abs() <= 1.0, "{n_val}");
    assert_eq!(test, carved_test_ids(&raw, &opts, &tmp.path().join("b")));
    let other = PreprocessOptions {
        split_seed: 6,
        ..opts.clone()
    };
    assert_ne!(test, carved_test_ids(&raw, &other, &tmp.path().join("c")));
    let no_test = PreprocessOptions {
        test_fraction: 0.0,
        ..opts
    };
    let err = preprocess(&raw, &no_test, &tmp.path().join("d")).unwrap_err();
    assert!(err.to_string().contains("set test_fraction"), "{err}");
}

#[test]
fn carved_test_split_keeps_every_class_under_a_class_filter() {
    let tmp = TempDir::new().unwrap();
    let raw = fixture_dataset(tmp.path());
    let opts = PreprocessOptions {
        test_fraction: 0.2,
        classes: Some(vec![3]),
        ..Default::default()
    };
    let s = preprocess(&raw, &opts, &tmp.path().join("out")).unwrap();
    assert!(s.test.label_histogram.iter().all(|&n| n > 0), "{s:?}");
    assert_eq!(s.train.n + s.val.n, 25 - 5, "class 3 minus its test share");
    let bad = PreprocessOptions {
        val_fraction: 0.5,
        test_fraction: 0.5,
        ..Default::default()
    };
    assert!(matches!(
        preprocess(&raw, &bad, &tmp.path().join("bad")),
        Err(PreprocessError::Options(_))
    ));
}

#[test]
fn static_binarization_gives_zero_or_one_by_threshold() {
    let tmp = TempDir::new().unwrap();
    let raw = fixture_dataset(tmp.path());
    let out = tmp.path().join("out");
    let opts = PreprocessOptions {
        binarize: Binarize::Static { threshold: 0.5 },
        val_fraction: 0.0,
        ..Default::default()
    };
    preprocess(&raw, &opts, &out).unwrap();
    let test = read_prepared(&out.join("test.bin")).unwrap();
    let source = &raw.test.pixels;
    assert_eq!(test.images.len(), source.len());
    for (&stored, &v) in test.images.iter().zip(source) {
        assert_eq!(stored, if v as f64 / 255.0 > 0.5 { 1.0 } else { 0.0 });
    }
    let dynamic = PreprocessOptions {
        binarize: Binarize::Dynamic,
        ..opts
    };
    preprocess(&raw, &dynamic, &tmp.path().join("dyn")).unwrap();
    let d = read_prepared(&tmp.path().join("dyn").join("test.bin")).unwrap();
    assert_eq!(d.header.binarize, Binarize::Dynamic);
    assert!(d
        .images
        .iter()
        .zip(source)
        .all(|(&x, &v)| x == v as f32 / 255.0));
}

#[test]
fn prepared_files_round_trip_and_truncation_is_detected() {
    let tmp = TempDir::new().unwrap();
    let raw = fixture_dataset(tmp.path());
    let out = tmp.path().join("out");
    preprocess(&raw, &PreprocessOptions::default(), &out).unwrap();
    let split = read_prepared(&out.join("val.bin")).unwrap();
    let copy = tmp.path().join("copy.bin");
    write_prepared(&copy, &split).unwrap();
    assert_eq!(read_prepared(&copy).unwrap(), split);
    let bytes = std::fs::read(&copy).unwrap();
    std::fs::write(&copy, &bytes[..bytes.len() - 1]).unwrap();
    assert!(matches!(
        read_prepared(&copy).unwrap_err(),
        PreparedError::Invalid { .. }
    ));
    std::fs::write(&copy, b"something else entirely").unwrap();
    assert!(matches!(
        read_prepared(&copy).unwrap_err(),
        PreparedError::BadMagic { .. }
    ));
}

#[test]
fn shapes_are_deterministic_with_factors_in_range() {
    let opts = ShapesOptions {
        n_train: 300,
        n_test: 50,
        size: 32,
        seed: 11,
    };
    let a = shapes::generate(&opts);
    assert_eq!(a, shapes::generate(&opts));
    assert_ne!(
        a.train_images,
        shapes::generate(&ShapesOptions {
            seed: 12,
            ..opts.clone()
        })
        .train_images
    );
    assert_eq!(a.train_images.len(), 300 * 32 * 32);
    assert!(a.train_images.iter().all(|&v| v == 0 || v == 255));
    assert!(
        a.train_images.chunks(32 * 32).all(|img| img.contains(&255)),
        "every image draws something"
    );
    let tuples: std::collections::HashSet<&[u8]> = a.train_factors.chunks(5).collect();
    assert_eq!(tuples.len(), 300, "factor tuples are distinct");
    assert!(
        a.test_factors.chunks(5).all(|t| !tuples.contains(t)),
        "train and test are disjoint"
    );
    for t in a.train_factors.chunks(5).chain(a.test_factors.chunks(5)) {
        for (v, size) in t.iter().zip(FACTOR_SIZES) {
            assert!((*v as usize) < size);
        }
    }
    // Larger scale factor ⇒ more pixels for the same shape, angle and position.
    let count = |scale: u8| {
        let mut img = vec![0u8; 64 * 64];
        shapes::render_into([1, scale, 3, 16, 16], 64, &mut img);
        img.iter().filter(|&&v| v == 255).count()
    };
    assert!(count(5) > count(0) * 3, "{} vs {}", count(5), count(0));
}

#[test]
fn shapes_preprocess_keeps_factors_per_image() {
    let tmp = TempDir::new().unwrap();
    let generated = shapes::generate(&ShapesOptions {
        n_train: 200,
        n_test: 40,
        size: 32,
        seed: 3,
    });
    let raw = generated.clone().into_raw();
    let out = tmp.path().join("out");
    let opts = PreprocessOptions {
        val_fraction: 0.25,
        ..Default::default()
    };
    let s = preprocess(&raw, &opts, &out).unwrap();
    assert_eq!((s.train.n, s.val.n, s.test.n), (150, 50, 40));
    let test = read_prepared(&out.join("test.bin")).unwrap();
    assert_eq!(test.header.factor_names, shapes::FACTOR_NAMES);
    assert_eq!(test.factors.as_deref(), Some(&generated.test_factors[..]));
    let labels: Vec<u8> = generated.test_factors.chunks(5).map(|f| f[0]).collect();
    assert_eq!(test.labels, labels);
    assert!(out.join("contact_sheet.png").is_file());
}

#[test]
fn shapes_options_that_cannot_be_honoured_are_errors_not_panics() {
    use pipeline::data::raw::{load_raw, RawError, RawSource};
    let too_many = ShapesOptions {
        n_train: 737_280,
        n_test: 1,
        size: 32,
        seed: 0,
    };
    let err = load_raw(RawSource::Shapes(&too_many)).unwrap_err();
    assert!(matches!(err, RawError::Shapes(_)), "{err}");
    assert!(err.to_string().contains("737281 images requested"), "{err}");
    let tiny = ShapesOptions {
        size: 4,
        ..ShapesOptions::default()
    };
    assert!(load_raw(RawSource::Shapes(&tiny)).is_err());
    let ok = ShapesOptions {
        n_train: 20,
        n_test: 5,
        size: 16,
        seed: 2,
    };
    let raw = load_raw(RawSource::Shapes(&ok)).unwrap();
    assert_eq!((raw.train.n, raw.test.n, raw.rows), (20, 5, 16));
}

#[test]
fn options_parse_from_spec_toml_and_reject_unknown_keys() {
    let opts: PreprocessOptions = toml::from_str(
        "binarize = { mode = \"static\", threshold = 0.4 }\nval_fraction = 0.2\nclasses = [0, 3]\n",
    )
    .unwrap();
    assert_eq!(opts.binarize, Binarize::Static { threshold: 0.4 });
    assert_eq!(opts.classes, Some(vec![0, 3]));
    assert_eq!(opts.split_seed, PreprocessOptions::default().split_seed);
    let dynamic: PreprocessOptions = toml::from_str("binarize = { mode = \"dynamic\" }").unwrap();
    assert_eq!(dynamic.binarize, Binarize::Dynamic);
    assert!(toml::from_str::<PreprocessOptions>("val_fraktion = 0.2").is_err());
    let shapes: ShapesOptions = toml::from_str("n_train = 100\nsize = 32").unwrap();
    assert_eq!(
        (shapes.n_train, shapes.size, shapes.n_test),
        (100, 32, 2_000)
    );
}
