//! Downstream classification on latent codes: k-nearest-neighbour accuracy and a linear probe
//! (multinomial logistic regression on standardised codes, full-batch gradient descent).

use rayon::prelude::*;

use super::{check_len, check_matrix, MetricsError, MetricsResult};

fn squared_distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let diff = x as f64 - y as f64;
            diff * diff
        })
        .sum()
}

/// Predicts each test code's label by majority vote of its `k` nearest training codes
/// (Euclidean). Deterministic ties: neighbours at equal distance are taken in training order;
/// classes with equal votes are decided by whichever has the nearer neighbour.
pub fn knn_predict(
    train: &[f32],
    train_labels: &[u8],
    test: &[f32],
    dim: usize,
    k: usize,
) -> MetricsResult<Vec<u8>> {
    if dim == 0 || k == 0 {
        return Err(MetricsError::Invalid(format!(
            "kNN needs dim >= 1 and k >= 1 (dim {dim}, k {k})"
        )));
    }
    let n_train = train_labels.len();
    check_matrix("kNN train codes", train, n_train, dim)?;
    if test.len() % dim != 0 {
        return Err(MetricsError::Invalid(
            "kNN test codes: length is not a multiple of dim".into(),
        ));
    }
    if test.iter().any(|v| !v.is_finite()) {
        return Err(MetricsError::NonFinite("kNN test codes"));
    }
    if n_train < k {
        return Err(MetricsError::Invalid(format!(
            "kNN: k = {k} exceeds {n_train} training codes"
        )));
    }
    Ok(test
        .par_chunks(dim)
        .map(|query| {
            // Sorted (distance, train index) of the k best so far; the index breaks distance ties.
            let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
            for (i, row) in train.chunks_exact(dim).enumerate() {
                let dist = squared_distance(query, row);
                if best.len() == k && dist >= best[k - 1].0 {
                    continue;
                }
                let pos = best.partition_point(|&(d, _)| d <= dist);
                best.insert(pos, (dist, i));
                best.truncate(k);
            }
            let mut votes = [0usize; 256];
            best.iter()
                .for_each(|&(_, i)| votes[train_labels[i] as usize] += 1);
            let top = *votes.iter().max().expect("non-empty");
            // `best` is nearest-first, so the first tied class found is the one nearest the query.
            best.iter()
                .map(|&(_, i)| train_labels[i])
                .find(|&label| votes[label as usize] == top)
                .expect("k >= 1")
        })
        .collect())
}

/// Fraction of `predicted` equal to `truth`.
fn accuracy(predicted: &[u8], truth: &[u8]) -> f64 {
    let correct = predicted.iter().zip(truth).filter(|(p, t)| p == t).count();
    correct as f64 / truth.len().max(1) as f64
}

/// kNN classification accuracy of test codes given training codes (see [`knn_predict`]).
pub fn knn_accuracy(
    train: &[f32],
    train_labels: &[u8],
    test: &[f32],
    test_labels: &[u8],
    dim: usize,
    k: usize,
) -> MetricsResult<f64> {
    check_len("kNN test labels", test_labels.len() * dim, test.len())?;
    let predicted = knn_predict(train, train_labels, test, dim, k)?;
    Ok(accuracy(&predicted, test_labels))
}

/// Optimiser settings of the linear probe.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeConfig {
    /// Full-batch gradient steps.
    pub steps: usize,
    /// L2 penalty on the weights (not the biases); keeps weights finite on separable data.
    pub l2: f64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            steps: 300,
            l2: 1e-4,
        }
    }
}

/// A trained multinomial logistic-regression probe.
#[derive(Debug, Clone)]
pub struct LinearProbe {
    pub dim: usize,
    pub n_classes: usize,
    /// Per-feature mean and standard deviation of the training codes (standardisation).
    pub feature_mean: Vec<f64>,
    pub feature_std: Vec<f64>,
    /// `n_classes × (dim + 1)`; the last column is the bias.
    pub weights: Vec<f64>,
}

