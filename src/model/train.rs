//! The training loop: batching, corruption/binarization, Adam steps, validation, per-epoch
//! metrics, NaN/Inf detection, checkpoints every epoch and resumption from them.
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::adam::AdamConfig;
use super::alloc;
use super::checkpoint::{self, RngPosition, TrainState, MODEL_FILE};
use super::config::{ModelConfig, Noise, TrainConfig};
use super::device::{self, Engine};
use super::metrics_csv::{self, EpochMetrics};
use super::network::Architecture;
use super::objective::{Batch, LossSums, TermWeights};
use super::resident::HostState;
use super::rng::{Rng, Stream};
use super::ModelError;

/// Row-major `n × dim` data with values in [0, 1].
pub struct TrainData<'a> {
    pub train: &'a [f32],
    pub val: Option<&'a [f32]>,
    pub dim: usize,
}

/// Hooks for progress display and cancellation (Ctrl-C); called on the thread that called
/// [`train`].
pub trait TrainObserver {
    fn epoch_done(&mut self, m: &EpochMetrics);
    fn batch_progress(&mut self, _epoch: usize, _batch: usize, _batches: usize) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// An observer that ignores everything.
pub struct Silent;
impl TrainObserver for Silent {
    fn epoch_done(&mut self, _: &EpochMetrics) {}
}

#[derive(Debug, Clone)]
pub struct TrainSummary {
    pub metrics: Vec<EpochMetrics>,
    /// Epochs already done in the checkpoint this run resumed from, if it resumed.
    pub resumed_from: Option<usize>,
    pub model_path: PathBuf,
    pub metrics_path: PathBuf,
    pub device: String,
    pub final_params: Vec<f32>,
}

fn check_data(model: &ModelConfig, data: &TrainData) -> Result<usize, ModelError> {
    let bad = |m: String| Err(ModelError::Data(m));
    if data.dim != model.input_dim {
        return bad(format!(
            "data dim {} differs from input_dim {}",
            data.dim, model.input_dim
        ));
    }
    for (name, set) in [("train", Some(data.train)), ("val", data.val)] {
        let Some(set) = set else { continue };
        if set.len() % data.dim != 0 {
            return bad(format!(
                "{name} length {} is not a multiple of dim {}",
                set.len(),
                data.dim
            ));
        }
        if let Some(i) = set.iter().position(|v| !v.is_finite()) {
            return bad(format!("{name} value {i} is not finite"));
        }
    }
    match data.train.len() / data.dim {
        0 => bad("no training examples".into()),
        n => Ok(n),
    }
}

/// Everything a run restarts from: fresh, or a checkpoint of an interrupted run.
fn starting_state(
    model: &ModelConfig,
    cfg: &TrainConfig,
    dir: &Path,
    arch: &Architecture,
) -> Result<TrainState, ModelError> {
    if checkpoint::state_path(dir).exists() {
        let s = checkpoint::load_state(dir)?;
        // Epochs may be extended and threads changed; anything else would silently mix runs.
        let comparable = TrainConfig {
            epochs: cfg.epochs,
            threads: cfg.threads,
            ..s.train.clone()
        };
        if s.model != *model || comparable != *cfg {
            return Err(ModelError::Config(format!(
                "checkpoint in {} was written by a different configuration; use a fresh directory",
                dir.display()
            )));
        }
        return Ok(s);
    }
    let params = arch.init_params::<f32>(cfg.seed)?;
    Ok(TrainState {
        model: model.clone(),
        train: cfg.clone(),
        adam_m: alloc::filled(params.len(), 0.0, "Adam's first moments")?,
        adam_v: alloc::filled(params.len(), 0.0, "Adam's second moments")?,
        params,
        adam_step: 0,
        rng: RngPosition {
            seed: cfg.seed,
            next_epoch: 0,
        },
        metrics: Vec::new(),
    })
}

/// Trains `model` on `data`, checkpointing into `checkpoint_dir` after every epoch and resuming
/// from it when it holds an unfinished run. Writes `model.safetensors` and `metrics.csv` there.
pub fn train(
    model: &ModelConfig,
    cfg: &TrainConfig,
    data: &TrainData,
    checkpoint_dir: &Path,
    observer: &mut dyn TrainObserver,
) -> Result<TrainSummary, ModelError> {
    model.validate()?;
    cfg.validate()?;
    check_data(model, data)?;
    std::fs::create_dir_all(checkpoint_dir).map_err(|source| ModelError::Io {
        action: "create checkpoint dir",
        path: checkpoint_dir.to_path_buf(),
        error: source,
    })?;
    let (pool, threads) = super::threads::training_pool(cfg.threads)?;
    run_epochs(model, cfg, data, checkpoint_dir, observer, &pool, threads)
}

/// The epoch loop. It runs on the caller's thread (so the observer need not be `Send`) and
/// hands each step's number crunching to `pool`.
fn run_epochs(
    model: &ModelConfig,
    cfg: &TrainConfig,
    data: &TrainData,
    dir: &Path,
    observer: &mut dyn TrainObserver,
    pool: &rayon::ThreadPool,
    threads: usize,
) -> Result<TrainSummary, ModelError> {
    let arch = Architecture::new(model)?;
    let mut state = starting_state(model, cfg, dir, &arch)?;
    let resumed_from = (state.rng.next_epoch > 0).then_some(state.rng.next_epoch);
    let adam_cfg = AdamConfig {
        lr: cfg.lr as f64,
        beta1: cfg.betas.0 as f64,
        beta2: cfg.betas.1 as f64,
        eps: 1e-8,
        weight_decay: cfg.weight_decay as f64,
    };
    let start = HostState {
        params: &state.params,
        m: &state.adam_m,
        v: &state.adam_v,
        step: state.adam_step,
    };
    let mut engine = device::engine(cfg.device, &arch, threads, cfg.batch_size, adam_cfg, start)?;
    let mut batcher = Batcher::new(model, cfg, data.dim);
    let n = data.train.len() / data.dim;
    let batches = n.div_ceil(cfg.batch_size);
    let metrics_path = dir.join(metrics_csv::FILE);

    for epoch in state.rng.next_epoch..cfg.epochs {
        let started = Instant::now();
        let weights = TermWeights {
            kl: model.kl_weight(epoch) as f64,
            l1: model.l1 as f64,
        };
        let order = Rng::stream(cfg.seed, Stream::Shuffle, epoch as u64, 0).permutation(n);
        let mut sums = LossSums::default();
        for (b, rows) in order.chunks(cfg.batch_size).enumerate() {
            if observer.cancelled() {
                return Err(ModelError::Cancelled { epochs_done: epoch });
            }
            batcher.fill(data.train, rows, epoch as u64, b as u64, true);
            let batch = batcher.batch(rows.len());
            let s = engine.forward_backward(pool, &arch, &batch, weights);
            check_finite(&s, weights, rows.len(), epoch, b)?;
            engine.apply_update(pool);
            sums.recon += s.recon;
            sums.kl += s.kl;
            sums.l1 += s.l1;
            observer.batch_progress(epoch, b, batches);
        }
        let val_loss = match data.val {
            Some(val) => Some(evaluate(
                &mut engine,
                pool,
                &arch,
                &mut batcher,
                val,
                weights,
            )),
            None => None,
        };
        let m = EpochMetrics {
            epoch,
            train_loss: sums.total(weights) / n as f64,
            val_loss,
            recon: sums.recon / n as f64,
            kl: sums.kl / n as f64,
            seconds: started.elapsed().as_secs_f64(),
        };
        observer.epoch_done(&m);
        state.metrics.push(m);
        state.rng.next_epoch = epoch + 1;
        state.adam_step = engine.download(&mut state.params, &mut state.adam_m, &mut state.adam_v);
        checkpoint::save_state(dir, &state)?;
        metrics_csv::write(&metrics_path, &state.metrics)?;
    }
    // `state` holds the weights: each epoch ends by downloading them for its checkpoint.
    let model_path = dir.join(MODEL_FILE);
    checkpoint::save_model(&model_path, model, &state.params)?;
    metrics_csv::write(&metrics_path, &state.metrics)?;
    Ok(TrainSummary {
        metrics: state.metrics,
        resumed_from,
        model_path,
        metrics_path,
        device: engine.name(),
        final_params: state.params,
    })
}

fn check_finite(
    s: &LossSums,
    w: TermWeights,
    rows: usize,
    epoch: usize,
    batch: usize,
) -> Result<(), ModelError> {
    let terms = [
        ("recon", s.recon),
        ("kl", s.kl),
        ("l1", s.l1),
        ("total", s.total(w)),
    ];
    match terms.iter().find(|(_, v)| !v.is_finite()) {
        Some(&(term, value)) => Err(ModelError::NonFinite {
            epoch,
            batch,
            term,
            value: value / rows as f64,
        }),
        None => Ok(()),
    }
}

/// Mean objective over `data`, with reparameterisation noise fixed across epochs so the
/// validation curve only moves when the model does.
fn evaluate(
    engine: &mut Engine,
    pool: &rayon::ThreadPool,
    arch: &Architecture,
    batcher: &mut Batcher,
    data: &[f32],
    weights: TermWeights,
) -> f64 {
    let n = data.len() / arch.input_dim();
    let size = batcher.capacity;
    let mut total = 0.0;
    let rows: Vec<usize> = (0..n).collect();
    for (b, chunk) in rows.chunks(size).enumerate() {
        batcher.fill(data, chunk, u64::MAX, b as u64, false);
        let batch = batcher.batch(chunk.len());
        total += engine.loss(pool, arch, &batch, weights).total(weights);
    }
    total / n as f64
}

/// Assembles batches: gathers rows, binarizes, corrupts, draws reparameterisation noise.
struct Batcher {
    seed: u64,
    dim: usize,
    latent: usize,
    vae: bool,
    noise: Option<Noise>,
    binarize: bool,
    capacity: usize,
    input: Vec<f32>,
    target: Vec<f32>,
    eps: Vec<f32>,
}

impl Batcher {
    fn new(model: &ModelConfig, cfg: &TrainConfig, dim: usize) -> Self {
        let cap = cfg.batch_size;
        Self {
            seed: cfg.seed,
            dim,
            latent: model.latent_dim,
            vae: model.is_vae(),
            noise: model.noise,
            binarize: cfg.dynamic_binarization,
            capacity: cap,
            input: vec![0.0; cap * dim],
            target: vec![0.0; cap * dim],
            eps: vec![0.0; cap * model.latent_dim],
        }
    }

