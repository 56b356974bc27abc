//! Shared test helpers: a scripted loopback HTTP server, the skip policy (`require`) and
//! small IDX dataset fixtures.
#![allow(dead_code)]

use flate2::{write::GzEncoder, Compression};
use pipeline::data::catalog::{FileRole, FileSpec};
use pipeline::data::fetch::{fetch_file, AttemptFailure, FetchError, FetchOptions, FetchReport};
use pipeline::data::raw::{load_idx_dataset, RawDataset};
use pipeline::data::{idx, sha256_hex};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The server gives up waiting for scripted requests after this long, so it always ends.
const SERVER_LIFETIME: Duration = Duration::from_secs(30);

/// One scripted response.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// Close the connection after this many body bytes (Content-Length still says all).
    pub truncate_after: Option<usize>,
    /// Wait this long before sending anything.
    pub delay: Duration,
    /// Answer `Range: bytes=N-` with 206 and the tail of the body.
    pub honour_range: bool,
    /// After this many body bytes, go silent for the duration, then send the rest.
    pub stall: Option<(usize, Duration)>,
}

impl Reply {
    pub fn ok(body: &[u8]) -> Reply {
        Reply {
            status: 200,
            body: body.to_vec(),
            truncate_after: None,
            delay: Duration::ZERO,
            honour_range: true,
            stall: None,
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            body: format!("status {status}").into_bytes(),
            ..Reply::ok(b"")
        }
    }
    pub fn truncated(mut self, after: usize) -> Reply {
        self.truncate_after = Some(after);
        self
    }
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
    pub fn stalled(mut self, after: usize, pause: Duration) -> Reply {
        self.stall = Some((after, pause));
        self
    }
    pub fn ignoring_range(mut self) -> Reply {
        self.honour_range = false;
        self
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
}

/// Serves `script` in order, one reply per connection, then stops accepting.
pub struct TestServer {
    pub base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

pub fn serve(script: Vec<Reply>) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen2, stop2) = (seen.clone(), stop.clone());
    thread::spawn(move || {
        let deadline = Instant::now() + SERVER_LIFETIME;
        for reply in script {
            let stream = loop {
                if stop2.load(Ordering::SeqCst) || Instant::now() > deadline {
                    return;
                }
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            };
            // One thread per connection so a stalled reply does not hold up the next request
            // (a client that timed out reconnects while the old reply is still sleeping).
            let seen3 = seen2.clone();
            thread::spawn(move || handle(stream, &reply, &seen3));
        }
    });
    TestServer { base, seen, stop }
}

fn handle(stream: TcpStream, reply: &Reply, seen: &Mutex<Vec<Seen>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let mut range = None;
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_string());
            }
        }
    }
    seen.lock().unwrap().push(Seen {
        path,
        range: range.clone(),
    });
    thread::sleep(reply.delay);
    let full = &reply.body;
    let start = match (&range, reply.honour_range && reply.status == 200) {
        (Some(r), true) => r
            .strip_prefix("bytes=")
            .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok()),
        _ => None,
    };
    let (status, body, extra) = match start {
        Some(s) if s < full.len() => (
            206,
            &full[s..],
            format!(
                "Content-Range: bytes {s}-{}/{}\r\n",
                full.len() - 1,
                full.len()
            ),
        ),
        Some(_) => (
            416,
            &full[..0],
            format!("Content-Range: bytes */{}\r\n", full.len()),
        ),
        None => (reply.status, &full[..], String::new()),
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let sent = reply
        .truncate_after
        .map_or(body.len(), |n| n.min(body.len()));
    let mut stream = stream;
    let (first, pause) = reply
        .stall
        .map_or((sent, Duration::ZERO), |(n, d)| (n.min(sent), d));
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(&body[..first]));
    let _ = stream.flush();
    thread::sleep(pause);
    let _ = stream.write_all(&body[first..sent]);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

/// Skip policy for tests that need something a fresh machine may lack. Returns true when the
/// feature is present; otherwise prints `SKIPPED <test>: <reason>` and returns false, or panics
/// when `PIPELINE_TEST_REQUIRE` (comma-separated, or `all`) names the feature.
/// The first Chromium-like browser on PATH.
pub fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

