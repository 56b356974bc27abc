//! The same objective built from dfdx tensor ops on runtime-shaped tensors with dfdx's
//! autodiff: the reference the fast path's hand-written backward is checked against, and the
//! device path ([`super::resident`]) whose parameters stay on a dfdx device between steps.
use std::ops::Range;

use dfdx::prelude::*;

use super::config::{Activation, Likelihood};
use super::conv_ops::conv_stack;
use super::linalg::Real;
use super::network::{Architecture, Layer};
use super::objective::{Batch, LossSums, TermWeights};

type Mat<E, D, T = NoneTape> = Tensor<(usize, usize), E, D, T>;
type Taped<E, D> = Mat<E, D, OwnedTape<E, D>>;

/// One layer's parameters — or anything shaped like them: gradients, Adam moments.
#[derive(Clone)]
pub struct LayerTensors<E: Dtype, D: Device<E>> {
    pub w: Mat<E, D>,
    pub b: Tensor<(usize,), E, D>,
}

/// Where one [`LayerTensors`] sits in the flat buffer: a layer and a range of its output
/// columns (the VAE head is split into its μ and log σ² columns so each is its own tensor).
#[derive(Debug, Clone)]
struct Piece {
    layer: Layer,
    cols: Range<usize>,
}

/// Pieces in a fixed order: convolutions (conv only), hidden encoder layers, the μ head, the
/// log σ² head (VAE only), decoder layers, transposed convolutions (conv only).
fn pieces(arch: &Architecture) -> Vec<Piece> {
    let n_enc = arch.encoder.len();
    let latent = arch.latent();
    let full = |l: &Layer| Piece {
        layer: l.clone(),
        cols: 0..l.fan_out,
    };
    let head = &arch.encoder[n_enc - 1];
    let mut out: Vec<Piece> = arch.conv_encoder.iter().map(|c| full(&c.dense)).collect();
    out.extend(arch.encoder[..n_enc - 1].iter().map(full));
    out.push(Piece {
        layer: head.clone(),
        cols: 0..latent,
    });
    if arch.config.is_vae() {
        out.push(Piece {
            layer: head.clone(),
            cols: latent..2 * latent,
        });
    }
    out.extend(arch.decoder.iter().map(full));
    out.extend(arch.conv_decoder.iter().map(|c| full(&c.dense)));
    out
}

/// Every parameter of a model (or a buffer of the same layout) as device tensors.
#[derive(Clone)]
pub struct DeviceParams<E: Dtype, D: Device<E>> {
    pieces: Vec<Piece>,
    pub tensors: Vec<LayerTensors<E, D>>,
    /// Pieces before the dense encoder (its convolutions), and after the dense decoder.
    convs: usize,
    hidden_encoder: usize,
    vae: bool,
}

impl<E: Dtype + Real, D: Device<E>> DeviceParams<E, D> {
    /// Copies `flat` (in [`Architecture`]'s layout) onto `dev`.
    pub fn upload(dev: &D, arch: &Architecture, flat: &[E]) -> Self {
        assert_eq!(
            flat.len(),
            arch.param_count,
            "flat buffer has the wrong length"
        );
        let pieces = pieces(arch);
        let tensors = pieces
            .iter()
            .map(|Piece { layer, cols }| {
                let (fi, fo, width) = (layer.fan_in, layer.fan_out, cols.len());
                let w_all = &flat[layer.weight()];
                let mut w = Vec::with_capacity(fi * width);
                for r in 0..fi {
                    w.extend_from_slice(&w_all[r * fo + cols.start..r * fo + cols.end]);
                }
                let b = flat[layer.bias()][cols.clone()].to_vec();
                LayerTensors {
                    w: dev.tensor_from_vec(w, (fi, width)),
                    b: dev.tensor_from_vec(b, (width,)),
                }
            })
            .collect();
        Self {
            pieces,
            tensors,
            convs: arch.conv_encoder.len(),
            hidden_encoder: arch.encoder.len() - 1,
            vae: arch.config.is_vae(),
        }
    }

    /// Copies the tensors back into `flat`, in [`Architecture`]'s layout.
    pub fn download(&self, flat: &mut [E]) {
        for (Piece { layer, cols }, t) in self.pieces.iter().zip(&self.tensors) {
            let (gw, gb) = (t.w.as_vec(), t.b.as_vec());
            let (fo, width) = (layer.fan_out, cols.len());
            for r in 0..layer.fan_in {
                let dst = layer.weight().start + r * fo + cols.start;
                flat[dst..dst + width].copy_from_slice(&gw[r * width..(r + 1) * width]);
            }
            let b = layer.bias().start + cols.start;
            flat[b..b + width].copy_from_slice(&gb);
        }
    }

    /// The gradients of these parameters recorded in `g`, in the same layout.
    pub fn gradients_in(&self, g: &Gradients<E, D>) -> Self {
        let tensors = self
            .tensors
            .iter()
            .map(|t| LayerTensors {
                w: g.get(&t.w),
                b: g.get(&t.b),
            })
            .collect();
        Self {
            tensors,
            ..self.clone()
        }
    }

    fn layer(&self, i: usize) -> (&LayerTensors<E, D>, Activation) {
        (&self.tensors[i], self.pieces[i].layer.activation)
    }
}

pub(super) fn dense<E: Dtype, D: Device<E>>(x: Taped<E, D>, p: &LayerTensors<E, D>) -> Taped<E, D> {
    let rows = x.shape().0;
    let cols = p.w.shape().1;
    let bias = p.b.clone().broadcast_like::<_, Axis<0>>(&(rows, cols));
    x.matmul(p.w.clone()) + bias
}

