//! Seed aggregation (mean ± sd over members that differ only in their seed) and pivot views.

use anyhow::{bail, Result};
use polars::prelude::DataFrame;

use super::{compare_values, dataframe_to_rows, require_column, rows_to_dataframe, Row, Value};
use crate::metrics::mean_sd;

/// Groups rows by every column except `seed_column` and `metrics`, and replaces each metric by
/// `<metric>_mean` and `<metric>_sd` (sample sd; absent when only one member reports it, as
/// one seed says nothing about the spread) over the group's members that report it, plus
/// `n_seeds` (rows in the group). Groups are sorted by their parameters.
///
/// Output columns: parameters (alphabetical), `n_seeds`, then `<metric>_mean`, `<metric>_sd`
/// in the order of `metrics`.
pub fn aggregate_seeds(rows: &[Row], seed_column: &str, metrics: &[&str]) -> Result<DataFrame> {
    if metrics.is_empty() {
        bail!("aggregate_seeds: no metric columns given");
    }
    for metric in metrics {
        require_column(rows, metric)?;
        if let Some(v) = rows
            .iter()
            .filter_map(|r| r.get(*metric))
            .find(|v| v.as_f64().is_none())
        {
            bail!("metric '{metric}' has a non-numeric value {v}");
        }
    }
    let is_param = |name: &str| name != seed_column && !metrics.contains(&name);
    let mut params: Vec<String> = rows
        .iter()
        .flat_map(|r| r.keys())
        .filter(|k| is_param(k))
        .cloned()
        .collect();
    params.sort();
    params.dedup();

    // Group keys are the parameter values (absent = None); linear search keeps this free of
    // an Ord/Hash requirement on floats, and sweeps have at most a few hundred members.
    let mut groups: Vec<(Vec<Option<Value>>, Vec<&Row>)> = Vec::new();
    for row in rows {
        let key: Vec<Option<Value>> = params.iter().map(|p| row.get(p).cloned()).collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    groups.sort_by(|(a, _), (b, _)| {
        a.iter()
            .zip(b)
            .map(|(x, y)| compare_values(x.as_ref(), y.as_ref()))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });

    let mut leading: Vec<String> = params.clone();
    leading.push("n_seeds".into());
    let out: Vec<Row> = groups
        .iter()
        .map(|(key, members)| {
            let mut row: Row = params
                .iter()
                .cloned()
                .zip(key.iter().cloned())
                .filter_map(|(p, v)| v.map(|v| (p, v)))
                .collect();
            row.insert("n_seeds".into(), Value::Int(members.len() as i64));
            for metric in metrics {
                let values: Vec<f64> = members
                    .iter()
                    .filter_map(|m| m.get(*metric))
                    .filter_map(Value::as_f64)
                    .collect();
                if values.is_empty() {
                    continue;
                }
                let stats = mean_sd(&values);
                row.insert(format!("{metric}_mean"), Value::Float(stats.mean));
                if values.len() > 1 {
                    row.insert(format!("{metric}_sd"), Value::Float(stats.sd));
                }
            }
            row
        })
        .collect();
    for metric in metrics {
        leading.push(format!("{metric}_mean"));
        leading.push(format!("{metric}_sd"));
    }
    let leading: Vec<&str> = leading.iter().map(String::as_str).collect();
    rows_to_dataframe(&out, &leading)
}

/// Pivot view of one numeric column: one row per distinct `index` value, one column per
/// distinct `columns` value (named `<columns>=<value>`), cells = `values` (null if absent).
/// Both axes are sorted. Two rows for the same cell are an error: aggregate seeds first.
pub fn pivot(df: &DataFrame, index: &str, columns: &str, values: &str) -> Result<DataFrame> {
    let rows = dataframe_to_rows(df)?;
    for c in [index, columns, values] {
        require_column(&rows, c)?;
    }
    let distinct = |name: &str| {
        let mut seen: Vec<Value> = Vec::new();
        for v in rows.iter().filter_map(|r| r.get(name)) {
            if !seen.contains(v) {
                seen.push(v.clone());
            }
        }
        seen.sort_by(|a, b| compare_values(Some(a), Some(b)));
        seen
    };
    let index_values = distinct(index);
    let column_values = distinct(columns);
    let mut grid: Vec<Vec<Option<f64>>> = vec![vec![None; column_values.len()]; index_values.len()];
    for row in &rows {
        let (Some(i), Some(c)) = (row.get(index), row.get(columns)) else {
            continue;
        };
        let Some(v) = row.get(values) else { continue };
        let Some(v) = v.as_f64() else {
            bail!("pivot: '{values}' has a non-numeric value {v}");
        };
        let r = index_values
            .iter()
            .position(|x| x == i)
            .expect("collected above");
        let k = column_values
            .iter()
            .position(|x| x == c)
            .expect("collected above");
        if grid[r][k].is_some() {
            bail!("pivot: several rows for {index}={i}, {columns}={c}; aggregate seeds first");
        }
        grid[r][k] = Some(v);
    }
    // Exact shortest representation (`0.5`, `4`), so distinct values never share a name.
    let exact = |v: &Value| match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => s.clone(),
    };
    let names: Vec<String> = column_values
        .iter()
        .map(|c| format!("{columns}={}", exact(c)))
        .collect();
    let out: Vec<Row> = index_values
        .iter()
        .zip(&grid)
        .map(|(i, cells)| {
            let mut row = Row::new();
            row.insert(index.to_string(), i.clone());
            for (name, cell) in names.iter().zip(cells) {
                if let Some(v) = cell {
                    row.insert(name.clone(), Value::Float(*v));
                }
            }
            row
        })
        .collect();
    let mut leading = vec![index];
    leading.extend(names.iter().map(String::as_str));
    rows_to_dataframe(&out, &leading)
}
