//! kNN and linear-probe accuracy on synthetic clusters.

use crate::common;

use common::TestRng;
use pipeline::metrics::{
    knn_accuracy, knn_predict, linear_probe_accuracy, LinearProbe, ProbeConfig,
};

/// `per_class` points around each centre with unit noise in 3-D; label = centre index, or
/// `label_of(centre index)` when given.
fn clusters(
    centres: &[[f64; 3]],
    per_class: usize,
    seed: u64,
    label_of: &dyn Fn(usize) -> u8,
) -> (Vec<f32>, Vec<u8>) {
    let mut rng = TestRng::new(seed);
    let mut codes = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..per_class {
        for (c, centre) in centres.iter().enumerate() {
            codes.extend(centre.iter().map(|m| (m + rng.normal()) as f32));
            labels.push(label_of(c));
        }
    }
    (codes, labels)
}

const SEPARATED: [[f64; 3]; 3] = [[0.0, 0.0, 0.0], [12.0, 0.0, 0.0], [0.0, 12.0, 3.0]];

#[test]
fn separable_clusters_are_classified_perfectly() {
    let (train, train_labels) = clusters(&SEPARATED, 100, 1, &|c| c as u8);
    let (test, test_labels) = clusters(&SEPARATED, 50, 2, &|c| c as u8);
    let knn = knn_accuracy(&train, &train_labels, &test, &test_labels, 3, 5).unwrap();
    assert_eq!(knn, 1.0);
    let probe = linear_probe_accuracy(
        &train,
        &train_labels,
        &test,
        &test_labels,
        3,
        ProbeConfig::default(),
    )
    .unwrap();
    assert_eq!(probe, 1.0);
}

#[test]
fn xor_clusters_separate_knn_from_linear_probe() {
    // Four corners labelled by XOR: no linear classifier gets more than 3 of 4 corners right.
    let corners = [
        [8.0, 8.0, 0.0],
        [-8.0, 8.0, 0.0],
        [8.0, -8.0, 0.0],
        [-8.0, -8.0, 0.0],
    ];
    let xor = |c: usize| [0u8, 1, 1, 0][c];
    let (train, train_labels) = clusters(&corners, 100, 3, &xor);
    let (test, test_labels) = clusters(&corners, 50, 4, &xor);
    let knn = knn_accuracy(&train, &train_labels, &test, &test_labels, 3, 5).unwrap();
    let probe = linear_probe_accuracy(
        &train,
        &train_labels,
        &test,
        &test_labels,
        3,
        ProbeConfig::default(),
    )
    .unwrap();
    assert!(knn > 0.99, "knn {knn}");
    assert!(probe <= 0.8, "probe {probe}");
}

#[test]
fn knn_ties_are_deterministic() {
    // 1-D: label 0 at -1, label 1 at +1, label 2 far away.
    let train = [-1.0f32, 1.0, 50.0];
    let labels = [0u8, 1, 2];
    // From 0 both neighbours are at distance 1: the earlier training point wins.
    assert_eq!(knn_predict(&train, &labels, &[0.0], 1, 1).unwrap(), vec![0]);
    // Votes tie 1–1: the class with the nearer neighbour wins.
    assert_eq!(
        knn_predict(&train, &labels, &[0.1, -0.1], 1, 2).unwrap(),
        vec![1, 0]
    );
    // Exact vote tie at equal distances falls back to training order.
    assert_eq!(knn_predict(&train, &labels, &[0.0], 1, 2).unwrap(), vec![0]);
    assert!(knn_predict(&train, &labels, &[0.0], 1, 4).is_err());
}

#[test]
fn probe_is_deterministic_and_beats_chance_on_overlap() {
    // Overlapping clusters (centres 2 apart, unit noise): Bayes accuracy ~0.84 along the axis.
    let centres = [[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]];
    let (train, labels) = clusters(&centres, 400, 5, &|c| c as u8);
    let a = LinearProbe::fit(&train, &labels, 3, ProbeConfig::default()).unwrap();
    let b = LinearProbe::fit(&train, &labels, 3, ProbeConfig::default()).unwrap();
    assert_eq!(a.weights, b.weights);
    let acc = a.accuracy(&train, &labels).unwrap();
    assert!((0.78..0.9).contains(&acc), "accuracy {acc}");
}
