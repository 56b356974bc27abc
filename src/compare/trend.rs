//! Trend mode (`compare --last N --member M --metric E`): one member's metric over the last N
//! runs of an experiment, oldest first, each marked where it got worse than the run before
//! (by the metric's direction), with a small line chart in the HTML form.

use std::path::Path;

use serde_json::{json, Value as Json};

use super::cells::Verdict;
use super::stats::{welch, Summary};
use super::table::{RunTable, COMPARISON_TABLE};
use crate::error::UserError;
use crate::metrics::{metric, Metric};
use crate::registry::index::{self, IndexEntry};
use crate::registry::{runs, RunStatus};
use crate::tables::{escape_html, format_number};

/// One run's point.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    pub run_id: String,
    pub finished_at: String,
    pub value: Option<Summary>,
    /// Against the previous run that has a value.
    pub delta: Option<f64>,
    pub verdict: Option<Verdict>,
    /// Welch p against the previous run (both with two seeds or more).
    pub p: Option<f64>,
}

pub struct Trend {
    pub experiment: String,
    pub member: String,
    pub metric: &'static Metric,
    pub points: Vec<TrendPoint>,
}

/// The last `last` runs of `experiment` (default: the newest run's), oldest first.
pub fn build(
    state: &Path,
    results: &Path,
    experiment: Option<&str>,
    last: usize,
    member: &str,
    metric_name: &str,
    all: bool,
) -> anyhow::Result<Trend> {
    let m = metric(metric_name)
        .ok_or_else(|| UserError::usage(format!("--metric: `{metric_name}` is not a metric")))?;
    // From the run index, newest first: no full record is opened.
    let listing = index::load(state)?;
    let mut heads: Vec<&IndexEntry> = Vec::new();
    for head in listing.entries.iter().rev() {
        let experiment = experiment.or(heads.first().map(|h| h.experiment.as_str()));
        if experiment.is_some_and(|e| e != head.experiment)
            || (!all && head.status != RunStatus::Succeeded)
        {
            continue;
        }
        heads.push(head);
        if heads.len() == last {
            break;
        }
    }
    let Some(first) = heads.first() else {
        return Err(UserError::usage("no recorded run to show a trend of").into());
    };
    let experiment = first.experiment.clone();
    heads.reverse();
    let mut points: Vec<TrendPoint> = Vec::new();
    let mut previous: Option<Summary> = None;
    let read = |head: &&IndexEntry| -> anyhow::Result<Vec<f64>> {
        let table = results
            .join(&head.experiment)
            .join(&head.id)
            .join(COMPARISON_TABLE);
        if table.is_file() {
            RunTable::member_values(&table, member, m.column)
        } else {
            Ok(Vec::new())
        }
    };
    // The tables are read in parallel, on plain threads: from rayon's workers, polars' own
    // pool nests stolen tasks until a worker's stack overflows (seen at 1,000 runs).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = heads.len().div_ceil(threads).max(1);
    let values: Vec<Vec<f64>> = std::thread::scope(|scope| {
        let workers: Vec<_> = heads
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(read).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec![Err(anyhow::anyhow!("a table reader panicked"))])
            })
            .collect::<anyhow::Result<_>>()
    })?;
    let found = values.iter().any(|v| !v.is_empty());
    for (head, values) in heads.into_iter().zip(values) {
        let value = Summary::of(&values);
        let (delta, verdict, p) = match (previous, value) {
            (Some(a), Some(b)) => {
                let d = b.mean - a.mean;
                (
                    Some(d),
                    Some(Verdict::of(m.direction, d)),
                    welch(&a, &b, 0.95).map(|t| t.p),
                )
            }
            _ => (None, None, None),
        };
        previous = value.or(previous);
        points.push(TrendPoint {
            run_id: head.id.clone(),
            finished_at: head.finished_at.clone(),
            value,
            delta,
            verdict,
            p,
        });
    }
    if !found {
        return Err(UserError::usage(format!(
            "no run of {experiment} among the last {last} has member `{member}` with {metric_name}"
        ))
        .into());
    }
    Ok(Trend {
        experiment,
        member: member.to_owned(),
        metric: m,
        points,
    })
}

fn value_text(t: &Trend, v: &Option<Summary>) -> String {
    match v {
        Some(s) => match s.sd {
            Some(sd) => format!(
                "{} ± {} (n={})",
                t.metric.format.render(s.mean),
                t.metric.format.render(sd),
                s.n
            ),
            None => t.metric.format.render(s.mean),
        },
        None => "(absent)".into(),
    }
}

/// One line per run, oldest first; `REGRESSION` where it got worse than the run before.
pub fn text(t: &Trend) -> String {
    let mut out = format!(
        "{} of {} in experiment {}, oldest first\n",
        t.metric.column, t.member, t.experiment
    );
    out.push_str(&format!(
        "{:<32} {:<27} {:>24} {:>12}  mark\n",
        "run", "finished", "value", "Δ previous"
    ));
    for p in &t.points {
        let delta = p.delta.map(super::render::signed).unwrap_or_default();
        let mark = match p.verdict {
            Some(Verdict::Worse) => "REGRESSION",
            Some(Verdict::Better) => "better",
            _ => "",
        };
        let sig =
            p.p.map(|p| format!(" (p = {})", format_number(p)))
                .unwrap_or_default();
        out.push_str(&format!(
            "{:<32} {:<27} {:>24} {:>12}  {mark}{sig}\n",
            p.run_id,
            p.finished_at,
            value_text(t, &p.value),
            delta
        ));
    }
    out
}

pub fn json(t: &Trend) -> Json {
    let points: Vec<Json> = t
        .points
        .iter()
        .map(|p| {
            json!({
                "run_id": p.run_id,
                "finished_at": p.finished_at,
                "n": p.value.map(|s| s.n),
                "mean": p.value.map(|s| s.mean),
                "sd": p.value.and_then(|s| s.sd),
                "delta": p.delta,
                "verdict": p.verdict,
                "regression": p.verdict == Some(Verdict::Worse),
                "p": p.p,
            })
        })
        .collect();
    json!({ "experiment": t.experiment, "member": t.member, "metric": t.metric.column, "points": points })
}

/// The trend as a page with a small line chart and the table.
pub fn write_html(t: &Trend, path: &Path) -> anyhow::Result<()> {
    use base64::Engine;
    let tmp = tempfile::tempdir()?;
    let png = tmp.path().join("trend.png");
    let points: Vec<(f64, f64)> = t
        .points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some(((i + 1) as f64, p.value?.mean)))
        .collect();
    let panel = crate::figures::LinePanel {
        x_label: "run (oldest first)".into(),
        y_label: t.metric.column.into(),
        series: vec![crate::figures::Series {
            name: t.member.clone(),
            points,
            ..Default::default()
        }],
        ..Default::default()
    };
    crate::figures::line_panels(
        &png,
        &format!("{} of {}", t.metric.column, t.member),
        &[panel],
    )?;
    let img = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&png)?);
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>trend</title></head><body>\n<img alt=\"trend\" src=\"data:image/png;base64,{img}\">\n<pre>{}</pre>\n</body></html>\n",
        escape_html(&text(t))
    );
    runs::write_atomic(path, page.as_bytes())
}
