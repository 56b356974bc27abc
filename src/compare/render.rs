//! A comparison as text and tables: Markdown for people (one row per member × metric, each
//! run's value and its Δ to the baseline), one long table (member × metric × run) for CSV and
//! Parquet, and a JSON document for scripts.

use polars::prelude::DataFrame;
use serde_json::{json, Value as Json};

use super::cells::{Cell, Delta};
use super::comparison::Comparison;
use super::stats::{Correction, Summary};
use crate::metrics::Direction;
use crate::tables::{self, Row, Value};

/// `R0`, `R1`, …: how tables name the runs (the header lists their ids).
pub fn run_name(r: usize) -> String {
    format!("R{r}")
}

pub fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Up => "higher is better",
        Direction::Down => "lower is better",
        Direction::Info => "informational",
    }
}

pub fn correction_name(c: Correction) -> &'static str {
    match c {
        Correction::Holm => "Holm",
        Correction::BenjaminiHochberg => "Benjamini–Hochberg",
    }
}

/// `-101.3 ± 0.8 (n=3)`, or just the value for one seed.
pub fn summary_text(cell: &Cell, s: &Summary) -> String {
    let f = |v| cell.metric.format.render(v);
    match s.sd {
        Some(sd) => format!("{} ± {} (n={})", f(s.mean), f(sd), s.n),
        None => f(s.mean),
    }
}

pub fn signed(v: f64) -> String {
    let t = tables::format_number(v);
    if v > 0.0 {
        format!("+{t}")
    } else {
        t
    }
}

/// The verdict with a `*` when significant after correction.
pub fn flag_text(d: &Delta) -> String {
    let v = serde_json::to_value(d.verdict).ok();
    let word = v.as_ref().and_then(Json::as_str).unwrap_or_default();
    if d.significant() {
        format!("{word}*")
    } else {
        word.to_owned()
    }
}

/// The runs, the data guard and the skipped runs, as lines for the head of any text output.
pub fn header_lines(c: &Comparison) -> Vec<String> {
    let mut out = Vec::new();
    for (r, run) in c.runs.iter().enumerate() {
        let rec = &run.record;
        let role = if r == c.baseline { " (baseline)" } else { "" };
        out.push(format!(
            "{}{role}: run {} of {} ({}, finished {})",
            run_name(r),
            rec.run_id,
            rec.experiment,
            rec.status,
            rec.finished_at
        ));
    }
    if !c.comparable() {
        out.push(
            "WARNING: the runs differ in their data or preprocessing, so their numbers are not measured on the same test set:".into(),
        );
        for (r, diffs) in c.data_differences.iter().enumerate() {
            out.extend(diffs.iter().map(|d| format!("  {}: {d}", run_name(r))));
        }
    }
    out.extend(c.skipped.iter().cloned());
    out
}

