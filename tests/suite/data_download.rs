//! Download tests against a scripted loopback HTTP server: source order, retries, Range
//! resume, checksum rejection, timeouts and the combined error.

use crate::common;

use common::{failures, fetch, labels_file_fixture, options, serve, spec, Reply, DATASET, NAME};
use pipeline::data::fetch::{fetch_file, partial_path, AttemptFailure, FetchProgress};
use pipeline::data::sha256_hex;
use std::time::Duration;
use tempfile::TempDir;

#[test]
fn fixture_is_large_enough_to_truncate() {
    assert!(labels_file_fixture().1.len() > 1000);
}

#[test]
fn not_found_then_next_source_succeeds() {
    let (raw, gz) = labels_file_fixture();
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
    let (raw, gz) = labels_file_fixture();
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
    let (raw, _) = labels_file_fixture();
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
    let (raw, gz) = labels_file_fixture();
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
    let (raw, gz) = labels_file_fixture();
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
    let (raw, gz) = labels_file_fixture();
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
    let (raw, gz) = labels_file_fixture();
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
    let (raw, _) = labels_file_fixture();
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
    let (raw, gz) = labels_file_fixture();
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
    let (raw, _) = labels_file_fixture();
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
fn stall_mid_body_times_out_then_resumes_with_range() {
    let (raw, gz) = labels_file_fixture();
    let server = serve(vec![
        Reply::ok(&gz).stalled(300, Duration::from_millis(1500)),
        Reply::ok(&gz),
    ]);
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.read_timeout = Duration::from_millis(200);
    let dest = tmp.path().join(NAME);
    fetch(&spec(&raw, vec![server.url("x.gz")]), &opts, &dest).unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].range.as_deref(), Some("bytes=300-"));
    assert_eq!(std::fs::read(&dest).unwrap(), gz);
}

#[test]
fn issue_9_a_body_past_the_declared_size_is_refused_without_being_stored() {
    let (raw, _) = labels_file_fixture();
    // A server that answers with ten times the file: it used to be streamed in full.
    let server = serve(vec![Reply::ok(&vec![7u8; raw.len() * 10])]);
    let tmp = TempDir::new().unwrap();
    let dest = tmp.path().join(NAME);
    let mut file = spec(&raw, vec![server.url("x.gz")]);
    file.size = Some(raw.len() as u64);
    let mut most = 0;
    let err = fetch_file(DATASET, &file, &options(tmp.path()), &dest, &mut |p| {
        most = most.max(p.bytes)
    })
    .unwrap_err();
    let limit = pipeline::data::sources::body_limit(&file);
    assert!(
        failures(&err).contains(&AttemptFailure::TooLarge {
            limit,
            got: raw.len() as u64 * 10
        }),
        "{err}"
    );
    assert_eq!(most, 0, "nothing of the body was written");
    assert!(!partial_path(&dest).exists() && !dest.exists());
}

#[test]
fn issue_9_a_declared_size_is_checked_and_reported_with_both_numbers() {
    let (raw, _) = labels_file_fixture();
    let server = serve(vec![Reply::ok(&raw[..raw.len() - 8])]);
    let tmp = TempDir::new().unwrap();
    let mut file = spec(&raw, vec![server.url("x")]);
    file.size = Some(raw.len() as u64);
    let err = fetch(&file, &options(tmp.path()), &tmp.path().join(NAME)).unwrap_err();
    assert!(
        err.to_string().contains(&format!(
            "wrong size: the payload is {} bytes, expected {}",
            raw.len() - 8,
            raw.len()
        )),
        "{err}"
    );
}

#[test]
fn issue_9_bug_3_cancelling_stops_a_silent_transfer_at_once() {
    use pipeline::data::fetch::{fetch_file_cancellable, FetchError};
    use std::sync::atomic::{AtomicBool, Ordering};
    let (raw, gz) = labels_file_fixture();
    let server = serve(vec![Reply::ok(&gz).stalled(10, Duration::from_secs(20))]);
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.read_timeout = Duration::from_secs(20);
    let cancel = AtomicBool::new(false);
    let started = std::time::Instant::now();
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            cancel.store(true, Ordering::Relaxed);
        });
        fetch_file_cancellable(
            DATASET,
            &spec(&raw, vec![server.url("x.gz")]),
            &opts,
            &tmp.path().join(NAME),
            &mut |_| {},
            &cancel,
        )
    });
    assert!(
        matches!(result, Err(FetchError::Cancelled { .. })),
        "{result:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}
