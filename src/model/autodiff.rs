//! The same objective built from dfdx tensor ops on runtime-shaped tensors with dfdx's
//! autodiff: the reference the fast path's hand-written backward is checked against, and the
//! generic path that runs on any dfdx device (CUDA included).
use dfdx::prelude::*;

use super::config::{Activation, Likelihood};
use super::linalg::Real;
use super::network::{Architecture, Layer};
use super::objective::{Batch, LossSums, TermWeights};

type Mat<E, D, T = NoneTape> = Tensor<(usize, usize), E, D, T>;
type Taped<E, D> = Mat<E, D, OwnedTape<E, D>>;

/// Layer parameters as device tensors; the VAE head is split into its μ and log σ² columns.
struct LayerTensors<E: Dtype, D: Device<E>> {
    w: Mat<E, D>,
    b: Tensor<(usize,), E, D>,
}

fn upload<E: Dtype, D: Device<E>>(
    dev: &D,
    params: &[E],
    layer: &Layer,
    cols: std::ops::Range<usize>,
) -> LayerTensors<E, D> {
    let (fi, fo) = (layer.fan_in, layer.fan_out);
    let w_all = &params[layer.weight()];
    let b_all = &params[layer.bias()];
    let width = cols.len();
    let mut w = Vec::with_capacity(fi * width);
    for r in 0..fi {
        w.extend_from_slice(&w_all[r * fo + cols.start..r * fo + cols.end]);
    }
    LayerTensors {
        w: dev.tensor_from_vec(w, (fi, width)),
        b: dev.tensor_from_vec(b_all[cols].to_vec(), (width,)),
    }
}

fn dense<E: Dtype, D: Device<E>>(x: Taped<E, D>, p: &LayerTensors<E, D>) -> Taped<E, D> {
    let rows = x.shape().0;
    let cols = p.w.shape().1;
    let bias = p.b.clone().broadcast_like::<_, Axis<0>>(&(rows, cols));
    x.matmul(p.w.clone()) + bias
}

fn activate<E: Dtype + Real, D: Device<E>>(x: Taped<E, D>, act: Activation) -> Taped<E, D> {
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
    layers: &[(LayerTensors<E, D>, Activation)],
) -> Taped<E, D> {
    for (p, act) in layers {
        x = activate(dense(x, p), *act);
    }
    x
}

/// Loss sums and (when `want_grads`) gradients of the batch-mean objective for `params`,
/// in the flat layout of [`Architecture`].
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
    let rows = batch.rows;
    let (dim, latent) = (arch.input_dim(), arch.latent());
    let vae = arch.config.is_vae();
    let n_enc = arch.encoder.len();
    let full = |l: &Layer| 0..l.fan_out;
    let enc: Vec<_> = arch.encoder[..n_enc - 1]
        .iter()
        .map(|l| (upload(dev, params, l, full(l)), l.activation))
        .collect();
    let head = &arch.encoder[n_enc - 1];
    let mu_p = upload(dev, params, head, 0..latent);
    let lv_p = vae.then(|| upload(dev, params, head, latent..2 * latent));
    let dec: Vec<_> = arch
        .decoder
        .iter()
        .map(|l| (upload(dev, params, l, full(l)), l.activation))
        .collect();

    let x: Mat<E, D> = dev.tensor_from_vec(batch.input.to_vec(), (rows, dim));
    let target: Mat<E, D> = dev.tensor_from_vec(batch.target.to_vec(), (rows, dim));
    let h = stack(x.leaky_traced(), &enc);
    let h2 = h.with_empty_tape();
    let mu = dense(h, &mu_p);
    let scale = <E as Real>::from_f64(1.0 / rows as f64);
    let (z, kl) = match &lv_p {
        Some(lv_p) => {
            let lv = dense(h2, lv_p);
            let eps: Mat<E, D> = dev.tensor_from_vec(
                batch.eps.expect("VAE batch has eps").to_vec(),
                (rows, latent),
            );
            let z = mu.with_empty_tape()
                + (lv.with_empty_tape() * <E as Real>::from_f64(0.5)).exp() * eps;
            // KL = −½ Σ (1 + lv − μ² − e^{lv})
            let kl = ((lv.with_empty_tape() + E::one()) - mu.square() - lv.exp()).sum::<(), _>()
                * <E as Real>::from_f64(-0.5);
            (z, Some(kl))
        }
        None => (mu, None),
    };
    let l1 = (weights.l1 > 0.0 && !vae)
        .then(|| z.with_empty_tape().abs().sum::<(), _>() * <E as Real>::from_f64(weights.l1));
    let out = stack(z, &dec);
    let recon = match arch.config.likelihood {
        Likelihood::Bernoulli => out.bce_with_logits(target).sum::<(), _>(),
        Likelihood::Gaussian => (out - target).square().sum::<(), _>(),
    };
    let value =
        |t: &Tensor<(), E, D, OwnedTape<E, D>>| t.retaped::<NoneTape>().as_vec()[0].to_f64();
    let mut sums = LossSums {
        recon: value(&recon),
        kl: 0.0,
        l1: 0.0,
    };
    let mut total = recon * scale;
    if let Some(kl) = kl {
        sums.kl = value(&kl);
        total = total + kl * (<E as Real>::from_f64(weights.kl) * scale);
    }
    if let Some(l1) = l1 {
        sums.l1 = value(&l1);
        total = total + l1 * scale;
    }
    let g = total.backward();

    let mut grads = vec![E::zero(); arch.param_count];
    let mut put = |layer: &Layer, p: &LayerTensors<E, D>, cols: std::ops::Range<usize>| {
        let (gw, gb) = (g.get(&p.w).as_vec(), g.get(&p.b).as_vec());
        let (fo, width) = (layer.fan_out, cols.len());
        for r in 0..layer.fan_in {
            let dst = layer.weight().start + r * fo + cols.start;
            grads[dst..dst + width].copy_from_slice(&gw[r * width..(r + 1) * width]);
        }
        let b = layer.bias().start + cols.start;
        grads[b..b + width].copy_from_slice(&gb);
    };
    for (layer, (p, _)) in arch.encoder.iter().zip(&enc) {
        put(layer, p, 0..layer.fan_out);
    }
    put(head, &mu_p, 0..latent);
    if let Some(lv_p) = &lv_p {
        put(head, lv_p, latent..2 * latent);
    }
    for (layer, (p, _)) in arch.decoder.iter().zip(&dec) {
        put(layer, p, 0..layer.fan_out);
    }
    (sums, grads)
}
