//! A conv model's convolutions as dfdx tensor ops on runtime shapes, for dfdx's autodiff (the
//! reference the CPU fast path is checked against) and for CUDA, where the filters stay
//! resident like an MLP's weights.
//!
//! dfdx 0.13's own `conv2d` / `convtrans2d` are compiled only with its `nightly` feature
//! (`generic_const_exprs`), which a stable toolchain cannot build; so a convolution is written
//! with ops every dfdx device has: gather the patches (im2col) by a fixed index, zero the taps
//! outside the image with a 0/1 mask, and multiply by the filter matrix. dfdx differentiates
//! the gather (a scatter-add) and the product like any other op.
use dfdx::prelude::*;

use super::autodiff::{activate, dense, LayerTensors};
use super::conv::ConvLayer;
use super::linalg::Real;

type Taped<E, D> = Tensor<(usize, usize), E, D, OwnedTape<E, D>>;

/// Where each patch entry of a batch of `rows` images comes from: a pixel row of the
/// `(rows · h_in · w_in) × c_in` feature map (0 where masked), and the 0/1 mask.
pub fn patch_index<E: Real>(layer: &ConvLayer, rows: usize) -> (Vec<usize>, Vec<E>) {
    let sources = layer.sources();
    let pixels = layer.h_in * layer.w_in;
    let mut idx = Vec::with_capacity(rows * sources.len());
    let mut mask = Vec::with_capacity(rows * sources.len());
    for r in 0..rows {
        for s in &sources {
            idx.push(s.map_or(0, |s| r * pixels + s as usize));
            mask.push(if s.is_some() { E::one() } else { E::zero() });
        }
    }
    (idx, mask)
}

/// One convolution (or transposed convolution) with bias and activation:
/// `(rows · h_in · w_in) × c_in` channels-last maps in, `(rows · h_out · w_out) × c_out` out.
pub fn conv_layer<E: Dtype + Real, D: Device<E>>(
    dev: &D,
    x: Taped<E, D>,
    layer: &ConvLayer,
    t: &LayerTensors<E, D>,
    rows: usize,
) -> Taped<E, D> {
    let (idx, mask) = patch_index::<E>(layer, rows);
    let n = idx.len();
    let c_in = layer.c_in;
    let idx: Tensor<(usize,), usize, D> = dev.tensor_from_vec(idx, (n,));
    let mask: Tensor<(usize,), E, D> = dev.tensor_from_vec(mask, (n,));
    let patches = x.gather(idx) * mask.broadcast_like::<_, Axis<1>>(&(n, c_in));
    let k2 = layer.kernel * layer.kernel;
    let patches = patches.reshape_like(&(n / k2, k2 * c_in));
    activate(dense(patches, t), layer.dense.activation)
}

/// Runs `layers` (whose tensors are `tensors`) over flat `(rows, h·w·c)` maps, returning the
/// same layout for the last layer's output.
pub fn conv_stack<E: Dtype + Real, D: Device<E>>(
    dev: &D,
    x: Taped<E, D>,
    layers: &[ConvLayer],
    tensors: &[LayerTensors<E, D>],
) -> Taped<E, D> {
    let rows = x.shape().0;
    let first = &layers[0];
    let mut y = x.reshape_like(&(rows * first.h_in * first.w_in, first.c_in));
    for (l, t) in layers.iter().zip(tensors) {
        y = conv_layer(dev, y, l, t, rows);
    }
    let last = &layers[layers.len() - 1];
    y.reshape_like(&(rows, last.h_out * last.w_out * last.c_out()))
}
