//! Fused element-wise kernels of the CPU fast path, each with its hand-written backward:
//! bias + activation, activation gradient, bias gradient, Bernoulli/Gaussian reconstruction
//! loss + gradient, Gaussian KL + reparameterisation, L1 penalty.
//!
//! Work is split over rows in fixed-size chunks and every per-row sum is done serially inside
//! one row, so results never depend on how rayon schedules the chunks.
use rayon::prelude::*;

use super::config::{Activation, Likelihood};
use super::linalg::Real;

/// Rows per parallel task; fixed so the split never depends on the thread count.
const ROWS_PER_TASK: usize = 16;

const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;
const LEAKY_SLOPE: f64 = 0.01;
const ELU_ALPHA: f64 = 1.0;

#[inline(always)]
fn c<T: Real>(x: f64) -> T {
    T::from_f64(x)
}

/// Applies `act` to one pre-activation value.
#[inline(always)]
pub fn activate<T: Real>(act: Activation, v: T) -> T {
    let zero = T::zero();
    match act {
        Activation::Identity => v,
        Activation::Relu => v.max(zero),
        Activation::Tanh => v.tanh(),
        Activation::Sigmoid => T::one() / (T::one() + (-v).exp()),
        Activation::LeakyRelu => {
            if v > zero {
                v
            } else {
                v * c(LEAKY_SLOPE)
            }
        }
        Activation::Elu => {
            if v > zero {
                v
            } else {
                c::<T>(ELU_ALPHA) * v.exp_m1()
            }
        }
        Activation::Selu => {
            if v > zero {
                c::<T>(SELU_SCALE) * v
            } else {
                c::<T>(SELU_SCALE * SELU_ALPHA) * v.exp_m1()
            }
        }
    }
}

/// d act / d pre-activation, written in terms of the *output* `a` so the forward pass only
/// has to keep post-activation buffers.
#[inline(always)]
pub fn activation_slope<T: Real>(act: Activation, a: T) -> T {
    let (zero, one) = (T::zero(), T::one());
    match act {
        Activation::Identity => one,
        Activation::Relu => {
            if a > zero {
                one
            } else {
                zero
            }
        }
        Activation::Tanh => one - a * a,
        Activation::Sigmoid => a * (one - a),
        Activation::LeakyRelu => {
            if a > zero {
                one
            } else {
                c(LEAKY_SLOPE)
            }
        }
        // a = α(eᵛ − 1) for v ≤ 0, so α eᵛ = a + α.
        Activation::Elu => {
            if a > zero {
                one
            } else {
                a + c(ELU_ALPHA)
            }
        }
        Activation::Selu => {
            if a > zero {
                c(SELU_SCALE)
            } else {
                a + c(SELU_SCALE * SELU_ALPHA)
            }
        }
    }
}

/// In place over a `rows × cols` matmul output: `y = act(y + bias)`.
pub fn bias_activation<T: Real>(y: &mut [T], bias: &[T], cols: usize, act: Activation) {
    y.par_chunks_mut(cols * ROWS_PER_TASK).for_each(|block| {
        for row in block.chunks_exact_mut(cols) {
            match act {
                Activation::Identity => row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b),
                Activation::Relu => row
                    .iter_mut()
                    .zip(bias)
                    .for_each(|(v, &b)| *v = (*v + b).max(T::zero())),
                _ => row
                    .iter_mut()
                    .zip(bias)
                    .for_each(|(v, &b)| *v = activate(act, *v + b)),
            }
        }
    });
}

/// In place: `grad *= act'(pre)`, with the slope taken from the stored outputs `out`.
pub fn activation_backward<T: Real>(grad: &mut [T], out: &[T], cols: usize, act: Activation) {
    if act == Activation::Identity {
        return;
    }
    let chunk = cols * ROWS_PER_TASK;
    grad.par_chunks_mut(chunk)
        .zip(out.par_chunks(chunk))
        .for_each(|(g, a)| match act {
            // A select rather than a conditional store, so it vectorises.
            Activation::Relu => g
                .iter_mut()
                .zip(a)
                .for_each(|(g, &a)| *g = if a > T::zero() { *g } else { T::zero() }),
            _ => g
                .iter_mut()
                .zip(a)
                .for_each(|(g, &a)| *g *= activation_slope(act, a)),
        });
}

