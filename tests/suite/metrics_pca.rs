//! PCA and principal angles on data with a known low-rank structure.

use crate::common;

use common::TestRng;
use pipeline::metrics::{principal_angles_deg, Pca};

const N: usize = 300;
const D: usize = 12;
const K: usize = 3;

/// `N × D` data = offset + scores (N × K) · loadings (K × D); returns (data, loadings as D × K).
fn rank_k_data() -> (Vec<f32>, Vec<f64>) {
    rank_k_data_with(N, D)
}

fn rank_k_data_with(n: usize, d: usize) -> (Vec<f32>, Vec<f64>) {
    let mut rng = TestRng::new(7);
    let loadings: Vec<f64> = (0..K * d).map(|_| rng.normal()).collect();
    let offset: Vec<f64> = (0..d).map(|j| j as f64 * 0.5).collect();
    let mut data = Vec::with_capacity(n * d);
    for _ in 0..n {
        // Different scales per latent direction so the eigenvalues are distinct.
        let scores = [3.0 * rng.normal(), 2.0 * rng.normal(), rng.normal()];
        for j in 0..d {
            let v: f64 = (0..K).map(|c| scores[c] * loadings[c * d + j]).sum::<f64>() + offset[j];
            data.push(v as f32);
        }
    }
    let basis = (0..d)
        .flat_map(|j| (0..K).map(move |c| (j, c)))
        .map(|(j, c)| loadings[c * d + j])
        .collect();
    (data, basis)
}

#[test]
fn high_dimensional_rank_k_uses_the_same_answer() {
    // d = 300 takes the subspace-iteration path of the eigen-solver.
    let (n, d) = (400, 300);
    let (data, generating_basis) = rank_k_data_with(n, d);
    let pca = Pca::fit(&data, n, d, K).unwrap();
    let mse = pca.reconstruction_mse(&data, n, K).unwrap();
    assert!(mse < 1e-9, "mse {mse}");
    let angles = principal_angles_deg(&pca.basis(K).unwrap(), &generating_basis, d, K, K).unwrap();
    assert!(angles.iter().all(|a| a.abs() < 1e-3), "{angles:?}");
    assert!(pca.explained_variance.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn exact_rank_k_reconstructs_with_k_components() {
    let (data, _) = rank_k_data();
    let pca = Pca::fit(&data, N, D, 5).unwrap();
    let mse_k = pca.reconstruction_mse(&data, N, K).unwrap();
    let mse_k_minus_1 = pca.reconstruction_mse(&data, N, K - 1).unwrap();
    // f32 storage of the data limits how close to zero the error can get.
    assert!(mse_k < 1e-9, "mse with k comps {mse_k}");
    assert!(mse_k_minus_1 > 0.1, "mse with k-1 comps {mse_k_minus_1}");
    let ratio_k: f64 = pca.explained_variance_ratio[..K].iter().sum();
    assert!((ratio_k - 1.0).abs() < 1e-9, "{ratio_k}");
    assert!(pca.explained_variance[K] < 1e-9);
    // Variances come out sorted.
    assert!(pca.explained_variance.windows(2).all(|w| w[0] >= w[1]));
    // Components are orthonormal.
    for a in 0..K {
        for b in 0..K {
            let dot: f64 = (0..D)
                .map(|j| pca.components[a * D + j] * pca.components[b * D + j])
                .sum();
            let expected = if a == b { 1.0 } else { 0.0 };
            assert!((dot - expected).abs() < 1e-9);
        }
    }
}

#[test]
fn pca_subspace_matches_generating_subspace() {
    let (data, generating_basis) = rank_k_data();
    let pca = Pca::fit(&data, N, D, K).unwrap();
    let basis = pca.basis(K).unwrap();
    let angles = principal_angles_deg(&basis, &generating_basis, D, K, K).unwrap();
    assert_eq!(angles.len(), K);
    for angle in &angles {
        assert!(angle.abs() < 1e-3, "angles {angles:?}");
    }
    // A random subspace is far from it (sanity check that angles can be large).
    let mut rng = TestRng::new(99);
    let random: Vec<f64> = (0..D * K).map(|_| rng.normal()).collect();
    let far = principal_angles_deg(&basis, &random, D, K, K).unwrap();
    assert!(far[K - 1] > 20.0, "random angles {far:?}");
}

#[test]
fn transform_then_reconstruct_round_trips() {
    let (data, _) = rank_k_data();
    let pca = Pca::fit(&data, N, D, K).unwrap();
    let scores = pca.transform(&data, N, K).unwrap();
    assert_eq!(scores.len(), N * K);
    // Score variance along component c equals the explained variance.
    for c in 0..K {
        let col: Vec<f64> = (0..N).map(|i| scores[i * K + c]).collect();
        let mean = col.iter().sum::<f64>() / N as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (N - 1) as f64;
        assert!((var - pca.explained_variance[c]).abs() < 1e-6 * var.max(1.0));
    }
    let recon = pca.reconstruct(&data, N, 0).unwrap();
    assert!(recon
        .chunks(D)
        .all(|row| row.iter().zip(&pca.mean).all(|(a, b)| a == b)));
}

#[test]
fn error_curve_matches_reconstruction_at_every_k_on_held_out_data() {
    let (data, _) = rank_k_data();
    // Fit on the first 200 rows plus noise-free structure; score the last 100 (held out).
    let fit_rows = 200;
    let pca = Pca::fit(&data[..fit_rows * D], fit_rows, D, 6).unwrap();
    let held_out = &data[fit_rows * D..];
    let n = N - fit_rows;
    let curve = pca.reconstruction_mse_curve(held_out, n).unwrap();
    assert_eq!(curve.len(), 7);
    for (k, &mse) in curve.iter().enumerate() {
        let direct = pca.reconstruction_mse(held_out, n, k).unwrap();
        assert!(
            (mse - direct).abs() < 1e-9 * direct.max(1.0),
            "k {k}: {mse} vs {direct}"
        );
    }
    assert!(curve.windows(2).all(|w| w[1] <= w[0] + 1e-12), "{curve:?}");
    assert!(curve[K] < 1e-9 && curve[K - 1] > 0.1, "{curve:?}");
}