/// Markdown: the header, one table, members only in some runs, and changed hash inputs.
pub fn markdown(c: &Comparison) -> anyhow::Result<String> {
    let tested = c
        .cells
        .iter()
        .any(|x| x.deltas.iter().flatten().any(|d| d.test.is_some()));
    let others: Vec<usize> = (0..c.runs.len()).filter(|&r| r != c.baseline).collect();
    let mut leading = vec![
        "member".to_owned(),
        "metric".to_owned(),
        run_name(c.baseline),
    ];
    for &r in &others {
        let n = run_name(r);
        leading.extend([n.clone(), format!("Δ {n}"), format!("Δ% {n}")]);
        if tested {
            leading.extend([
                format!("95% CI {n}"),
                format!("p adj {n}"),
                format!("g {n}"),
            ]);
        }
        leading.push(format!("flag {n}"));
    }
    let rows: Vec<Row> = c
        .shown_cells()
        .map(|cell| {
            let member = &c.members[cell.member];
            let mut row = Row::new();
            let text = |s: String| Value::Str(s);
            row.insert("member".into(), text(member.label.clone()));
            row.insert("metric".into(), text(cell.metric.column.to_owned()));
            for (r, v) in cell.values.iter().enumerate() {
                let shown = match v {
                    Some(s) => summary_text(cell, s),
                    None if member.present[r] => "—".into(),
                    None => "(absent)".into(),
                };
                row.insert(run_name(r), text(shown));
            }
            for &r in &others {
                let n = run_name(r);
                let Some(d) = &cell.deltas[r] else { continue };
                row.insert(format!("Δ {n}"), text(signed(d.diff)));
                if let Some(p) = d.diff_pct {
                    row.insert(format!("Δ% {n}"), text(signed(p)));
                }
                if tested {
                    let (ci, p, g) = match d.test {
                        Some(t) => (
                            format!("[{}, {}]", signed(t.ci_low), signed(t.ci_high)),
                            d.p_adjusted.map(tables::format_number).unwrap_or_default(),
                            d.hedges_g
                                .map(tables::format_number)
                                .unwrap_or_else(|| "n/a".into()),
                        ),
                        None => ("n/a".into(), "n/a".into(), "n/a".into()),
                    };
                    row.insert(format!("95% CI {n}"), text(ci));
                    row.insert(format!("p adj {n}"), text(p));
                    row.insert(format!("g {n}"), text(g));
                }
                row.insert(format!("flag {n}"), text(flag_text(d)));
            }
            row
        })
        .collect();
    let mut out = String::new();
    for line in header_lines(c) {
        out.push_str(&format!("{line}\n"));
    }
    out.push('\n');
    if rows.is_empty() {
        out.push_str("no cells to show (every value is the same in every run)\n");
    } else {
        let leading: Vec<&str> = leading.iter().map(String::as_str).collect();
        out.push_str(&tables::to_markdown(&tables::rows_to_dataframe(
            &rows, &leading,
        )?)?);
        out.push_str(&format!(
            "\nΔ = run − {}; flag: better / worse (by the metric's direction) / changed (informational); \
             * = significant at 5% after {} correction over all cells × metrics; n/a: a side has one seed.\n",
            run_name(c.baseline),
            correction_name(c.correction)
        ));
    }
    let partial: Vec<String> = c
        .members
        .iter()
        .filter(|m| m.partial())
        .map(|m| format!("- {}: only in {}\n", m.label, present_in(&m.present)))
        .collect();
    if !partial.is_empty() {
        out.push_str("\nMembers only in some runs:\n");
        out.extend(partial);
    }
    let mut changes = String::new();
    for m in &c.members {
        for (r, list) in m.changes.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
            changes.push_str(&format!(
                "- {} ({} vs {}): {}\n",
                m.label,
                run_name(r),
                run_name(c.baseline),
                list.join("; ")
            ));
        }
    }
    if !changes.is_empty() {
        out.push_str("\nHash inputs that differ, per member:\n");
        out.push_str(&changes);
    }
    Ok(out)
}

fn present_in(present: &[bool]) -> String {
    let names: Vec<String> = present
        .iter()
        .enumerate()
        .filter(|(_, p)| **p)
        .map(|(r, _)| run_name(r))
        .collect();
    names.join(", ")
}

/// One row per member × metric × run: the table CSV and Parquet carry, every digit kept.
pub fn long_table(c: &Comparison) -> anyhow::Result<DataFrame> {
    let mut rows = Vec::new();
    for cell in c.shown_cells() {
        let member = &c.members[cell.member];
        for (r, v) in cell.values.iter().enumerate() {
            let mut row = Row::new();
            row.insert("member".into(), Value::Str(member.label.clone()));
            for (k, x) in &member.key {
                row.insert(k.clone(), Value::Str(x.clone()));
            }
            row.insert("metric".into(), Value::Str(cell.metric.column.into()));
            row.insert(
                "direction".into(),
                Value::Str(direction_name(cell.metric.direction).into()),
            );
            row.insert("run".into(), Value::Str(c.run_id(r).into()));
            row.insert("baseline".into(), Value::Int((r == c.baseline) as i64));
            row.insert("present".into(), Value::Int(member.present[r] as i64));
            if let Some(s) = v {
                row.insert("n".into(), Value::Int(s.n as i64));
                row.insert("mean".into(), Value::Float(s.mean));
                if let Some(sd) = s.sd {
                    row.insert("sd".into(), Value::Float(sd));
                }
            }
            if let Some(d) = &cell.deltas[r] {
                row.insert("delta".into(), Value::Float(d.diff));
                if let Some(p) = d.diff_pct {
                    row.insert("delta_pct".into(), Value::Float(p));
                }
                if let Some(t) = d.test {
                    for (k, x) in [("ci_low", t.ci_low), ("ci_high", t.ci_high), ("p", t.p)] {
                        row.insert(k.into(), Value::Float(x));
                    }
                }
                if let Some(p) = d.p_adjusted {
                    row.insert("p_adjusted".into(), Value::Float(p));
                }
                if let Some(g) = d.hedges_g {
                    row.insert("hedges_g".into(), Value::Float(g));
                }
                row.insert(
                    "verdict".into(),
                    Value::Str(flag_text(d).trim_end_matches('*').into()),
                );
                row.insert("significant".into(), Value::Int(d.significant() as i64));
            }
            row.insert(
                "changed_inputs".into(),
                Value::Str(member.changes[r].join("; ")),
            );
            rows.push(row);
        }
    }
    let mut leading = vec!["member"];
    let keys: Vec<&String> = c.members.iter().flat_map(|m| m.key.keys()).collect();
    let mut keys: Vec<&str> = keys.into_iter().map(String::as_str).collect();
    keys.sort();
    keys.dedup();
    leading.extend(keys);
    leading.extend([
        "metric",
        "direction",
        "run",
        "baseline",
        "present",
        "n",
        "mean",
        "sd",
        "delta",
        "delta_pct",
        "ci_low",
        "ci_high",
        "p",
        "p_adjusted",
        "hedges_g",
        "verdict",
        "significant",
        "changed_inputs",
    ]);
    tables::rows_to_dataframe(&rows, &leading)
}

