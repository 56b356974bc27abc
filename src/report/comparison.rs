//! The comparison tables of a sweep, built from each member's evaluation and the metric
//! registry: every member; seeds aggregated (mean ± sd, with n); latent size × β pivots of
//! the VAEs (means over seeds). A table a sweep cannot have becomes a notice saying why.

use std::collections::BTreeMap;

use anyhow::Result;
use polars::prelude::DataFrame;

use super::view::{ReportView, TableView};
use crate::metrics::{metric, EvalMetrics, METRICS};
use crate::tables::{self, Row, Value};

/// One sweep member as the tables see it.
#[derive(Debug, Clone)]
pub struct MemberResult {
    pub label: String,
    /// Swept parameter → value as written.
    pub sweep: BTreeMap<String, String>,
    pub metrics: EvalMetrics,
}

/// One table: the raw numbers (for CSV / Parquet) and how it is printed.
#[derive(Debug, Clone)]
pub struct ComparisonTable {
    pub data: DataFrame,
    pub view: TableView,
}

/// Parameters shown first, in this order; other swept parameters follow alphabetically.
const LEADING: &[&str] = &["run", "variant", "latent_dim", "beta", "seed", "n_seeds"];

fn value_of(text: &str) -> Value {
    text.parse::<i64>()
        .map(Value::Int)
        .or_else(|_| text.parse::<f64>().map(Value::Float))
        .unwrap_or_else(|_| Value::Str(text.to_owned()))
}

fn metric_values(m: &EvalMetrics) -> impl Iterator<Item = (&'static str, f64)> + '_ {
    METRICS
        .iter()
        .filter_map(move |d| (d.read)(m).map(|v| (d.column, v)))
}

/// Column order: the leading parameters, the other parameters, then metrics in registry order.
fn leading_columns(rows: &[Row]) -> Vec<String> {
    let mut params: Vec<String> = rows
        .iter()
        .flat_map(|r| r.keys())
        .filter(|k| metric(k).is_none() && !LEADING.contains(&k.as_str()))
        .cloned()
        .collect();
    params.sort();
    params.dedup();
    LEADING
        .iter()
        .map(|s| s.to_string())
        .chain(params)
        .chain(METRICS.iter().map(|m| m.column.to_string()))
        .collect()
}

fn frame(rows: &[Row]) -> Result<DataFrame> {
    let leading = leading_columns(rows);
    let leading: Vec<&str> = leading.iter().map(String::as_str).collect();
    tables::rows_to_dataframe(rows, &leading)
}

/// Prints a metric's value by its registered format, any other value as is.
fn cell_text(column: &str, v: &Value) -> String {
    match (metric(column), v.as_f64()) {
        (Some(m), Some(x)) => m.format.render(x),
        _ => v.to_string(),
    }
}

/// Headings and legend lines, shared by the member and the seed table.
struct Legend {
    iwae: Option<String>,
}

impl Legend {
    fn new(members: &[MemberResult]) -> Legend {
        // The evaluation records how many images its bound used, so the heading says what
        // was measured, not what the spec asked for.
        let iwae = members.iter().find_map(|m| {
            let (k, _) = m.metrics.tightest_iwae()?;
            Some(match m.metrics.iwae_images {
                Some(n) => format!("k={k}, {n} images"),
                None => format!("k={k}"),
            })
        });
        Legend { iwae }
    }

    fn heading(&self, column: &str) -> String {
        match (metric(column), &self.iwae) {
            (Some(m), Some(iwae)) if m.column == "nll_iwae" => format!("{} {iwae}", m.heading),
            (Some(m), _) => m.heading.to_owned(),
            _ => column.to_owned(),
        }
    }

    fn lines(&self, df: &DataFrame) -> Vec<String> {
        df.get_column_names()
            .iter()
            .filter_map(|c| metric(c))
            .map(|m| format!("{}: {}.", self.heading(m.column), m.description))
            .collect()
    }
}

fn members_table(rows: &[Row], legend: &Legend) -> Result<ComparisonTable> {
    let data = frame(rows)?;
    let mut view = TableView::of(
        "comparison",
        "Every sweep member (test split).".into(),
        &data,
        &|c| legend.heading(c),
        &cell_text,
    )?;
    view.legend = legend.lines(&data);
    Ok(ComparisonTable { data, view })
}

fn present_metrics(rows: &[Row]) -> Vec<&'static str> {
    METRICS
        .iter()
        .map(|m| m.column)
        .filter(|c| rows.iter().any(|r| r.contains_key(*c)))
        .collect()
}

