//! Text renderings of tables: Markdown for the results directory, HTML for the report.

use anyhow::Result;
use polars::prelude::*;

use super::{cell, column_names, dataframe_to_rows, rows_to_dataframe, Value};

/// Numbers for humans: 4 significant digits without trailing zeros (`0.5`, `12.35`, `-113`),
/// scientific notation below 1e-3 or from 1e5.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.3e}")
    } else {
        let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
        let text = format!("{v:.decimals$}");
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            text
        }
    }
}

fn cell_text(df: &DataFrame, column: &str, row: usize) -> Result<String> {
    Ok(cell(df, column, row)?
        .map(|v| v.to_string())
        .unwrap_or_default())
}

/// Numeric columns, and text columns of formatted numbers (`-101.5 ± 1`, `0.875`), are
/// right-aligned.
fn is_numeric(df: &DataFrame, column: &str) -> bool {
    let Ok(c) = df.column(column) else {
        return false;
    };
    if c.dtype().is_primitive_numeric() {
        return true;
    }
    let Ok(text) = c.str() else { return false };
    let mut cells = text.iter().flatten().filter(|t| !t.is_empty()).peekable();
    cells.peek().is_some()
        && cells.all(|t| {
            t.split(' ')
                .next()
                .is_some_and(|first| first.parse::<f64>().is_ok())
        })
}

/// GitHub-flavoured Markdown table; numeric columns right-aligned, nulls empty.
pub fn to_markdown(df: &DataFrame) -> Result<String> {
    let names = column_names(df);
    let escape = |s: &str| s.replace('|', "\\|");
    let mut out = format!(
        "| {} |\n",
        names
            .iter()
            .map(|n| escape(n))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let rule: Vec<&str> = names
        .iter()
        .map(|n| if is_numeric(df, n) { "---:" } else { "---" })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for i in 0..df.height() {
        let cells: Vec<String> = names
            .iter()
            .map(|n| cell_text(df, n, i).map(|t| escape(&t)))
            .collect::<Result<_>>()?;
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    Ok(out)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML `<table>` (header row + body); numeric cells get `class="num"`.
pub fn to_html(df: &DataFrame) -> Result<String> {
    let names = column_names(df);
    let mut out = String::from("<table>\n<thead><tr>");
    for n in &names {
        out.push_str(&format!("<th>{}</th>", escape_html(n)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for i in 0..df.height() {
        out.push_str("<tr>");
        for n in &names {
            let class = if is_numeric(df, n) {
                " class=\"num\""
            } else {
                ""
            };
            out.push_str(&format!(
                "<td{class}>{}</td>",
                escape_html(&cell_text(df, n, i)?)
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    Ok(out)
}

/// Display view of an [`aggregate_seeds`](super::aggregate_seeds) result: each `<m>_mean`
/// column (with its `<m>_sd`, where a group has one) becomes one string column `<m>` reading
/// `mean ± sd`, or just `mean` for a group of one seed.
pub fn with_mean_sd(df: &DataFrame) -> Result<DataFrame> {
    with_mean_sd_formatted(df, &|_, v| format_number(v))
}

/// [`with_mean_sd`] with the numbers of metric `<m>` printed by `format(m, value)`.
pub fn with_mean_sd_formatted(
    df: &DataFrame,
    format: &dyn Fn(&str, f64) -> String,
) -> Result<DataFrame> {
    let names = column_names(df);
    let bases: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_suffix("_mean"))
        .map(str::to_string)
        .collect();
    let is_sd = |n: &str| {
        n.strip_suffix("_sd")
            .is_some_and(|b| bases.iter().any(|x| x == b))
    };
    let order: Vec<String> = names
        .iter()
        .filter(|n| !is_sd(n))
        .map(|n| n.strip_suffix("_mean").unwrap_or(n).to_string())
        .collect();
    let rows = dataframe_to_rows(df)?
        .into_iter()
        .map(|mut row| {
            for base in &bases {
                let mean = row.remove(&format!("{base}_mean")).and_then(|v| v.as_f64());
                let sd = row.remove(&format!("{base}_sd")).and_then(|v| v.as_f64());
                let text = match (mean, sd) {
                    (Some(m), Some(s)) => format!("{} ± {}", format(base, m), format(base, s)),
                    (Some(m), None) => format(base, m),
                    (None, _) => continue,
                };
                row.insert(base.clone(), Value::Str(text));
            }
            row
        })
        .collect::<Vec<_>>();
    let order: Vec<&str> = order.iter().map(String::as_str).collect();
    rows_to_dataframe(&rows, &order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_readable() {
        assert_eq!(format_number(0.123456), "0.1235");
        assert_eq!(format_number(12.3456), "12.35");
        assert_eq!(format_number(1234.4), "1234");
        assert_eq!(format_number(-0.5), "-0.5");
        assert_eq!(format_number(4.0), "4");
        assert_eq!(format_number(-113.0), "-113");
        assert_eq!(format_number(2.5e-5), "2.500e-5");
        assert_eq!(format_number(0.0), "0");
    }

    #[test]
    fn html_escaping() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