fn opt(v: Option<f64>) -> Json {
    v.filter(|x| x.is_finite()).map_or(Json::Null, |x| json!(x))
}

/// The whole comparison as one JSON document.
pub fn json(c: &Comparison, gate: &Json) -> Json {
    let runs: Vec<Json> = c
        .runs
        .iter()
        .enumerate()
        .map(|(r, run)| {
            json!({
                "name": run_name(r),
                "run_id": run.record.run_id,
                "experiment": run.record.experiment,
                "status": run.record.status,
                "finished_at": run.record.finished_at,
                "baseline": r == c.baseline,
                "data_differences": c.data_differences[r],
            })
        })
        .collect();
    let cells: Vec<Json> = c
        .shown_cells()
        .map(|cell| {
            let member = &c.members[cell.member];
            let values: Vec<Json> = cell
                .values
                .iter()
                .enumerate()
                .map(|(r, v)| {
                    let d = cell.deltas[r].as_ref();
                    let t = d.and_then(|d| d.test);
                    json!({
                        "run": c.run_id(r),
                        "n": v.map(|s| s.n),
                        "mean": opt(v.map(|s| s.mean)),
                        "sd": opt(v.and_then(|s| s.sd)),
                        "delta": opt(d.map(|d| d.diff)),
                        "delta_pct": opt(d.and_then(|d| d.diff_pct)),
                        "ci_low": opt(t.map(|t| t.ci_low)),
                        "ci_high": opt(t.map(|t| t.ci_high)),
                        "df": opt(t.map(|t| t.df)),
                        "t": opt(t.map(|t| t.t)),
                        "p": opt(t.map(|t| t.p)),
                        "p_adjusted": opt(d.and_then(|d| d.p_adjusted)),
                        "hedges_g": opt(d.and_then(|d| d.hedges_g)),
                        "verdict": d.map(|d| d.verdict),
                        "significant": d.map(|d| d.significant()),
                    })
                })
                .collect();
            json!({
                "member": member.label,
                "metric": cell.metric.column,
                "direction": direction_name(cell.metric.direction),
                "values": values,
            })
        })
        .collect();
    let members: Vec<Json> = c
        .members
        .iter()
        .map(|m| {
            let present: Vec<&str> = (0..c.runs.len())
                .filter(|&r| m.present[r])
                .map(|r| c.run_id(r))
                .collect();
            let changes: serde_json::Map<String, Json> = m
                .changes
                .iter()
                .enumerate()
                .filter(|(_, l)| !l.is_empty())
                .map(|(r, l)| (c.run_id(r).to_owned(), json!(l)))
                .collect();
            json!({
                "member": m.label,
                "key": m.key,
                "present_in": present,
                "only_in_some": m.partial(),
                "changed_inputs": changes,
            })
        })
        .collect();
    json!({
        "baseline": c.run_id(c.baseline),
        "runs": runs,
        "comparable": c.comparable(),
        "skipped": c.skipped,
        "correction": correction_name(c.correction),
        "members": members,
        "cells": cells,
        "gate": gate,
    })
}
