//! Runtime-sized MLP encoder/decoder on one flat parameter buffer, with the hand-written
//! forward/backward of a full training step (the CPU fast path).
use std::ops::Range;

use super::config::{Activation, ModelConfig};
use super::conv::ConvLayer;
use super::kernels;
use super::linalg::{matmul, plain, trans, GemmRelease, Products, Real};
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
    /// Dense layers; for a conv model the encoder's start at the flattened feature map and the
    /// decoder's end there.
    pub encoder: Vec<Layer>,
    pub decoder: Vec<Layer>,
    /// Convolutions before `encoder` and transposed convolutions after `decoder` (conv only).
    pub conv_encoder: Vec<ConvLayer>,
    pub conv_decoder: Vec<ConvLayer>,
    pub param_count: usize,
}

/// Dense layers of `dims`; the last emits logits / means / Gaussian stats (identity) unless
/// `act_last` (a conv decoder's dense layers feed further layers).
fn build_stack(dims: &[usize], act: Activation, act_last: bool, offset: &mut usize) -> Vec<Layer> {
    let n = dims.len() - 1;
    (0..n)
        .map(|i| {
            let layer = Layer {
                fan_in: dims[i],
                fan_out: dims[i + 1],
                offset: *offset,
                // The last layer of each stack emits logits / means / Gaussian stats.
                activation: if i + 1 == n && !act_last {
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
        let mut offset = 0;
        // Buffer order: convolutions, transposed convolutions, dense encoder, dense decoder.
        let (conv_encoder, conv_decoder, shape) = match &config.conv {
            None => (
                Vec::new(),
                Vec::new(),
                ModelShape {
                    input_dim: config.input_dim,
                    hidden: config.hidden.clone(),
                    latent_dim: config.latent_dim,
                    variational: config.is_vae(),
                },
            ),
            Some(layout) => {
                let (enc, dec) = layout
                    .layers(act, &mut offset)
                    .map_err(ModelError::Config)?;
                let shape = ModelShape {
                    input_dim: layout.flat_dim().map_err(ModelError::Config)?,
                    hidden: vec![layout.dense],
                    latent_dim: config.latent_dim,
                    variational: config.is_vae(),
                };
                (enc, dec, shape)
            }
        };
        let (enc_dims, dec_dims) = shape.stacks();
        let encoder = build_stack(&enc_dims, act, false, &mut offset);
        let decoder = build_stack(&dec_dims, act, config.conv.is_some(), &mut offset);
        Ok(Self {
            config: config.clone(),
            encoder,
            decoder,
            conv_encoder,
            conv_decoder,
            param_count: offset,
        })
    }

    pub fn is_conv(&self) -> bool {
        !self.conv_encoder.is_empty()
    }

    /// How this model's products run on `threads`: conv models (every product, dense ones
    /// too) on gemm 0.19's faster kernels, MLPs on 0.15, which their cached runs were made with.
    pub fn products(&self, threads: usize) -> Products {
        let gemm = if self.is_conv() {
            GemmRelease::V0_19
        } else {
            GemmRelease::V0_15
        };
        Products { gemm, threads }
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

    /// PyTorch's defaults: W, b ~ U(−1/√fan_in, 1/√fan_in), where a convolution's fan_in is
    /// its patch size `k·k·c_in` (for a transposed one too: its patches are what it reads).
    pub fn init_params<T: Real>(&self, seed: u64) -> Result<Vec<T>, ModelError> {
        let mut params = super::alloc::filled(self.param_count, T::zero(), "the model parameters")?;
        let mut rng = Rng::stream(seed, Stream::Init, 0, 0);
        for layer in self.all_dense() {
            let bound = 1.0 / (layer.fan_in as f64).sqrt();
            for p in &mut params[layer.offset..layer.bias().end] {
                *p = T::from_f64((2.0 * rng.uniform() as f64 - 1.0) * bound);
            }
        }
        Ok(params)
    }

    /// Every layer's filters/weights as a dense layer, in buffer order.
    fn all_dense(&self) -> impl Iterator<Item = &Layer> {
        let convs = self.conv_encoder.iter().chain(&self.conv_decoder);
        convs
            .map(|c| &c.dense)
            .chain(&self.encoder)
            .chain(&self.decoder)
    }

    /// Checkpoint names, ranges and shapes of every tensor, in buffer order.
    pub fn named_tensors(&self) -> Vec<(String, Range<usize>, Vec<usize>)> {
        let mut out = Vec::new();
        for (name, layers) in [("conv", &self.conv_encoder), ("deconv", &self.conv_decoder)] {
            for (i, c) in layers.iter().enumerate() {
                let (k, l) = (c.kernel, &c.dense);
                let shape = vec![k, k, c.c_in, l.fan_out];
                out.push((format!("{name}.{i}.weight"), l.weight(), shape));
                out.push((format!("{name}.{i}.bias"), l.bias(), vec![l.fan_out]));
            }
        }
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
    with: Products,
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
            with,
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
    with: Products,
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
            with,
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
            with,
        );
        if i > 0 {
            let prev = layers[i - 1].activation;
            kernels::activation_backward(&mut scratch[..rows * fi], x, fi, prev);
        }
        std::mem::swap(delta, scratch);
    }
}