impl LinearProbe {
    /// Trains on `n × dim` codes with labels `0..n_classes` (n_classes = max label + 1).
    ///
    /// Deterministic: zero initialisation and full-batch gradient descent with step
    /// `1 / L`, where `L = ½ λ_max(XᵀX / n) + l2` bounds the curvature of the softmax
    /// cross-entropy (Böhning 1992), so the descent cannot diverge.
    pub fn fit(
        codes: &[f32],
        labels: &[u8],
        dim: usize,
        config: ProbeConfig,
    ) -> MetricsResult<Self> {
        let n = labels.len();
        check_matrix("probe codes", codes, n, dim)?;
        if n == 0 || dim == 0 {
            return Err(MetricsError::Invalid("linear probe needs data".into()));
        }
        let n_classes = *labels.iter().max().expect("n > 0") as usize + 1;
        let (feature_mean, feature_std) = standardisation(codes, n, dim);
        let width = dim + 1;
        let features = standardised_with_bias(codes, dim, &feature_mean, &feature_std);
        let curvature = 0.5 * largest_gram_eigenvalue(&features, n, width) + config.l2;
        let step = 1.0 / curvature;

        let mut weights = vec![0.0; n_classes * width];
        for _ in 0..config.steps {
            let mut gradient = features
                .par_chunks(width * 1024)
                .zip(labels.par_chunks(1024))
                .map(|(block, block_labels)| {
                    let mut grad = vec![0.0; n_classes * width];
                    let mut probs = vec![0.0; n_classes];
                    for (x, &y) in block.chunks_exact(width).zip(block_labels) {
                        softmax_logits(&weights, x, &mut probs);
                        probs[y as usize] -= 1.0;
                        for (c, p) in probs.iter().enumerate() {
                            for (g, xv) in grad[c * width..(c + 1) * width].iter_mut().zip(x) {
                                *g += p * xv;
                            }
                        }
                    }
                    grad
                })
                .reduce(
                    || vec![0.0; n_classes * width],
                    |mut a, b| {
                        a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                        a
                    },
                );
            for (i, g) in gradient.iter_mut().enumerate() {
                *g /= n as f64;
                if i % width != dim {
                    *g += config.l2 * weights[i];
                }
            }
            weights
                .iter_mut()
                .zip(&gradient)
                .for_each(|(w, g)| *w -= step * g);
        }
        Ok(LinearProbe {
            dim,
            n_classes,
            feature_mean,
            feature_std,
            weights,
        })
    }

    /// Most probable class of each `dim`-wide code (lowest class index on exact ties).
    pub fn predict(&self, codes: &[f32]) -> MetricsResult<Vec<u8>> {
        if codes.len() % self.dim != 0 {
            return Err(MetricsError::Invalid(
                "probe codes: length is not a multiple of dim".into(),
            ));
        }
        let features =
            standardised_with_bias(codes, self.dim, &self.feature_mean, &self.feature_std);
        let mut probs = vec![0.0; self.n_classes];
        Ok(features
            .chunks_exact(self.dim + 1)
            .map(|x| {
                softmax_logits(&self.weights, x, &mut probs);
                let mut best = 0;
                for (c, &p) in probs.iter().enumerate() {
                    if p > probs[best] {
                        best = c;
                    }
                }
                best as u8
            })
            .collect())
    }

    /// Accuracy on labelled codes.
    pub fn accuracy(&self, codes: &[f32], labels: &[u8]) -> MetricsResult<f64> {
        check_len("probe labels", labels.len() * self.dim, codes.len())?;
        Ok(accuracy(&self.predict(codes)?, labels))
    }
}

/// Trains a [`LinearProbe`] on the training codes and returns its test accuracy.
pub fn linear_probe_accuracy(
    train: &[f32],
    train_labels: &[u8],
    test: &[f32],
    test_labels: &[u8],
    dim: usize,
    config: ProbeConfig,
) -> MetricsResult<f64> {
    LinearProbe::fit(train, train_labels, dim, config)?.accuracy(test, test_labels)
}

fn standardisation(codes: &[f32], n: usize, dim: usize) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0; dim];
    for row in codes.chunks_exact(dim) {
        mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0; dim];
    for row in codes.chunks_exact(dim) {
        for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v as f64 - m).powi(2);
        }
    }
    // A constant feature keeps scale 1 (it becomes all zeros) instead of dividing by zero.
    let std = var
        .iter()
        .map(|s| (s / n as f64).sqrt())
        .map(|s| if s > 1e-12 { s } else { 1.0 })
        .collect();
    (mean, std)
}

/// Standardised codes with a trailing constant-1 column for the bias: `n × (dim + 1)`.
fn standardised_with_bias(codes: &[f32], dim: usize, mean: &[f64], std: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(codes.len() / dim * (dim + 1));
    for row in codes.chunks_exact(dim) {
        out.extend(
            row.iter()
                .zip(mean)
                .zip(std)
                .map(|((&v, m), s)| (v as f64 - m) / s),
        );
        out.push(1.0);
    }
    out
}

/// Writes softmax(W x) into `probs`.
fn softmax_logits(weights: &[f64], x: &[f64], probs: &mut [f64]) {
    let width = x.len();
    for (c, p) in probs.iter_mut().enumerate() {
        *p = weights[c * width..(c + 1) * width]
            .iter()
            .zip(x)
            .map(|(w, v)| w * v)
            .sum();
    }
    let max = probs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    probs.iter_mut().for_each(|p| {
        *p = (*p - max).exp();
        total += *p;
    });
    probs.iter_mut().for_each(|p| *p /= total);
}

/// Largest eigenvalue of `XᵀX / n` (a `(dim + 1)²` matrix, so an exact eigendecomposition is cheap).
fn largest_gram_eigenvalue(x: &[f64], n: usize, width: usize) -> f64 {
    let mut gram = nalgebra::DMatrix::<f64>::zeros(width, width);
    for row in x.chunks_exact(width) {
        for i in 0..width {
            for j in 0..width {
                gram[(i, j)] += row[i] * row[j];
            }
        }
    }
    gram /= n as f64;
    nalgebra::SymmetricEigen::new(gram)
        .eigenvalues
        .iter()
        .copied()
        .fold(f64::MIN_POSITIVE, f64::max)
}
