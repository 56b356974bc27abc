//! Principal angles between two linear subspaces (e.g. a linear AE's decoder vs the PCA basis).

use nalgebra::DMatrix;

use super::{MetricsError, MetricsResult};

/// Orthonormal basis of the column space of a `d × k` matrix, via thin QR.
fn orthonormal_columns(
    what: &str,
    basis: &[f64],
    d: usize,
    k: usize,
) -> MetricsResult<DMatrix<f64>> {
    if basis.len() != d * k || k == 0 || k > d {
        return Err(MetricsError::Invalid(format!(
            "{what}: need a d × k basis with 1 <= k <= d (d {d}, k {k}, len {})",
            basis.len()
        )));
    }
    if basis.iter().any(|v| !v.is_finite()) {
        return Err(MetricsError::Invalid(format!("{what}: non-finite entry")));
    }
    let matrix = DMatrix::from_row_slice(d, k, basis);
    let scale = matrix.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let qr = matrix.qr();
    // A (near-)zero diagonal entry of R means the columns do not span k dimensions, and the
    // matching column of Q would be an arbitrary direction.
    let r = qr.r();
    if (0..k).any(|i| r[(i, i)].abs() <= 1e-10 * scale.max(f64::MIN_POSITIVE)) {
        return Err(MetricsError::Invalid(format!(
            "{what}: columns are linearly dependent"
        )));
    }
    Ok(qr.q())
}

/// Principal angles, in degrees and ascending, between the column spaces of `a` (`d × ka`)
/// and `b` (`d × kb`), both row-major. Returns `min(ka, kb)` angles.
///
/// Both bases are orthonormalised by QR; the singular values of `Q_aᵀ Q_b` are the cosines of
/// the angles (Björck & Golub 1973).
pub fn principal_angles_deg(
    a: &[f64],
    b: &[f64],
    d: usize,
    ka: usize,
    kb: usize,
) -> MetricsResult<Vec<f64>> {
    let qa = orthonormal_columns("first basis", a, d, ka)?;
    let qb = orthonormal_columns("second basis", b, d, kb)?;
    let cosines = qa.tr_mul(&qb).singular_values();
    let mut cosines: Vec<f64> = cosines.iter().copied().collect();
    cosines.sort_by(|x, y| y.total_cmp(x));
    Ok(cosines
        .into_iter()
        .take(ka.min(kb))
        // Rounding can push a cosine slightly above 1; acos would return NaN.
        .map(|c| c.clamp(0.0, 1.0).acos().to_degrees())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_orthogonal_and_known_angle() {
        // span{e1, e2} in R^3 written with a non-orthonormal basis: angles 0, 0.
        let a = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let a_mixed = [2.0, 1.0, 1.0, 3.0, 0.0, 0.0];
        for angle in principal_angles_deg(&a, &a_mixed, 3, 2, 2).unwrap() {
            assert!(angle.abs() < 1e-6, "{angle}");
        }
        // span{e1} vs span{e2}: 90 degrees.
        let e1 = [1.0, 0.0, 0.0];
        let e2 = [0.0, 1.0, 0.0];
        assert!((principal_angles_deg(&e1, &e2, 3, 1, 1).unwrap()[0] - 90.0).abs() < 1e-9);
        // span{e1, e2} vs span{e1, cos30 e2 + sin30 e3}: angles 0 and 30.
        let t = 30f64.to_radians();
        let b = [1.0, 0.0, 0.0, t.cos(), 0.0, t.sin()];
        let angles = principal_angles_deg(&a, &b, 3, 2, 2).unwrap();
        assert!(
            angles[0].abs() < 1e-6 && (angles[1] - 30.0).abs() < 1e-9,
            "{angles:?}"
        );
    }

    #[test]
    fn rejects_rank_deficient_basis() {
        let dependent = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0];
        let ok = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        assert!(principal_angles_deg(&dependent, &ok, 3, 2, 2).is_err());
    }
}
