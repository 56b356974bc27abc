//! Area under the ROC curve (rank statistic, ties at average rank) and the ROC curve itself.

use super::{check_len, MetricsError, MetricsResult};

/// ROC curve points, ordered from the strictest threshold (0, 0) to the loosest (1, 1).
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    pub false_positive_rate: Vec<f64>,
    pub true_positive_rate: Vec<f64>,
    /// Score threshold for each point: "positive" means `score >= threshold`.
    /// The first point uses `+inf` (nothing predicted positive).
    pub thresholds: Vec<f64>,
}

fn check_inputs(scores: &[f64], labels: &[bool]) -> MetricsResult<(usize, usize)> {
    check_len("labels", labels.len(), scores.len())?;
    if scores.iter().any(|s| s.is_nan()) {
        return Err(MetricsError::NonFinite("scores"));
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricsError::Invalid(format!(
            "AUROC needs both classes (positives {positives}, negatives {negatives})"
        )));
    }
    Ok((positives, negatives))
}

/// AUROC of `scores` (higher = more positive) against binary `labels`.
///
/// Computed as the Mann–Whitney U statistic: tied scores share the average of their ranks, so
/// a positive and a negative with equal scores count as half a correctly ordered pair.
pub fn auroc(scores: &[f64], labels: &[bool]) -> MetricsResult<f64> {
    let (positives, negatives) = check_inputs(scores, labels)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));

    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        // Ranks are 1-based; the tie group [start, end) shares the mean rank.
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let group_positives = order[start..end].iter().filter(|&&i| labels[i]).count();
        positive_rank_sum += mean_rank * group_positives as f64;
        start = end;
    }
    let p = positives as f64;
    let u = positive_rank_sum - p * (p + 1.0) / 2.0;
    Ok(u / (p * negatives as f64))
}

/// ROC curve with one point per distinct score (tied scores move TPR and FPR together, so the
/// trapezoidal area under these points equals [`auroc`]).
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> MetricsResult<RocCurve> {
    let (positives, negatives) = check_inputs(scores, labels)?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));

    let mut curve = RocCurve {
        false_positive_rate: vec![0.0],
        true_positive_rate: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut start = 0;
    while start < order.len() {
        let threshold = scores[order[start]];
        let mut end = start;
        while end < order.len() && scores[order[end]] == threshold {
            if labels[order[end]] {
                tp += 1;
            } else {
                fp += 1;
            }
            end += 1;
        }
        curve.false_positive_rate.push(fp as f64 / negatives as f64);
        curve.true_positive_rate.push(tp as f64 / positives as f64);
        curve.thresholds.push(threshold);
        start = end;
    }
    Ok(curve)
}

impl RocCurve {
    /// Trapezoidal area under the curve points.
    pub fn area(&self) -> f64 {
        let x = &self.false_positive_rate;
        let y = &self.true_positive_rate;
        (1..x.len())
            .map(|i| (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2.0)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_reversed_and_hand_computed() {
        let labels = [false, false, true, true];
        assert_eq!(auroc(&[0.1, 0.2, 0.8, 0.9], &labels).unwrap(), 1.0);
        assert_eq!(auroc(&[0.9, 0.8, 0.2, 0.1], &labels).unwrap(), 0.0);
        // Pairs (pos, neg): (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) -> 3/4.
        let scores = [0.1, 0.4, 0.35, 0.8];
        assert!((auroc(&scores, &labels).unwrap() - 0.75).abs() < 1e-12);
        let roc = roc_curve(&scores, &labels).unwrap();
        assert!((roc.area() - 0.75).abs() < 1e-12);
        assert_eq!(roc.false_positive_rate, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(roc.true_positive_rate, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn ties_count_half() {
        // Everything tied: every pair counts 1/2.
        let labels = [true, false, true, false, false];
        assert!((auroc(&[1.0; 5], &labels).unwrap() - 0.5).abs() < 1e-12);
        // pos {0.5, 0.9}, neg {0.5, 0.1}: (0.5 vs 0.5)=1/2, (0.5 vs 0.1)=1, (0.9 vs *)=2 -> 3.5/4.
        let scores = [0.5, 0.5, 0.9, 0.1];
        let labels = [true, false, true, false];
        assert!((auroc(&scores, &labels).unwrap() - 0.875).abs() < 1e-12);
        assert!((roc_curve(&scores, &labels).unwrap().area() - 0.875).abs() < 1e-12);
    }

    #[test]
    fn rejects_single_class_and_nan() {
        assert!(auroc(&[0.1, 0.2], &[true, true]).is_err());
        assert!(auroc(&[f64::NAN, 0.2], &[true, false]).is_err());
        assert!(auroc(&[0.1], &[true, false]).is_err());
    }
}