/// `db[j] = Σ_rows grad[r, j]`, summed row by row in order for every column.
pub fn bias_grad<T: Real>(db: &mut [T], grad: &[T], rows: usize, cols: usize) {
    const COLS_PER_TASK: usize = 64;
    db.par_chunks_mut(COLS_PER_TASK)
        .enumerate()
        .for_each(|(ci, out)| {
            let start = ci * COLS_PER_TASK;
            out.fill(T::zero());
            for r in 0..rows {
                let row = &grad[r * cols + start..r * cols + start + out.len()];
                out.iter_mut().zip(row).for_each(|(o, &g)| *o += g);
            }
        });
}

/// BCE with logits summed over one row, stable form max(l,0) − l·x + ln(1 + e^{−|l|}), and its
/// gradient σ(l) − x times `scale`. Eight partial sums (combined in a fixed order) let the
/// loop vectorise while staying deterministic.
#[inline(always)]
fn bernoulli_row_body<T: Real>(o: &[T], x: &[T], g: Option<&mut [T]>, scale: T) -> f64 {
    const LANES: usize = 8;
    let zero = T::zero();
    let mut acc = [zero; LANES];
    let elem = |l: T, x: T| -> (T, T) {
        let (e, softplus, inv) = T::softplus_parts(l);
        let sig = if l >= zero { inv } else { e * inv };
        (l.max(zero) - l * x + softplus, sig - x)
    };
    let n = o.len() / LANES * LANES;
    match g {
        Some(g) => {
            for ((o, x), g) in o[..n]
                .chunks_exact(LANES)
                .zip(x[..n].chunks_exact(LANES))
                .zip(g[..n].chunks_exact_mut(LANES))
            {
                for k in 0..LANES {
                    let (loss, d) = elem(o[k], x[k]);
                    acc[k] += loss;
                    g[k] = d * scale;
                }
            }
            for i in n..o.len() {
                let (loss, d) = elem(o[i], x[i]);
                acc[0] += loss;
                g[i] = d * scale;
            }
        }
        None => {
            for (o, x) in o[..n].chunks_exact(LANES).zip(x[..n].chunks_exact(LANES)) {
                for k in 0..LANES {
                    acc[k] += elem(o[k], x[k]).0;
                }
            }
            for i in n..o.len() {
                acc[0] += elem(o[i], x[i]).0;
            }
        }
    }
    acc.iter().fold(0.0, |s, &a| s + Real::to_f64(a))
}

/// [`bernoulli_row_body`] compiled for AVX2 (the default x86-64 target only has SSE2); the
/// same per-element operations in the same order (Rust never contracts to FMA), only wider.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn bernoulli_row_avx2(o: &[f32], x: &[f32], g: Option<&mut [f32]>, scale: f32) -> f64 {
    bernoulli_row_body(o, x, g, scale)
}

fn bernoulli_row<T: Real>(o: &[T], x: &[T], g: Option<&mut [T]>, scale: T) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>()
        && std::is_x86_feature_detected!("avx2")
    {
        let f32s = |s: &[T]| -> &[f32] {
            // SAFETY: T is f32 (checked above), so the slice is reinterpreted as itself.
            unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<f32>(), s.len()) }
        };
        let g = g.map(|g| {
            // SAFETY: as above; the mutable borrow is moved, not duplicated.
            unsafe { std::slice::from_raw_parts_mut(g.as_mut_ptr().cast::<f32>(), g.len()) }
        });
        let scale = Real::to_f64(scale) as f32;
        // SAFETY: the CPU supports AVX2 (checked above).
        return unsafe { bernoulli_row_avx2(f32s(o), f32s(x), g, scale) };
    }
    bernoulli_row_body(o, x, g, scale)
}

