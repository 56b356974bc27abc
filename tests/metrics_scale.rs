//! Metrics at the sizes the pipeline uses (MNIST-like n and d), timed. Ignored by default
//! because a debug build takes a while; run with `cargo test --test metrics_scale -- --ignored
//! --nocapture` to see the timings.

use std::time::Instant;

use pipeline::metrics::*;

/// SplitMix64 + Box–Muller: deterministic standard normals without a rand dependency.
struct Normals(u64);
impl Normals {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn next(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * self.uniform()).cos()
    }
}

/// `n` codes of width `dim` from 10 Gaussian classes whose means are 3 apart on one axis each.
fn class_codes(rng: &mut Normals, n: usize, dim: usize) -> (Vec<f32>, Vec<u8>) {
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    let codes = labels
        .iter()
        .flat_map(|&l| (0..dim).map(move |j| (j, l)))
        .map(|(j, l)| (rng.next() + if j == l as usize % dim { 3.0 } else { 0.0 }) as f32)
        .collect();
    (codes, labels)
}

#[test]
#[ignore = "slow in debug builds; run explicitly for timings"]
fn mnist_sized_workloads() {
    let mut rng = Normals(11);
    let (n, d) = (10_000, 784);
    let images: Vec<f32> = (0..n * d).map(|_| rng.uniform() as f32).collect();
    let t = Instant::now();
    let pca = Pca::fit(&images, n, d, 20).unwrap();
    let mse = pca.reconstruction_mse(&images, n, 20).unwrap();
    eprintln!("PCA fit 10000x784 (k=20) + MSE: {:.2?}", t.elapsed());
    assert!(pca.explained_variance.windows(2).all(|w| w[0] >= w[1]));
    // Uniform noise has per-pixel variance 1/12; 20 of 784 directions remove only a little.
    assert!(mse > 0.07 && mse < 1.0 / 12.0, "{mse}");

    let (train, train_labels) = class_codes(&mut rng, 10_000, 20);
    let (test, test_labels) = class_codes(&mut rng, 2_000, 20);
    let t = Instant::now();
    let knn = knn_accuracy(&train, &train_labels, &test, &test_labels, 20, 5).unwrap();
    eprintln!(
        "kNN 10000 train x 2000 test, dim 20, k 5: {:.2?} (acc {knn:.3})",
        t.elapsed()
    );
    let t = Instant::now();
    let probe = linear_probe_accuracy(
        &train,
        &train_labels,
        &test,
        &test_labels,
        20,
        ProbeConfig::default(),
    )
    .unwrap();
    eprintln!(
        "linear probe 10000 x 20, 10 classes, 300 steps: {:.2?} (acc {probe:.3})",
        t.elapsed()
    );
    assert!(knn > 0.5 && probe > 0.5, "knn {knn}, probe {probe}");

    let factors: Vec<u32> = train_labels.iter().map(|&l| l as u32).collect();
    let t = Instant::now();
    let mig = mutual_information_gap(&train, &factors, 10_000, 20, 1, MIG_BINS).unwrap();
    eprintln!(
        "MIG 10000 x 20 latents, 1 factor: {:.2?} (mig {:.3})",
        t.elapsed(),
        mig.mig
    );
    assert!(mig.mig > 0.0 && mig.mig < 1.0);
}
