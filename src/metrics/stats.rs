//! Small statistics helpers: numerically stable log-mean-exp (IWAE bound) and mean ± sd.

use std::fmt;

/// `log(mean(exp(xs)))`, shifted by the maximum so large log-weights do not overflow.
///
/// For the IWAE bound, `xs` are the K log importance weights `log p(x, z_k) - log q(z_k | x)`
/// of one data point. Returns `-inf` for an empty slice or when every entry is `-inf`.
pub fn log_mean_exp(xs: &[f64]) -> f64 {
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        // Empty, all -inf (-> -inf), or containing +inf / NaN (propagated as is).
        return if xs.iter().any(|x| x.is_nan()) {
            f64::NAN
        } else {
            max
        };
    }
    let sum: f64 = xs.iter().map(|x| (x - max).exp()).sum();
    max + (sum / xs.len() as f64).ln()
}

/// Mean and sample standard deviation (n − 1 denominator; 0 for a single value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
    pub n: usize,
}

/// Mean ± sample standard deviation; `n == 0` gives NaN mean and sd.
pub fn mean_sd(xs: &[f64]) -> MeanSd {
    let n = xs.len();
    if n == 0 {
        return MeanSd {
            mean: f64::NAN,
            sd: f64::NAN,
            n,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 {
        (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    MeanSd { mean, sd, n }
}

/// Peak signal-to-noise ratio in dB of images with pixels in [0, 1], from their mean squared
/// error per pixel: 10 · log10(1 / mse) (infinite for a perfect reconstruction).
pub fn psnr_db(mse_per_pixel: f64) -> f64 {
    -10.0 * mse_per_pixel.log10()
}

impl fmt::Display for MeanSd {
    /// `0.1234 ± 0.0056`; the precision given by the formatter (`{:.2}`) applies to both.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(4);
        write!(f, "{:.*} ± {:.*}", p, self.mean, p, self.sd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_mean_exp_matches_naive_and_is_stable() {
        let xs = [0.0, 1.0, 2.0];
        let naive = ((0f64.exp() + 1f64.exp() + 2f64.exp()) / 3.0).ln();
        assert!((log_mean_exp(&xs) - naive).abs() < 1e-12);
        // exp(-1000) underflows to 0 when computed naively.
        let shifted: Vec<f64> = xs.iter().map(|x| x - 1000.0).collect();
        assert!((log_mean_exp(&shifted) - (naive - 1000.0)).abs() < 1e-9);
        assert!((log_mean_exp(&[5.0; 7]) - 5.0).abs() < 1e-12);
        assert_eq!(log_mean_exp(&[]), f64::NEG_INFINITY);
        assert_eq!(log_mean_exp(&[f64::NEG_INFINITY, 0.0]), (0.5f64).ln());
    }

    #[test]
    fn mean_sd_known_values() {
        let m = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(m.mean, 5.0);
        // Sum of squared deviations is 32; sample variance 32/7.
        assert!((m.sd - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(format!("{:.2}", mean_sd(&[1.0, 3.0])), "2.00 ± 1.41");
        assert_eq!(mean_sd(&[3.0]).sd, 0.0);
    }

    #[test]
    fn psnr_of_known_errors() {
        assert!((psnr_db(0.01) - 20.0).abs() < 1e-12);
        assert!((psnr_db(1.0)).abs() < 1e-12);
        assert_eq!(psnr_db(0.0), f64::INFINITY);
    }
}
