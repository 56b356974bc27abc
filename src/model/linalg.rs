//! Float abstraction (f32 for training, f64 for gradient checks) and the row-major matrix
//! product on top of the `gemm` crate: release 0.15 (dfdx's) for MLPs, 0.19 for conv models.

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

/// Which `gemm` release a model's products run on. Both split a product over output blocks
/// only, never over `k`, so each output is summed in the same order whatever the thread count;
/// their kernels differ, and so do the last bits of some products (0.19's small-output kernels
/// reduce horizontally), which is why a model keeps the release its results were made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GemmRelease {
    /// gemm 0.15 (AVX2 + FMA at best), dfdx's: MLPs, whose cached runs were trained on it.
    V0_15,
    /// gemm 0.19, with AVX-512 kernels where the CPU has them: conv models.
    V0_19,
}

/// How a model's matrix products run: the gemm release and the threads splitting a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Products {
    pub gemm: GemmRelease,
    pub threads: usize,
}

/// `dst (m×n) = [dst +] a (m×k) · b (k×n)`, all row-major, on `with`'s kernels and threads;
/// results are bit-identical run to run and across thread counts (see [`GemmRelease`]).
#[allow(clippy::too_many_arguments)]
pub fn matmul<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [T],
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    accumulate: bool,
    with: Products,
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
    let parallel = with.threads > 1 && m * n * k >= PARALLEL_MIN_WORK;
    let (dst, a, b) = (dst.as_mut_ptr(), a.data.as_ptr(), b.data.as_ptr());
    let (one, dst_rs) = (T::one(), n as isize);
    // SAFETY: the asserts above bound every index gemm touches; dst does not alias a or b
    // because it is borrowed mutably.
    unsafe {
        match with.gemm {
            GemmRelease::V0_15 => {
                let threads = if parallel {
                    gemm::Parallelism::Rayon(with.threads)
                } else {
                    gemm::Parallelism::None
                };
                gemm::gemm(
                    m, n, k, dst, 1, dst_rs, accumulate, a, a_cs, a_rs, b, b_cs, b_rs, one, one,
                    false, false, false, threads,
                )
            }
            GemmRelease::V0_19 => {
                let threads = if parallel {
                    gemm_avx512::Parallelism::Rayon(with.threads)
                } else {
                    gemm_avx512::Parallelism::None
                };
                gemm_avx512::gemm(
                    m, n, k, dst, 1, dst_rs, accumulate, a, a_cs, a_rs, b, b_cs, b_rs, one, one,
                    false, false, false, threads,
                )
            }
        }
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

    const RELEASES: [GemmRelease; 2] = [GemmRelease::V0_15, GemmRelease::V0_19];

    #[test]
    fn matmul_matches_naive_for_all_transposes_on_both_releases() {
        // 7×5 is small enough for 0.19's horizontal kernels, 70×90 takes the blocked ones.
        for (m, n, k) in [(7, 5, 9), (70, 90, 300)] {
            let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
            for (gemm, (at, bt)) in RELEASES.into_iter().flat_map(|g| {
                [(false, false), (true, false), (false, true), (true, true)].map(|t| (g, t))
            }) {
                let mut dst = vec![1.0; m * n];
                let oa = Operand {
                    data: &a,
                    transposed: at,
                };
                let ob = Operand {
                    data: &b,
                    transposed: bt,
                };
                matmul(
                    m,
                    n,
                    k,
                    &mut dst,
                    oa,
                    ob,
                    true,
                    Products { gemm, threads: 1 },
                );
                let want = naive(m, n, k, &a, at, &b, bt);
                for (d, w) in dst.iter().zip(&want) {
                    assert!(
                        (d - (w + 1.0)).abs() < 1e-9,
                        "{gemm:?} {at} {bt}: {d} vs {w}"
                    );
                }
            }
        }
    }

    #[test]
    fn matmul_is_bit_identical_across_thread_counts_on_both_releases() {
        // A conv filter gradient's shape: a long reduction (k) into a small output.
        let (m, n, k) = (64, 96, 3000);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        for gemm in RELEASES {
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut dst = vec![0.0f32; m * n];
                let with = Products { gemm, threads };
                pool.install(|| matmul(m, n, k, &mut dst, trans(&a), plain(&b), false, with));
                dst.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
            };
            let one = run(1);
            assert!(
                one == run(2) && one == run(3),
                "{gemm:?} depends on the thread count"
            );
        }
    }
}
