//! Principal component analysis by eigendecomposition of the sample covariance matrix.

use super::eigen::top_eigenpairs;

use super::{check_matrix, MetricsError, MetricsResult};

/// A fitted PCA: mean and the top `k` principal directions of `n × d` training data.
#[derive(Debug, Clone)]
pub struct Pca {
    pub dim: usize,
    pub mean: Vec<f64>,
    /// `k × d`, row-major; row `i` is the unit-norm direction with the `i`-th largest variance.
    /// Signs are fixed so each component's largest-magnitude entry is positive (deterministic).
    pub components: Vec<f64>,
    /// Variance along each component (sample covariance, n − 1 denominator).
    pub explained_variance: Vec<f64>,
    /// `explained_variance / total variance`.
    pub explained_variance_ratio: Vec<f64>,
}

impl Pca {
    /// Fits the top `k` components of `data` (`n × d`, row-major). Needs `n >= 2`, `1 <= k <= d`.
    pub fn fit(data: &[f32], n: usize, d: usize, k: usize) -> MetricsResult<Pca> {
        check_matrix("PCA data", data, n, d)?;
        if n < 2 || k == 0 || k > d {
            return Err(MetricsError::Invalid(format!(
                "PCA needs n >= 2 and 1 <= k <= d (n {n}, d {d}, k {k})"
            )));
        }
        let mut mean = vec![0.0f64; d];
        for row in data.chunks_exact(d) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let centered: Vec<f64> = data
            .chunks_exact(d)
            .flat_map(|row| row.iter().zip(&mean).map(|(&v, m)| v as f64 - m))
            .collect();
        // d × d covariance XᵀX / (n − 1), the costly part: matrixmultiply's blocked dgemm.
        let mut gram = vec![0.0f64; d * d];
        // SAFETY: `centered` is n × d row-major (row stride d, column stride 1), read as its
        // transpose (d × n: row stride 1, column stride d); `gram` is d × d row-major; all
        // three buffers have exactly the sizes these strides address.
        unsafe {
            matrixmultiply::dgemm(
                d,
                n,
                d,
                1.0 / (n as f64 - 1.0),
                centered.as_ptr(),
                1,
                d as isize,
                centered.as_ptr(),
                d as isize,
                1,
                0.0,
                gram.as_mut_ptr(),
                d as isize,
                1,
            );
        }
        let total_variance: f64 = (0..d).map(|i| gram[i * d + i]).sum();
        let (values, vectors) = top_eigenpairs(&gram, d, k);

        let mut components = Vec::with_capacity(k * d);
        let mut explained_variance = Vec::with_capacity(k);
        for (c, &value) in values.iter().enumerate() {
            let column = &vectors[c * d..(c + 1) * d];
            let pivot = column
                .iter()
                .copied()
                .max_by(|a, b| a.abs().total_cmp(&b.abs()))
                .unwrap_or(1.0);
            let sign = if pivot < 0.0 { -1.0 } else { 1.0 };
            components.extend(column.iter().map(|v| v * sign));
            // Tiny negative eigenvalues are rounding noise of a rank-deficient covariance.
            explained_variance.push(value.max(0.0));
        }
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| {
                if total_variance > 0.0 {
                    v / total_variance
                } else {
                    0.0
                }
            })
            .collect();
        Ok(Pca {
            dim: d,
            mean,
            components,
            explained_variance,
            explained_variance_ratio,
        })
    }

    /// Number of fitted components.
    pub fn n_components(&self) -> usize {
        self.explained_variance.len()
    }

    fn check_k(&self, k: usize) -> MetricsResult<()> {
        if k > self.n_components() {
            return Err(MetricsError::Invalid(format!(
                "asked for {k} components, only {} fitted",
                self.n_components()
            )));
        }
        Ok(())
    }

    /// Projects `n × d` data onto the first `k` components: `n × k` scores.
    pub fn transform(&self, data: &[f32], n: usize, k: usize) -> MetricsResult<Vec<f64>> {
        check_matrix("PCA transform data", data, n, self.dim)?;
        self.check_k(k)?;
        let d = self.dim;
        let mut scores = vec![0.0; n * k];
        for (row, out) in data.chunks_exact(d).zip(scores.chunks_exact_mut(k.max(1))) {
            for (c, o) in out.iter_mut().enumerate().take(k) {
                let comp = &self.components[c * d..(c + 1) * d];
                *o = row
                    .iter()
                    .zip(&self.mean)
                    .zip(comp)
                    .map(|((&x, m), w)| (x as f64 - m) * w)
                    .sum();
            }
        }
        Ok(scores)
    }

    /// Reconstructs `n × d` data from its first `k` component scores (`k = 0` gives the mean).
    pub fn reconstruct(&self, data: &[f32], n: usize, k: usize) -> MetricsResult<Vec<f64>> {
        let scores = self.transform(data, n, k)?;
        let d = self.dim;
        let mut out = Vec::with_capacity(n * d);
        for i in 0..n {
            let start = out.len();
            out.extend_from_slice(&self.mean);
            for c in 0..k {
                let s = scores[i * k + c];
                let comp = &self.components[c * d..(c + 1) * d];
                for (o, w) in out[start..].iter_mut().zip(comp) {
                    *o += s * w;
                }
            }
        }
        Ok(out)
    }

    /// Mean squared reconstruction error per element (averaged over `n * d`) with `k` components.
    pub fn reconstruction_mse(&self, data: &[f32], n: usize, k: usize) -> MetricsResult<f64> {
        let recon = self.reconstruct(data, n, k)?;
        let sum: f64 = data
            .iter()
            .zip(&recon)
            .map(|(&x, r)| (x as f64 - r).powi(2))
            .sum();
        Ok(sum / (n * self.dim) as f64)
    }

    /// Mean squared reconstruction error per element for every `k` from 0 to the number of
    /// fitted components, from one projection: the components are orthonormal, so each one
    /// removes exactly its squared score from the residual.
    pub fn reconstruction_mse_curve(&self, data: &[f32], n: usize) -> MetricsResult<Vec<f64>> {
        let k = self.n_components();
        let scores = self.transform(data, n, k)?;
        let centered_sq: f64 = data
            .chunks_exact(self.dim)
            .flat_map(|row| {
                row.iter()
                    .zip(&self.mean)
                    .map(|(&x, m)| (x as f64 - m).powi(2))
            })
            .sum();
        let mut explained = vec![0.0f64; k];
        for row in scores.chunks_exact(k.max(1)) {
            for (e, s) in explained.iter_mut().zip(row) {
                *e += s * s;
            }
        }
        let total = (n * self.dim) as f64;
        let mut residual = centered_sq;
        let mut curve = vec![residual / total];
        for e in explained {
            residual -= e;
            curve.push(residual.max(0.0) / total);
        }
        Ok(curve)
    }

    /// The first `k` components as a `d × k` row-major basis (the layout
    /// [`principal_angles_deg`](super::principal_angles_deg) takes).
    pub fn basis(&self, k: usize) -> MetricsResult<Vec<f64>> {
        self.check_k(k)?;
        let d = self.dim;
        Ok((0..d)
            .flat_map(|row| (0..k).map(move |c| (row, c)))
            .map(|(row, c)| self.components[c * d + row])
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variance_of_axis_aligned_data() {
        // Values ±2 on x and ±1 on y, uncorrelated, so the axes are the principal directions.
        let data = [2.0, 1.0, -2.0, -1.0, 2.0, -1.0, -2.0, 1.0];
        let pca = Pca::fit(&data, 4, 2, 2).unwrap();
        // Sample variance of x = 16/3, of y = 4/3.
        assert!((pca.explained_variance[0] - 16.0 / 3.0).abs() < 1e-9);
        assert!((pca.explained_variance[1] - 4.0 / 3.0).abs() < 1e-9);
        assert!((pca.components[0] - 1.0).abs() < 1e-9 && pca.components[1].abs() < 1e-9);
        assert!((pca.explained_variance_ratio[0] - 0.8).abs() < 1e-9);
        // One component keeps x: the error left is y's mean square, 1 per row over 2 columns.
        assert!((pca.reconstruction_mse(&data, 4, 1).unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(Pca::fit(&[1.0, 2.0, 3.0], 2, 2, 1).is_err());
        assert!(Pca::fit(&[1.0, 2.0, 3.0, 4.0], 2, 2, 3).is_err());
    }
}
