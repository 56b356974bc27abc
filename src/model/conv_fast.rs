//! The CPU fast path of a conv model's convolutions, on the MLP's matrix product and fused
//! bias + activation kernel: a convolution gathers its patches (im2col) and multiplies them by
//! the filters; a transposed convolution multiplies each input pixel by the filters and sums
//! the products into the output pixels (col2im). Backward is the same gathers and scatters
//! swapped.
//!
//! Patches and scatters run image by image (one rayon task per image, a fixed order inside
//! it), so results do not depend on the thread count. [`super::conv_ops`] is the dfdx
//! reference this is checked against.
use rayon::prelude::*;

/// Revision of what a conv model's training computes, bit for bit, hashed into conv train keys
/// (not MLP ones). Bump it when a change alters conv results in any bit. 1 (never written):
/// products on gemm 0.15. 2: products on gemm 0.19 ([`super::linalg::GemmRelease`]).
pub const REVISION: u32 = 2;

use super::conv::ConvLayer;
use super::kernels;
use super::linalg::{matmul, plain, trans, Products, Real};

/// Buffers of one conv stack (encoder or decoder), reused across steps.
#[derive(Default)]
pub struct ConvBuffers<T> {
    /// Each layer's product with the filters before it is summed into pixels: a convolution's
    /// patch matrix `(rows · h_out · w_out) × (k · k · c_in)`, a transposed convolution's
    /// per-input-pixel contributions `(rows · h_in · w_in) × (k · k · c_out)`.
    patches: Vec<Vec<T>>,
    /// Each layer's post-activation output, `(rows · h_out · w_out) × c_out`.
    pub acts: Vec<Vec<T>>,
    dpatch: Vec<T>,
    scratch: Vec<T>,
    /// Filters of a transposed convolution reordered `c_in × (k · k · c_out)`, and their grad.
    wperm: Vec<T>,
    /// Per layer: a convolution's patch sources ([`ConvLayer::sources`]); for a transposed one
    /// the same pairs seen from its input: the output pixel each (input pixel, tap) feeds.
    sources: Vec<Vec<Option<u32>>>,
}

fn grow<T: Real>(v: &mut Vec<T>, len: usize) {
    if v.len() < len {
        v.resize(len, T::zero());
    }
}

/// For a transposed convolution: (input pixel, tap) → the output pixel it adds into.
fn scatter_targets(l: &ConvLayer) -> Vec<Option<u32>> {
    let taps = l.kernel * l.kernel;
    let mut out = vec![None; l.h_in * l.w_in * taps];
    for (i, s) in l.sources().iter().enumerate() {
        if let Some(s) = s {
            out[*s as usize * taps + i % taps] = Some((i / taps) as u32);
        }
    }
    out
}

impl<T: Real> ConvBuffers<T> {
    pub fn new(layers: &[ConvLayer]) -> Self {
        let sources = |l: &ConvLayer| {
            if l.transposed {
                scatter_targets(l)
            } else {
                l.sources()
            }
        };
        Self {
            patches: vec![Vec::new(); layers.len()],
            acts: vec![Vec::new(); layers.len()],
            sources: layers.iter().map(sources).collect(),
            ..Self::default()
        }
    }
}

/// Gathers, for each of `rows` images of `image` values (`c` channels per pixel), the pixel
/// each entry of `sources` names (zeros for `None`) into `out`: im2col.
fn gather<T: Real>(
    image: usize,
    c: usize,
    sources: &[Option<u32>],
    x: &[T],
    rows: usize,
    out: &mut [T],
) {
    let per_image = sources.len() * c;
    out[..rows * per_image]
        .par_chunks_mut(per_image)
        .enumerate()
        .for_each(|(r, o)| {
            let img = &x[r * image..(r + 1) * image];
            // One channel (a first convolution, a last transposed one's gradient): a plain
            // indexed load, not a `copy_from_slice` call per value.
            if c == 1 {
                for (dst, s) in o.iter_mut().zip(sources) {
                    *dst = s.map_or(T::zero(), |s| img[s as usize]);
                }
                return;
            }
            for (dst, s) in o.chunks_exact_mut(c).zip(sources) {
                match s {
                    Some(s) => dst.copy_from_slice(&img[*s as usize * c..(*s as usize + 1) * c]),
                    None => dst.fill(T::zero()),
                }
            }
        });
}

/// Adjoint of [`gather`]: each entry of `dp` summed onto the pixel its source names (col2im).
fn scatter<T: Real>(
    image: usize,
    c: usize,
    sources: &[Option<u32>],
    dp: &[T],
    rows: usize,
    dx: &mut [T],
) {
    let per_image = sources.len() * c;
    dx[..rows * image]
        .par_chunks_mut(image)
        .enumerate()
        .for_each(|(r, d)| {
            d.fill(T::zero());
            let p = &dp[r * per_image..(r + 1) * per_image];
            if c == 1 {
                for (&g, s) in p.iter().zip(sources) {
                    if let Some(s) = s {
                        d[*s as usize] += g;
                    }
                }
                return;
            }
            for (src, s) in p.chunks_exact(c).zip(sources) {
                if let Some(s) = s {
                    let s = *s as usize * c;
                    d[s..s + c].iter_mut().zip(src).for_each(|(d, &g)| *d += g);
                }
            }
        });
}

