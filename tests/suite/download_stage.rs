//! The download stage against a loopback server: Ctrl-C during a silent transfer, a broken
//! mirror copy that is passed over with a warning, and a body past the file's size.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{gzip, serve, Reply};
use crate::robustness::wait_until;
use crate::stage_processes::wait_or_kill;
use crate::support::*;
use pipeline::data::idx::{encode_images, encode_labels};

/// The two training files of a tiny dataset `mine` (payload bytes per role).
fn payloads() -> Vec<(&'static str, Vec<u8>)> {
    let pixels: Vec<u8> = (0..40 * 16).map(|i| (i * 37 % 256) as u8).collect();
    let labels: Vec<u8> = (0..40).map(|i| (i % 4) as u8).collect();
    vec![
        ("train_images", encode_images(40, 4, 4, &pixels)),
        ("train_labels", encode_labels(&labels)),
    ]
}

/// A spec whose files are fetched from `base/<role>.gz`, with a carved test split.
fn url_spec(base: &str) -> String {
    let files: Vec<String> = payloads()
        .iter()
        .map(|(role, payload)| {
            let sha = pipeline::data::sha256_hex(payload);
            format!("{role} = {{ url = \"{base}/{role}.gz\", sha256 = \"{sha}\" }}")
        })
        .collect();
    format!(
        "[experiment]\nname = \"dl\"\n[dataset]\nname = \"mine\"\nfiles = {{ {} }}\n[preprocess]\ntest_fraction = 0.25\n",
        files.join(", ")
    )
}

#[test]
fn issue_9_bug_3_one_ctrl_c_stops_a_download_from_a_silent_server() {
    let (_, images) = &payloads()[0];
    let body = gzip(images);
    // The server sends a few bytes, then nothing for a minute.
    let server = serve(vec![
        Reply::ok(&body).stalled(10, Duration::from_secs(60));
        2
    ]);
    let p = TestProject::new();
    p.write("spec.toml", &url_spec(&server.base));
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("pipeline"))
        .args([
            "run",
            "spec.toml",
            "--progress",
            "plain",
            "--stage",
            "download",
        ])
        .current_dir(p.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(
        "a request to reach the server",
        Duration::from_secs(30),
        || !server.requests().is_empty(),
    );
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_or_kill(
        &mut child,
        Duration::from_secs(10),
        "pipeline after one Ctrl-C",
    );
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    assert!(!err.contains("panicked at"), "{err}");
    assert!(p.cache_entries().is_empty());
}

#[test]
fn issue_9_a_broken_mirror_copy_is_named_with_why_and_what_was_used_instead() {
    let payloads = payloads();
    let good = gzip(&payloads[0].1);
    let server = serve(vec![Reply::ok(&good)]);
    let p = TestProject::new();
    p.write("spec.toml", &url_spec(&server.base));
    // The mirror holds both files, the images truncated.
    let mirror = p.path().join("mirror/mine");
    std::fs::create_dir_all(&mirror).unwrap();
    std::fs::write(mirror.join("train_images.gz"), &good[..good.len() / 2]).unwrap();
    std::fs::write(mirror.join("train_labels.gz"), gzip(&payloads[1].1)).unwrap();
    let out = p.run(&[
        "run",
        "spec.toml",
        "--stage",
        "download",
        "--data-mirror",
        "mirror",
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("panicked at"), "{err}");
    let warning = err
        .lines()
        .find(|l| l.contains("warning: train_images"))
        .unwrap_or_else(|| panic!("no warning about the broken mirror copy:\n{err}"));
    assert!(
        warning.contains("mirror folder") && warning.contains("corrupt gzip"),
        "{warning}"
    );
    assert!(
        warning.contains(&format!("the file has {} bytes", good.len() / 2)),
        "{warning}"
    );
    assert!(
        err.contains(&format!(
            "train_images from {}/train_images.gz",
            server.base
        )),
        "which source was used is said: {err}"
    );
    assert_eq!(server.requests().len(), 1);
}
