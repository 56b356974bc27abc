//! MIG and active units on synthetic codes whose answer is known.

use crate::common;

use common::TestRng;
use pipeline::metrics::{
    active_units, mutual_information_gap, MigUnits, ACTIVE_UNIT_THRESHOLD, MIG_BINS,
};

const N: usize = 20_000;

/// Two factors with 5 and 4 uniformly drawn levels, `N × 2`.
fn factors(rng: &mut TestRng) -> Vec<u32> {
    (0..N)
        .flat_map(|_| [0, 1])
        .map(|j| (rng.next_u64() % [5, 4][j]) as u32)
        .collect::<Vec<_>>()
}

#[test]
fn latents_copying_factors_give_mig_near_one() {
    let mut rng = TestRng::new(1);
    let factors = factors(&mut rng);
    // Latent 0 = factor 0, latent 1 = scaled factor 1, latents 2..4 are noise.
    let codes: Vec<f32> = (0..N)
        .flat_map(|i| {
            let f0 = factors[i * 2] as f32;
            let f1 = factors[i * 2 + 1] as f32;
            [f0, -2.5 * f1 + 1.0, 0.0, 0.0]
        })
        .collect::<Vec<_>>()
        .chunks(4)
        .flat_map(|row| [row[0], row[1], rng.uniform() as f32, rng.uniform() as f32])
        .collect();
    let mig = mutual_information_gap(&codes, &factors, N, 4, 2, MIG_BINS, MigUnits::All).unwrap();
    assert!(mig.mig > 0.97, "{mig:?}");
    // The copy's MI equals the factor's entropy (ln 5, ln 4 for uniform factors).
    assert!((mig.mutual_information[0][0] - mig.factor_entropy[0]).abs() < 1e-9);
    assert!((mig.factor_entropy[0] - 5f64.ln()).abs() < 0.01);
    assert!((mig.factor_entropy[1] - 4f64.ln()).abs() < 0.01);
}

#[test]
fn duplicated_latent_closes_the_gap() {
    let mut rng = TestRng::new(2);
    let factors = factors(&mut rng);
    // Factor 0 is copied into two latents: its gap is 0; factor 1's gap stays 1 -> MIG 0.5.
    let codes: Vec<f32> = (0..N)
        .flat_map(|i| {
            let f0 = factors[i * 2] as f32;
            [f0, 3.0 * f0, factors[i * 2 + 1] as f32]
        })
        .collect();
    let mig = mutual_information_gap(&codes, &factors, N, 3, 2, MIG_BINS, MigUnits::All).unwrap();
    assert!(mig.per_factor[0].abs() < 1e-9, "{mig:?}");
    assert!(mig.per_factor[1] > 0.99, "{mig:?}");
    assert!((mig.mig - 0.5).abs() < 0.01);
}

#[test]
fn random_latents_give_mig_near_zero() {
    let mut rng = TestRng::new(3);
    let factors = factors(&mut rng);
    let codes: Vec<f32> = (0..N * 5).map(|_| rng.uniform() as f32).collect();
    let mig = mutual_information_gap(&codes, &factors, N, 5, 2, MIG_BINS, MigUnits::All).unwrap();
    assert!(mig.mig < 0.01, "{mig:?}");
}

#[test]
fn active_units_count_high_variance_means() {
    let mut rng = TestRng::new(4);
    // Unit scales 1, 0.5, 0.05, 0 -> variances ~1/12, 1/48, 1/4800, 0 for uniform[0,1) draws.
    let scales = [1.0, 0.5, 0.05, 0.0];
    let means: Vec<f32> = (0..N * 4)
        .map(|i| (scales[i % 4] * rng.uniform()) as f32)
        .collect();
    let au = active_units(&means, N, 4, ACTIVE_UNIT_THRESHOLD).unwrap();
    assert_eq!(au.active, vec![true, true, false, false]);
    assert_eq!(au.count, 2);
    assert!(
        (au.variances[0] - 1.0 / 12.0).abs() < 0.005,
        "{:?}",
        au.variances
    );
}
