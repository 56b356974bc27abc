//! A trained model rebuilt from its checkpoint, with the batched operations the evaluate
//! stage needs: encode, decode, reconstruct, per-example losses, IWAE bound, prior samples.
use std::path::Path;

use super::checkpoint;
use super::config::{Likelihood, ModelConfig};
use super::conv_fast::{self, ConvBuffers};
use super::kernels;
use super::linalg::Products;
use super::network::{forward_stack, Architecture};
use super::rng::{Rng, Stream};
use super::ModelError;

/// Rows decoded at once by the IWAE bound (examples × samples), to bound memory.
const IWAE_ROWS_PER_CHUNK: usize = 4096;

/// Rows a conv model encodes or decodes at once: its patch matrices are `k²` times the
/// feature maps, so a whole test set at once would take gigabytes.
const CONV_ROWS_PER_CHUNK: usize = 256;

pub struct TrainedModel {
    pub config: ModelConfig,
    arch: Architecture,
    params: Vec<f32>,
}

/// Per-example loss terms, each summed over pixels / latent dimensions.
#[derive(Debug, Clone, PartialEq)]
pub struct PerExample {
    pub recon: Vec<f64>,
    /// KL(q(z|x) ‖ N(0, I)); zeros for deterministic autoencoders.
    pub kl: Vec<f64>,
}

/// Rebuilds a model from `model.safetensors` (or a training-state checkpoint).
pub fn load_checkpoint(path: &Path) -> Result<TrainedModel, ModelError> {
    let (config, params) = checkpoint::read_model(path)?;
    TrainedModel::new(config, params)
}

impl TrainedModel {
    pub fn new(config: ModelConfig, params: Vec<f32>) -> Result<Self, ModelError> {
        let arch = Architecture::new(&config)?;
        if params.len() != arch.param_count {
            return Err(ModelError::Config(format!(
                "expected {} parameters, got {}",
                arch.param_count,
                params.len()
            )));
        }
        Ok(Self {
            config,
            arch,
            params,
        })
    }

    /// A conv model's encoder head of images `x`, or (`decoder`) decoder output of codes `x`
    /// (`width` values a row), through the CPU fast path a chunk of rows at a time.
    fn conv_forward(&self, x: &[f32], width: usize, decoder: bool) -> Vec<f32> {
        let (arch, params, with) = (&self.arch, &self.params[..], self.products());
        let (convs, dense) = if decoder {
            (&arch.conv_decoder, &arch.decoder)
        } else {
            (&arch.conv_encoder, &arch.encoder)
        };
        let flat = arch.encoder[0].fan_in;
        let mut bufs = ConvBuffers::new(convs);
        let mut acts = vec![Vec::new(); dense.len()];
        let mut out = Vec::new();
        for chunk in x.chunks(CONV_ROWS_PER_CHUNK * width) {
            let rows = chunk.len() / width;
            if decoder {
                forward_stack(dense, params, chunk, rows, &mut acts, with);
                let maps = &acts[dense.len() - 1][..rows * flat];
                conv_fast::forward(convs, params, maps, rows, &mut bufs, with);
                let images = &bufs.acts[convs.len() - 1];
                out.extend_from_slice(&images[..rows * arch.input_dim()]);
            } else {
                conv_fast::forward(convs, params, chunk, rows, &mut bufs, with);
                let maps = &bufs.acts[convs.len() - 1][..rows * flat];
                forward_stack(dense, params, maps, rows, &mut acts, with);
                let head = &acts[dense.len() - 1];
                out.extend_from_slice(&head[..rows * dense[dense.len() - 1].fan_out]);
            }
        }
        out
    }

    pub fn params(&self) -> &[f32] {
        &self.params
    }

    fn products(&self) -> Products {
        self.arch.products(rayon::current_num_threads())
    }

    fn rows_of(&self, x: &[f32], width: usize) -> usize {
        assert_eq!(
            x.len() % width,
            0,
            "input length {} is not a multiple of {width}",
            x.len()
        );
        x.len() / width
    }

    /// Code of each row: `(μ, Some(log σ²))` for a VAE, `(z, None)` otherwise.
    pub fn encode(&self, x: &[f32]) -> (Vec<f32>, Option<Vec<f32>>) {
        let rows = self.rows_of(x, self.arch.input_dim());
        let head = if self.arch.is_conv() {
            self.conv_forward(x, self.arch.input_dim(), false)
        } else {
            let mut acts = vec![Vec::new(); self.arch.encoder.len()];
            forward_stack(
                &self.arch.encoder,
                &self.params,
                x,
                rows,
                &mut acts,
                self.products(),
            );
            acts.pop().expect("encoder has a layer")
        };
        let l = self.arch.latent();
        if !self.config.is_vae() {
            return (head, None);
        }
        let (mut mu, mut lv) = (Vec::with_capacity(rows * l), Vec::with_capacity(rows * l));
        for row in head.chunks_exact(2 * l) {
            mu.extend_from_slice(&row[..l]);
            lv.extend_from_slice(&row[l..]);
        }
        (mu, Some(lv))
    }

    /// Decoder output for each code: logits (Bernoulli) or means (Gaussian).
    pub fn decode(&self, z: &[f32]) -> Vec<f32> {
        let rows = self.rows_of(z, self.arch.latent());
        if self.arch.is_conv() {
            return self.conv_forward(z, self.arch.latent(), true);
        }
        let mut acts = vec![Vec::new(); self.arch.decoder.len()];
        forward_stack(
            &self.arch.decoder,
            &self.params,
            z,
            rows,
            &mut acts,
            self.products(),
        );
        acts.pop().expect("decoder has a layer")
    }

