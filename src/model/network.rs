//! Runtime-sized MLP encoder/decoder on one flat parameter buffer, with the hand-written
//! forward/backward of a full training step (the CPU fast path).
use std::ops::Range;

use super::config::{Activation, ModelConfig};
use super::kernels;
use super::linalg::{matmul, plain, trans, Real};
use super::rng::{Rng, Stream};
use super::size::ModelShape;
use super::ModelError;

/// One affine layer `y = act(x W + b)`, `W` stored row-major as `fan_in × fan_out`.
#[derive(Debug, Clone)]
pub struct Layer {
    pub fan_in: usize,
    pub fan_out: usize,
    /// Offset of `W` in the flat parameter buffer; `b` follows it.
    pub offset: usize,
    pub activation: Activation,
}

impl Layer {
    pub fn weight(&self) -> Range<usize> {
        self.offset..self.offset + self.fan_in * self.fan_out
    }
    pub fn bias(&self) -> Range<usize> {
        let start = self.offset + self.fan_in * self.fan_out;
        start..start + self.fan_out
    }
}

/// Layer layout of a configured model.
#[derive(Debug, Clone)]
pub struct Architecture {
    pub config: ModelConfig,
    pub encoder: Vec<Layer>,
    pub decoder: Vec<Layer>,
    pub param_count: usize,
}

fn build_stack(dims: &[usize], act: Activation, offset: &mut usize) -> Vec<Layer> {
    let n = dims.len() - 1;
    (0..n)
        .map(|i| {
            let layer = Layer {
                fan_in: dims[i],
                fan_out: dims[i + 1],
                offset: *offset,
                // The last layer of each stack emits logits / means / Gaussian stats.
                activation: if i + 1 == n {
                    Activation::Identity
                } else {
                    act
                },
            };
            *offset += dims[i] * dims[i + 1] + dims[i + 1];
            layer
        })
        .collect()
}

impl Architecture {
    pub fn new(config: &ModelConfig) -> Result<Self, ModelError> {
        config.validate()?;
        let act = config.hidden_activation();
        let (enc_dims, dec_dims) = ModelShape {
            input_dim: config.input_dim,
            hidden: config.hidden.clone(),
            latent_dim: config.latent_dim,
            variational: config.is_vae(),
        }
        .stacks();
        let mut offset = 0;
        let encoder = build_stack(&enc_dims, act, &mut offset);
        let decoder = build_stack(&dec_dims, act, &mut offset);
        Ok(Self {
            config: config.clone(),
            encoder,
            decoder,
            param_count: offset,
        })
    }

    pub fn latent(&self) -> usize {
        self.config.latent_dim
    }

    pub fn input_dim(&self) -> usize {
        self.config.input_dim
    }

    /// Widest activation of either stack, for sizing scratch buffers.
    pub fn max_width(&self) -> usize {
        self.encoder
            .iter()
            .chain(&self.decoder)
            .map(|l| l.fan_in.max(l.fan_out))
            .max()
            .unwrap_or(1)
    }

    /// PyTorch's `nn.Linear` default: W, b ~ U(−1/√fan_in, 1/√fan_in).
    pub fn init_params<T: Real>(&self, seed: u64) -> Result<Vec<T>, ModelError> {
        let mut params = super::alloc::filled(self.param_count, T::zero(), "the model parameters")?;
        let mut rng = Rng::stream(seed, Stream::Init, 0, 0);
        for layer in self.encoder.iter().chain(&self.decoder) {
            let bound = 1.0 / (layer.fan_in as f64).sqrt();
            for p in &mut params[layer.offset..layer.bias().end] {
                *p = T::from_f64((2.0 * rng.uniform() as f64 - 1.0) * bound);
            }
        }
        Ok(params)
    }

    /// Checkpoint names, ranges and shapes of every tensor, in buffer order.
    pub fn named_tensors(&self) -> Vec<(String, Range<usize>, Vec<usize>)> {
        let mut out = Vec::new();
        for (stack, layers) in [("encoder", &self.encoder), ("decoder", &self.decoder)] {
            for (i, l) in layers.iter().enumerate() {
                out.push((
                    format!("{stack}.{i}.weight"),
                    l.weight(),
                    vec![l.fan_in, l.fan_out],
                ));
                out.push((format!("{stack}.{i}.bias"), l.bias(), vec![l.fan_out]));
            }
        }
        out
    }
}

/// Runs `input` (rows × fan_in of the first layer) through `layers`, writing each layer's
/// post-activation output into `acts[i]` (resized to fit).
pub fn forward_stack<T: Real>(
    layers: &[Layer],
    params: &[T],
    input: &[T],
    rows: usize,
    acts: &mut [Vec<T>],
    threads: usize,
) {
    for (i, layer) in layers.iter().enumerate() {
        let (done, rest) = acts.split_at_mut(i);
        let x = if i == 0 {
            input
        } else {
            &done[i - 1][..rows * layer.fan_in]
        };
        let y = &mut rest[0];
        if y.len() < rows * layer.fan_out {
            y.resize(rows * layer.fan_out, T::zero());
        }
        let y = &mut y[..rows * layer.fan_out];
        let w = &params[layer.weight()];
        matmul(
            rows,
            layer.fan_out,
            layer.fan_in,
            y,
            plain(x),
            plain(w),
            false,
            threads,
        );
        kernels::bias_activation(y, &params[layer.bias()], layer.fan_out, layer.activation);
    }
}

/// Backward through `layers`. On entry `delta[..rows*fan_out_last]` holds dL/d(pre-activation)
/// of the last layer; gradients are *written* (not added) into `grads`. When `input_grad` is set,
/// `delta` leaves holding dL/d input; otherwise the first layer's input gradient is skipped.
#[allow(clippy::too_many_arguments)]
pub fn backward_stack<T: Real>(
    layers: &[Layer],
    params: &[T],
    grads: &mut [T],
    input: &[T],
    acts: &[Vec<T>],
    rows: usize,
    delta: &mut Vec<T>,
    scratch: &mut Vec<T>,
    input_grad: bool,
    threads: usize,
) {
    for (i, layer) in layers.iter().enumerate().rev() {
        let (fi, fo) = (layer.fan_in, layer.fan_out);
        let x = if i == 0 {
            &input[..rows * fi]
        } else {
            &acts[i - 1][..rows * fi]
        };
        let d = &delta[..rows * fo];
        matmul(
            fi,
            fo,
            rows,
            &mut grads[layer.weight()],
            trans(x),
            plain(d),
            false,
            threads,
        );
        kernels::bias_grad(&mut grads[layer.bias()], d, rows, fo);
        if i == 0 && !input_grad {
            break;
        }
        let w = &params[layer.weight()];
        matmul(
            rows,
            fi,
            fo,
            &mut scratch[..rows * fi],
            plain(d),
            trans(w),
            false,
            threads,
        );
        if i > 0 {
            let prev = layers[i - 1].activation;
            kernels::activation_backward(&mut scratch[..rows * fi], x, fi, prev);
        }
        std::mem::swap(delta, scratch);
    }
}
