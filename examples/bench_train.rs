//! Training-speed benchmark of the CPU fast path, printing one line in the format of
//! `torch_vae_bench.py`: `cargo run --release --example bench_train -- --hidden 400 --latent 20
//! --batch 128 --steps 300 --threads 2`.
use anyhow::{bail, Context, Result};
use pipeline::model::bench_train;

struct Args {
    hidden: usize,
    latent: usize,
    batch: usize,
    steps: usize,
    threads: Option<usize>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        hidden: 400,
        latent: 20,
        batch: 128,
        steps: 300,
        threads: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .with_context(|| format!("failed to read a value for {flag}"))?;
        let n: usize = value
            .parse()
            .with_context(|| format!("failed to parse {flag} value {value:?}"))?;
        match flag.as_str() {
            "--hidden" => args.hidden = n,
            "--latent" => args.latent = n,
            "--batch" => args.batch = n,
            "--steps" => args.steps = n,
            "--threads" => args.threads = Some(n),
            other => {
                bail!("unknown flag {other}; expected --hidden --latent --batch --steps --threads")
            }
        }
    }
    Ok(args)
}

fn main() -> Result<()> {
    let a = parse_args()?;
    // The same pool `train` uses (subnormals flushed), so the benchmark times the real thing.
    let (pool, _) = pipeline::model::threads::training_pool(a.threads)?;
    let report = pool.install(|| bench_train(a.hidden, a.latent, a.batch, a.steps));
    println!("{report}");
    Ok(())
}
