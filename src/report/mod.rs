//! One self-contained HTML report: figures embedded as base64 PNG data URIs, tables as HTML,
//! the experiment spec, stage timings with cache hits, and tool versions. Nothing is loaded
//! from outside the file, so it can be mailed or archived as is. Also the comparison tables
//! it shows (`comparison`, `view`) and its notices.

mod comparison;
mod html;
pub mod notices;
mod view;

pub use comparison::{compare, ComparisonTable, MemberResult};
pub use html::render_report;
pub use notices::{Notice, NoticeKind};
pub use view::{ReportView, TableView, VIEW_FILE};

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polars::prelude::DataFrame;

/// A figure to embed: its PNG is read and inlined when the report is written.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFigure {
    pub caption: String,
    pub png: PathBuf,
}

/// A table to render as HTML.
#[derive(Debug, Clone)]
pub struct ReportTable {
    pub caption: String,
    pub table: DataFrame,
}

/// A titled part of the report (e.g. "Reconstructions", "Anomaly detection").
#[derive(Debug, Clone, Default)]
pub struct ReportSection {
    pub heading: String,
    /// Plain text; blank lines separate paragraphs.
    pub text: String,
    pub figures: Vec<ReportFigure>,
    pub tables: Vec<ReportTable>,
}

/// Heading of the section that lists the report's notices.
pub const NOTICES_HEADING: &str = "Notices";

/// Report notices: one sentence each on what the report leaves out for this sweep and why
/// (a table or figure it cannot draw). They form one section at the top of the report; none,
/// no section.
pub fn notices_section(notices: &[String]) -> Option<ReportSection> {
    (!notices.is_empty()).then(|| ReportSection {
        heading: NOTICES_HEADING.into(),
        text: notices.join("\n\n"),
        ..Default::default()
    })
}

/// How one stage of the DAG ran.
#[derive(Debug, Clone, PartialEq)]
pub struct StageTiming {
    pub stage: String,
    /// Content hash (or any short identifier) of the stage's inputs.
    pub key: String,
    pub seconds: f64,
    pub cache_hit: bool,
}

/// Everything the report shows.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    pub title: String,
    /// e.g. the generation timestamp and the spec path.
    pub subtitle: String,
    /// The TOML spec, shown verbatim.
    pub spec_text: String,
    pub sections: Vec<ReportSection>,
    pub stage_timings: Vec<StageTiming>,
    /// `(name, version)`, e.g. `("pipeline", "0.1.0")`, `("rustc", "1.95.0")`.
    pub versions: Vec<(String, String)>,
}

/// Renders `input` and writes it to `path` (parent directories are created).
pub fn write_report(path: &Path, input: &ReportInput) -> Result<()> {
    let html = render_report(input)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, html).with_context(|| format!("writing {}", path.display()))
}
