//! Seed statistics for comparing two runs' values of one metric: per-cell summaries, Welch's
//! t-test with its confidence interval, Hedges' g, and Holm / Benjamini–Hochberg corrections.
//!
//! Welch rather than Student: two runs' seed spreads differ whenever the change touched
//! training. The interval uses the t quantile at Welch–Satterthwaite degrees of freedom, not
//! 1.96·se, which is about twice too narrow at three seeds.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// n, mean and sample standard deviation of one cell (sd is `None` below two values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub sd: Option<f64>,
}

impl Summary {
    /// `None` for no finite values; non-finite values (a diverged seed) are left out.
    pub fn of(values: &[f64]) -> Option<Summary> {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = finite.len();
        if n == 0 {
            return None;
        }
        let mean = finite.iter().sum::<f64>() / n as f64;
        let sd = (n >= 2).then(|| {
            let ss: f64 = finite.iter().map(|v| (v - mean).powi(2)).sum();
            (ss / (n - 1) as f64).sqrt()
        });
        Some(Summary { n, mean, sd })
    }

    fn variance(&self) -> Option<f64> {
        self.sd.map(|s| s * s)
    }
}

/// The difference `candidate − baseline` with Welch's test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WelchTest {
    pub diff: f64,
    pub se: f64,
    pub df: f64,
    pub t: f64,
    /// Two-sided.
    pub p: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// Welch's two-sample t-test of `candidate − baseline` at confidence `level` (e.g. 0.95).
/// `None` when either side has fewer than two values: one seed says nothing about noise.
pub fn welch(baseline: &Summary, candidate: &Summary, level: f64) -> Option<WelchTest> {
    let (va, vb) = (baseline.variance()?, candidate.variance()?);
    let (na, nb) = (baseline.n as f64, candidate.n as f64);
    let diff = candidate.mean - baseline.mean;
    let (qa, qb) = (va / na, vb / nb);
    let se = (qa + qb).sqrt();
    if se == 0.0 {
        // Identical constant samples: no spread to test against. Equal means are no
        // difference; unequal ones are a certain one.
        let p = if diff == 0.0 { 1.0 } else { 0.0 };
        return Some(WelchTest {
            diff,
            se,
            df: na + nb - 2.0,
            t: f64::NAN,
            p,
            ci_low: diff,
            ci_high: diff,
        });
    }
    let df = (qa + qb).powi(2) / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0));
    let t = diff / se;
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * dist.cdf(-t.abs())).min(1.0);
    let q = dist.inverse_cdf(0.5 + level / 2.0);
    Some(WelchTest {
        diff,
        se,
        df,
        t,
        p,
        ci_low: diff - q * se,
        ci_high: diff + q * se,
    })
}

/// Hedges' g of `candidate − baseline`: Cohen's d over the pooled sd, with the small-sample
/// correction J = 1 − 3 / (4(na + nb) − 9). `None` below two values a side or with no spread.
pub fn hedges_g(baseline: &Summary, candidate: &Summary) -> Option<f64> {
    let (va, vb) = (baseline.variance()?, candidate.variance()?);
    let (na, nb) = (baseline.n as f64, candidate.n as f64);
    let pooled = (((na - 1.0) * va + (nb - 1.0) * vb) / (na + nb - 2.0)).sqrt();
    if pooled == 0.0 {
        return None;
    }
    let d = (candidate.mean - baseline.mean) / pooled;
    Some(d * (1.0 - 3.0 / (4.0 * (na + nb) - 9.0)))
}

/// How p-values over many cells × metrics are corrected for testing them all at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// Holm's step-down: controls the family-wise error rate (the default).
    Holm,
    /// Benjamini–Hochberg: controls the false discovery rate (`--fdr`).
    BenjaminiHochberg,
}

/// Adjusted p-values in the order given (monotone, capped at 1).
pub fn adjust_p_values(p: &[f64], correction: Correction) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    match correction {
        Correction::Holm => {
            let mut running: f64 = 0.0;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(((m - rank) as f64 * p[i]).min(1.0));
                adjusted[i] = running;
            }
        }
        Correction::BenjaminiHochberg => {
            let mut running: f64 = 1.0;
            for (rank, &i) in order.iter().enumerate().rev() {
                running = running.min((m as f64 / (rank + 1) as f64 * p[i]).min(1.0));
                adjusted[i] = running;
            }
        }
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }

    // Reference: SciPy 1.17.1, `ttest_ind(b, a, equal_var=False)` and its
    // `confidence_interval(0.95)`, with a = [244.8, 245.3, 244.1], b = [242.9, 243.6, 243.0, 242.5].
    #[test]
    fn welch_matches_scipy() {
        let a = Summary::of(&[244.8, 245.3, 244.1]).unwrap();
        let b = Summary::of(&[242.9, 243.6, 243.0, 242.5]).unwrap();
        let w = welch(&a, &b, 0.95).unwrap();
        close(w.t, -4.170020086776053);
        close(w.p, 0.01714409698104243);
        close(w.df, 3.629986864327206);
        close(w.ci_low, -2.935313372641147);
        close(w.ci_high, -0.5313532940255501);
        // Hedges' g from the same inputs (numpy, pooled sd, J = 1 − 3/(4·7 − 9)).
        close(hedges_g(&a, &b).unwrap(), -2.812570501896096);
    }

    #[test]
    fn one_seed_gives_no_test() {
        let a = Summary::of(&[1.0]).unwrap();
        let b = Summary::of(&[2.0, 2.5]).unwrap();
        assert_eq!(a.sd, None);
        assert!(welch(&a, &b, 0.95).is_none());
        assert!(hedges_g(&a, &b).is_none());
    }

    #[test]
    fn non_finite_values_are_left_out() {
        let s = Summary::of(&[1.0, f64::NAN, 3.0]).unwrap();
        assert_eq!((s.n, s.mean), (2, 2.0));
        assert!(Summary::of(&[f64::INFINITY]).is_none());
    }

    // Reference: statsmodels 0.14 `multipletests(p, method="holm" | "fdr_bh")`.
    #[test]
    fn corrections_match_statsmodels() {
        let p = [0.01, 0.04, 0.03, 0.005, 0.2];
        let holm = adjust_p_values(&p, Correction::Holm);
        for (x, y) in holm.iter().zip([0.04, 0.09, 0.09, 0.025, 0.2]) {
            close(*x, y);
        }
        let bh = adjust_p_values(&p, Correction::BenjaminiHochberg);
        for (x, y) in bh.iter().zip([0.025, 0.05, 0.05, 0.025, 0.2]) {
            close(*x, y);
        }
    }
}
