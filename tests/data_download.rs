//! Download tests against a scripted loopback HTTP server and local folders: source order,
//! retries, Range resume, checksum rejection, timeouts and the combined error.

mod common;

use common::{serve, Reply};
use pipeline::data::catalog::{FileRole, FileSpec};
use pipeline::data::fetch::{
    fetch_file, partial_path, AttemptFailure, FetchError, FetchOptions, FetchProgress,
};
use pipeline::data::sha256_hex;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;

const NAME: &str = "t10k-labels-idx1-ubyte";
const DATASET: &str = "toy";

fn spec(raw: &[u8], urls: Vec<String>) -> FileSpec {
    FileSpec {
        role: FileRole::TestLabels,
        name: NAME.into(),
        sha256: sha256_hex(raw),
        urls,
        path: None,
    }
}

fn options(tmp: &Path) -> FetchOptions {
    FetchOptions {
        data_dir: tmp.join("data"),
        mirror: None,
        system_dirs: vec![],
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        retries: 2,
        backoff: Duration::from_millis(1),
        allow_network: true,
    }
}

#[test]
fn fixture_is_large_enough_to_truncate() {
    assert!(common::labels_file_fixture().1.len() > 1000);
}

fn fetch(
    spec: &FileSpec,
    opts: &FetchOptions,
    dest: &Path,
) -> Result<pipeline::data::FetchReport, FetchError> {
    fetch_file(DATASET, spec, opts, dest, &mut |_| {})
}

fn failures(err: &FetchError) -> Vec<AttemptFailure> {
    match err {
        FetchError::AllSourcesFailed { attempts, .. } => {
            attempts.iter().map(|a| a.failure.clone()).collect()
        }
        other => panic!("expected AllSourcesFailed, got {other}"),
    }
}

#[test]
fn not_found_then_next_source_succeeds() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![Reply::status(404), Reply::ok(&gz)]);
    let tmp = TempDir::new().unwrap();
    let dest = tmp.path().join("out").join(NAME);
    let spec = spec(&raw, vec![server.url("a/x.gz"), server.url("b/x.gz")]);
    let report = fetch(&spec, &options(tmp.path()), &dest).unwrap();
    assert_eq!(report.source, server.url("b/x.gz"));
    assert_eq!(report.sha256, sha256_hex(&raw));
    assert!(report.compressed);
    assert_eq!(std::fs::read(&dest).unwrap(), gz);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn server_error_is_retried_then_succeeds() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![Reply::status(500), Reply::status(503), Reply::ok(&gz)]);
    let tmp = TempDir::new().unwrap();
    let dest = tmp.path().join(NAME);
    let report = fetch(
        &spec(&raw, vec![server.url("x.gz")]),
        &options(tmp.path()),
        &dest,
    )
    .unwrap();
    assert_eq!(report.source, server.url("x.gz"));
    assert_eq!(server.requests().len(), 3);
    assert_eq!(std::fs::read(&dest).unwrap(), gz);
}

#[test]
fn server_errors_beyond_retry_count_fail_with_status() {
    let (raw, _) = common::labels_file_fixture();
    let server = serve(vec![
        Reply::status(500),
        Reply::status(500),
        Reply::status(500),
    ]);
    let tmp = TempDir::new().unwrap();
    let err = fetch(
        &spec(&raw, vec![server.url("x.gz")]),
        &options(tmp.path()),
        &tmp.path().join(NAME),
    )
    .unwrap_err();
    assert!(failures(&err).contains(&AttemptFailure::Http { status: 500 }));
    assert!(
        err.to_string().contains("HTTP 500 (after 3 tries)"),
        "{err}"
    );
}

