//! The convolutional encoder/decoder layout (`architecture = "conv"`): strided square
//! convolutions down to a small feature map, a dense layer, the latent head; the decoder is the
//! dense layers mirrored and transposed convolutions back up to the 1-channel image.
//!
//! A layout fits an image when every convolution tiles its input exactly
//! (`(side + 2·padding − kernel)` divisible by the stride), because then the transposed
//! convolution of the same kernel, stride and padding gives back exactly the input side, so the
//! decoder needs no output padding or cropping.
use serde::{Deserialize, Serialize};

use super::config::Activation;
use super::network::Layer;

/// Channels, kernel, stride, padding and dense width of a conv model, plus the image it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvLayout {
    /// Output channels of each encoder convolution, input side first (the input has 1).
    pub channels: Vec<usize>,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    /// Width of the dense layer between the last feature map and the latent head.
    pub dense: usize,
    /// Image height and width in pixels (`input_dim = height · width`).
    pub height: usize,
    pub width: usize,
}

/// One convolution of the encoder or one transposed convolution of the decoder, computed as
/// a dense layer over patches: each output pixel's `k × k × c_in` input patch (HWC order, zeros
/// outside the image) times a `(k·k·c_in) × c_out` filter matrix. Feature maps are stored
/// channels-last, `(rows · height · width) × channels`, so a 1-channel image needs no reorder.
#[derive(Debug, Clone)]
pub struct ConvLayer {
    pub c_in: usize,
    pub h_in: usize,
    pub w_in: usize,
    pub h_out: usize,
    pub w_out: usize,
    /// A transposed convolution (decoder): the adjoint of the encoder's convolution.
    pub transposed: bool,
    /// The filters as a dense layer: `fan_in = k·k·c_in`, `fan_out = c_out`, activation.
    pub dense: Layer,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl ConvLayer {
    pub fn c_out(&self) -> usize {
        self.dense.fan_out
    }

    /// Output pixels × kernel taps per image.
    pub fn taps(&self) -> usize {
        self.h_out * self.w_out * self.kernel * self.kernel
    }

    /// For every output pixel (row-major) and kernel tap `(ki, kj)`, the input pixel of one
    /// image it reads, or `None` where the patch falls outside the image (zero padding) or,
    /// for a transposed convolution, between the strided input pixels.
    pub fn sources(&self) -> Vec<Option<u32>> {
        let (k, s, p) = (
            self.kernel as isize,
            self.stride as isize,
            self.padding as isize,
        );
        let mut out = Vec::with_capacity(self.taps());
        let source = |o: isize, t: isize, n: usize| -> Option<isize> {
            let i = if self.transposed {
                let v = o + p - t;
                if v < 0 || v % s != 0 {
                    return None;
                }
                v / s
            } else {
                o * s + t - p
            };
            (0..n as isize).contains(&i).then_some(i)
        };
        for oy in 0..self.h_out as isize {
            for ox in 0..self.w_out as isize {
                for ki in 0..k {
                    for kj in 0..k {
                        let y = source(oy, ki, self.h_in);
                        let x = source(ox, kj, self.w_in);
                        out.push(y.zip(x).map(|(y, x)| (y * self.w_in as isize + x) as u32));
                    }
                }
            }
        }
        out
    }
}

/// Side after one convolution, or why the layout does not tile it exactly.
fn conv_side(side: usize, kernel: usize, stride: usize, padding: usize) -> Result<usize, String> {
    let padded = side + 2 * padding;
    if padded < kernel {
        return Err(format!(
            "a {side}-pixel side padded by {padding} is smaller than the {kernel}-pixel kernel"
        ));
    }
    if (padded - kernel) % stride != 0 {
        return Err(format!(
            "a {side}-pixel side does not tile exactly: ({side} + 2·{padding} − {kernel}) is not \
             divisible by the stride {stride}, so the transposed convolution would not give back \
             {side} pixels"
        ));
    }
    Ok((padded - kernel) / stride + 1)
}

impl ConvLayout {
    /// The feature-map sides after each convolution, input first; an error names the layer
    /// that does not fit.
    pub fn sides(&self) -> Result<Vec<(usize, usize)>, String> {
        if self.channels.is_empty() || self.channels.contains(&0) {
            return Err("conv channels must be a non-empty list of positive counts".into());
        }
        if self.kernel == 0 || self.stride == 0 || self.dense == 0 {
            return Err("conv kernel, stride and dense width must be positive".into());
        }
        if self.padding >= self.kernel {
            return Err(format!(
                "conv padding {} must be smaller than the kernel {}",
                self.padding, self.kernel
            ));
        }
        let mut sides = vec![(self.height, self.width)];
        for i in 0..self.channels.len() {
            let (h, w) = sides[i];
            let fit = |s| conv_side(s, self.kernel, self.stride, self.padding);
            match (fit(h), fit(w)) {
                (Ok(h2), Ok(w2)) => sides.push((h2, w2)),
                (Err(e), _) | (_, Err(e)) => {
                    return Err(format!(
                        "the conv layout does not fit {}×{} images: convolution {} sees {h}×{w}, \
                         and {e}",
                        self.height, self.width, i
                    ))
                }
            }
        }
        Ok(sides)
    }

    /// Size of the flattened last feature map (the dense layers' image side).
    pub fn flat_dim(&self) -> Result<usize, String> {
        let sides = self.sides()?;
        let (h, w) = sides[sides.len() - 1];
        Ok(self.channels[self.channels.len() - 1] * h * w)
    }

