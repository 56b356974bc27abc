//! Training state that lives on a dfdx device: parameters and Adam moments stay there between
//! steps, so a step moves only the batch in and three loss sums out, and the host sees the
//! weights once per epoch (for the checkpoint). This is the CUDA path; on dfdx's CPU device it
//! is the stand-in that lets tests check the same code without a GPU.
use dfdx::prelude::*;

use super::adam::AdamConfig;
use super::autodiff::{objective, DeviceParams, LayerTensors};
use super::network::Architecture;
use super::objective::{Batch, LossSums, TermWeights};

/// Flat host copies of everything a checkpoint holds.
#[derive(Clone, Copy)]
pub struct HostState<'a> {
    pub params: &'a [f32],
    pub m: &'a [f32],
    pub v: &'a [f32],
    pub step: u64,
}

/// Parameters, moments and pending gradients of one model on device `D`.
pub struct DeviceTrainer<D: Device<f32>> {
    dev: D,
    arch: Architecture,
    config: AdamConfig,
    params: DeviceParams<f32, D>,
    m: DeviceParams<f32, D>,
    v: DeviceParams<f32, D>,
    grads: Option<DeviceParams<f32, D>>,
    step: u64,
}

/// Per-step scalars of PyTorch's Adam (bias corrections folded into the step size).
struct StepCoefficients {
    beta1: f32,
    beta2: f32,
    step_size: f32,
    inv_sqrt_bias2: f32,
    eps: f32,
    weight_decay: f32,
}

impl<D: Device<f32>> DeviceTrainer<D> {
    pub fn new(dev: D, arch: &Architecture, config: AdamConfig, start: HostState<'_>) -> Self {
        Self {
            params: DeviceParams::upload(&dev, arch, start.params),
            m: DeviceParams::upload(&dev, arch, start.m),
            v: DeviceParams::upload(&dev, arch, start.v),
            grads: None,
            step: start.step,
            arch: arch.clone(),
            config,
            dev,
        }
    }

    /// Loss sums of `batch`; with `want_grads`, keeps the gradients for
    /// [`Self::apply_update`].
    pub fn objective(
        &mut self,
        batch: &Batch<'_, f32>,
        weights: TermWeights,
        want_grads: bool,
    ) -> LossSums {
        let p = &self.params;
        let (sums, g) = objective(&self.dev, &self.arch, p, batch, weights, want_grads);
        self.grads = g.map(|g| p.gradients_in(&g));
        sums
    }

    /// One Adam step from the gradients of the last [`Self::objective`] that wanted them.
    pub fn apply_update(&mut self) {
        let grads = self
            .grads
            .take()
            .expect("apply_update follows forward_backward");
        self.step += 1;
        let c = self.coefficients();
        let layers = self.params.tensors.iter_mut();
        let moments = self.m.tensors.iter_mut().zip(self.v.tensors.iter_mut());
        for ((p, (m, v)), g) in layers.zip(moments).zip(grads.tensors) {
            let LayerTensors { w: gw, b: gb } = g;
            adam_update(&mut p.w, &mut m.w, &mut v.w, gw, &c);
            adam_update(&mut p.b, &mut m.b, &mut v.b, gb, &c);
        }
    }

    fn coefficients(&self) -> StepCoefficients {
        let c = self.config;
        let t = self.step as i32;
        let bias1 = 1.0 - c.beta1.powi(t);
        let bias2 = 1.0 - c.beta2.powi(t);
        StepCoefficients {
            beta1: c.beta1 as f32,
            beta2: c.beta2 as f32,
            step_size: (c.lr / bias1) as f32,
            inv_sqrt_bias2: (1.0 / bias2.sqrt()) as f32,
            eps: c.eps as f32,
            weight_decay: c.weight_decay as f32,
        }
    }

    /// Copies parameters and moments to the host; returns the number of steps taken.
    pub fn download(&self, params: &mut [f32], m: &mut [f32], v: &mut [f32]) -> u64 {
        self.params.download(params);
        self.m.download(m);
        self.v.download(v);
        self.step
    }
}

/// PyTorch's Adam on device tensors: L2 decay added to the gradient, ε outside the root.
fn adam_update<S: Shape, D: Device<f32>>(
    p: &mut Tensor<S, f32, D>,
    m: &mut Tensor<S, f32, D>,
    v: &mut Tensor<S, f32, D>,
    g: Tensor<S, f32, D>,
    c: &StepCoefficients,
) {
    let g = if c.weight_decay != 0.0 {
        g + p.clone() * c.weight_decay
    } else {
        g
    };
    *m = m.clone() * c.beta1 + g.clone() * (1.0 - c.beta1);
    *v = v.clone() * c.beta2 + g.square() * (1.0 - c.beta2);
    let denom = v.clone().sqrt() * c.inv_sqrt_bias2 + c.eps;
    *p = p.clone() - (m.clone() * c.step_size) / denom;
}
