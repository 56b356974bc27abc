//! Trains the reference VAE (784-400-20, ReLU, Bernoulli, Adam 1e-3, batch 128) on Fashion-MNIST
//! and prints the per-epoch test loss, for comparison with `examples/torch_fashion_vae.py`.
//! Usage: `cargo run --release --example fashion_vae -- DIR EPOCHS THREADS` where DIR holds the
//! IDX files (`train-images-idx3-ubyte`, `t10k-images-idx3-ubyte`, gzip or raw), e.g.
//! /usr/share/datasets/fashion-mnist.
use std::path::Path;

use anyhow::{Context, Result};
use pipeline::model::{
    train, DeviceChoice, EpochMetrics, ModelConfig, TrainConfig, TrainData, TrainObserver,
};

/// Pixels in [0, 1] and the image size, through the project's IDX reader (gzip or raw).
fn read_idx_images(path: &Path) -> Result<(Vec<f32>, usize)> {
    let images = pipeline::data::idx::read_images(path)?;
    Ok((
        images.pixels.iter().map(|&p| p as f32 / 255.0).collect(),
        images.rows * images.cols,
    ))
}

struct Print;
impl TrainObserver for Print {
    fn epoch_done(&mut self, m: &EpochMetrics) {
        println!(
            "epoch {} train_loss {:.4} test_loss {:.4} recon {:.4} kl {:.4} seconds {:.2}",
            m.epoch + 1,
            m.train_loss,
            m.val_loss.unwrap_or(f64::NAN),
            m.recon,
            m.kl,
            m.seconds
        );
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = Path::new(args.first().map(String::as_str).unwrap_or("/tmp/fmnist"));
    let epochs: usize = args
        .get(1)
        .map_or(Ok(10), |s| s.parse())
        .context("failed to parse EPOCHS")?;
    let threads: usize = args
        .get(2)
        .map_or(Ok(2), |s| s.parse())
        .context("failed to parse THREADS")?;
    let find = |name: &str| {
        let raw = dir.join(name);
        if raw.exists() {
            raw
        } else {
            dir.join(format!("{name}.gz"))
        }
    };
    let (train_x, dim) = read_idx_images(&find("train-images-idx3-ubyte"))?;
    let (test_x, _) = read_idx_images(&find("t10k-images-idx3-ubyte"))?;
    let model = ModelConfig::reference_vae(400, 20);
    let cfg = TrainConfig {
        epochs,
        batch_size: 128,
        lr: 1e-3,
        seed: 1,
        device: DeviceChoice::Cpu,
        threads: Some(threads),
        ..TrainConfig::default()
    };
    let out = tempfile_dir()?;
    let summary = train(
        &model,
        &cfg,
        &TrainData {
            train: &train_x,
            val: Some(&test_x),
            dim,
        },
        &out,
        &mut Print,
    )?;
    let last = summary
        .metrics
        .last()
        .context("failed to train: no epochs ran")?;
    println!(
        "pipeline final test_loss {:.4} after {} epochs ({}), peak RSS {:.1} MiB",
        last.val_loss.unwrap_or(f64::NAN),
        summary.metrics.len(),
        summary.device,
        pipeline::model::bench::peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}

/// A fresh checkpoint directory under the system temp dir (so no earlier run is resumed).
fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("fashion_vae_{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context("failed to clear the checkpoint dir")?;
    }
    Ok(dir)
}
