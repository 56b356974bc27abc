//! What the report shows of the comparison tables, as the report stage leaves it in
//! `report_view.json`: each table ready to print (headings, numbers formatted per metric, a
//! legend) and the notices that say which tables a sweep could not have and why.

use anyhow::{Context, Result};
use polars::prelude::{Column, DataFrame};
use serde::{Deserialize, Serialize};

use crate::tables::{self, Value};

/// The file the report stage writes its view to.
pub const VIEW_FILE: &str = "report_view.json";

/// One table as printed: every cell is text (empty = no value).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TableView {
    /// File stem of the table's `.csv` / `.parquet` / `.md`.
    pub name: String,
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Lines under the table: what its columns mean.
    #[serde(default)]
    pub legend: Vec<String>,
}

/// Everything the report stage hands to the run's HTML report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportView {
    pub tables: Vec<TableView>,
    /// Report notices: one sentence each, shown in the report and printed in the run output.
    #[serde(default)]
    pub notices: Vec<String>,
}

impl TableView {
    /// Renders `df` as text; `text(column, value)` prints a cell, `heading(column)` a header.
    pub fn of(
        name: &str,
        caption: String,
        df: &DataFrame,
        heading: &dyn Fn(&str) -> String,
        text: &dyn Fn(&str, &Value) -> String,
    ) -> Result<TableView> {
        let names = tables::column_names(df);
        let rows = (0..df.height())
            .map(|i| {
                names
                    .iter()
                    .map(|n| {
                        Ok(tables::cell(df, n, i)?
                            .map(|v| text(n, &v))
                            .unwrap_or_default())
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<_>>()?;
        Ok(TableView {
            name: name.to_owned(),
            caption,
            columns: names.iter().map(|n| heading(n)).collect(),
            rows,
            legend: Vec::new(),
        })
    }

    /// A DataFrame of text columns, as the HTML report renders it.
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let columns: Vec<Column> = self
            .columns
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let cells: Vec<Option<&str>> = self
                    .rows
                    .iter()
                    .map(|r| r.get(j).map(String::as_str).filter(|t| !t.is_empty()))
                    .collect();
                Column::new(name.as_str().into(), cells)
            })
            .collect();
        DataFrame::new(self.rows.len(), columns)
            .with_context(|| format!("table {} has duplicate headings", self.name))
    }

    /// The caption and the legend as one text, for the report.
    pub fn caption_with_legend(&self) -> String {
        std::iter::once(self.caption.as_str())
            .chain(self.legend.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Markdown: the caption, the table, the legend under it.
    pub fn to_markdown(&self) -> Result<String> {
        let mut out = format!(
            "{}\n\n{}",
            self.caption,
            tables::to_markdown(&self.to_dataframe()?)?
        );
        if !self.legend.is_empty() {
            out.push('\n');
            for line in &self.legend {
                out.push_str(&format!("- {line}\n"));
            }
        }
        Ok(out)
    }
}

impl ReportView {
    pub fn read(dir: &std::path::Path) -> Result<ReportView> {
        let path = dir.join(VIEW_FILE);
        let bytes =
            std::fs::read(&path).with_context(|| format!("failed to read {}", path.display()))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("failed to parse {}", path.display()))
    }
}
