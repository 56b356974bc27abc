//! Latent-space diagnostics: active units (Burda et al. 2016) and the mutual information gap
//! (MIG, Chen et al. 2018).

use serde::{Deserialize, Serialize};

use super::{check_len, check_matrix, MetricsError, MetricsResult};

/// Burda et al.'s threshold on `Cov_x(E_q[z_u | x])` for a unit to count as active.
pub const ACTIVE_UNIT_THRESHOLD: f64 = 0.01;
/// Number of equal-width bins each latent is discretised into for MIG (as in Chen et al.).
pub const MIG_BINS: usize = 20;

/// Per-unit activity of a latent code.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveUnits {
    /// Variance over the data set of each unit's posterior mean (n − 1 denominator).
    pub variances: Vec<f64>,
    pub active: Vec<bool>,
    pub count: usize,
}

/// Active units from the `n × k` matrix of posterior means `E_q[z | x]`: unit `u` is active
/// when the variance of its mean across data points exceeds `threshold`
/// (use [`ACTIVE_UNIT_THRESHOLD`]).
pub fn active_units(
    means: &[f32],
    n: usize,
    k: usize,
    threshold: f64,
) -> MetricsResult<ActiveUnits> {
    check_matrix("latent means", means, n, k)?;
    if n < 2 {
        return Err(MetricsError::Invalid(
            "active units need at least 2 data points".into(),
        ));
    }
    let variances: Vec<f64> = (0..k)
        .map(|u| {
            let column = means.iter().skip(u).step_by(k).map(|&v| v as f64);
            let mean = column.clone().sum::<f64>() / n as f64;
            column.map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        })
        .collect();
    let active: Vec<bool> = variances.iter().map(|&v| v > threshold).collect();
    let count = active.iter().filter(|&&a| a).count();
    Ok(ActiveUnits {
        variances,
        active,
        count,
    })
}

/// Which latent units MIG scores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MigUnits {
    /// Every unit, as disentanglement_lib does.
    #[default]
    All,
    /// Only active units ([`ACTIVE_UNIT_THRESHOLD`]); an inactive one counts as carrying no
    /// information. Its posterior is the prior, so Chen et al.'s MI (under q(z|x)) is about
    /// 0, but the histogram of its near-constant means is stretched over all the bins (the
    /// binning is scale-free) and shows spurious MI that closes the gap of the real unit.
    Active,
}

impl MigUnits {
    pub const NAMES: &'static [&'static str] = &["all", "active"];

    /// Serde helper: stage parameters leave the default out so earlier keys stay valid.
    pub fn is_all(&self) -> bool {
        *self == MigUnits::All
    }
}

/// Result of [`mutual_information_gap`].
#[derive(Debug, Clone, PartialEq)]
pub struct Mig {
    /// Mean over factors with non-zero entropy of the normalised gap.
    pub mig: f64,
    /// Normalised gap per factor (NaN for a constant factor, which is left out of the mean).
    pub per_factor: Vec<f64>,
    /// `mutual_information[latent][factor]` in nats (0 for a unit left out by [`MigUnits`]).
    pub mutual_information: Vec<Vec<f64>>,
    /// Entropy of each factor in nats.
    pub factor_entropy: Vec<f64>,
}

impl Mig {
    /// For each latent unit, the factor it shares the most mutual information with.
    pub fn best_factor_per_unit(&self) -> Vec<usize> {
        self.mutual_information
            .iter()
            .map(|row| {
                (0..row.len())
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap_or(0)
            })
            .collect()
    }

    /// `mutual_information[latent][factor] / H(factor)` (0 for a constant factor).
    pub fn normalised_mutual_information(&self) -> Vec<Vec<f64>> {
        self.mutual_information
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&self.factor_entropy)
                    .map(|(mi, h)| if *h > 0.0 { mi / h } else { 0.0 })
                    .collect()
            })
            .collect()
    }
}

/// Equal-width bin index of every value of one latent (like `np.histogram(bins)` in
/// disentanglement_lib); a constant latent lands in a single bin.
fn discretize(values: &[f64], bins: usize) -> Vec<usize> {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let width = (max - min) / bins as f64;
    values
        .iter()
        .map(|&v| {
            if width > 0.0 {
                (((v - min) / width) as usize).min(bins - 1)
            } else {
                0
            }
        })
        .collect()
}

fn entropy(counts: &[usize], n: usize) -> f64 {
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.ln()
        })
        .sum()
}

