//! `compare` as a CI gate: `--fail-on 'elbo:-0.5,knn_accuracy:-1%'` (how far each metric may
//! move in its worse direction) and `--fail-on-significant` (no significant regression), checked
//! against every cell; a failure is exit 3.

use serde::Serialize;

use super::cells::{Cell, Verdict};
use crate::error::UserError;
use crate::metrics::{metric, Direction, Metric, METRICS};

/// How far one metric may get worse.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub metric: &'static Metric,
    /// The allowed change in the metric's worse direction, as a magnitude.
    pub amount: f64,
    /// `amount` is a percentage of the baseline's value.
    pub percent: bool,
}

impl Tolerance {
    fn text(&self) -> String {
        let sign = if self.metric.direction == Direction::Up {
            '-'
        } else {
            '+'
        };
        let unit = if self.percent { "%" } else { "" };
        format!("{}:{sign}{}{unit}", self.metric.column, self.amount)
    }
}

fn known() -> String {
    METRICS
        .iter()
        .filter(|m| m.direction != Direction::Info)
        .map(|m| m.column)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `metric:-0.5,metric:-1%,…`. The sign says the worse direction and must match the
/// metric's (−: a drop of a higher-is-better metric, +: a rise of a lower-is-better one).
pub fn parse_fail_on(text: &str) -> Result<Vec<Tolerance>, UserError> {
    let bad = |why: String| {
        UserError::usage(format!(
            "--fail-on {text:?}: {why}; write METRIC:-AMOUNT[%] for a higher-is-better metric, \
             METRIC:+AMOUNT[%] for a lower-is-better one, comma-separated (e.g. 'elbo:-0.5,knn_accuracy:-1%')"
        ))
    };
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, amount) = item
            .split_once(':')
            .ok_or_else(|| bad(format!("`{item}` has no `:`")))?;
        let m = metric(name.trim())
            .ok_or_else(|| bad(format!("`{name}` is not a metric (known: {})", known())))?;
        if m.direction == Direction::Info {
            return Err(bad(format!(
                "`{name}` is informational (neither higher nor lower is better), so it cannot regress"
            )));
        }
        let amount = amount.trim();
        let (number, percent) = match amount.strip_suffix('%') {
            Some(n) => (n, true),
            None => (amount, false),
        };
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| bad(format!("`{amount}` is not a number")))?;
        let worse_sign = if m.direction == Direction::Up {
            -1.0
        } else {
            1.0
        };
        if value != 0.0 && value.signum() != worse_sign {
            let (dir, sign) = if m.direction == Direction::Up {
                ("higher", '-')
            } else {
                ("lower", '+')
            };
            return Err(bad(format!(
                "{name} is {dir}-is-better, so its tolerance is a change of sign {sign}"
            )));
        }
        out.push(Tolerance {
            metric: m,
            amount: value.abs(),
            percent,
        });
    }
    if out.is_empty() {
        return Err(bad("no tolerance given".into()));
    }
    Ok(out)
}

/// One cell that broke the gate.
#[derive(Debug, Clone, Serialize)]
pub struct GateFailure {
    pub member: String,
    pub metric: String,
    pub run: String,
    pub reason: String,
}

/// The failures of `cells` against `tolerances` and (with `significant`) any significant
/// regression. `member_label(i)` and `run_id(r)` name them.
pub fn evaluate(
    cells: &[Cell],
    tolerances: &[Tolerance],
    significant: bool,
    member_label: &dyn Fn(usize) -> String,
    run_id: &dyn Fn(usize) -> String,
) -> Vec<GateFailure> {
    let mut out = Vec::new();
    for cell in cells {
        for (r, d) in cell.deltas.iter().enumerate() {
            let Some(d) = d else { continue };
            if d.verdict != Verdict::Worse {
                continue;
            }
            let fail = |reason: String| GateFailure {
                member: member_label(cell.member),
                metric: cell.metric.column.to_owned(),
                run: run_id(r),
                reason,
            };
            for t in tolerances
                .iter()
                .filter(|t| t.metric.column == cell.metric.column)
            {
                let (moved, unit) = match (t.percent, d.diff_pct) {
                    (true, Some(p)) => (p.abs(), "%"),
                    (true, None) => continue,
                    (false, _) => (d.diff.abs(), ""),
                };
                if moved > t.amount {
                    out.push(fail(format!(
                        "moved {moved:.4}{unit} the worse way, beyond {}",
                        t.text()
                    )));
                }
            }
            if significant && d.significant() {
                out.push(fail(format!(
                    "significant regression (adjusted p = {:.3e})",
                    d.p_adjusted.unwrap_or(f64::NAN)
                )));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerances_parse_with_their_direction() {
        let t = parse_fail_on("elbo:-0.5, knn_accuracy:-1%,nll_iwae:+2").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!((t[0].amount, t[0].percent), (0.5, false));
        assert_eq!((t[1].amount, t[1].percent), (1.0, true));
        assert_eq!(t[2].metric.column, "nll_iwae");
    }

    #[test]
    fn bad_tolerances_are_refused_with_the_fix() {
        for (text, says) in [
            ("elbo:+0.5", "higher-is-better"),
            ("nll_iwae:-2", "lower-is-better"),
            ("kl:-1", "informational"),
            ("elbow:-1", "not a metric"),
            ("elbo", "no `:`"),
            ("elbo:-x", "not a number"),
            ("", "no tolerance"),
        ] {
            let e = parse_fail_on(text).unwrap_err().to_string();
            assert!(
                e.contains(says) && e.contains("METRIC:-AMOUNT"),
                "{text}: {e}"
            );
        }
    }
}
