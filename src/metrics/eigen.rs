//! Top-k eigenpairs of a symmetric positive semi-definite matrix (the PCA covariance).
//!
//! Small matrices use nalgebra's full `SymmetricEigen`. Large ones (MNIST: 784 × 784) use
//! subspace iteration whose cost is in matrixmultiply's dgemm: nalgebra's generic eigen-solver
//! is instantiated in this crate and takes about a minute at 784² in an unoptimised dev build.

use nalgebra::{DMatrix, SymmetricEigen};

/// Above this dimension, subspace iteration is used.
const FULL_EIGEN_MAX_DIM: usize = 128;
/// Extra directions iterated beyond k: convergence goes as (λ_{p+1} / λ_k)^iterations.
const OVERSAMPLING: usize = 10;
const MAX_ITERATIONS: usize = 400;
const TOLERANCE: f64 = 1e-13;

/// The `k` largest eigenvalues (descending) and their unit eigenvectors as `k × d` row-major,
/// of the `d × d` row-major symmetric matrix `a`.
pub(crate) fn top_eigenpairs(a: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    if d <= FULL_EIGEN_MAX_DIM {
        full_eigenpairs(a, d, k)
    } else {
        subspace_eigenpairs(a, d, k)
    }
}

fn full_eigenpairs(a: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let eigen = SymmetricEigen::new(DMatrix::from_row_slice(d, d, a));
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&x, &y| eigen.eigenvalues[y].total_cmp(&eigen.eigenvalues[x]));
    let values = order
        .iter()
        .take(k)
        .map(|&i| eigen.eigenvalues[i])
        .collect();
    let vectors = order
        .iter()
        .take(k)
        .flat_map(|&i| {
            eigen
                .eigenvectors
                .column(i)
                .iter()
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    (values, vectors)
}

/// `c = a · b` for row-major `a` (m × k) and `b` (k × n) with explicit strides of `b`/`c`.
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f64],
    b: &[f64],
    b_strides: (isize, isize),
    c: &mut [f64],
    c_strides: (isize, isize),
) {
    // SAFETY: callers pass buffers of at least the extents the dimensions and strides address
    // (a: m × k row-major; b, c: column-major d × p blocks, see `subspace_eigenpairs`).
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            b_strides.0,
            b_strides.1,
            0.0,
            c.as_mut_ptr(),
            c_strides.0,
            c_strides.1,
        );
    }
}

/// Orthonormalises the `p` columns (each contiguous, length `d`) of `q` in place by modified
/// Gram–Schmidt, applied twice for stability; a collapsed column is replaced by a unit vector.
fn orthonormalize(q: &mut [f64], d: usize, p: usize) {
    for _ in 0..2 {
        for j in 0..p {
            let (done, rest) = q.split_at_mut(j * d);
            let column = &mut rest[..d];
            for i in 0..j {
                let prev = &done[i * d..(i + 1) * d];
                let dot: f64 = prev.iter().zip(column.iter()).map(|(x, y)| x * y).sum();
                column.iter_mut().zip(prev).for_each(|(c, p)| *c -= dot * p);
            }
            let norm = column.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 1e-300 {
                column.iter_mut().for_each(|v| *v /= norm);
            } else {
                column
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, v)| *v = if i == j % d { 1.0 } else { 0.0 });
            }
        }
    }
}

fn subspace_eigenpairs(a: &[f64], d: usize, k: usize) -> (Vec<f64>, Vec<f64>) {
    let p = (k + OVERSAMPLING).min(d);
    // Deterministic pseudo-random start (SplitMix64), column-major d × p.
    let mut state = 0x5EED_u64;
    let mut q: Vec<f64> = (0..d * p)
        .map(|_| {
            (crate::model::rng::splitmix64(&mut state) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect();
    orthonormalize(&mut q, d, p);
    let column_major = (1, d as isize);
    let mut z = vec![0.0; d * p];
    let mut previous = vec![f64::INFINITY; k];
    for _ in 0..MAX_ITERATIONS {
        gemm(d, d, p, a, &q, column_major, &mut z, column_major);
        // Rayleigh quotients of the current directions, to detect convergence.
        let ritz: Vec<f64> = (0..k)
            .map(|j| {
                q[j * d..(j + 1) * d]
                    .iter()
                    .zip(&z[j * d..(j + 1) * d])
                    .map(|(x, y)| x * y)
                    .sum()
            })
            .collect();
        std::mem::swap(&mut q, &mut z);
        orthonormalize(&mut q, d, p);
        let scale = ritz
            .first()
            .copied()
            .unwrap_or(0.0)
            .abs()
            .max(f64::MIN_POSITIVE);
        let converged = ritz
            .iter()
            .zip(&previous)
            .all(|(r, p)| (r - p).abs() <= TOLERANCE * scale);
        previous = ritz;
        if converged {
            break;
        }
    }
    // Rayleigh–Ritz: eigen-decompose the p × p projection Qᵀ A Q and rotate Q accordingly.
    gemm(d, d, p, a, &q, column_major, &mut z, column_major);
    let projected = DMatrix::from_fn(p, p, |i, j| {
        q[i * d..(i + 1) * d]
            .iter()
            .zip(&z[j * d..(j + 1) * d])
            .map(|(x, y)| x * y)
            .sum::<f64>()
    });
    let projected = (&projected + projected.transpose()) * 0.5;
    let (values, small) = full_eigenpairs(projected.as_slice(), p, k);
    // `as_slice` is column-major, but the symmetrised matrix reads the same either way.
    let mut vectors = vec![0.0; k * d];
    for c in 0..k {
        for (j, w) in small[c * p..(c + 1) * p].iter().enumerate() {
            let column = &q[j * d..(j + 1) * d];
            vectors[c * d..(c + 1) * d]
                .iter_mut()
                .zip(column)
                .for_each(|(v, x)| *v += w * x);
        }
    }
    (values, vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subspace_iteration_matches_full_decomposition() {
        // A = B Bᵀ / m for a fixed pseudo-random 150 × 60 B, plus a decaying diagonal.
        let (d, m) = (150, 60);
        let b: Vec<f64> = (0..d * m)
            .map(|i| {
                (((i * 7919 + 13) % 1009) as f64 / 1009.0 - 0.5) * (1.0 + (i % m) as f64 / 10.0)
            })
            .collect();
        let mut a = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] = (0..m).map(|t| b[i * m + t] * b[j * m + t]).sum::<f64>() / m as f64;
            }
            a[i * d + i] += 1.0 / (1.0 + i as f64);
        }
        let k = 8;
        let (full_values, full_vectors) = full_eigenpairs(&a, d, k);
        let (values, vectors) = subspace_eigenpairs(&a, d, k);
        for c in 0..k {
            assert!(
                (values[c] - full_values[c]).abs() < 1e-9 * full_values[0],
                "value {c}: {} vs {}",
                values[c],
                full_values[c]
            );
            let dot: f64 = (0..d)
                .map(|i| vectors[c * d + i] * full_vectors[c * d + i])
                .sum();
            assert!(
                (dot.abs() - 1.0).abs() < 1e-6,
                "vector {c}: |dot| = {}",
                dot.abs()
            );
        }
    }
}
