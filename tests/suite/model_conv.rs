//! The convolutional model (`architecture = "conv"`): its convolutions against a direct
//! convolution loop, whole-network gradients against finite differences (dfdx ops, f64) for
//! every variant, and the CPU fast path against dfdx (training is in `model_conv_train`).
use super::model_grad::randn;
use dfdx::prelude::*;
use pipeline::model::autodiff::LayerTensors;
use pipeline::model::config::{Activation, Likelihood, ModelConfig, Noise, Variant};
use pipeline::model::conv::ConvLayout;
use pipeline::model::conv_ops::conv_layer;
use pipeline::model::network::Architecture;

/// An 8×8 image through two k4 s2 p1 convolutions (8 → 4 → 2), or a non-square 7×5 through
/// two k3 s1 p0 ones (7×5 → 5×3 → 3×1).
fn layout(square: bool) -> ConvLayout {
    let (kernel, stride, padding, height, width) = if square {
        (4, 2, 1, 8, 8)
    } else {
        (3, 1, 0, 7, 5)
    };
    ConvLayout {
        channels: vec![2, 3],
        kernel,
        stride,
        padding,
        dense: 5,
        height,
        width,
    }
}

pub(crate) fn conv_model(
    variant: Variant,
    act: Activation,
    lik: Likelihood,
    square: bool,
) -> ModelConfig {
    let l = layout(square);
    ModelConfig {
        variant,
        input_dim: l.height * l.width,
        latent_dim: 2,
        hidden: vec![],
        activation: act,
        likelihood: lik,
        beta: 1.5,
        kl_warmup_epochs: 0,
        noise: (variant == Variant::DenoisingAe).then_some(Noise::Masking { p: 0.3 }),
        l1: if variant == Variant::SparseAe {
            0.2
        } else {
            0.0
        },
        conv: Some(l),
    }
}

/// Direct convolution of one channels-last image with `[k, k, c_in, c_out]` filters.
fn naive_conv(
    x: &[f64],
    w: &[f64],
    b: &[f64],
    l: &ConvLayout,
    c_in: usize,
    c_out: usize,
) -> Vec<f64> {
    let (k, s, p) = (l.kernel as isize, l.stride as isize, l.padding as isize);
    let (h, wd) = (l.height as isize, l.width as isize);
    let (ho, wo) = ((h + 2 * p - k) / s + 1, (wd + 2 * p - k) / s + 1);
    let mut out = vec![0.0; (ho * wo) as usize * c_out];
    for oy in 0..ho {
        for ox in 0..wo {
            for co in 0..c_out {
                let mut acc = b[co];
                for ki in 0..k {
                    for kj in 0..k {
                        let (y, xx) = (oy * s + ki - p, ox * s + kj - p);
                        if y < 0 || y >= h || xx < 0 || xx >= wd {
                            continue;
                        }
                        for ci in 0..c_in {
                            let xi = ((y * wd + xx) as usize) * c_in + ci;
                            let wi = (((ki * k + kj) as usize) * c_in + ci) * c_out + co;
                            acc += x[xi] * w[wi];
                        }
                    }
                }
                out[((oy * wo + ox) as usize) * c_out + co] = acc;
            }
        }
    }
    out
}

#[test]
fn a_conv_layer_is_the_direct_convolution_and_its_transpose_the_adjoint() {
    for square in [true, false] {
        let mut l = layout(square);
        l.channels = vec![3];
        let cfg = ModelConfig {
            conv: Some(l.clone()),
            ..conv_model(
                Variant::Ae,
                Activation::Identity,
                Likelihood::Gaussian,
                square,
            )
        };
        let arch = Architecture::new(&cfg).unwrap();
        let dev = Cpu::default();
        let (conv, deconv) = (&arch.conv_encoder[0], &arch.conv_decoder[0]);
        let params = randn(arch.param_count, 7);
        let tensors = |layer: &pipeline::model::conv::ConvLayer| LayerTensors {
            w: dev.tensor_from_vec(
                params[layer.dense.weight()].to_vec(),
                (layer.dense.fan_in, layer.dense.fan_out),
            ),
            b: dev.tensor_from_vec(params[layer.dense.bias()].to_vec(), (layer.dense.fan_out,)),
        };
        let pixels = l.height * l.width;
        let x = randn(pixels, 8);
        let xt: Tensor<(usize, usize), f64, _> = dev.tensor_from_vec(x.clone(), (pixels, 1));
        let got = conv_layer(&dev, xt.clone().leaky_traced(), conv, &tensors(conv), 1);
        let want = naive_conv(
            &x,
            &params[conv.dense.weight()],
            &params[conv.dense.bias()],
            &l,
            1,
            3,
        );
        let got = got.retaped::<NoneTape>().as_vec();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-12, "square {square}: {g} vs {w}");
        }
        // ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for bias-free filters shared by both: the transposed
        // layer's `[k, k, 3, 1]` filters of the same taps are the same numbers in the same order.
        let (k2, c) = (l.kernel * l.kernel, 3);
        let wf = &params[conv.dense.weight()];
        let wt = wf.to_vec();
        let y = randn(want.len(), 9);
        let zero_bias = |n| dev.tensor_from_vec(vec![0.0; n], (n,));
        let fwd = conv_layer(
            &dev,
            xt.leaky_traced(),
            conv,
            &LayerTensors {
                w: dev.tensor_from_vec(wf.to_vec(), (k2, c)),
                b: zero_bias(c),
            },
            1,
        )
        .retaped::<NoneTape>()
        .as_vec();
        let yt: Tensor<(usize, usize), f64, _> =
            dev.tensor_from_vec(y.clone(), (want.len() / c, c));
        let back = conv_layer(
            &dev,
            yt.leaky_traced(),
            deconv,
            &LayerTensors {
                w: dev.tensor_from_vec(wt, (k2 * c, 1)),
                b: zero_bias(1),
            },
            1,
        )
        .retaped::<NoneTape>()
        .as_vec();
        let lhs: f64 = fwd.iter().zip(&y).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert!(
            (lhs - rhs).abs() < 1e-10 * (1.0 + lhs.abs()),
            "{lhs} vs {rhs}"
        );
    }
}

/// A conv network's gradients: the CPU fast path (on two threads) against dfdx autodiff (same
/// f64 weights) and both against finite differences.
fn check_conv_network(cfg: &ModelConfig) {
    crate::model_grad::check_network_on(cfg, 3, 2);
}

#[test]
fn conv_network_gradients_match_finite_differences_for_every_variant() {
    for (variant, lik, square) in [
        (Variant::Vae, Likelihood::Bernoulli, true),
        (Variant::Vae, Likelihood::Gaussian, false),
        (Variant::Ae, Likelihood::Bernoulli, false),
        (Variant::DenoisingAe, Likelihood::Gaussian, true),
        (Variant::SparseAe, Likelihood::Bernoulli, true),
    ] {
        check_conv_network(&conv_model(variant, Activation::Tanh, lik, square));
    }
    check_conv_network(&conv_model(
        Variant::Vae,
        Activation::Elu,
        Likelihood::Bernoulli,
        true,
    ));
}
