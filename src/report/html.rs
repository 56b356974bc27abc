//! HTML rendering of a [`ReportInput`](super::ReportInput).

use anyhow::{Context, Result};
use base64::Engine;

use super::{ReportFigure, ReportInput, ReportSection, StageTiming};
use crate::tables::{escape_html, format_number, to_html};

/// Inline stylesheet: the report must not reference anything outside itself.
const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { border-bottom: 2px solid #1f77b4; padding-bottom: .3em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
.subtitle { color: #666; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { color: #444; font-size: .95em; margin-top: .4em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .92em; }
.table-scroll { overflow-x: auto; max-width: 100%; margin: 1em 0; }
.table-scroll table { margin: 0; }
.table-scroll th, .table-scroll td { white-space: nowrap; }
th, td { border: 1px solid #ccc; padding: .3em .7em; }
th { background: #f0f4f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafafa; }
td.hit { color: #2a7d2a; font-weight: bold; }
td.miss { color: #b35c00; }
pre { background: #f6f8fa; border: 1px solid #ddd; padding: 1em; overflow-x: auto; font-size: .9em; }
.caption { font-weight: bold; margin-top: 1.5em; }
nav ul { columns: 2; }
"#;

fn figure_html(figure: &ReportFigure) -> Result<String> {
    let bytes = std::fs::read(&figure.png)
        .with_context(|| format!("reading figure {}", figure.png.display()))?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let caption = escape_html(&figure.caption);
    Ok(format!(
        "<figure><img alt=\"{caption}\" src=\"data:image/png;base64,{encoded}\"><figcaption>{caption}</figcaption></figure>\n"
    ))
}

/// Wraps a table so that it scrolls sideways inside the page when it is wider: its cells do
/// not wrap, because a run name like `vae-z20-b0.5` broken at its hyphens reads as two runs.
fn scrolling(table: &str) -> String {
    format!("<div class=\"table-scroll\">\n{table}</div>\n")
}

fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", escape_html(p)))
        .collect()
}

fn anchor(i: usize) -> String {
    format!("section-{i}")
}

fn section_html(i: usize, section: &ReportSection) -> Result<String> {
    let mut out = format!(
        "<section id=\"{}\">\n<h2>{}</h2>\n",
        anchor(i),
        escape_html(&section.heading)
    );
    out.push_str(&paragraphs(&section.text));
    for figure in &section.figures {
        out.push_str(&figure_html(figure)?);
    }
    for table in &section.tables {
        out.push_str(&format!(
            "<div class=\"caption\">{}</div>\n",
            escape_html(&table.caption)
        ));
        out.push_str(&scrolling(&to_html(&table.table)?));
    }
    out.push_str("</section>\n");
    Ok(out)
}

fn timings_html(timings: &[StageTiming]) -> String {
    let hits = timings.iter().filter(|t| t.cache_hit).count();
    let total: f64 = timings.iter().map(|t| t.seconds).sum();
    let summary = format!(
        "<p>{} stages, {hits} cache hits, {} s in total.</p>\n",
        timings.len(),
        format_number(total)
    );
    let mut out = String::from(
        "<table>\n<thead><tr><th>stage</th><th>key</th><th>seconds</th><th>cache</th></tr></thead>\n<tbody>\n",
    );
    for t in timings {
        let (class, label) = if t.cache_hit {
            ("hit", "hit")
        } else {
            ("miss", "run")
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"{class}\">{label}</td></tr>\n",
            escape_html(&t.stage),
            escape_html(&t.key),
            format_number(t.seconds)
        ));
    }
    out.push_str("</tbody>\n</table>\n");
    summary + &scrolling(&out)
}

/// The complete HTML document as a string.
pub fn render_report(input: &ReportInput) -> Result<String> {
    let title = escape_html(&input.title);
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    if !input.subtitle.is_empty() {
        out.push_str(&format!(
            "<p class=\"subtitle\">{}</p>\n",
            escape_html(&input.subtitle)
        ));
    }
    // In-page links only (#…): they do not leave the file.
    out.push_str("<nav><ul>\n");
    for (i, section) in input.sections.iter().enumerate() {
        out.push_str(&format!(
            "<li><a href=\"#{}\">{}</a></li>\n",
            anchor(i),
            escape_html(&section.heading)
        ));
    }
    out.push_str("<li><a href=\"#spec\">Spec</a></li>\n<li><a href=\"#timings\">Stage timings</a></li>\n<li><a href=\"#versions\">Versions</a></li>\n</ul></nav>\n");
    for (i, section) in input.sections.iter().enumerate() {
        out.push_str(&section_html(i, section)?);
    }
    out.push_str(&format!(
        "<section id=\"spec\">\n<h2>Spec</h2>\n<pre>{}</pre>\n</section>\n",
        escape_html(&input.spec_text)
    ));
    out.push_str(&format!(
        "<section id=\"timings\">\n<h2>Stage timings</h2>\n{}</section>\n",
        timings_html(&input.stage_timings)
    ));
    let mut versions = String::from(
        "<table>\n<thead><tr><th>component</th><th>version</th></tr></thead>\n<tbody>\n",
    );
    for (name, version) in &input.versions {
        versions.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>\n",
            escape_html(name),
            escape_html(version)
        ));
    }
    versions.push_str("</tbody>\n</table>\n");
    out.push_str(&format!(
        "<section id=\"versions\">\n<h2>Versions</h2>\n{}</section>\n</body>\n</html>\n",
        scrolling(&versions)
    ));
    Ok(out)
}