pub fn require(feature: &str) -> bool {
    let missing = match feature {
        "fashion-mnist" => {
            let dir = Path::new("/usr/share/datasets/fashion-mnist");
            let names = [
                "train-images-idx3-ubyte",
                "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte",
            ];
            names
                .iter()
                .find(|n| !dir.join(format!("{n}.gz")).is_file() && !dir.join(n).is_file())
                .map(|n| {
                    format!(
                        "{n} not in {} (apt-get install dataset-fashion-mnist)",
                        dir.display()
                    )
                })
        }
        "chromium" => chromium()
            .is_none()
            .then(|| "no chromium on PATH".to_string()),
        "cuda" => pipeline::model::device::cuda_unavailable(),
        "git" => std::process::Command::new("git")
            .arg("--version")
            .output()
            .is_err()
            .then(|| "no git on PATH (apt-get install git)".to_string()),
        // Asked once per test binary: without a controller `sinfo` hangs ~25 s before failing.
        "slurm" => {
            static SLURM_MISSING: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
            SLURM_MISSING
                .get_or_init(|| {
                    pipeline::exec::slurm::cluster_unavailable()
                        .map(|why| format!("{why} (scripts/slurm-test-cluster.sh starts one)"))
                })
                .clone()
        }
        other => panic!("require: unknown feature `{other}`"),
    };
    let Some(reason) = missing else { return true };
    let wanted = std::env::var("PIPELINE_TEST_REQUIRE").unwrap_or_default();
    if wanted
        .split(',')
        .map(str::trim)
        .any(|w| w == feature || w == "all")
    {
        panic!("required feature `{feature}` is missing: {reason}");
    }
    let test = thread::current().name().unwrap_or("<test>").to_string();
    // Straight to the stderr handle: libtest captures print!/eprint! of passing tests, and a
    // skip must stay visible.
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
    false
}

/// Side of the fixture images.
pub const SIDE: usize = 8;

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Image `i` stores its index in its first two pixels so tests can tell images apart after
/// shuffling; the rest is a gradient.
pub fn images_payload(n: usize) -> Vec<u8> {
    let mut px = Vec::with_capacity(n * SIDE * SIDE);
    for i in 0..n {
        px.push((i % 256) as u8);
        px.push((i / 256) as u8);
        px.extend((2..SIDE * SIDE).map(|p| ((p * 4 + i) % 256) as u8));
    }
    idx::encode_images(n, SIDE, SIDE, &px)
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

pub fn message(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Writes a 4-file IDX dataset; class `c` has `10 + 5c` training images.
pub fn idx_fixture(dir: &Path) -> (Vec<PathBuf>, Vec<FileSpec>) {
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
            size: None,
        });
    }
    (paths, specs)
}

pub fn fixture_dataset(dir: &Path) -> RawDataset {
    let (paths, specs) = idx_fixture(dir);
    let classes = (0..10).map(|c| format!("c{c}")).collect();
    load_idx_dataset("toy", &paths, Some(&specs), classes).unwrap()
}

/// A small label file: raw IDX payload and its gzip form (big enough to be truncated).
pub fn labels_file_fixture() -> (Vec<u8>, Vec<u8>) {
    // Random labels so the gzip form stays thousands of bytes long.
    let mut rng = pipeline::data::SplitMix64::new(1);
    let labels: Vec<u8> = (0..5000).map(|_| rng.below(10) as u8).collect();
    let raw = idx::encode_labels(&labels);
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&raw).unwrap();
    (raw, gz.finish().unwrap())
}

/// File name and dataset used by the fetch tests.
pub const NAME: &str = "t10k-labels-idx1-ubyte";
pub const DATASET: &str = "toy";

/// Spec for the labels fixture whose payload is `raw`.
pub fn spec(raw: &[u8], urls: Vec<String>) -> FileSpec {
    FileSpec {
        role: FileRole::TestLabels,
        name: NAME.into(),
        sha256: sha256_hex(raw),
        urls,
        path: None,
        size: None,
    }
}

/// Fetch options with no mirror, no system folders, short timeouts and 1 ms backoff.
pub fn options(tmp: &Path) -> FetchOptions {
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

pub fn fetch(spec: &FileSpec, opts: &FetchOptions, dest: &Path) -> Result<FetchReport, FetchError> {
    fetch_file(DATASET, spec, opts, dest, &mut |_| {})
}

/// The per-source failures of an `AllSourcesFailed` error.
pub fn failures(err: &FetchError) -> Vec<AttemptFailure> {
    match err {
        FetchError::AllSourcesFailed { attempts, .. } => {
            attempts.iter().map(|a| a.failure.clone()).collect()
        }
        other => panic!("expected AllSourcesFailed, got {other}"),
    }
}

/// The crate's own deterministic generator, with f64 draws for metric fixtures.
pub struct TestRng(pipeline::model::rng::Rng);

impl TestRng {
    pub fn new(seed: u64) -> Self {
        TestRng(pipeline::model::rng::Rng::from_key(&[seed]))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let mut v = [0.0f64];
        self.0.fill_normal(&mut v);
        v[0]
    }
}
