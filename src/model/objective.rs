//! The training objective of one batch — reconstruction + β·KL + λ·L1 — computed forward and,
//! when gradients are requested, backward in place over reusable buffers.
use super::config::Likelihood;
use super::conv_fast::{self, ConvBuffers};
use super::kernels;
use super::linalg::Real;
use super::network::{backward_stack, forward_stack, Architecture};

/// One batch: `input` is what the encoder sees (possibly corrupted or binarized), `target`
/// what the decoder must reproduce; `eps` holds rows × latent standard normals for a VAE.
pub struct Batch<'a, T> {
    pub input: &'a [T],
    pub target: &'a [T],
    pub rows: usize,
    pub eps: Option<&'a [T]>,
}

/// Weights of the objective's terms for this batch.
#[derive(Debug, Clone, Copy)]
pub struct TermWeights {
    pub kl: f64,
    pub l1: f64,
}

/// Per-term sums over the rows of a batch (not yet divided by the batch size).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LossSums {
    pub recon: f64,
    pub kl: f64,
    pub l1: f64,
}

impl LossSums {
    pub fn total(&self, w: TermWeights) -> f64 {
        self.recon + w.kl * self.kl + self.l1
    }
}

/// Buffers reused across steps so a step allocates nothing once warmed up.
#[derive(Default)]
pub struct Workspace<T> {
    pub enc: Vec<Vec<T>>,
    pub dec: Vec<Vec<T>>,
    pub z: Vec<T>,
    delta: Vec<T>,
    scratch: Vec<T>,
    dstats: Vec<T>,
    pub row_recon: Vec<f64>,
    pub row_kl: Vec<f64>,
    pub row_l1: Vec<f64>,
    /// A conv model's convolutions and transposed convolutions (empty for an MLP).
    conv_enc: ConvBuffers<T>,
    conv_dec: ConvBuffers<T>,
}

impl<T: Real> Workspace<T> {
    pub fn new(arch: &Architecture, rows: usize) -> Self {
        // A conv decoder's dense layers end at the feature map, not the image.
        let width = arch.max_width().max(arch.input_dim());
        let sized = |layers: &[super::network::Layer]| -> Vec<Vec<T>> {
            layers
                .iter()
                .map(|l| vec![T::zero(); rows * l.fan_out])
                .collect()
        };
        Self {
            enc: sized(&arch.encoder),
            dec: sized(&arch.decoder),
            z: vec![T::zero(); rows * arch.latent()],
            delta: vec![T::zero(); rows * width],
            scratch: vec![T::zero(); rows * width],
            dstats: vec![T::zero(); rows * 2 * arch.latent()],
            row_recon: vec![0.0; rows],
            row_kl: vec![0.0; rows],
            row_l1: vec![0.0; rows],
            conv_enc: ConvBuffers::new(&arch.conv_encoder),
            conv_dec: ConvBuffers::new(&arch.conv_decoder),
        }
    }

    fn ensure(&mut self, arch: &Architecture, rows: usize) {
        if self.row_recon.len() < rows || self.enc.len() != arch.encoder.len() {
            *self = Self::new(arch, rows);
        }
    }
}