fn seeds_table(rows: &[Row], legend: &Legend) -> Result<ComparisonTable> {
    let without_run: Vec<Row> = rows
        .iter()
        .map(|r| {
            r.iter()
                .filter(|(k, _)| *k != "run")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect();
    let data = tables::aggregate_seeds(&without_run, "seed", &present_metrics(rows))?;
    let shown = tables::with_mean_sd_formatted(&data, &|m, v| cell_text(m, &Value::Float(v)))?;
    let shown = frame(&tables::dataframe_to_rows(&shown)?)?;
    let mut view = TableView::of(
        "comparison_by_seed",
        "Seeds aggregated: mean ± sd over n_seeds seeds (no sd for a single seed).".into(),
        &shown,
        &|c| legend.heading(c),
        &|_, v| v.to_string(),
    )?;
    view.legend = legend.lines(&shown);
    Ok(ComparisonTable { data, view })
}

/// The VAE rows a latent × β pivot is made of (latent size from the evaluation, so a sweep
/// that keeps it fixed still gets one), or the notice saying why there is none.
fn pivot_rows(members: &[MemberResult]) -> std::result::Result<Vec<Row>, String> {
    let rows: Vec<Row> = members
        .iter()
        .filter(|m| m.sweep.contains_key("beta"))
        .map(|m| {
            let mut r: Row = m
                .sweep
                .iter()
                .filter(|(k, _)| *k != "variant")
                .map(|(k, v)| (k.clone(), value_of(v)))
                .collect();
            r.insert("latent_dim".into(), Value::Int(m.metrics.latent_dim as i64));
            // Only the pivoted metrics: any other column would count as a parameter.
            let pivoted =
                metric_values(&m.metrics).filter(|(c, _)| metric(c).is_some_and(|d| d.pivot));
            r.extend(pivoted.map(|(c, v)| (c.to_owned(), Value::Float(v))));
            r
        })
        .collect();
    // Absent counts as a value of its own: a key that only some members set splits them too.
    let distinct = |key: &str| {
        let mut seen: Vec<String> = rows
            .iter()
            .map(|r| {
                r.get(key)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "unset".into())
            })
            .collect();
        seen.sort();
        seen.dedup();
        seen
    };
    if rows.is_empty() {
        return Ok(rows);
    }
    let betas = distinct("beta");
    if betas.len() < 2 {
        return Err(format!(
            "no latent size × β pivot: β takes one value ({}) in this sweep; the comparison table shows its VAEs",
            betas.join(", ")
        ));
    }
    let mut others: Vec<String> = rows
        .iter()
        .flat_map(|r| r.keys())
        .filter(|k| metric(k).is_none() && !["latent_dim", "beta", "seed"].contains(&k.as_str()))
        .filter(|k| distinct(k).len() > 1)
        .cloned()
        .collect();
    others.sort();
    others.dedup();
    if !others.is_empty() {
        return Err(format!(
            "no latent size × β pivot: the VAEs also differ in {}; see the comparison table",
            others.join(", ")
        ));
    }
    Ok(rows)
}

fn pivot_tables(rows: &[Row]) -> Result<Vec<ComparisonTable>> {
    let pivoted: Vec<&str> = METRICS
        .iter()
        .filter(|m| m.pivot)
        .map(|m| m.column)
        .collect();
    let means = tables::aggregate_seeds(rows, "seed", &pivoted)?;
    let counts: Vec<i64> = tables::dataframe_to_rows(&means)?
        .iter()
        .filter_map(|r| r.get("n_seeds").and_then(Value::as_f64))
        .map(|n| n as i64)
        .collect();
    let (lo, hi) = (
        counts.iter().min().copied().unwrap_or(1),
        counts.iter().max().copied().unwrap_or(1),
    );
    let over = match (lo, hi) {
        (1, 1) => String::new(),
        (lo, hi) if lo == hi => format!(" (mean over {hi} seeds)"),
        (lo, hi) => format!(" (mean over {lo}–{hi} seeds)"),
    };
    pivoted
        .iter()
        .map(|column| {
            let m = metric(column).expect("pivoted metrics are registered");
            let data = tables::pivot(&means, "latent_dim", "beta", &format!("{column}_mean"))?;
            let name = format!("pivot_{column}_latent_x_beta");
            let caption = format!("{} of the VAEs: latent size × β{over}.", m.heading);
            let heading = |c: &str| match c.strip_prefix("beta=") {
                Some(b) => format!("β = {b}"),
                None => c.to_owned(),
            };
            let text = |c: &str, v: &Value| match (c.starts_with("beta="), v.as_f64()) {
                (true, Some(x)) => m.format.render(x),
                _ => v.to_string(),
            };
            let view = TableView::of(&name, caption, &data, &heading, &text)?;
            Ok(ComparisonTable { data, view })
        })
        .collect()
}

/// Every table the sweep allows, and a notice for each it does not.
pub fn compare(members: &[MemberResult]) -> Result<(Vec<ComparisonTable>, ReportView)> {
    let rows: Vec<Row> = members
        .iter()
        .map(|m| {
            let mut r: Row = m
                .sweep
                .iter()
                .map(|(k, v)| (k.clone(), value_of(v)))
                .collect();
            r.insert("run".into(), Value::Str(m.label.clone()));
            r.extend(metric_values(&m.metrics).map(|(c, v)| (c.to_owned(), Value::Float(v))));
            r
        })
        .collect();
    let legend = Legend::new(members);
    let mut out = vec![members_table(&rows, &legend)?];
    let mut notices = Vec::new();
    if rows.iter().any(|r| r.contains_key("seed")) {
        out.push(seeds_table(&rows, &legend)?);
    }
    match pivot_rows(members) {
        Ok(rows) if !rows.is_empty() => out.extend(pivot_tables(&rows)?),
        Ok(_) => {}
        Err(notice) => notices.push(notice),
    }
    let view = ReportView {
        tables: out.iter().map(|t| t.view.clone()).collect(),
        notices,
    };
    Ok((out, view))
}