    /// `training` draws fresh input noise, binarization and reparameterisation noise per
    /// epoch; evaluation batches draw them from fixed streams (epoch key `u64::MAX`), so the
    /// validation curve moves only when the model does. A denoising AE is validated on
    /// corrupted inputs too: its validation loss is the objective it is trained on.
    fn fill(&mut self, data: &[f32], rows: &[usize], epoch: u64, batch: u64, training: bool) {
        let d = self.dim;
        for (i, &r) in rows.iter().enumerate() {
            self.target[i * d..(i + 1) * d].copy_from_slice(&data[r * d..(r + 1) * d]);
        }
        let used = rows.len() * d;
        let (stream_r, stream_n) = if training {
            (Stream::Reparam, Stream::Noise)
        } else {
            (Stream::Validation, Stream::ValidationNoise)
        };
        if self.binarize {
            let mut rng = Rng::stream(self.seed, Stream::Binarize, epoch, batch);
            for v in &mut self.target[..used] {
                *v = if rng.uniform() < *v { 1.0 } else { 0.0 };
            }
        }
        self.input[..used].copy_from_slice(&self.target[..used]);
        if let Some(noise) = self.noise {
            let mut rng = Rng::stream(self.seed, stream_n, epoch, batch);
            match noise {
                Noise::Gaussian { std } => {
                    let mut eps = vec![0.0f32; used];
                    rng.fill_normal(&mut eps);
                    self.input[..used]
                        .iter_mut()
                        .zip(&eps)
                        .for_each(|(x, e)| *x += std * e);
                }
                Noise::Masking { p } => {
                    for x in &mut self.input[..used] {
                        if rng.uniform() < p {
                            *x = 0.0;
                        }
                    }
                }
            }
        }
        if self.vae {
            Rng::stream(self.seed, stream_r, epoch, batch)
                .fill_normal(&mut self.eps[..rows.len() * self.latent]);
        }
    }

    fn batch(&self, rows: usize) -> Batch<'_, f32> {
        Batch {
            input: &self.input[..rows * self.dim],
            target: &self.target[..rows * self.dim],
            rows,
            eps: self.vae.then(|| &self.eps[..rows * self.latent]),
        }
    }
}
