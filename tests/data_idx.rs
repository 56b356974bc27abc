//! IDX decoding errors and round trips, preprocessing options, the prepared format and the
//! procedural shapes dataset, all on small in-test fixtures.

use flate2::{write::GzEncoder, Compression};
use pipeline::data::catalog::{FileRole, FileSpec};
use pipeline::data::idx::{self, IdxError};
use pipeline::data::prepared::{read_prepared, write_prepared, PreparedError};
use pipeline::data::preprocess::{preprocess, Binarize, PreprocessError, PreprocessOptions};
use pipeline::data::raw::{load_idx_dataset, RawDataset};
use pipeline::data::sha256_hex;
use pipeline::data::shapes::{self, ShapesOptions, FACTOR_SIZES};
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const SIDE: usize = 8;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Image `i` stores its index in its first two pixels so tests can tell images apart after
/// shuffling; the rest is a gradient.
fn images_payload(n: usize) -> Vec<u8> {
    let mut px = Vec::with_capacity(n * SIDE * SIDE);
    for i in 0..n {
        px.push((i % 256) as u8);
        px.push((i / 256) as u8);
        px.extend((2..SIDE * SIDE).map(|p| ((p * 4 + i) % 256) as u8));
    }
    idx::encode_images(n, SIDE, SIDE, &px)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn message(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[test]
fn corrupt_gzip_is_a_clear_error_naming_the_file() {
    let tmp = TempDir::new().unwrap();
    let mut gz = gzip(&images_payload(50));
    let mid = gz.len() / 2;
    gz[mid..mid + 20].iter_mut().for_each(|b| *b ^= 0x5A);
    let path = write(tmp.path(), "imgs-idx3-ubyte.gz", &gz);
    let err = idx::read_images(&path).unwrap_err();
    assert!(matches!(err, IdxError::Gzip { .. }), "{err}");
    assert!(
        message(&err).starts_with(&format!(
            "failed to decode {}: corrupt gzip",
            path.display()
        )),
        "{err}"
    );

    let gz = gzip(&images_payload(50));
    let cut = write(tmp.path(), "cut.gz", &gz[..gz.len() - 30]);
    assert!(matches!(
        idx::read_images(&cut).unwrap_err(),
        IdxError::Gzip { .. }
    ));
}

#[test]
fn wrong_magic_and_unsupported_type_are_rejected() {
    let tmp = TempDir::new().unwrap();
    let labels = write(
        tmp.path(),
        "labels.gz",
        &gzip(&idx::encode_labels(&[1, 2, 3])),
    );
    let err = idx::read_images(&labels).unwrap_err();
    assert_eq!(
        message(&err),
        format!(
            "failed to decode {}: wrong magic 0x00000801, expected 0x00000803",
            labels.display()
        )
    );
    let zeros = write(tmp.path(), "zeros", &[0u8; 64]);
    assert!(message(idx::read_labels(&zeros).unwrap_err())
        .contains("wrong magic 0x00000000, expected 0x00000801"));
    let mut floats = idx::encode_images(1, SIDE, SIDE, &[0; SIDE * SIDE]);
    floats[2] = 0x0D;
    let floats = write(tmp.path(), "floats", &floats);
    assert!(matches!(
        idx::read_images(&floats).unwrap_err(),
        IdxError::UnsupportedType { dtype: 0x0D, .. }
    ));
    let short = write(tmp.path(), "short", &[0, 0]);
    assert!(matches!(
        idx::read_labels(&short).unwrap_err(),
        IdxError::TooShort { .. }
    ));
}

#[test]
fn truncated_and_overlong_idx_payloads_are_rejected() {
    let tmp = TempDir::new().unwrap();
    let full = images_payload(10);
    let truncated = write(tmp.path(), "t.gz", &gzip(&full[..full.len() - 7]));
    let err = idx::read_images(&truncated).unwrap_err();
    assert!(
        matches!(
            err,
            IdxError::Length {
                expected: 640,
                got: 633,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        message(&err).contains("file is truncated") && message(&err).contains("t.gz"),
        "{err}"
    );
    let mut long = full.clone();
    long.push(9);
    let long = write(tmp.path(), "long", &long);
    assert!(message(idx::read_images(&long).unwrap_err()).contains("trailing bytes"));
    let header_only = write(tmp.path(), "hdr", &full[..10]);
    assert!(matches!(
        idx::read_images(&header_only).unwrap_err(),
        IdxError::TooShort { need: 16, .. }
    ));
}

#[test]
fn label_and_image_count_mismatch_is_rejected() {
    let tmp = TempDir::new().unwrap();
    let images = write(tmp.path(), "i.gz", &gzip(&images_payload(5)));
    let labels = write(
        tmp.path(),
        "l.gz",
        &gzip(&idx::encode_labels(&[0, 1, 2, 3])),
    );
    let err = idx::read_pair(&images, &labels).unwrap_err();
    assert!(
        matches!(
            err,
            IdxError::CountMismatch {
                n_images: 5,
                n_labels: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(message(&err).contains("5 images but 4 labels"));
}

#[test]
fn good_files_round_trip_gzip_or_raw_detected_by_content() {
    let tmp = TempDir::new().unwrap();
    let payload = images_payload(20);
    // Gzip data under a name without .gz and raw data under a .gz name: content decides.
    let a = write(tmp.path(), "plain-name", &gzip(&payload));
    let b = write(tmp.path(), "misnamed.gz", &payload);
    for p in [a, b] {
        let img = idx::read_images(&p).unwrap();
        assert_eq!((img.n, img.rows, img.cols), (20, SIDE, SIDE));
        assert_eq!(img.pixels, payload[16..]);
    }
}

/// Writes a 4-file IDX dataset; class `c` has `10 + 5c` training images.
fn idx_fixture(dir: &Path) -> (Vec<PathBuf>, Vec<FileSpec>) {
    let train_labels: Vec<u8> = (0..10u8)
        .flat_map(|c| std::iter::repeat_n(c, 10 + 5 * c as usize))
        .collect();
    let test_labels: Vec<u8> = (0..60).map(|i| (i % 10) as u8).collect();
    let payloads = [
        (
            "train-images-idx3-ubyte",
            images_payload(train_labels.len()),
        ),
        ("train-labels-idx1-ubyte", idx::encode_labels(&train_labels)),
        ("t10k-images-idx3-ubyte", images_payload(test_labels.len())),
        ("t10k-labels-idx1-ubyte", idx::encode_labels(&test_labels)),
    ];
    let mut paths = Vec::new();
    let mut specs = Vec::new();
    for ((name, payload), role) in payloads.iter().zip(FileRole::ALL) {
        paths.push(write(dir, &format!("{name}.gz"), &gzip(payload)));
        specs.push(FileSpec {
            role,
            name: name.to_string(),
            sha256: sha256_hex(payload),
            urls: vec![],
            path: None,
        });
    }
    (paths, specs)
}

fn fixture_dataset(dir: &Path) -> RawDataset {
    let (paths, specs) = idx_fixture(dir);
    let classes = (0..10).map(|c| format!("c{c}")).collect();
    load_idx_dataset("toy", &paths, Some(&specs), classes).unwrap()
}

/// Index of each stored image, recovered from its first two pixels.
fn ids(split: &pipeline::data::PreparedSplit) -> Vec<usize> {
    split
        .images
        .chunks(split.dim)
        .map(|img| (img[0] * 255.0).round() as usize + 256 * (img[1] * 255.0).round() as usize)
        .collect()
}

#[test]
fn loading_checks_payload_checksums() {
    let tmp = TempDir::new().unwrap();
    let (paths, mut specs) = idx_fixture(tmp.path());
    specs[3].sha256 = "0".repeat(64);
    let err = load_idx_dataset("toy", &paths, Some(&specs), vec![]).unwrap_err();
    assert!(
        message(&err).starts_with("failed to verify") && message(&err).contains("t10k-labels"),
        "{err}"
    );
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
        a.train_images
            .chunks(32 * 32)
            .all(|img| img.iter().any(|&v| v == 255)),
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