/// Forward pass of one batch, filling the per-row loss buffers of `ws`; with `grads`, also
/// the backward pass, writing dL/dθ of the batch-mean objective into `grads`.
pub fn loss_and_grad<T: Real>(
    arch: &Architecture,
    params: &[T],
    grads: Option<&mut [T]>,
    ws: &mut Workspace<T>,
    batch: &Batch<'_, T>,
    weights: TermWeights,
    threads: usize,
) -> LossSums {
    let rows = batch.rows;
    let (latent, dim) = (arch.latent(), arch.input_dim());
    ws.ensure(arch, rows);
    let conv = arch.is_conv();
    let with = arch.products(threads);
    if conv {
        let input = batch.input;
        conv_fast::forward(
            &arch.conv_encoder,
            params,
            input,
            rows,
            &mut ws.conv_enc,
            with,
        );
    }
    let flat = arch.encoder[0].fan_in;
    let enc_in = match ws.conv_enc.acts.last() {
        Some(maps) => &maps[..rows * flat],
        None => batch.input,
    };
    forward_stack(&arch.encoder, params, enc_in, rows, &mut ws.enc, with);
    let head = &ws.enc[arch.encoder.len() - 1];
    let vae = arch.config.is_vae();
    if vae {
        let eps = batch
            .eps
            .expect("a VAE batch needs reparameterisation noise");
        kernels::reparameterize(head, eps, latent, &mut ws.z, &mut ws.row_kl[..rows]);
    } else {
        ws.z[..rows * latent].copy_from_slice(&head[..rows * latent]);
        ws.row_kl[..rows].fill(0.0);
    }
    let l1 = T::from_f64(weights.l1);
    if weights.l1 > 0.0 && !vae {
        kernels::l1_penalty(
            &ws.z[..rows * latent],
            latent,
            l1,
            &mut ws.row_l1[..rows],
            None,
        );
    } else {
        ws.row_l1[..rows].fill(0.0);
    }
    forward_stack(
        &arch.decoder,
        params,
        &ws.z[..rows * latent],
        rows,
        &mut ws.dec,
        with,
    );
    let dense_out = &ws.dec[arch.decoder.len() - 1];
    if conv {
        let maps = &dense_out[..rows * flat];
        conv_fast::forward(
            &arch.conv_decoder,
            params,
            maps,
            rows,
            &mut ws.conv_dec,
            with,
        );
    }
    let out = match ws.conv_dec.acts.last() {
        Some(images) => &images[..rows * dim],
        None => &dense_out[..rows * dim],
    };
    let likelihood: Likelihood = arch.config.likelihood;
    let scale = T::one() / T::from_f64(rows as f64);
    let target = &batch.target[..rows * dim];
    let grad_out = grads
        .is_some()
        .then(|| (&mut ws.delta[..rows * dim], scale));
    kernels::reconstruction(
        likelihood,
        out,
        target,
        dim,
        &mut ws.row_recon[..rows],
        grad_out,
    );
    // Serial sums in row order keep the totals independent of the thread count.
    let sums = LossSums {
        recon: ws.row_recon[..rows].iter().sum(),
        kl: ws.row_kl[..rows].iter().sum(),
        l1: ws.row_l1[..rows].iter().sum(),
    };
    let Some(grads) = grads else { return sums };

    let z = &ws.z[..rows * latent];
    if conv {
        let (layers, bufs) = (&arch.conv_decoder, &mut ws.conv_dec);
        let maps = &ws.dec[arch.decoder.len() - 1][..rows * flat];
        let delta = &mut ws.delta;
        conv_fast::backward(layers, params, grads, maps, rows, bufs, delta, true, with);
        // dL/d(the dense decoder's output) → dL/d(its pre-activation).
        let last = &arch.decoder[arch.decoder.len() - 1];
        let a = &ws.dec[arch.decoder.len() - 1][..rows * flat];
        kernels::activation_backward(&mut ws.delta[..rows * flat], a, flat, last.activation);
    }
    let (delta, scratch) = (&mut ws.delta, &mut ws.scratch);
    backward_stack(
        &arch.decoder,
        params,
        grads,
        z,
        &ws.dec,
        rows,
        delta,
        scratch,
        true,
        with,
    );
    // `delta` now holds dL/dz.
    if vae {
        let head = &ws.enc[arch.encoder.len() - 1];
        let eps = batch.eps.expect("checked above");
        let kl_scale = T::from_f64(weights.kl) * scale;
        let dz = &ws.delta[..rows * latent];
        kernels::reparameterize_backward(
            head,
            eps,
            dz,
            latent,
            kl_scale,
            &mut ws.dstats[..rows * 2 * latent],
        );
        ws.delta[..rows * 2 * latent].copy_from_slice(&ws.dstats[..rows * 2 * latent]);
    } else if weights.l1 > 0.0 {
        let mut unused = vec![0.0; rows];
        let dz = Some((&mut ws.delta[..rows * latent], scale));
        kernels::l1_penalty(z, latent, l1, &mut unused, dz);
    }
    let enc_in = match ws.conv_enc.acts.last() {
        Some(maps) => &maps[..rows * flat],
        None => batch.input,
    };
    let (delta, scratch) = (&mut ws.delta, &mut ws.scratch);
    backward_stack(
        &arch.encoder,
        params,
        grads,
        enc_in,
        &ws.enc,
        rows,
        delta,
        scratch,
        conv,
        with,
    );
    if let Some(last) = arch.conv_encoder.last() {
        let a = &ws.conv_enc.acts[arch.conv_encoder.len() - 1][..rows * flat];
        let act = last.dense.activation;
        kernels::activation_backward(&mut ws.delta[..rows * flat], a, last.c_out(), act);
        let (layers, bufs) = (&arch.conv_encoder, &mut ws.conv_enc);
        let (input, delta) = (batch.input, &mut ws.delta);
        conv_fast::backward(layers, params, grads, input, rows, bufs, delta, false, with);
    }
    sums
}
