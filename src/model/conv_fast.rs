//! The CPU fast path of a conv model's convolutions: each layer gathers its patches (im2col)
//! into a matrix, multiplies it by the filters with the MLP's matrix product and applies the
//! fused bias + activation kernel; backward takes the filter gradient as patchesᵀ·δ and
//! scatters δ·Wᵀ back onto the input pixels (col2im).
//!
//! Patches and scatters run image by image (one rayon task per image, a fixed order inside
//! it), so results do not depend on the thread count. [`super::conv_ops`] is the dfdx
//! reference this is checked against.
use rayon::prelude::*;

use super::conv::ConvLayer;
use super::kernels;
use super::linalg::{matmul, plain, trans, Real};

/// Buffers of one conv stack (encoder or decoder), reused across steps.
#[derive(Default)]
pub struct ConvBuffers<T> {
    /// Each layer's patch matrix, `(rows · h_out · w_out) × (k · k · c_in)`.
    patches: Vec<Vec<T>>,
    /// Each layer's post-activation output, `(rows · h_out · w_out) × c_out`.
    pub acts: Vec<Vec<T>>,
    dpatch: Vec<T>,
    scratch: Vec<T>,
    /// Each layer's patch sources ([`ConvLayer::sources`]), computed once.
    sources: Vec<Vec<Option<u32>>>,
}

fn grow<T: Real>(v: &mut Vec<T>, len: usize) {
    if v.len() < len {
        v.resize(len, T::zero());
    }
}

impl<T: Real> ConvBuffers<T> {
    pub fn new(layers: &[ConvLayer]) -> Self {
        Self {
            patches: vec![Vec::new(); layers.len()],
            acts: vec![Vec::new(); layers.len()],
            sources: layers.iter().map(ConvLayer::sources).collect(),
            ..Self::default()
        }
    }
}

/// Patch matrix of `rows` channels-last images `x` into `out`.
fn im2col<T: Real>(l: &ConvLayer, sources: &[Option<u32>], x: &[T], rows: usize, out: &mut [T]) {
    let c = l.c_in;
    let image = l.h_in * l.w_in * c;
    let per_image = sources.len() * c;
    out[..rows * per_image]
        .par_chunks_mut(per_image)
        .enumerate()
        .for_each(|(r, o)| {
            let img = &x[r * image..(r + 1) * image];
            for (dst, s) in o.chunks_exact_mut(c).zip(sources) {
                match s {
                    Some(s) => dst.copy_from_slice(&img[*s as usize * c..(*s as usize + 1) * c]),
                    None => dst.fill(T::zero()),
                }
            }
        });
}

/// Adjoint of [`im2col`]: patch gradients `dp` summed onto the input pixels they came from.
fn col2im<T: Real>(l: &ConvLayer, sources: &[Option<u32>], dp: &[T], rows: usize, dx: &mut [T]) {
    let c = l.c_in;
    let image = l.h_in * l.w_in * c;
    let per_image = sources.len() * c;
    dx[..rows * image]
        .par_chunks_mut(image)
        .enumerate()
        .for_each(|(r, d)| {
            d.fill(T::zero());
            let p = &dp[r * per_image..(r + 1) * per_image];
            for (src, s) in p.chunks_exact(c).zip(sources) {
                if let Some(s) = s {
                    let s = *s as usize * c;
                    d[s..s + c].iter_mut().zip(src).for_each(|(d, &g)| *d += g);
                }
            }
        });
}

/// Runs `input` (`rows` images of the first layer's input) through `layers`; each layer's
/// output lands in `bufs.acts`.
pub fn forward<T: Real>(
    layers: &[ConvLayer],
    params: &[T],
    input: &[T],
    rows: usize,
    bufs: &mut ConvBuffers<T>,
    threads: usize,
) {
    for (i, l) in layers.iter().enumerate() {
        let (m, k, n) = (rows * l.h_out * l.w_out, l.dense.fan_in, l.dense.fan_out);
        let (done, rest) = bufs.acts.split_at_mut(i);
        let x = if i == 0 { input } else { &done[i - 1][..] };
        grow(&mut bufs.patches[i], m * k);
        im2col(l, &bufs.sources[i], x, rows, &mut bufs.patches[i]);
        let y = &mut rest[0];
        grow(y, m * n);
        let w = &params[l.dense.weight()];
        let p = &bufs.patches[i][..m * k];
        matmul(m, n, k, &mut y[..m * n], plain(p), plain(w), false, threads);
        let bias = &params[l.dense.bias()];
        kernels::bias_activation(&mut y[..m * n], bias, n, l.dense.activation);
    }
}

/// Backward through `layers` after [`forward`]. On entry `delta` holds dL/d(pre-activation)
/// of the last layer's output; filter gradients are *written* into `grads`. With
/// `input_grad`, `delta` leaves holding dL/d input (before any activation of its producer).
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Real>(
    layers: &[ConvLayer],
    params: &[T],
    grads: &mut [T],
    rows: usize,
    bufs: &mut ConvBuffers<T>,
    delta: &mut Vec<T>,
    input_grad: bool,
    threads: usize,
) {
    // `delta` and `scratch` trade places per layer; both must fit every layer's maps.
    let widest = layers
        .iter()
        .map(|l| rows * (l.h_in * l.w_in * l.c_in).max(l.h_out * l.w_out * l.c_out()))
        .max()
        .unwrap_or(0)
        .max(delta.len());
    grow(delta, widest);
    grow(&mut bufs.scratch, widest);
    for (i, l) in layers.iter().enumerate().rev() {
        let (m, k, n) = (rows * l.h_out * l.w_out, l.dense.fan_in, l.dense.fan_out);
        let d = &delta[..m * n];
        let p = &bufs.patches[i][..m * k];
        matmul(k, n, m, &mut grads[l.dense.weight()], trans(p), plain(d), false, threads);
        kernels::bias_grad(&mut grads[l.dense.bias()], d, m, n);
        if i == 0 && !input_grad {
            break;
        }
        grow(&mut bufs.dpatch, m * k);
        let w = &params[l.dense.weight()];
        matmul(m, k, n, &mut bufs.dpatch[..m * k], plain(d), trans(w), false, threads);
        let dx_len = rows * l.h_in * l.w_in * l.c_in;
        col2im(l, &bufs.sources[i], &bufs.dpatch, rows, &mut bufs.scratch[..dx_len]);
        if i > 0 {
            let prev = &layers[i - 1].dense;
            let a = &bufs.acts[i - 1][..dx_len];
            kernels::activation_backward(&mut bufs.scratch[..dx_len], a, l.c_in, prev.activation);
        }
        std::mem::swap(delta, &mut bufs.scratch);
    }
}
