//! Benchmark of decoding + preprocessing full Fashion-MNIST (what `pipeline bench data` runs).
//! Usage: `cargo run --release --example bench_data -- [RAW_DIR] [RUNS]`
//! (default `/usr/share/datasets/fashion-mnist`, 3 runs; peak memory is reset before each run).

use pipeline::data::bench::bench_preprocess;
use pipeline::data::preprocess::PreprocessOptions;
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "/usr/share/datasets/fashion-mnist".into()),
    );
    let runs: usize = args
        .next()
        .map(|r| r.parse().expect("RUNS is a number"))
        .unwrap_or(3);
    let opts = PreprocessOptions::default();
    println!("threads: {}", rayon::current_num_threads());
    for run in 1..=runs {
        let report = match bench_preprocess(&dir, &opts) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        };
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        println!(
            "run {run}: {} images  decode {:.3} s  preprocess {:.3} s  total {:.3} s  cpu {}  peak RSS {} (reset: {})  decoded f32 {:.1} MiB  ratio {}",
            report.images,
            report.decode_seconds,
            report.preprocess_seconds,
            report.total_seconds,
            report.cpu_seconds.map_or("?".into(), |c| format!("{c:.3} s")),
            report.peak_rss_bytes.map_or("?".into(), |b| format!("{:.1} MiB", mib(b))),
            report.peak_rss_reset,
            mib(report.decoded_f32_bytes),
            report.peak_ratio().map_or("?".into(), |r| format!("{r:.2}x")),
        );
    }
}
