//! IDX decoding errors (corrupt gzip, wrong magic, truncation, count mismatch), round trips
//! and checksum-verified loading, on small in-test fixtures.

use crate::common;

use common::{gzip, idx_fixture, images_payload, message, write, SIDE};
use pipeline::data::idx::{self, IdxError};
use pipeline::data::raw::load_idx_dataset;
use tempfile::TempDir;

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

/// A header with n, rows, cols whose product is `payload` bytes only after wrapping past 2^64.
fn crafted_images(n: u32, rows: u32, cols: u32, payload: usize) -> Vec<u8> {
    let mut bytes = idx::IMAGES_MAGIC.to_be_bytes().to_vec();
    for d in [n, rows, cols] {
        bytes.extend_from_slice(&d.to_be_bytes());
    }
    bytes.resize(16 + payload, 7);
    bytes
}

#[test]
fn issue_9_header_dimensions_that_overflow_are_rejected_not_wrapped() {
    let tmp = TempDir::new().unwrap();
    // 300 × 2209996953 × 4173477264 ≡ 235,200 (mod 2^64): it used to pass the length check.
    let wrapped = write(
        tmp.path(),
        "wrapped-idx3-ubyte",
        &crafted_images(300, 2_209_996_953, 4_173_477_264, 235_200),
    );
    let err = idx::read_images(&wrapped).unwrap_err();
    assert!(matches!(err, IdxError::Overflow { .. }), "{err}");
    assert!(
        message(&err).contains(&wrapped.display().to_string())
            && message(&err).contains("300×2209996953×4173477264"),
        "{err}"
    );
    // 0xFFFFFFFF³ used to be reported as needing its wrapped size (12884901887 bytes).
    let huge = write(
        tmp.path(),
        "huge-idx3-ubyte",
        &crafted_images(u32::MAX, u32::MAX, u32::MAX, 64),
    );
    let err = idx::read_images(&huge).unwrap_err();
    assert!(matches!(err, IdxError::Overflow { .. }), "{err}");
    assert!(!message(&err).contains("12884901887"), "{err}");
}

#[test]
fn issue_9_an_io_error_is_named_once_in_a_printed_error_chain() {
    let tmp = TempDir::new().unwrap();
    let err = idx::read_images(&tmp.path().join("absent")).unwrap_err();
    // `{:#}` prints the message and every source: the OS error used to appear twice.
    let text = format!("{:#}", anyhow::Error::from(err));
    assert_eq!(text.matches("os error").count(), 1, "{text}");
}
