//! Which raw examples become train, validation and test: the class filter, the stratified
//! subset, the seeded validation split and, with `test_fraction`, a stratified test split carved
//! out of the training files for datasets whose own test split is missing or must stay unused.

use super::dataset::RawDataset;
use super::preprocess::PreprocessOptions;
use super::SplitMix64;

/// Seed offsets of the independent random streams. Separate streams keep each choice stable
/// when another option changes: a new subset size does not reshuffle the validation split, and
/// a new test fraction does not change which examples the subset stream would prefer.
const SUBSET_STREAM: u64 = 0xA076_1D64_78BD_642F;
const TEST_STREAM: u64 = 0xE703_7ED1_A0B4_28DB;

/// Indices of each split into the raw data, all ascending (sequential reads of the pixels;
/// trainers shuffle per epoch anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndices {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
    /// True when `test` indexes the training files (a carved test split), false when it
    /// indexes the dataset's own test files.
    pub test_from_train: bool,
}

/// Picks `k` of `pool` preserving class proportions: each class gets `floor(k·share)`, the
/// remaining slots go to the largest fractional remainders (ties: lower class first).
pub fn stratified_subset(
    labels: &[u8],
    pool: &[usize],
    k: usize,
    rng: &mut SplitMix64,
) -> Vec<usize> {
    if k >= pool.len() {
        return pool.to_vec();
    }
    let mut by_class = by_class(labels, pool);
    let total = pool.len();
    let mut quota: Vec<usize> = by_class.iter().map(|c| c.len() * k / total).collect();
    let mut order: Vec<usize> = (0..256).filter(|&c| !by_class[c].is_empty()).collect();
    // Remainder of c.len()*k/total, compared exactly in integers.
    order.sort_by_key(|&c| std::cmp::Reverse(by_class[c].len() * k % total));
    let missing = k - quota.iter().sum::<usize>();
    for &c in order.iter().take(missing) {
        quota[c] += 1;
    }
    take_quotas(&mut by_class, &quota, rng)
}

/// Picks `round(fraction · n_c)` of each class's `n_c` members of `pool`. Rounding per class
/// rather than distributing a rounded total keeps every class within half an example of its
/// share, which is what a held-out test split is checked against.
pub fn stratified_fraction(
    labels: &[u8],
    pool: &[usize],
    fraction: f64,
    rng: &mut SplitMix64,
) -> Vec<usize> {
    let mut by_class = by_class(labels, pool);
    let quota: Vec<usize> = by_class
        .iter()
        .map(|c| ((c.len() as f64 * fraction).round() as usize).min(c.len()))
        .collect();
    take_quotas(&mut by_class, &quota, rng)
}

fn by_class(labels: &[u8], pool: &[usize]) -> Vec<Vec<usize>> {
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); 256];
    for &i in pool {
        by_class[labels[i] as usize].push(i);
    }
    by_class
}

fn take_quotas(by_class: &mut [Vec<usize>], quota: &[usize], rng: &mut SplitMix64) -> Vec<usize> {
    let mut out = Vec::with_capacity(quota.iter().sum());
    for (members, &q) in by_class.iter_mut().zip(quota) {
        rng.shuffle(members);
        out.extend_from_slice(&members[..q]);
    }
    out.sort_unstable();
    out
}

/// Share of the remaining pool that goes to validation. With a carved test split both
/// fractions are shares of the training files (0.1 and 0.2 give 70/10/20), so the validation
/// share of what the test split leaves is `val_fraction / (1 − test_fraction)`.
pub fn val_share(opts: &PreprocessOptions) -> f64 {
    if opts.test_fraction > 0.0 {
        opts.val_fraction / (1.0 - opts.test_fraction)
    } else {
        opts.val_fraction
    }
}

/// Train/val/test indices into the raw splits, from the options alone (deterministic).
///
/// A carved test split is drawn from every class before the class filter and the subset, as
/// the dataset's own test split would be: one-class experiments still score anomalies on it.
pub fn split_indices(raw: &RawDataset, opts: &PreprocessOptions) -> SplitIndices {
    let labels = &raw.train.labels;
    let all: Vec<usize> = (0..raw.train.n).collect();
    let (test, rest, test_from_train) = if opts.test_fraction > 0.0 {
        let mut rng = SplitMix64::new(opts.split_seed ^ TEST_STREAM);
        let test = stratified_fraction(labels, &all, opts.test_fraction, &mut rng);
        let mut held = vec![false; raw.train.n];
        test.iter().for_each(|&i| held[i] = true);
        let rest = all.into_iter().filter(|&i| !held[i]).collect();
        (test, rest, true)
    } else {
        ((0..raw.test.n).collect(), all, false)
    };
    let mut pool: Vec<usize> = match &opts.classes {
        Some(keep) => rest
            .into_iter()
            .filter(|&i| keep.contains(&labels[i]))
            .collect(),
        None => rest,
    };
    if let Some(k) = opts.subset {
        let mut subset_rng = SplitMix64::new(opts.split_seed ^ SUBSET_STREAM);
        pool = stratified_subset(labels, &pool, k, &mut subset_rng);
    }
    let mut rng = SplitMix64::new(opts.split_seed);
    rng.shuffle(&mut pool);
    let n_val = ((val_share(opts) * pool.len() as f64).round() as usize).min(pool.len());
    let mut val = pool[..n_val].to_vec();
    let mut train = pool[n_val..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    SplitIndices {
        train,
        val,
        test,
        test_from_train,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_class_rounding_keeps_each_class_within_half_an_example() {
        // Class c has 3 + 7c members; 0.3 of them is never a whole number for some classes.
        let labels: Vec<u8> = (0..5u8)
            .flat_map(|c| std::iter::repeat_n(c, 3 + 7 * c as usize))
            .collect();
        let pool: Vec<usize> = (0..labels.len()).collect();
        let picked = stratified_fraction(&labels, &pool, 0.3, &mut SplitMix64::new(4));
        for c in 0..5u8 {
            let n = labels.iter().filter(|&&l| l == c).count();
            let got = picked.iter().filter(|&&i| labels[i] == c).count();
            assert!(
                (got as f64 - 0.3 * n as f64).abs() <= 0.5,
                "class {c}: {got} of {n}"
            );
        }
        assert!(picked.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
    }
}