pub(super) fn activate<E: Dtype + Real, D: Device<E>>(
    x: Taped<E, D>,
    act: Activation,
) -> Taped<E, D> {
    let c = |v: f64| <E as Real>::from_f64(v);
    // exp(min(x, 0)) − 1 written with ops dfdx has, for ELU/SELU.
    let neg_part = |x: &Taped<E, D>| (-x.with_empty_tape()).relu().negate().exp() - c(1.0);
    match act {
        Activation::Identity => x,
        Activation::Relu => x.relu(),
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => x.sigmoid(),
        Activation::LeakyRelu => {
            let neg = (-x.with_empty_tape()).relu() * c(0.01);
            x.relu() - neg
        }
        Activation::Elu => {
            let n = neg_part(&x);
            x.relu() + n
        }
        Activation::Selu => {
            let (alpha, scale) = (1.673_263_242_354_377_3, 1.050_700_987_355_480_5);
            let n = neg_part(&x) * c(alpha);
            (x.relu() + n) * c(scale)
        }
    }
}

fn stack<E: Dtype + Real, D: Device<E>>(
    mut x: Taped<E, D>,
    p: &DeviceParams<E, D>,
    layers: Range<usize>,
) -> Taped<E, D> {
    for i in layers {
        let (t, act) = p.layer(i);
        x = activate(dense(x, t), act);
    }
    x
}

/// Loss sums of `batch` under `p`, and the gradients of the batch-mean objective when
/// `want_grads` (the graph is recorded either way; evaluation batches are few).
pub fn objective<E, D>(
    dev: &D,
    arch: &Architecture,
    p: &DeviceParams<E, D>,
    batch: &Batch<'_, E>,
    weights: TermWeights,
    want_grads: bool,
) -> (LossSums, Option<Gradients<E, D>>)
where
    E: Dtype + Real,
    D: Device<E>,
{
    let rows = batch.rows;
    let (dim, latent) = (arch.input_dim(), arch.latent());
    let c = |v: f64| <E as Real>::from_f64(v);
    let x: Mat<E, D> = dev.tensor_from_vec(batch.input.to_vec(), (rows, dim));
    let target: Mat<E, D> = dev.tensor_from_vec(batch.target.to_vec(), (rows, dim));
    let convs = p.convs;
    let mut h = x.leaky_traced();
    if convs > 0 {
        h = conv_stack(dev, h, &arch.conv_encoder, &p.tensors[..convs]);
    }
    let n_hidden = convs + p.hidden_encoder;
    let h = stack(h, p, convs..n_hidden);
    let h2 = h.with_empty_tape();
    let mu = dense(h, p.layer(n_hidden).0);
    let (z, kl, decoder_from) = if p.vae {
        let lv = dense(h2, p.layer(n_hidden + 1).0);
        let eps: Mat<E, D> = dev.tensor_from_vec(
            batch.eps.expect("VAE batch has eps").to_vec(),
            (rows, latent),
        );
        let z = mu.with_empty_tape() + (lv.with_empty_tape() * c(0.5)).exp() * eps;
        // KL = −½ Σ (1 + lv − μ² − e^{lv})
        let kl =
            ((lv.with_empty_tape() + E::one()) - mu.square() - lv.exp()).sum::<(), _>() * c(-0.5);
        (z, Some(kl), n_hidden + 2)
    } else {
        (mu, None, n_hidden + 1)
    };
    let l1 = (weights.l1 > 0.0 && !p.vae)
        .then(|| z.with_empty_tape().abs().sum::<(), _>() * c(weights.l1));
    let deconvs = p.tensors.len() - convs;
    let mut out = stack(z, p, decoder_from..deconvs);
    if convs > 0 {
        out = conv_stack(dev, out, &arch.conv_decoder, &p.tensors[deconvs..]);
    }
    let recon = match arch.config.likelihood {
        Likelihood::Bernoulli => out.bce_with_logits(target).sum::<(), _>(),
        Likelihood::Gaussian => (out - target).square().sum::<(), _>(),
    };
    let value =
        |t: &Tensor<(), E, D, OwnedTape<E, D>>| t.retaped::<NoneTape>().as_vec()[0].to_f64();
    let scale = c(1.0 / rows as f64);
    let mut sums = LossSums {
        recon: value(&recon),
        ..LossSums::default()
    };
    let mut total = recon * scale;
    if let Some(kl) = kl {
        sums.kl = value(&kl);
        total = total + kl * (c(weights.kl) * scale);
    }
    if let Some(l1) = l1 {
        sums.l1 = value(&l1);
        total = total + l1 * scale;
    }
    (sums, want_grads.then(|| total.backward()))
}

/// Loss sums and gradients of the batch-mean objective for host-side `params`, in the flat
/// layout of [`Architecture`].
pub fn loss_and_grad<E, D>(
    dev: &D,
    arch: &Architecture,
    params: &[E],
    batch: &Batch<'_, E>,
    weights: TermWeights,
) -> (LossSums, Vec<E>)
where
    E: Dtype + Real,
    D: Device<E>,
{
    let p = DeviceParams::upload(dev, arch, params);
    let (sums, g) = objective(dev, arch, &p, batch, weights, true);
    let mut grads = vec![E::zero(); arch.param_count];
    p.gradients_in(&g.expect("gradients were requested"))
        .download(&mut grads);
    (sums, grads)
}
