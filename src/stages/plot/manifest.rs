//! `figures.json`: the files the plot stage drew, and the report sections made from it with
//! the registry's headings and captions, plus the stage's notices.

use std::path::Path;

use anyhow::Context;

use super::registry::{self, DrawnFile, FIGURES};
use crate::report::{notices, ReportFigure, ReportSection};

pub const FILE: &str = "figures.json";

pub fn write(dir: &Path, drawn: &[DrawnFile]) -> anyhow::Result<()> {
    let path = dir.join(FILE);
    std::fs::write(&path, serde_json::to_vec_pretty(drawn)?)
        .with_context(|| format!("writing {}", path.display()))
}

pub fn read(dir: &Path) -> anyhow::Result<Vec<DrawnFile>> {
    let path = dir.join(FILE);
    serde_json::from_slice(
        &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("failed to read {}", path.display()))
}

/// The report's figure sections, in registry order (a figure's own files in the order it drew
/// them), led by a section listing the plot stage's notices when it left any. Figures drawn
/// without a PNG (`plots.formats = ["svg"]`) are not embedded.
pub fn report_sections(plots: &Path) -> anyhow::Result<Vec<ReportSection>> {
    let mut drawn = read(plots)?;
    let order = |d: &DrawnFile| FIGURES.iter().position(|f| f.name() == d.figure);
    drawn.sort_by_key(order);
    let mut sections = Vec::new();
    let notes = notices::read(plots)?;
    if !notes.is_empty() {
        sections.push(ReportSection {
            heading: "Figure notices".into(),
            text: notes
                .iter()
                .map(|n| format!("{}.", n.to_string().trim_end_matches('.')))
                .collect::<Vec<_>>()
                .join("\n\n"),
            ..Default::default()
        });
    }
    for d in drawn {
        let png = plots.join(format!("{}.png", d.file));
        let Some(figure) = registry::find(&d.figure).filter(|_| png.exists()) else {
            continue;
        };
        let (heading, caption) = match &d.member {
            Some(member) => figure.member_caption(member),
            None => figure.captions(),
        };
        sections.push(ReportSection {
            heading,
            figures: vec![ReportFigure { caption, png }],
            ..Default::default()
        });
    }
    Ok(sections)
}
