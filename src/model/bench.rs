//! Training-speed benchmark of a training engine (CPU fast path, CUDA, …) on the
//! pytorch/examples `vae` model, or a conv VAE on 28×28 inputs, timed exactly like
//! `torch_vae_bench.py` / `torch_conv_vae_bench.py`: random inputs, 20 warm-up steps, then
//! `steps` full Adam steps (fresh reparameterisation noise, forward, backward, update) under
//! the clock.
use std::time::Instant;

use super::adam::AdamConfig;
use super::config::{Backbone, DeviceChoice, ModelConfig};
use super::device;
use super::network::Architecture;
use super::objective::{Batch, TermWeights};
use super::resident::HostState;
use super::rng::{Rng, Stream};
use super::ModelError;

const WARMUP_STEPS: usize = 20;

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub device: String,
    pub threads: usize,
    /// What was trained: `hidden 400` or `conv [32, 64] dense 256`.
    pub model: String,
    pub latent: usize,
    pub batch: usize,
    pub steps: usize,
    pub samples_per_sec: f64,
    pub ms_per_step: f64,
    /// Matrix-product FLOPs per second, with the torch script's formula.
    pub gflops: f64,
    pub final_loss: f64,
    /// Peak resident set size of the process (VmHWM), if readable.
    pub peak_rss_mib: Option<f64>,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pipeline [{}] {} latent {} batch {}: {:.0} samples/s, {:.2} ms/step, {:.1} GFLOP/s, loss {:.3}",
            self.device, self.model, self.latent, self.batch, self.samples_per_sec, self.ms_per_step, self.gflops, self.final_loss
        )?;
        match self.peak_rss_mib {
            Some(mib) => write!(f, ", peak RSS {mib:.1} MiB"),
            None => Ok(()),
        }
    }
}

/// Peak resident set size of this process, in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    crate::process_stats::peak_rss_bytes().map(|b| b as f64 / (1024.0 * 1024.0))
}

/// The model and run length of one benchmark.
#[derive(Debug, Clone, Copy)]
pub struct BenchShape {
    pub architecture: Backbone,
    /// Hidden width of the MLP, dense width of the conv model.
    pub hidden: usize,
    pub latent: usize,
    pub batch: usize,
    pub steps: usize,
}

/// Forward + backward matmul FLOPs per sample: 6 per weight use, the torch scripts' formula
/// (for the 784-H-Z VAE, 6·(784H + 2HZ + ZH + H·784)); a convolution uses each filter entry
/// once per output pixel.
pub fn flops_per_sample(arch: &Architecture) -> f64 {
    let dense = arch.encoder.iter().chain(&arch.decoder);
    let weights: usize = dense.map(|l| l.fan_in * l.fan_out).sum::<usize>()
        + arch
            .conv_encoder
            .iter()
            .chain(&arch.conv_decoder)
            .map(|c| c.h_out * c.w_out * c.dense.fan_in * c.dense.fan_out)
            .sum::<usize>();
    6.0 * weights as f64
}

/// The conv model `bench train --architecture conv` times, as in `torch_conv_vae_bench.py`.
pub const BENCH_CONV_CHANNELS: &[usize] = &[32, 64];

/// Times `steps` training steps of the engine `device` selects, CPU work on `pool`.
pub fn bench_train(
    pool: &rayon::ThreadPool,
    device: DeviceChoice,
    shape: BenchShape,
) -> Result<BenchReport, ModelError> {
    let BenchShape {
        architecture,
        hidden,
        latent,
        batch,
        steps,
    } = shape;
    let threads = pool.current_num_threads();
    let (config, model) = match architecture {
        Backbone::Mlp => (
            ModelConfig::reference_vae(hidden, latent),
            format!("hidden {hidden}"),
        ),
        Backbone::Conv => {
            let mut c = ModelConfig::conv_vae(BENCH_CONV_CHANNELS, 28, latent);
            if let Some(layout) = c.conv.as_mut() {
                layout.dense = hidden;
            }
            (c, format!("conv {BENCH_CONV_CHANNELS:?} dense {hidden}"))
        }
    };
    let arch = Architecture::new(&config).expect("reference config is valid");
    let params = arch.init_params::<f32>(0)?;
    let zeros = vec![0.0f32; params.len()];
    let adam_cfg = AdamConfig {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
    };
    let start = HostState {
        params: &params,
        m: &zeros,
        v: &zeros,
        step: 0,
    };
    let mut engine = device::engine(device, &arch, threads, batch, adam_cfg, start)?;
    let mut data_rng = Rng::from_key(&[42]);
    let x: Vec<f32> = (0..batch * 784).map(|_| data_rng.uniform()).collect();
    let mut eps = vec![0.0f32; batch * latent];
    let weights = TermWeights { kl: 1.0, l1: 0.0 };
    let mut step = |i: usize| -> f64 {
        Rng::stream(0, Stream::Reparam, 0, i as u64).fill_normal(&mut eps);
        let b = Batch {
            input: &x,
            target: &x,
            rows: batch,
            eps: Some(&eps),
        };
        // The loss comes back to the host every step, as in training (NaN checks need it),
        // which also keeps an asynchronous device from running ahead of the clock.
        let sums = engine.forward_backward(pool, &arch, &b, weights);
        engine.apply_update(pool);
        sums.total(weights) / batch as f64
    };
    for i in 0..WARMUP_STEPS {
        step(i);
    }
    let started = Instant::now();
    let mut loss = f64::NAN;
    for i in 0..steps {
        loss = step(WARMUP_STEPS + i);
    }
    let secs = started.elapsed().as_secs_f64();
    let samples = (steps * batch) as f64;
    Ok(BenchReport {
        device: engine.name(),
        threads,
        model,
        latent,
        batch,
        steps,
        samples_per_sec: samples / secs,
        ms_per_step: secs * 1e3 / steps as f64,
        gflops: samples * flops_per_sample(&arch) / secs / 1e9,
        final_loss: loss,
        peak_rss_mib: peak_rss_mib(),
    })
}
