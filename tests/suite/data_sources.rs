//! Fetching from local sources: the data folder, mirror folders and URLs, a spec's own path,
//! an already verified destination, and offline runs.

use crate::common;

use common::{failures, fetch, labels_file_fixture, options, serve, spec, Reply, DATASET, NAME};
use pipeline::data::fetch::AttemptFailure;
use tempfile::TempDir;

#[test]
fn file_in_data_folder_is_used_without_network() {
    let (raw, gz) = labels_file_fixture();
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
    let (raw, _) = labels_file_fixture();
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
    let (raw, gz) = labels_file_fixture();
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
    let (raw, gz) = labels_file_fixture();
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
    let (raw, _) = labels_file_fixture();
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

#[test]
fn spec_path_is_tried_first() {
    let (raw, gz) = labels_file_fixture();
    let tmp = TempDir::new().unwrap();
    let own = tmp.path().join("elsewhere").join("my-labels.gz");
    std::fs::create_dir_all(own.parent().unwrap()).unwrap();
    std::fs::write(&own, &gz).unwrap();
    let mut opts = options(tmp.path());
    opts.allow_network = false;
    let mut file = spec(&raw, vec![]);
    file.path = Some(own.clone());
    let report = fetch(&file, &opts, &tmp.path().join(NAME)).unwrap();
    assert!(report.source.starts_with("spec path"), "{}", report.source);
    assert_eq!(report.origin, own.display().to_string());
}

#[test]
fn verified_destination_is_reused_and_a_wrong_one_is_removed() {
    let (raw, gz) = labels_file_fixture();
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.allow_network = false;
    let dest = tmp.path().join(NAME);
    std::fs::write(&dest, &gz).unwrap();
    let report = fetch(&spec(&raw, vec![]), &opts, &dest).unwrap();
    assert!(report.source.starts_with("existing"), "{}", report.source);
    std::fs::write(&dest, b"stale junk").unwrap();
    assert!(fetch(&spec(&raw, vec![]), &opts, &dest).is_err());
    assert!(
        !dest.exists(),
        "a file that fails verification must not stay at dest"
    );
}

#[test]
fn issue_9_a_truncated_mirror_copy_is_reported_with_the_source_that_was_used() {
    let (raw, gz) = labels_file_fixture();
    let tmp = TempDir::new().unwrap();
    let mut opts = options(tmp.path());
    opts.allow_network = false;
    let mirror = tmp.path().join("mirror");
    let system = tmp.path().join("system");
    for dir in [&mirror, &system] {
        std::fs::create_dir_all(dir.join(DATASET)).unwrap();
    }
    let name = format!("{NAME}.gz");
    std::fs::write(mirror.join(DATASET).join(&name), &gz[..gz.len() / 2]).unwrap();
    std::fs::write(system.join(DATASET).join(&name), &gz).unwrap();
    opts.mirror = Some(mirror.display().to_string());
    opts.system_dirs = vec![system.clone()];
    let report = fetch(&spec(&raw, vec![]), &opts, &tmp.path().join(NAME)).unwrap();
    assert!(
        report.source.starts_with("system folder"),
        "{}",
        report.source
    );
    // The data folder simply lacks the file (not worth a word); the mirror's copy is broken.
    assert_eq!(report.passed_over.len(), 1, "{:?}", report.passed_over);
    let skipped = report.passed_over[0].to_string();
    assert!(skipped.starts_with("mirror folder"), "{skipped}");
    assert!(
        skipped.contains("corrupt gzip")
            && skipped.contains(&name)
            && skipped.contains(&format!("the file has {} bytes", gz.len() / 2)),
        "{skipped}"
    );
}
