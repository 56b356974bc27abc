//! The self-contained HTML compare report: the Δ table coloured by direction and significance,
//! Δ pivots (latent × β) per metric, training curves of each member overlaid across runs,
//! every run's rate–distortion curves on one chart, the runs' own figures side by side, and
//! the spec diff and versions of each run. Figures are embedded PNGs; nothing is linked.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine;

use super::cells::{Cell, Verdict};
use super::comparison::Comparison;
use super::html_figures::{curves_section, rate_distortion, side_by_side};
use super::render::{direction_name, flag_text, header_lines, run_name, signed, summary_text};
use crate::cache::CacheStore;
use crate::tables::{escape_html as esc, format_number};

const STYLE: &str = r#"
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1400px; color: #222; padding: 0 1em; }
h1 { border-bottom: 2px solid #1f77b4; padding-bottom: .3em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
.banner { background: #fff3cd; border: 2px solid #d39e00; padding: .8em 1em; font-weight: bold; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .3em .6em; white-space: nowrap; }
th { background: #f0f4f8; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.better { background: #d8f0d8; } td.better.sig { background: #7ccf7c; font-weight: bold; }
td.worse { background: #f8dada; } td.worse.sig { background: #e86a6a; font-weight: bold; }
td.changed { background: #dde8f6; }
.side { display: flex; gap: 1em; flex-wrap: wrap; }
.side figure { flex: 1 1 30%; margin: 0; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
pre { background: #f6f8fa; border: 1px solid #ddd; padding: 1em; overflow-x: auto; font-size: .85em; }
.add { color: #1a7f37; } .del { color: #cf222e; }
"#;

pub(super) fn image(png: &Path, caption: &str) -> anyhow::Result<String> {
    let data = base64::engine::general_purpose::STANDARD.encode(std::fs::read(png)?);
    Ok(format!(
        "<figure><img alt=\"{c}\" src=\"data:image/png;base64,{data}\"><figcaption>{c}</figcaption></figure>\n",
        c = esc(caption)
    ))
}

fn class_of(cell: &Cell, r: usize) -> String {
    match &cell.deltas[r] {
        Some(d) => {
            let v = match d.verdict {
                Verdict::Better => "better",
                Verdict::Worse => "worse",
                Verdict::Changed => "changed",
                Verdict::Same => "",
            };
            let sig = if d.significant() { " sig" } else { "" };
            format!("num {v}{sig}")
        }
        None => "num".into(),
    }
}

fn delta_table(c: &Comparison) -> String {
    let mut out =
        String::from("<div class=\"scroll\"><table><thead><tr><th>member</th><th>metric</th>");
    for r in 0..c.runs.len() {
        out.push_str(&format!("<th>{}</th>", run_name(r)));
        if r != c.baseline {
            out.push_str(&format!(
                "<th>Δ {n}</th><th>Δ% {n}</th><th>95% CI</th><th>p adj</th><th>g</th>",
                n = run_name(r)
            ));
        }
    }
    out.push_str("</tr></thead><tbody>\n");
    for cell in c.shown_cells() {
        let m = &c.members[cell.member];
        out.push_str(&format!(
            "<tr><td>{}</td><td title=\"{}\">{}</td>",
            esc(&m.label),
            direction_name(cell.metric.direction),
            esc(cell.metric.column)
        ));
        for r in 0..c.runs.len() {
            let value = cell.values[r].as_ref().map(|s| summary_text(cell, s));
            let value = value.unwrap_or_else(|| {
                if m.present[r] {
                    "—".into()
                } else {
                    "(absent)".into()
                }
            });
            out.push_str(&format!("<td class=\"num\">{}</td>", esc(&value)));
            if r == c.baseline {
                continue;
            }
            let class = class_of(cell, r);
            match &cell.deltas[r] {
                Some(d) => {
                    let (ci, p, g) = match d.test {
                        Some(t) => (
                            format!("[{}, {}]", signed(t.ci_low), signed(t.ci_high)),
                            d.p_adjusted.map(format_number).unwrap_or_default(),
                            d.hedges_g
                                .map(format_number)
                                .unwrap_or_else(|| "n/a".into()),
                        ),
                        None => ("n/a".into(), "n/a".into(), "n/a".into()),
                    };
                    out.push_str(&format!(
                        "<td class=\"{class}\" title=\"{}\">{}</td><td class=\"{class}\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                        esc(&flag_text(d)),
                        esc(&signed(d.diff)),
                        d.diff_pct.map(|p| format!("{}%", signed(p))).unwrap_or_default(),
                        esc(&ci), esc(&p), esc(&g)
                    ));
                }
                None => out.push_str("<td></td><td></td><td></td><td></td><td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n<p>Green: better, red: worse by the metric's direction (strong colour: significant at 5% after correction), blue: an informational metric changed; n/a: a side has one seed.</p>\n");
    out
}

/// Δ of `metric` of run `r` as a latent_dim × beta grid, when the members have both keys.
fn delta_pivot(c: &Comparison, metric: &str, r: usize) -> Option<String> {
    let cells: Vec<(&str, &str, f64)> = c
        .cells
        .iter()
        .filter(|x| x.metric.column == metric)
        .filter_map(|x| {
            let key = &c.members[x.member].key;
            let d = x.deltas[r].as_ref()?;
            Some((
                key.get("latent_dim")?.as_str(),
                key.get("beta")?.as_str(),
                d.diff,
            ))
        })
        .collect();
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    let mut latents: Vec<&str> = cells
        .iter()
        .map(|x| x.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut betas: Vec<&str> = cells
        .iter()
        .map(|x| x.1)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if latents.is_empty() || betas.len() < 2 {
        return None;
    }
    latents.sort_by(|a, b| num(a).total_cmp(&num(b)));
    betas.sort_by(|a, b| num(a).total_cmp(&num(b)));
    let mut out = format!(
        "<p><b>Δ {metric}, {} − {}: latent size × β</b></p><div class=\"scroll\"><table><thead><tr><th>latent_dim</th>",
        run_name(r),
        run_name(c.baseline)
    );
    for b in &betas {
        out.push_str(&format!("<th>β = {}</th>", esc(b)));
    }
    out.push_str("</tr></thead><tbody>\n");
    for z in &latents {
        out.push_str(&format!("<tr><td>{}</td>", esc(z)));
        for b in &betas {
            let v = cells
                .iter()
                .find(|x| x.0 == *z && x.1 == *b)
                .map(|x| signed(x.2));
            out.push_str(&format!("<td class=\"num\">{}</td>", v.unwrap_or_default()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    Some(out)
}

/// The spec text and, as lines after it, the run's `--set` overrides (part of what it ran).
fn spec_with_overrides(record: &crate::registry::RunRecord) -> String {
    let mut text = record.spec_text.clone();
    for o in &record.overrides {
        text.push_str(&format!("\n--set {o}"));
    }
    text
}

/// Lines removed from / added to the baseline's spec, in order.
fn spec_diff(before: &str, after: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    let mut out = String::new();
    for l in a.iter().filter(|l| !b.contains(l)) {
        out.push_str(&format!("<span class=\"del\">- {}</span>\n", esc(l)));
    }
    for l in b.iter().filter(|l| !a.contains(l)) {
        out.push_str(&format!("<span class=\"add\">+ {}</span>\n", esc(l)));
    }
    if out.is_empty() {
        out.push_str("(same spec text)\n");
    }
    out
}

/// The whole page.
pub fn render(c: &Comparison, store: &CacheStore) -> anyhow::Result<String> {
    let tmp = tempfile::tempdir()?;
    let title = format!(
        "compare: {}",
        c.runs
            .iter()
            .map(|r| r.record.run_id.as_str())
            .collect::<Vec<_>>()
            .join(" vs ")
    );
    let mut out = format!("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n", t = esc(&title));
    if !c.comparable() {
        out.push_str("<p class=\"banner\">The runs differ in their data or preprocessing: their numbers are not measured on the same test set.</p>\n");
    }
    out.push_str("<pre>");
    for line in header_lines(c) {
        out.push_str(&format!("{}\n", esc(&line)));
    }
    out.push_str("</pre>\n<h2>Δ table</h2>\n");
    out.push_str(&delta_table(c));
    let mut changes = String::new();
    for m in &c.members {
        for (r, l) in m.changes.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
            changes.push_str(&format!(
                "<li>{} ({}): {}</li>\n",
                esc(&m.label),
                run_name(r),
                esc(&l.join("; "))
            ));
        }
        if m.partial() {
            let runs: Vec<String> = (0..c.runs.len())
                .filter(|&r| m.present[r])
                .map(run_name)
                .collect();
            changes.push_str(&format!(
                "<li>{}: only in {}</li>\n",
                esc(&m.label),
                runs.join(", ")
            ));
        }
    }
    if !changes.is_empty() {
        out.push_str(&format!(
            "<h2>Members: changed hash inputs, partial members</h2>\n<ul>\n{changes}</ul>\n"
        ));
    }
    out.push_str("<h2>Δ pivots</h2>\n");
    let mut any = false;
    for m in c.metrics.iter().filter(|m| m.pivot) {
        for r in (0..c.runs.len()).filter(|&r| r != c.baseline) {
            if let Some(t) = delta_pivot(c, m.column, r) {
                out.push_str(&t);
                any = true;
            }
        }
    }
    if !any {
        out.push_str("<p>no latent size × β grid in these runs</p>\n");
    }
    out.push_str("<h2>Training curves</h2>\n");
    out.push_str(&curves_section(c, store, tmp.path())?);
    out.push_str("<h2>Rate–distortion</h2>\n");
    out.push_str(
        &rate_distortion(c, tmp.path())?
            .unwrap_or_else(|| "<p>not drawn: rate–distortion curves need VAE members swept over β (a <code>beta</code> sweep axis); these runs have none</p>\n".into()),
    );
    out.push_str("<h2>Figures side by side</h2>\n");
    out.push_str(&side_by_side(c)?);
    out.push_str("<h2>Spec diff and versions</h2>\n");
    let base = &c.runs[c.baseline].record;
    for (r, run) in c.runs.iter().enumerate().filter(|(r, _)| *r != c.baseline) {
        out.push_str(&format!(
            "<p>{} vs {}:</p><pre>{}</pre>\n",
            run_name(r),
            run_name(c.baseline),
            spec_diff(
                &spec_with_overrides(base),
                &spec_with_overrides(&run.record)
            )
        ));
    }
    out.push_str("<table><thead><tr><th>run</th><th>stage implementation versions</th></tr></thead><tbody>\n");
    for (r, run) in c.runs.iter().enumerate() {
        let versions: BTreeSet<String> = run
            .record
            .stages
            .iter()
            .map(|s| format!("{} v{}", s.kind, s.key_inputs.implementation_version))
            .collect();
        out.push_str(&format!(
            "<tr><td>{} {}</td><td>{}</td></tr>\n",
            run_name(r),
            esc(&run.record.run_id),
            esc(&versions.into_iter().collect::<Vec<_>>().join(", "))
        ));
    }
    out.push_str(&format!(
        "</tbody></table>\n<p>report written by pipeline {}</p>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    ));
    Ok(out)
}