/// Reconstruction loss per row (summed over pixels) into `row_loss`, and, when `grad` is given,
/// its gradient w.r.t. the decoder output scaled by `grad_scale` (1/batch for a batch mean).
pub fn reconstruction<T: Real>(
    likelihood: Likelihood,
    out: &[T],
    target: &[T],
    cols: usize,
    row_loss: &mut [f64],
    grad: Option<(&mut [T], T)>,
) {
    let chunk = cols * ROWS_PER_TASK;
    let per_row = |o: &[T], x: &[T], g: Option<&mut [T]>, scale: T| -> f64 {
        let mut sum = T::zero();
        match likelihood {
            Likelihood::Bernoulli => return bernoulli_row(o, x, g, scale),
            Likelihood::Gaussian => match g {
                Some(g) => {
                    let two_scale = (T::one() + T::one()) * scale;
                    for ((&m, &x), g) in o.iter().zip(x).zip(g.iter_mut()) {
                        let d = m - x;
                        sum += d * d;
                        *g = d * two_scale;
                    }
                }
                None => o
                    .iter()
                    .zip(x)
                    .for_each(|(&m, &x)| sum += (m - x) * (m - x)),
            },
        }
        sum.to_f64()
    };
    match grad {
        Some((g, scale)) => {
            row_loss
                .par_chunks_mut(ROWS_PER_TASK)
                .zip(out.par_chunks(chunk).zip(target.par_chunks(chunk)))
                .zip(g.par_chunks_mut(chunk))
                .for_each(|((rl, (o, x)), g)| {
                    for (i, r) in rl.iter_mut().enumerate() {
                        let s = i * cols..(i + 1) * cols;
                        *r = per_row(&o[s.clone()], &x[s.clone()], Some(&mut g[s]), scale);
                    }
                });
        }
        None => {
            row_loss
                .par_chunks_mut(ROWS_PER_TASK)
                .zip(out.par_chunks(chunk).zip(target.par_chunks(chunk)))
                .for_each(|(rl, (o, x))| {
                    for (i, r) in rl.iter_mut().enumerate() {
                        let s = i * cols..(i + 1) * cols;
                        *r = per_row(&o[s.clone()], &x[s], None, T::one());
                    }
                });
        }
    }
}

/// Gaussian encoder head. `stats` is `rows × 2L` = [μ | log σ²]; writes z = μ + e^{lv/2}·ε
/// and the per-row KL(q(z|x) ‖ N(0, I)) = −½ Σ (1 + lv − μ² − e^{lv}).
pub fn reparameterize<T: Real>(stats: &[T], eps: &[T], latent: usize, z: &mut [T], kl: &mut [f64]) {
    let half = c::<T>(0.5);
    for (r, kl_r) in kl.iter_mut().enumerate() {
        let (mu, lv) = stats[r * 2 * latent..(r + 1) * 2 * latent].split_at(latent);
        let mut sum = T::zero();
        for j in 0..latent {
            let e = lv[j].exp();
            z[r * latent + j] = mu[j] + (half * lv[j]).exp() * eps[r * latent + j];
            sum += T::one() + lv[j] - mu[j] * mu[j] - e;
        }
        *kl_r = -0.5 * sum.to_f64();
    }
}

/// Backward of [`reparameterize`] plus the KL term: from dL/dz, writes dL/d[μ | lv] into
/// `dstats`, with the KL weighted by `kl_scale` (β / batch).
pub fn reparameterize_backward<T: Real>(
    stats: &[T],
    eps: &[T],
    dz: &[T],
    latent: usize,
    kl_scale: T,
    dstats: &mut [T],
) {
    let half = c::<T>(0.5);
    let rows = dz.len() / latent;
    for r in 0..rows {
        let (mu, lv) = stats[r * 2 * latent..(r + 1) * 2 * latent].split_at(latent);
        let (dmu, dlv) = dstats[r * 2 * latent..(r + 1) * 2 * latent].split_at_mut(latent);
        for j in 0..latent {
            let g = dz[r * latent + j];
            let sd = (half * lv[j]).exp();
            dmu[j] = g + kl_scale * mu[j];
            dlv[j] = g * eps[r * latent + j] * half * sd + kl_scale * half * (sd * sd - T::one());
        }
    }
}

/// L1 penalty λ Σ|code| per row into `row_l1`; adds λ·sign(code)·`scale` into `dcode`.
pub fn l1_penalty<T: Real>(
    code: &[T],
    cols: usize,
    lambda: T,
    row_l1: &mut [f64],
    dcode: Option<(&mut [T], T)>,
) {
    for (r, out) in row_l1.iter_mut().enumerate() {
        let row = &code[r * cols..(r + 1) * cols];
        *out = (lambda * row.iter().map(|v| v.abs()).sum::<T>()).to_f64();
    }
    if let Some((d, scale)) = dcode {
        let step = lambda * scale;
        for (d, &v) in d.iter_mut().zip(code) {
            *d += step * v.signum() * if v == T::zero() { T::zero() } else { T::one() };
        }
    }
}