/// Mutual information (nats) between two discrete variables given as small integer codes.
fn mutual_information(a: &[usize], a_levels: usize, b: &[usize], b_levels: usize) -> f64 {
    let n = a.len();
    let mut joint = vec![0usize; a_levels * b_levels];
    let mut ca = vec![0usize; a_levels];
    let mut cb = vec![0usize; b_levels];
    for (&x, &y) in a.iter().zip(b) {
        joint[x * b_levels + y] += 1;
        ca[x] += 1;
        cb[y] += 1;
    }
    // I(A;B) = H(A) + H(B) - H(A,B); clamp the rounding error that can make it slightly < 0.
    (entropy(&ca, n) + entropy(&cb, n) - entropy(&joint, n)).max(0.0)
}

/// MIG of an `n × k` latent code (`codes`, usually posterior means) against `n × f` discrete
/// ground-truth factors (`factors`, any `u32` values).
///
/// Each latent is discretised into `bins` equal-width bins; for each factor the two largest
/// mutual informations over the scored latents (`units`) are taken, their difference is divided
/// by the factor's entropy, and the result is averaged over factors.
pub fn mutual_information_gap(
    codes: &[f32],
    factors: &[u32],
    n: usize,
    k: usize,
    f: usize,
    bins: usize,
    units: MigUnits,
) -> MetricsResult<Mig> {
    check_matrix("latent codes", codes, n, k)?;
    check_len("factors", factors.len(), n * f)?;
    if k < 2 || f == 0 || bins < 2 || n == 0 {
        return Err(MetricsError::Invalid(format!(
            "MIG needs >= 2 latents, >= 1 factor, >= 2 bins, data (k {k}, f {f}, bins {bins}, n {n})"
        )));
    }
    let scored: Vec<bool> = match units {
        MigUnits::All => vec![true; k],
        MigUnits::Active if n < 2 => vec![false; k],
        MigUnits::Active => active_units(codes, n, k, ACTIVE_UNIT_THRESHOLD)?.active,
    };
    let latent_bins: Vec<Vec<usize>> = (0..k)
        .map(|u| {
            let column: Vec<f64> = codes.iter().skip(u).step_by(k).map(|&v| v as f64).collect();
            discretize(&column, bins)
        })
        .collect();
    // Factor values may be sparse (e.g. 0, 7, 300): re-code them as 0..levels.
    let factor_codes: Vec<(Vec<usize>, usize)> = (0..f)
        .map(|j| {
            let column: Vec<u32> = factors.iter().skip(j).step_by(f).copied().collect();
            let mut levels = column.clone();
            levels.sort_unstable();
            levels.dedup();
            let codes = column
                .iter()
                .map(|v| {
                    levels
                        .binary_search(v)
                        .expect("value comes from the column")
                })
                .collect();
            (codes, levels.len())
        })
        .collect();

    let mutual_information: Vec<Vec<f64>> = latent_bins
        .iter()
        .zip(&scored)
        .map(|(z, &scored)| {
            factor_codes
                .iter()
                .map(|(v, levels)| match scored {
                    true => mutual_information(z, bins, v, *levels),
                    false => 0.0,
                })
                .collect()
        })
        .collect();
    let factor_entropy: Vec<f64> = factor_codes
        .iter()
        .map(|(v, levels)| {
            let mut counts = vec![0usize; *levels];
            v.iter().for_each(|&c| counts[c] += 1);
            entropy(&counts, n)
        })
        .collect();

    let per_factor: Vec<f64> = (0..f)
        .map(|j| {
            if factor_entropy[j] <= 0.0 {
                return f64::NAN;
            }
            let mut column: Vec<f64> = mutual_information.iter().map(|row| row[j]).collect();
            column.sort_by(|a, b| b.total_cmp(a));
            (column[0] - column[1]) / factor_entropy[j]
        })
        .collect();
    let defined: Vec<f64> = per_factor.iter().copied().filter(|v| !v.is_nan()).collect();
    if defined.is_empty() {
        return Err(MetricsError::Invalid(
            "MIG: every factor is constant".into(),
        ));
    }
    Ok(Mig {
        mig: defined.iter().sum::<f64>() / defined.len() as f64,
        per_factor,
        mutual_information,
        factor_entropy,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_units_on_constructed_means() {
        // Unit 0 alternates ±1 (variance 4/3 over 4 rows), unit 1 is constant, unit 2 varies by
        // ±0.05 (variance 0.00333 < 0.01).
        let means = [
            1.0, 3.0, 0.05, -1.0, 3.0, -0.05, 1.0, 3.0, 0.05, -1.0, 3.0, -0.05,
        ];
        let au = active_units(&means, 4, 3, ACTIVE_UNIT_THRESHOLD).unwrap();
        assert_eq!(au.active, vec![true, false, false]);
        assert_eq!(au.count, 1);
        assert!((au.variances[0] - 4.0 / 3.0).abs() < 1e-6);
        assert!((au.variances[2] - 0.01 / 3.0).abs() < 1e-6);
    }

    /// Every combination of two 5-level factors (25 rows) plus an extra independent one, so
    /// any unit that copies one factor carries no information about the others.
    fn factor_grid() -> (Vec<u32>, usize) {
        let mut factors = Vec::new();
        for a in 0..5u32 {
            for b in 0..5u32 {
                for c in 0..3u32 {
                    factors.extend([a, b, c]);
                }
            }
        }
        (factors, 75)
    }

    #[test]
    fn mig_of_a_code_copying_one_factor_per_unit_is_one() {
        let (factors, n) = factor_grid();
        // Units in a shuffled order, scaled and shifted: MIG must not care which unit or scale.
        let codes: Vec<f32> = factors
            .chunks(3)
            .flat_map(|v| [v[2] as f32 * -3.0, v[0] as f32 * 0.5 + 7.0, v[1] as f32])
            .collect();
        let mig =
            mutual_information_gap(&codes, &factors, n, 3, 3, MIG_BINS, MigUnits::All).unwrap();
        assert!((mig.mig - 1.0).abs() < 1e-9, "{mig:?}");
        assert!(mig.per_factor.iter().all(|g| (g - 1.0).abs() < 1e-9));
        // The unit that copies a factor has MI = H(factor) with it, zero with the others.
        assert!((mig.mutual_information[1][0] - mig.factor_entropy[0]).abs() < 1e-9);
        assert!(mig.mutual_information[1][1].abs() < 1e-9);
        assert_eq!(mig.best_factor_per_unit(), vec![2, 0, 1]);
    }

    #[test]
    fn mig_of_a_rotation_mixing_the_units_is_low() {
        let (factors, n) = factor_grid();
        // 45° rotation of the first two factors: each unit now carries both equally.
        let s = std::f32::consts::FRAC_1_SQRT_2;
        let codes: Vec<f32> = factors
            .chunks(3)
            .flat_map(|v| {
                let (a, b) = (v[0] as f32, v[1] as f32);
                [s * (a + b), s * (a - b), v[2] as f32]
            })
            .collect();
        let mig =
            mutual_information_gap(&codes, &factors, n, 3, 3, MIG_BINS, MigUnits::All).unwrap();
        assert!(mig.per_factor[0] < 0.1, "{mig:?}");
        assert!(mig.per_factor[1] < 0.1, "{mig:?}");
        // The untouched third factor keeps its gap of 1, so the mean is about 1/3.
        assert!((mig.per_factor[2] - 1.0).abs() < 1e-9);
        assert!(mig.mig < 0.4, "{mig:?}");
    }

    #[test]
    fn an_inactive_unit_echoing_a_factor_does_not_close_its_gap() {
        let (factors, n) = factor_grid();
        // Unit 1 is inactive (its means vary by 0.001: variance far under 0.01) but still
        // follows factor 0; binning is scale-free, so counted it would tie with unit 0.
        let codes: Vec<f32> = factors
            .chunks(3)
            .flat_map(|v| [v[0] as f32, v[0] as f32 * 1e-3, v[1] as f32, v[2] as f32])
            .collect();
        let all = mutual_information_gap(&codes, &factors, n, 4, 3, MIG_BINS, MigUnits::All);
        assert!(all.unwrap().per_factor[0].abs() < 1e-9);
        let mig =
            mutual_information_gap(&codes, &factors, n, 4, 3, MIG_BINS, MigUnits::Active).unwrap();
        assert!((mig.mig - 1.0).abs() < 1e-9, "{mig:?}");
        assert!(mig.mutual_information[1].iter().all(|&mi| mi == 0.0));
    }

    #[test]
    fn mutual_information_of_copy_is_entropy() {
        let a = [0, 1, 2, 3, 0, 1, 2, 3];
        let h = (4f64).ln();
        assert!((mutual_information(&a, 4, &a, 4) - h).abs() < 1e-12);
        let independent = [0, 0, 0, 0, 1, 1, 1, 1];
        assert!(mutual_information(&a, 4, &independent, 2).abs() < 1e-12);
    }
}
