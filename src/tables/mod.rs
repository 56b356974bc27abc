//! Comparison tables of sweep members with polars: rows of parameters + metrics become a
//! `DataFrame`, written as Markdown, CSV and Parquet; seeds are aggregated to mean ± sd and
//! one metric can be pivoted into a grid (e.g. latent_dim × beta).

mod aggregate;
mod format;
mod io;

pub use aggregate::{aggregate_seeds, pivot};
pub use format::{
    escape_html, format_number, to_html, to_markdown, with_mean_sd, with_mean_sd_formatted,
};
pub use io::{read_csv, read_parquet, write_csv, write_markdown, write_parquet};

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// One cell of a sweep-member row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(String),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Float(v) => Some(*v),
            Value::Str(_) => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => f.write_str(&format_number(*v)),
            Value::Str(s) => f.write_str(s),
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(v)
    }
}

/// One sweep member: parameter and metric values by column name.
pub type Row = BTreeMap<String, Value>;

/// Column order: the `leading` names that occur (in that order), then the rest alphabetically.
fn column_order(rows: &[Row], leading: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = rows.iter().flat_map(|r| r.keys().cloned()).collect();
    all.sort();
    all.dedup();
    let mut order: Vec<String> = leading
        .iter()
        .filter(|l| all.iter().any(|a| a == *l))
        .map(|l| l.to_string())
        .collect();
    order.extend(all.into_iter().filter(|a| !leading.contains(&a.as_str())));
    order
}

/// Builds a DataFrame with one row per member. A column is Int64 when every present value is
/// an integer, Float64 when all are numeric, String otherwise; absent values are null.
pub fn rows_to_dataframe(rows: &[Row], leading: &[&str]) -> Result<DataFrame> {
    let columns: Vec<Column> = column_order(rows, leading)
        .into_iter()
        .map(|name| {
            let cells: Vec<Option<&Value>> = rows.iter().map(|r| r.get(&name)).collect();
            let present = || cells.iter().flatten();
            if present().all(|v| matches!(v, Value::Int(_))) {
                let data: Vec<Option<i64>> = cells
                    .iter()
                    .map(|c| c.and_then(|v| v.as_f64()).map(|f| f as i64))
                    .collect();
                Column::new(name.as_str().into(), data)
            } else if present().all(|v| v.as_f64().is_some()) {
                let data: Vec<Option<f64>> =
                    cells.iter().map(|c| c.and_then(|v| v.as_f64())).collect();
                Column::new(name.as_str().into(), data)
            } else {
                let data: Vec<Option<String>> =
                    cells.iter().map(|c| c.map(|v| v.to_string())).collect();
                Column::new(name.as_str().into(), data)
            }
        })
        .collect();
    Ok(DataFrame::new(rows.len(), columns)?)
}

/// Reads a cell back as a [`Value`] (`None` for null). Unsigned/narrow ints become `Int`,
/// narrow floats `Float`; other types are rendered as strings.
pub fn cell(df: &DataFrame, column: &str, row: usize) -> Result<Option<Value>> {
    let value = df.column(column)?.get(row)?;
    Ok(match value {
        AnyValue::Null => None,
        AnyValue::Int8(v) => Some(Value::Int(v as i64)),
        AnyValue::Int16(v) => Some(Value::Int(v as i64)),
        AnyValue::Int32(v) => Some(Value::Int(v as i64)),
        AnyValue::Int64(v) => Some(Value::Int(v)),
        AnyValue::UInt8(v) => Some(Value::Int(v as i64)),
        AnyValue::UInt16(v) => Some(Value::Int(v as i64)),
        AnyValue::UInt32(v) => Some(Value::Int(v as i64)),
        AnyValue::UInt64(v) => Some(Value::Int(v as i64)),
        AnyValue::Float32(v) => Some(Value::Float(v as f64)),
        AnyValue::Float64(v) => Some(Value::Float(v)),
        AnyValue::String(s) => Some(Value::Str(s.to_string())),
        AnyValue::StringOwned(s) => Some(Value::Str(s.to_string())),
        other => Some(Value::Str(other.to_string())),
    })
}

/// The column names of `df`, in order.
pub fn column_names(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect()
}

/// The inverse of [`rows_to_dataframe`]: one [`Row`] per DataFrame row, nulls left out.
pub fn dataframe_to_rows(df: &DataFrame) -> Result<Vec<Row>> {
    let names = column_names(df);
    (0..df.height())
        .map(|i| {
            let mut row = Row::new();
            for name in &names {
                if let Some(v) = cell(df, name, i)? {
                    row.insert(name.clone(), v);
                }
            }
            Ok(row)
        })
        .collect()
}

/// Orders values for sorting groups: numbers numerically before strings, strings lexically.
pub(crate) fn compare_values(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(p), Some(q)) => p.total_cmp(&q),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.to_string().cmp(&y.to_string()),
        },
    }
}

pub(crate) fn require_column(rows: &[Row], column: &str) -> Result<()> {
    if !rows.iter().any(|r| r.contains_key(column)) {
        bail!("no row has a '{column}' column");
    }
    Ok(())
}