    /// Decoder output turned into pixel values: probabilities or means.
    fn to_pixels(&self, mut out: Vec<f32>) -> Vec<f32> {
        if self.config.likelihood == Likelihood::Bernoulli {
            out.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp()));
        }
        out
    }

    /// Decoder output for each code as pixel values: probabilities or means.
    pub fn decode_pixels(&self, z: &[f32]) -> Vec<f32> {
        self.to_pixels(self.decode(z))
    }

    /// Reconstruction through the code (μ for a VAE), as pixel values.
    pub fn reconstruct(&self, x: &[f32]) -> Vec<f32> {
        self.to_pixels(self.decode(&self.encode(x).0))
    }

    /// `n` samples from the prior N(0, I) pushed through the decoder, as pixel values.
    pub fn sample(&self, n: usize, seed: u64) -> Vec<f32> {
        let mut z = vec![0.0f32; n * self.arch.latent()];
        Rng::stream(seed, Stream::Evaluation, 0, 0).fill_normal(&mut z);
        self.to_pixels(self.decode(&z))
    }

    /// Reconstruction loss and KL per example. A VAE decodes one reparameterised sample drawn
    /// with `seed` (the single-sample ELBO); other variants decode their code.
    pub fn per_example_losses(&self, x: &[f32], seed: u64) -> PerExample {
        let rows = self.rows_of(x, self.arch.input_dim());
        let l = self.arch.latent();
        let (code, lv) = self.encode(x);
        let mut kl = vec![0.0f64; rows];
        let z = match lv {
            Some(lv) => {
                let mut stats = Vec::with_capacity(rows * 2 * l);
                for r in 0..rows {
                    stats.extend_from_slice(&code[r * l..(r + 1) * l]);
                    stats.extend_from_slice(&lv[r * l..(r + 1) * l]);
                }
                let mut eps = vec![0.0f32; rows * l];
                Rng::stream(seed, Stream::Evaluation, 1, 0).fill_normal(&mut eps);
                let mut z = vec![0.0f32; rows * l];
                kernels::reparameterize(&stats, &eps, l, &mut z, &mut kl);
                z
            }
            None => code,
        };
        let out = self.decode(&z);
        let mut recon = vec![0.0f64; rows];
        kernels::reconstruction(
            self.config.likelihood,
            &out,
            x,
            self.arch.input_dim(),
            &mut recon,
            None,
        );
        PerExample { recon, kl }
    }

    /// log p(x|z) up to the loss: for the Gaussian likelihood the loss Σ(x−m)² is the negative
    /// log-density of N(m, ½) less D·½·ln π.
    fn log_likelihood_offset(&self) -> f64 {
        match self.config.likelihood {
            Likelihood::Bernoulli => 0.0,
            Likelihood::Gaussian => -0.5 * self.arch.input_dim() as f64 * std::f64::consts::PI.ln(),
        }
    }

    /// Importance-weighted bound per example with `k` samples:
    /// log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x), z_i ~ q(z|x). Needs a VAE.
    pub fn iwae_bound(&self, x: &[f32], k: usize, seed: u64) -> Result<Vec<f64>, ModelError> {
        if !self.config.is_vae() || k == 0 {
            return Err(ModelError::Config(
                "the IWAE bound needs a vae model and k >= 1".into(),
            ));
        }
        let (dim, l) = (self.arch.input_dim(), self.arch.latent());
        let rows = self.rows_of(x, dim);
        let (mu, lv) = self.encode(x);
        let lv = lv.expect("vae has log-variances");
        let per_chunk = (IWAE_ROWS_PER_CHUNK / k).max(1);
        let mut bounds = Vec::with_capacity(rows);
        for (ci, start) in (0..rows).step_by(per_chunk).enumerate() {
            let n = per_chunk.min(rows - start);
            let mut eps = vec![0.0f32; n * k * l];
            Rng::stream(seed, Stream::Evaluation, 2, ci as u64).fill_normal(&mut eps);
            let mut z = vec![0.0f32; n * k * l];
            let mut targets = Vec::with_capacity(n * k * dim);
            // log p(z) − log q(z|x) per (example, sample) row; the ½ln2π terms cancel.
            let mut log_ratio = vec![0.0f64; n * k];
            for r in 0..n {
                let (m, v) = (&mu[(start + r) * l..][..l], &lv[(start + r) * l..][..l]);
                for s in 0..k {
                    let row = r * k + s;
                    for j in 0..l {
                        let e = eps[row * l + j];
                        let zj = m[j] + (0.5 * v[j]).exp() * e;
                        z[row * l + j] = zj;
                        log_ratio[row] += -0.5 * (zj as f64).powi(2)
                            + 0.5 * (e as f64).powi(2)
                            + 0.5 * v[j] as f64;
                    }
                    targets.extend_from_slice(&x[(start + r) * dim..][..dim]);
                }
            }
            let out = self.decode(&z);
            let mut recon = vec![0.0f64; n * k];
            kernels::reconstruction(
                self.config.likelihood,
                &out,
                &targets,
                dim,
                &mut recon,
                None,
            );
            let offset = self.log_likelihood_offset();
            for r in 0..n {
                let w: Vec<f64> = (0..k)
                    .map(|s| -recon[r * k + s] + offset + log_ratio[r * k + s])
                    .collect();
                let max = w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let lme = max + (w.iter().map(|v| (v - max).exp()).sum::<f64>() / k as f64).ln();
                bounds.push(lme);
            }
        }
        Ok(bounds)
    }
}