    /// Encoder convolutions then decoder transposed convolutions, their filters laid out from
    /// `offset` on. Every layer has `act` but the decoder's last, which emits logits / means.
    pub fn layers(
        &self,
        act: Activation,
        offset: &mut usize,
    ) -> Result<(Vec<ConvLayer>, Vec<ConvLayer>), String> {
        let sides = self.sides()?;
        let mut chans = vec![1];
        chans.extend(&self.channels);
        let n = self.channels.len();
        let k = self.kernel;
        let mut make = |i: usize, transposed: bool, activation| {
            let (from, to) = if transposed { (i + 1, i) } else { (i, i + 1) };
            let ((h_in, w_in), (h_out, w_out)) = (sides[from], sides[to]);
            let dense = Layer {
                fan_in: k * k * chans[from],
                fan_out: chans[to],
                offset: *offset,
                activation,
            };
            *offset = dense.bias().end;
            ConvLayer {
                c_in: chans[from],
                h_in,
                w_in,
                h_out,
                w_out,
                transposed,
                dense,
                kernel: k,
                stride: self.stride,
                padding: self.padding,
            }
        };
        let encoder: Vec<ConvLayer> = (0..n).map(|i| make(i, false, act)).collect();
        let decoder: Vec<ConvLayer> = (0..n)
            .rev()
            .map(|i| make(i, true, if i == 0 { Activation::Identity } else { act }))
            .collect();
        Ok((encoder, decoder))
    }
}

impl ConvLayout {
    /// Bytes the convolutions add to training at `batch` rows, in f32 (on top of the dense
    /// layers' [`super::size::ModelShape::training_bytes`]): their filters seven times over (as
    /// there), and per row each layer's output map, its patch (or contribution) matrix and a
    /// gradient of that matrix, and two scratch maps of the largest.
    pub fn training_bytes(&self, batch: usize) -> Result<f64, String> {
        const F32: f64 = 4.0;
        let (enc, dec) = self.layers(Activation::Relu, &mut 0)?;
        let mut params = 0.0;
        let mut per_row = 0.0;
        let mut widest: f64 = 0.0;
        for l in enc.iter().chain(&dec) {
            let taps = (l.kernel * l.kernel) as f64;
            let (pix_in, pix_out) = ((l.h_in * l.w_in) as f64, (l.h_out * l.w_out) as f64);
            let (ci, co) = (l.c_in as f64, l.c_out() as f64);
            params += taps * ci * co + co;
            let products = if l.transposed {
                pix_in * taps * co
            } else {
                pix_out * taps * ci
            };
            per_row += pix_out * co + 2.0 * products;
            widest = widest.max(pix_in * ci).max(pix_out * co);
        }
        Ok(F32 * (7.0 * params + batch as f64 * (per_row + 2.0 * widest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(channels: &[usize], side: usize) -> ConvLayout {
        ConvLayout {
            channels: channels.to_vec(),
            kernel: 4,
            stride: 2,
            padding: 1,
            dense: 256,
            height: side,
            width: side,
        }
    }

    #[test]
    fn the_dsprites_layout_halves_64_pixels_four_times() {
        let l = layout(&[32, 32, 64, 64], 64);
        let sides: Vec<usize> = l.sides().unwrap().iter().map(|s| s.0).collect();
        assert_eq!(sides, [64, 32, 16, 8, 4]);
        assert_eq!(l.flat_dim().unwrap(), 64 * 4 * 4);
        let (enc, dec) = l.layers(Activation::Relu, &mut 0).unwrap();
        assert_eq!(
            (enc[0].c_in, enc[3].c_out(), dec[0].c_in, dec[3].c_out()),
            (1, 64, 64, 1)
        );
        assert_eq!(dec[3].dense.activation, Activation::Identity);
        assert_eq!((dec[3].h_out, dec[0].h_in), (64, 4));
    }

    #[test]
    fn transposed_taps_are_the_adjoint_of_the_convolution() {
        // Tap (output pixel o, kernel t) reads input i in the convolution exactly when the
        // transposed convolution's tap (i, t) reads o: the same pairs, seen from either side.
        let l = layout(&[2, 3], 8);
        let (enc, dec) = l.layers(Activation::Relu, &mut 0).unwrap();
        let (conv, deconv) = (&enc[1], &dec[0]);
        let taps = conv.kernel * conv.kernel;
        let pairs = |layer: &ConvLayer, swap: bool| {
            let mut v: Vec<(u32, usize, u32)> = layer
                .sources()
                .iter()
                .enumerate()
                .filter_map(|(i, s)| s.map(|s| ((i / taps) as u32, i % taps, s)))
                .map(|(o, t, s)| if swap { (s, t, o) } else { (o, t, s) })
                .collect();
            v.sort();
            v
        };
        assert_eq!(pairs(conv, false), pairs(deconv, true));
    }

    #[test]
    fn a_layout_that_does_not_tile_28_pixels_names_the_layer() {
        assert_eq!(layout(&[32, 64], 28).flat_dim().unwrap(), 64 * 7 * 7);
        let e = layout(&[32, 32, 64], 28).sides().unwrap_err();
        assert!(
            e.contains("convolution 2 sees 7×7") && e.contains("stride 2"),
            "{e}"
        );
    }
}
