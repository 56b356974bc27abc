//! The 2-D learned-manifold figure (Kingma & Welling, Fig. 4): the inverse-normal-CDF grid of
//! latent values its images are decoded from, and the labelled panel that arranges them.

use anyhow::{bail, Result};

use super::grid::{GridPanel, GridRow};

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error
/// below 1.2e-9). Returns ∓inf at 0 / 1 and NaN outside `[0, 1]`.
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383577518672690e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    const P_LOW: f64 = 0.02425;
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// Latent points for the 2-D manifold figure (Kingma & Welling Fig. 4): an `n × n` grid,
/// row-major, of `[z1, z2]` with `z = Φ⁻¹(p)` for `p = (i + 0.5) / n`, so equal areas of the
/// prior get equal grid cells. Row 0 is the top of the figure (largest `z2`); `z1` grows
/// along each row.
pub fn manifold_grid(n: usize) -> Vec<[f64; 2]> {
    let z: Vec<f64> = (0..n)
        .map(|i| inverse_normal_cdf((i as f64 + 0.5) / n as f64))
        .collect();
    (0..n)
        .flat_map(|row| (0..n).map(move |col| (row, col)))
        .map(|(row, col)| [z[col], z[n - 1 - row]])
        .collect()
}

/// Arranges decoder means for [`manifold_grid`]`(n)` (same order) into a panel whose rows are
/// labelled with `z2` and columns with `z1`.
pub fn manifold_panel(images: Vec<Vec<f32>>, n: usize) -> Result<GridPanel> {
    if images.len() != n * n {
        bail!(
            "manifold panel: {} images for a {n} × {n} grid",
            images.len()
        );
    }
    let grid = manifold_grid(n);
    let mut images = images.into_iter();
    let rows = (0..n)
        .map(|r| GridRow {
            label: format!("{:.2}", grid[r * n][1]),
            images: images.by_ref().take(n).collect(),
        })
        .collect();
    Ok(GridPanel {
        title: "rows: z₂ (top: largest), columns: z₁".to_string(),
        corner_label: String::new(),
        column_labels: (0..n).map(|c| format!("{:.2}", grid[c][0])).collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_normal_cdf_known_quantiles() {
        assert!(inverse_normal_cdf(0.5).abs() < 1e-12);
        assert!((inverse_normal_cdf(0.975) - 1.959963984540054).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.8413447460685429) - 1.0).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.001) + 3.090232306167813).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.2) + inverse_normal_cdf(0.8)).abs() < 1e-12);
        assert_eq!(inverse_normal_cdf(0.0), f64::NEG_INFINITY);
        assert!(inverse_normal_cdf(1.5).is_nan());
    }

    #[test]
    fn manifold_grid_layout() {
        let grid = manifold_grid(4);
        assert_eq!(grid.len(), 16);
        // Top-left is (smallest z1, largest z2); z1 increases along a row.
        assert!(grid[0][0] < 0.0 && grid[0][1] > 0.0);
        assert!(grid[0][0] < grid[1][0] && grid[0][1] == grid[1][1]);
        assert!((grid[0][0] + grid[3][0]).abs() < 1e-12);
        assert!((grid[15][1] - inverse_normal_cdf(0.125)).abs() < 1e-12);
    }
}