#[test]
fn truncated_body_is_resumed_with_range() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![Reply::ok(&gz).truncated(100), Reply::ok(&gz)]);
    let tmp = TempDir::new().unwrap();
    let dest = tmp.path().join(NAME);
    let mut seen: Vec<FetchProgress> = Vec::new();
    let spec = spec(&raw, vec![server.url("x.gz")]);
    fetch_file(DATASET, &spec, &options(tmp.path()), &dest, &mut |p| {
        seen.push(p)
    })
    .unwrap();
    let requests = server.requests();
    assert_eq!(requests[0].range, None);
    assert_eq!(requests[1].range.as_deref(), Some("bytes=100-"));
    assert_eq!(std::fs::read(&dest).unwrap(), gz);
    assert!(!partial_path(&dest).exists());
    let last = seen.last().unwrap();
    assert_eq!(
        (last.bytes, last.total),
        (gz.len() as u64, Some(gz.len() as u64))
    );
}

#[test]
fn truncated_body_restarts_when_server_ignores_range() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![
        Reply::ok(&gz).truncated(100),
        Reply::ok(&gz).ignoring_range(),
    ]);
    let tmp = TempDir::new().unwrap();
    let dest = tmp.path().join(NAME);
    fetch(
        &spec(&raw, vec![server.url("x.gz")]),
        &options(tmp.path()),
        &dest,
    )
    .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), gz);
}

#[test]
fn always_truncated_body_is_a_clear_error_and_dest_stays_absent() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![Reply::ok(&gz).truncated(50).ignoring_range(); 3]);
    let tmp = TempDir::new().unwrap();
    let dest = tmp.path().join(NAME);
    let err = fetch(
        &spec(&raw, vec![server.url("x.gz")]),
        &options(tmp.path()),
        &dest,
    )
    .unwrap_err();
    assert!(
        matches!(failures(&err)[1], AttemptFailure::Truncated { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("truncated"), "{err}");
    assert!(!dest.exists());
}

#[test]
fn stale_partial_that_fails_checksum_is_discarded_and_refetched() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![Reply::ok(&gz), Reply::ok(&gz)]);
    let tmp = TempDir::new().unwrap();
    let dest = tmp.path().join(NAME);
    // Garbage of the same length as a real prefix: resuming onto it yields a wrong checksum.
    std::fs::write(partial_path(&dest), vec![0xAB; 200]).unwrap();
    fetch(
        &spec(&raw, vec![server.url("x.gz")]),
        &options(tmp.path()),
        &dest,
    )
    .unwrap();
    let requests = server.requests();
    assert_eq!(requests[0].range.as_deref(), Some("bytes=200-"));
    assert_eq!(requests[1].range, None);
    assert_eq!(std::fs::read(&dest).unwrap(), gz);
}

#[test]
fn checksum_mismatch_is_rejected_and_nothing_is_cached() {
    let (raw, _) = common::labels_file_fixture();
    let server = serve(vec![Reply::ok(b"not the file at all")]);
    let tmp = TempDir::new().unwrap();
    let dest = tmp.path().join(NAME);
    let err = fetch(
        &spec(&raw, vec![server.url("x.gz")]),
        &options(tmp.path()),
        &dest,
    )
    .unwrap_err();
    let expected = sha256_hex(&raw);
    let got = sha256_hex(b"not the file at all");
    assert!(failures(&err).contains(&AttemptFailure::ChecksumMismatch {
        expected: expected.clone(),
        got: got.clone()
    }));
    assert!(
        err.to_string().contains(&expected) && err.to_string().contains(&got),
        "{err}"
    );
    assert!(!dest.exists());
    assert!(!partial_path(&dest).exists());
}

