//! One cell per member × metric: each run's n, mean and sd over seeds, and each run's
//! difference to the baseline (Δ, Δ%, Welch's test with its 95% interval, Hedges' g), with the
//! p-values corrected over every test of the comparison and the verdict by the metric's
//! direction.

use serde::Serialize;

use super::stats::{adjust_p_values, hedges_g, welch, Correction, Summary, WelchTest};
use super::table::{MemberKey, RunTable};
use crate::metrics::{Direction, Metric};

/// Confidence level of the intervals; tests are flagged at 1 − LEVEL after correction.
pub const LEVEL: f64 = 0.95;

/// What a difference means, by the metric's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Same,
    Better,
    /// Worse by the metric's direction: a regression.
    Worse,
    /// A change of an informational metric (KL, active units): neither better nor worse.
    Changed,
}

impl Verdict {
    pub fn of(direction: Direction, diff: f64) -> Verdict {
        match direction {
            _ if diff == 0.0 || !diff.is_finite() => Verdict::Same,
            Direction::Info => Verdict::Changed,
            Direction::Up if diff > 0.0 => Verdict::Better,
            Direction::Down if diff < 0.0 => Verdict::Better,
            _ => Verdict::Worse,
        }
    }
}

/// One run's difference to the baseline in one cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub diff: f64,
    /// Δ over |baseline mean|, in percent (`None` at a baseline of 0).
    pub diff_pct: Option<f64>,
    /// `None` when either side has one seed: then the cell shows n/a and is never flagged.
    pub test: Option<WelchTest>,
    pub hedges_g: Option<f64>,
    /// The test's p-value corrected over all tests of the comparison.
    pub p_adjusted: Option<f64>,
    pub verdict: Verdict,
}

impl Delta {
    /// Significant after correction (only a tested cell can be).
    pub fn significant(&self) -> bool {
        self.p_adjusted.is_some_and(|p| p < 1.0 - LEVEL)
    }
}

/// One member × metric.
#[derive(Debug, Clone)]
pub struct Cell {
    pub member: usize,
    pub metric: &'static Metric,
    /// Per run: its seeds' summary (`None`: the run lacks the member or the metric).
    pub values: Vec<Option<Summary>>,
    /// Per run: its difference to the baseline (`None` for the baseline itself and where
    /// either side has no value).
    pub deltas: Vec<Option<Delta>>,
}

impl Cell {
    /// Some run differs from the baseline, or lacks a value the others have.
    pub fn changed(&self) -> bool {
        self.values.iter().any(Option::is_none)
            || self
                .deltas
                .iter()
                .flatten()
                .any(|d| d.verdict != Verdict::Same)
    }
}

/// Every cell of `members` × `metrics`, p-values corrected across all of them.
pub fn cells(
    runs: &[RunTable],
    baseline: usize,
    members: &[MemberKey],
    metrics: &[&'static Metric],
    correction: Correction,
) -> Vec<Cell> {
    let mut out = Vec::new();
    for (i, key) in members.iter().enumerate() {
        for &m in metrics {
            let values: Vec<Option<Summary>> = runs
                .iter()
                .map(|r| {
                    let member = r.members.get(key)?;
                    Summary::of(member.values.get(m.column)?)
                })
                .collect();
            if values.iter().all(Option::is_none) {
                continue;
            }
            let deltas = values
                .iter()
                .enumerate()
                .map(|(r, v)| {
                    let (base, this) = (values[baseline].as_ref()?, v.as_ref()?);
                    (r != baseline).then(|| delta(m, base, this))
                })
                .collect();
            out.push(Cell {
                member: i,
                metric: m,
                values,
                deltas,
            });
        }
    }
    correct(&mut out, correction);
    out
}

fn delta(m: &Metric, base: &Summary, this: &Summary) -> Delta {
    let diff = this.mean - base.mean;
    Delta {
        diff,
        diff_pct: (base.mean != 0.0).then(|| 100.0 * diff / base.mean.abs()),
        test: welch(base, this, LEVEL),
        hedges_g: hedges_g(base, this),
        p_adjusted: None,
        verdict: Verdict::of(m.direction, diff),
    }
}

/// Corrects every tested p-value for the number of tests (cells × metrics × runs).
fn correct(cells: &mut [Cell], correction: Correction) {
    let tested: Vec<&mut Delta> = cells
        .iter_mut()
        .flat_map(|c| c.deltas.iter_mut().flatten())
        .filter(|d| d.test.is_some())
        .collect();
    let p: Vec<f64> = tested.iter().filter_map(|d| d.test.map(|t| t.p)).collect();
    let adjusted = adjust_p_values(&p, correction);
    for (d, q) in tested.into_iter().zip(adjusted) {
        d.p_adjusted = Some(q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_direction() {
        assert_eq!(Verdict::of(Direction::Up, -0.1), Verdict::Worse);
        assert_eq!(Verdict::of(Direction::Down, -0.1), Verdict::Better);
        assert_eq!(Verdict::of(Direction::Info, 3.0), Verdict::Changed);
        assert_eq!(Verdict::of(Direction::Down, 0.0), Verdict::Same);
    }
}