/// `(k·k·c_in) × c_out` filters (tap-major) as `c_in × (k·k·c_out)`, or back with `inverse`.
fn permute_filters<T: Real>(l: &ConvLayer, from: &[T], to: &mut [T], inverse: bool) {
    let (taps, ci, co) = (l.kernel * l.kernel, l.c_in, l.c_out());
    for t in 0..taps {
        for c in 0..ci {
            for o in 0..co {
                let (a, b) = ((t * ci + c) * co + o, c * taps * co + t * co + o);
                if inverse {
                    to[a] = from[b];
                } else {
                    to[b] = from[a];
                }
            }
        }
    }
}

/// Runs `input` (`rows` images of the first layer's input) through `layers`; each layer's
/// output lands in `bufs.acts`. A convolution multiplies its patch matrix by the filters; a
/// transposed one multiplies each input pixel by the filters and sums the products into the
/// output pixels they reach (PyTorch's way, without a patch matrix `k²/s²` times larger).
pub fn forward<T: Real>(
    layers: &[ConvLayer],
    params: &[T],
    input: &[T],
    rows: usize,
    bufs: &mut ConvBuffers<T>,
    with: Products,
) {
    for (i, l) in layers.iter().enumerate() {
        let (taps, ci, co) = (l.kernel * l.kernel, l.c_in, l.c_out());
        let (pix_in, pix_out) = (l.h_in * l.w_in, l.h_out * l.w_out);
        let (done, rest) = bufs.acts.split_at_mut(i);
        let x = if i == 0 { input } else { &done[i - 1][..] };
        let y = &mut rest[0];
        grow(y, rows * pix_out * co);
        let w = &params[l.dense.weight()];
        if l.transposed {
            let (m, n) = (rows * pix_in, taps * co);
            grow(&mut bufs.wperm, ci * n);
            permute_filters(l, w, &mut bufs.wperm, false);
            grow(&mut bufs.patches[i], m * n);
            let contributions = &mut bufs.patches[i][..m * n];
            let (xs, wp) = (&x[..m * ci], &bufs.wperm[..ci * n]);
            matmul(m, n, ci, contributions, plain(xs), plain(wp), false, with);
            scatter(pix_out * co, co, &bufs.sources[i], contributions, rows, y);
        } else {
            let (m, k) = (rows * pix_out, taps * ci);
            grow(&mut bufs.patches[i], m * k);
            gather(
                pix_in * ci,
                ci,
                &bufs.sources[i],
                x,
                rows,
                &mut bufs.patches[i],
            );
            let p = &bufs.patches[i][..m * k];
            matmul(m, co, k, &mut y[..m * co], plain(p), plain(w), false, with);
        }
        let out = &mut y[..rows * pix_out * co];
        kernels::bias_activation(out, &params[l.dense.bias()], co, l.dense.activation);
    }
}

/// Backward through `layers` after [`forward`] of `input`. On entry `delta` holds
/// dL/d(pre-activation) of the last layer's output; filter gradients are *written* into
/// `grads`. With `input_grad`, `delta` leaves holding dL/d input (before any activation of
/// its producer).
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Real>(
    layers: &[ConvLayer],
    params: &[T],
    grads: &mut [T],
    input: &[T],
    rows: usize,
    bufs: &mut ConvBuffers<T>,
    delta: &mut Vec<T>,
    input_grad: bool,
    with: Products,
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
        let (taps, ci, co) = (l.kernel * l.kernel, l.c_in, l.c_out());
        let (pix_in, pix_out) = (l.h_in * l.w_in, l.h_out * l.w_out);
        let d = &delta[..rows * pix_out * co];
        kernels::bias_grad(&mut grads[l.dense.bias()], d, rows * pix_out, co);
        let need_dx = i > 0 || input_grad;
        let dx = &mut bufs.scratch[..rows * pix_in * ci];
        if l.transposed {
            // dL/d contributions: each (input pixel, tap) reads the gradient of its target.
            let (m, n) = (rows * pix_in, taps * co);
            grow(&mut bufs.dpatch, m * n);
            gather(
                pix_out * co,
                co,
                &bufs.sources[i],
                d,
                rows,
                &mut bufs.dpatch,
            );
            let dc = &bufs.dpatch[..m * n];
            let x = if i == 0 { input } else { &bufs.acts[i - 1][..] };
            grow(&mut bufs.wperm, 2 * ci * n);
            let (wp, gp) = bufs.wperm.split_at_mut(ci * n);
            matmul(
                ci,
                n,
                m,
                &mut gp[..ci * n],
                trans(&x[..m * ci]),
                plain(dc),
                false,
                with,
            );
            permute_filters(l, &gp[..ci * n], &mut grads[l.dense.weight()], true);
            if need_dx {
                permute_filters(l, &params[l.dense.weight()], wp, false);
                matmul(m, ci, n, dx, plain(dc), trans(&wp[..ci * n]), false, with);
            }
        } else {
            let (m, k) = (rows * pix_out, taps * ci);
            let p = &bufs.patches[i][..m * k];
            matmul(
                k,
                co,
                m,
                &mut grads[l.dense.weight()],
                trans(p),
                plain(d),
                false,
                with,
            );
            if need_dx {
                grow(&mut bufs.dpatch, m * k);
                let w = &params[l.dense.weight()];
                matmul(
                    m,
                    k,
                    co,
                    &mut bufs.dpatch[..m * k],
                    plain(d),
                    trans(w),
                    false,
                    with,
                );
                scatter(pix_in * ci, ci, &bufs.sources[i], &bufs.dpatch, rows, dx);
            }
        }
        if !need_dx {
            break;
        }
        if i > 0 {
            let prev = &layers[i - 1].dense;
            let a = &bufs.acts[i - 1][..rows * pix_in * ci];
            kernels::activation_backward(dx, a, ci, prev.activation);
        }
        std::mem::swap(delta, &mut bufs.scratch);
    }
}
