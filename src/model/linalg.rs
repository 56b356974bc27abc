//! Float abstraction (f32 for training, f64 for gradient checks) and the row-major matrix
//! product on top of the `gemm` crate, the same kernel dfdx's CPU backend uses.
use gemm::Parallelism;

/// Scalar type of the CPU fast path.
pub trait Real:
    num_traits::Float
    + Send
    + Sync
    + Default
    + std::fmt::Debug
    + std::iter::Sum
    + std::ops::AddAssign
    + std::ops::SubAssign
    + std::ops::MulAssign
    + 'static
{
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
    /// For a logit `l`: (e^{−|l|}, ln(1 + e^{−|l|}), 1 / (1 + e^{−|l|})), the pieces of a
    /// stable BCE-with-logits. f32 uses vectorisable polynomials, f64 (the reference) libm.
    fn softplus_parts(l: Self) -> (Self, Self, Self);
}

impl Real for f32 {
    #[inline(always)]
    fn softplus_parts(l: Self) -> (Self, Self, Self) {
        let e = super::fastmath::exp_nonpositive(-l.abs());
        let inv = 1.0 / (1.0 + e);
        (e, super::fastmath::ln_1p_unit(e, inv), inv)
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    #[inline(always)]
    fn softplus_parts(l: Self) -> (Self, Self, Self) {
        let e = (-l.abs()).exp();
        (e, e.ln_1p(), 1.0 / (1.0 + e))
    }
    #[inline(always)]
    fn from_f64(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }
}

/// Products smaller than this many multiply-adds run on one thread: splitting them costs more
/// in synchronisation than it saves.
const PARALLEL_MIN_WORK: usize = 64 * 64 * 64;

/// A row-major matrix operand: `data` holds `rows × cols` of the *stored* matrix, and
/// `transposed` says whether the product uses it as stored or as its transpose.
#[derive(Clone, Copy)]
pub struct Operand<'a, T> {
    pub data: &'a [T],
    pub transposed: bool,
}

pub fn plain<T>(data: &[T]) -> Operand<'_, T> {
    Operand {
        data,
        transposed: false,
    }
}

pub fn trans<T>(data: &[T]) -> Operand<'_, T> {
    Operand {
        data,
        transposed: true,
    }
}

/// `dst (m×n) = [dst +] a (m×k) · b (k×n)`, all row-major; `threads` splits the product.
///
/// gemm parallelises over output blocks only, never over `k`, so each output element is
/// summed in the same order whatever the thread count: results are bit-identical run to run.
#[allow(clippy::too_many_arguments)]
pub fn matmul<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [T],
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    accumulate: bool,
    threads: usize,
) {
    assert!(dst.len() >= m * n, "dst too small for {m}x{n}");
    assert!(a.data.len() >= m * k, "lhs too small for {m}x{k}");
    assert!(b.data.len() >= k * n, "rhs too small for {k}x{n}");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(T::zero());
        }
        return;
    }
    // (column stride, row stride) of the logical matrix inside its row-major storage.
    let (a_cs, a_rs) = if a.transposed {
        (m as isize, 1)
    } else {
        (1, k as isize)
    };
    let (b_cs, b_rs) = if b.transposed {
        (k as isize, 1)
    } else {
        (1, n as isize)
    };
    let parallelism = if threads > 1 && m * n * k >= PARALLEL_MIN_WORK {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    // SAFETY: the asserts above bound every index gemm touches; dst does not alias a or b
    // because it is borrowed mutably.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a_cs,
            a_rs,
            b.data.as_ptr(),
            b_cs,
            b_rs,
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: &[f64], at: bool, b: &[f64], bt: bool) -> Vec<f64> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    let x = if at { a[p * m + i] } else { a[i * k + p] };
                    let y = if bt { b[j * k + p] } else { b[p * n + j] };
                    out[i * n + j] += x * y;
                }
            }
        }
        out
    }

    #[test]
    fn matmul_matches_naive_for_all_transposes() {
        let (m, n, k) = (7, 5, 9);
        let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
        for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut dst = vec![1.0; m * n];
            let oa = Operand {
                data: &a,
                transposed: at,
            };
            let ob = Operand {
                data: &b,
                transposed: bt,
            };
            matmul(m, n, k, &mut dst, oa, ob, true, 1);
            let want = naive(m, n, k, &a, at, &b, bt);
            for (d, w) in dst.iter().zip(&want) {
                assert!((d - (w + 1.0)).abs() < 1e-12, "{at} {bt}: {d} vs {w}");
            }
        }
    }
}