#[test]
fn slow_server_times_out() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![Reply::ok(&gz).delayed(Duration::from_millis(1500))]);
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.read_timeout = Duration::from_millis(200);
    opts.retries = 0;
    let started = std::time::Instant::now();
    let err = fetch(
        &spec(&raw, vec![server.url("x.gz")]),
        &opts,
        &tmp.path().join(NAME),
    )
    .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "did not time out early"
    );
    assert!(
        matches!(failures(&err).last(), Some(AttemptFailure::Timeout { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("timeout"), "{err}");
}

#[test]
fn all_sources_fail_in_one_error_listing_each() {
    let (raw, _) = common::labels_file_fixture();
    let server = serve(vec![Reply::status(404)]);
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/x.gz", l.local_addr().unwrap())
    };
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.mirror = Some(tmp.path().join("mirror").display().to_string());
    opts.system_dirs = vec![tmp.path().join("sys")];
    let err = fetch(
        &spec(&raw, vec![server.url("x.gz"), refused.clone()]),
        &opts,
        &tmp.path().join(NAME),
    )
    .unwrap_err();
    let f = failures(&err);
    assert_eq!(f.len(), 5, "{err}");
    assert!(matches!(f[0], AttemptFailure::NotFound { .. }));
    assert!(matches!(f[1], AttemptFailure::NotFound { .. }));
    assert!(matches!(f[2], AttemptFailure::NotFound { .. }));
    assert_eq!(f[3], AttemptFailure::Http { status: 404 });
    assert!(
        matches!(f[4], AttemptFailure::ConnectionRefused { .. }),
        "{err}"
    );
    let text = err.to_string();
    println!("{text}");
    for needle in [
        "data folder",
        "mirror folder",
        "system folder",
        &server.url("x.gz"),
        &refused,
        "HTTP 404",
        "--data-mirror",
        "data/toy/",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(
        text.starts_with("failed to obtain t10k-labels-idx1-ubyte"),
        "{text}"
    );
}

#[test]
fn file_in_data_folder_is_used_without_network() {
    let (raw, gz) = common::labels_file_fixture();
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.allow_network = false;
    std::fs::create_dir_all(opts.data_dir.join(DATASET)).unwrap();
    std::fs::write(opts.data_dir.join(DATASET).join(format!("{NAME}.gz")), &gz).unwrap();
    let dest = tmp.path().join("cache").join(NAME);
    let report = fetch(
        &spec(&raw, vec!["http://127.0.0.1:9/never".into()]),
        &opts,
        &dest,
    )
    .unwrap();
    assert!(
        report.source.starts_with("data folder"),
        "{}",
        report.source
    );
    assert_eq!(std::fs::read(&dest).unwrap(), gz);
}

#[test]
fn uncompressed_file_in_mirror_folder_is_used() {
    let (raw, _) = common::labels_file_fixture();
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.allow_network = false;
    let mirror = tmp.path().join("mirror");
    std::fs::create_dir_all(&mirror).unwrap();
    std::fs::write(mirror.join(NAME), &raw).unwrap();
    opts.mirror = Some(mirror.display().to_string());
    let dest = tmp.path().join(NAME);
    let report = fetch(&spec(&raw, vec![]), &opts, &dest).unwrap();
    assert!(
        report.source.starts_with("mirror folder"),
        "{}",
        report.source
    );
    assert!(!report.compressed);
    assert_eq!(std::fs::read(&dest).unwrap(), raw);
}

#[test]
fn mirror_url_tries_dataset_subfolder_then_root() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![Reply::status(404), Reply::ok(&gz)]);
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.mirror = Some(format!("{}/", server.base));
    fetch(&spec(&raw, vec![]), &opts, &tmp.path().join(NAME)).unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        vec![format!("/{DATASET}/{NAME}.gz"), format!("/{NAME}.gz")]
    );
}

#[test]
fn wrong_file_in_data_folder_is_skipped_for_next_source() {
    let (raw, gz) = common::labels_file_fixture();
    let server = serve(vec![Reply::ok(&gz)]);
    let tmp = TempDir::new().unwrap();
    let opts = options(tmp.path());
    std::fs::create_dir_all(&opts.data_dir).unwrap();
    std::fs::write(opts.data_dir.join(NAME), b"corrupted copy").unwrap();
    let report = fetch(
        &spec(&raw, vec![server.url("x.gz")]),
        &opts,
        &tmp.path().join(NAME),
    )
    .unwrap();
    assert_eq!(report.source, server.url("x.gz"));
}

#[test]
fn offline_run_lists_network_sources_as_disabled() {
    let (raw, _) = common::labels_file_fixture();
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.allow_network = false;
    let err = fetch(
        &spec(&raw, vec!["http://127.0.0.1:9/x.gz".into()]),
        &opts,
        &tmp.path().join(NAME),
    )
    .unwrap_err();
    assert_eq!(
        failures(&err).last(),
        Some(&AttemptFailure::NetworkDisabled)
    );
}
