//! `pipeline runs`, `tag` and `note`: listing and querying recorded runs (from the run index),
//! and annotating them.

use std::path::Path;

use serde::Serialize;

use crate::error::UserError;
use crate::project::Project;
use crate::registry::annotations::{self, Annotations};
use crate::registry::fields::{self, Row, FIELDS};
use crate::registry::index::{self, IndexEntry, Listing};
use crate::registry::query::{Query, QueryError};
use crate::registry::refs;
use crate::registry::state::StageState;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// What `pipeline runs` was asked for.
pub struct RunsQuery {
    pub experiment: Option<String>,
    pub filter: Option<String>,
    /// A field name; `-` in front sorts descending. Default: newest first.
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub format: Format,
    pub reindex: bool,
}

pub fn list(project: &Project, q: RunsQuery) -> anyhow::Result<()> {
    let state = project.state_dir();
    let listing = if q.reindex {
        let l = index::reindex(&state)?;
        eprintln!(
            "rebuilt {} from the records ({} runs)",
            index::index_path(&state).display(),
            l.entries.len()
        );
        l
    } else {
        index::load(&state)?
    };
    for line in describe_unreadable(&listing).lines() {
        eprintln!("warning: {line}");
    }
    let annotations = Annotations::load(&state);
    let rows: Vec<Row> = listing
        .entries
        .iter()
        .rev()
        .filter(|e| q.experiment.as_ref().is_none_or(|x| *x == e.experiment))
        .map(|entry| Row {
            entry,
            tags: annotations.tags_of(&entry.id),
        })
        .collect();
    let mut rows = select(rows, &q)?;
    if let Some(n) = q.limit {
        rows.truncate(n);
    }
    match q.format {
        Format::Table => print_table(&rows, &annotations),
        Format::Json => print_json(&rows, &annotations)?,
        Format::Csv => print_csv(&rows),
    }
    Ok(())
}

/// Rows matching `--where`, in `--sort` order.
fn select<'a>(rows: Vec<Row<'a>>, q: &RunsQuery) -> anyhow::Result<Vec<Row<'a>>> {
    let bad = |flag: &str, text: &str, e: QueryError| -> anyhow::Error {
        let caret = format!("{}^", " ".repeat(e.column.saturating_sub(1)));
        UserError::usage(format!("{flag} `{text}`: {e}\n  {text}\n  {caret}")).into()
    };
    let mut rows = rows;
    if let Some(text) = &q.filter {
        let query = Query::parse(text).map_err(|e| bad("--where", text, e))?;
        // With no run listed, nothing can tell a misspelt spec value from an unrecorded one.
        if let Some(e) = query.unknown_field(&rows).filter(|_| !rows.is_empty()) {
            return Err(bad("--where", text, e));
        }
        rows.retain(|r| query.matches(r));
    }
    if let Some(key) = &q.sort {
        let (descending, name) = match key.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, key.as_str()),
        };
        if !rows.is_empty() && !fields::known(&rows, name) {
            return Err(UserError::usage(format!(
                "--sort `{key}`: unknown field `{name}`; {} (prefix - to sort descending)",
                fields::describe(&rows)
            ))
            .into());
        }
        let value = |r: &Row| fields::lookup(r, name).unwrap_or(fields::Value::Missing);
        // Stable: equal values stay newest first; runs without the field go last either way.
        rows.sort_by(|a, b| {
            let (va, vb) = (value(a), value(b));
            let either_missing = va == fields::Value::Missing || vb == fields::Value::Missing;
            if descending && !either_missing {
                vb.order(&va)
            } else {
                va.order(&vb)
            }
        });
    }
    Ok(rows)
}

fn print_table(rows: &[Row], annotations: &Annotations) {
    println!(
        "{:<32} {:<20} {:<12} {:>5} {:>7} {:>7}  tags",
        "run", "experiment", "status", "ran", "cached", "failed"
    );
    for r in rows {
        let e = r.entry;
        println!(
            "{:<32} {:<20} {:<12} {:>5} {:>7} {:>7}  {}",
            e.id,
            e.experiment,
            e.status,
            e.count(StageState::Ran),
            e.count(StageState::Cached),
            e.count(StageState::Failed),
            r.tags
                .iter()
                .map(|t| format!("@{t}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        if let Some(error) = &e.error {
            println!("  {error}");
        }
        for (_, note) in annotations.notes.get(&e.id).into_iter().flatten() {
            println!("  note: {}", note.lines().next().unwrap_or(""));
        }
    }
}

#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    entry: &'a IndexEntry,
    tags: &'a [&'a str],
    notes: Vec<&'a str>,
}

fn print_json(rows: &[Row], annotations: &Annotations) -> anyhow::Result<()> {
    let listed: Vec<Listed> = rows
        .iter()
        .map(|r| Listed {
            entry: r.entry,
            tags: &r.tags,
            notes: annotations
                .notes
                .get(&r.entry.id)
                .map(|n| n.iter().map(|(_, text)| text.as_str()).collect())
                .unwrap_or_default(),
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&listed)?);
    Ok(())
}

/// One column per record field (the `--where` names), one row per run.
fn print_csv(rows: &[Row]) {
    let quote = |s: String| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let header: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
    println!("{}", header.join(","));
    for r in rows {
        let cells: Vec<String> = FIELDS
            .iter()
            .map(|(_, _, get)| quote(get(r).show()))
            .collect();
        println!("{}", cells.join(","));
    }
}

fn describe_unreadable(listing: &Listing) -> String {
    listing
        .unreadable
        .iter()
        .map(|(path, e)| {
            format!(
                "run record {} is unreadable ({e:#}); remove it, or repair it from its copy \
                 results/<experiment>/<run-id>/run.json\n",
                path.display()
            )
        })
        .collect()
}

/// The id `reference` names (any experiment).
fn resolve_id(state: &Path, reference: &str) -> anyhow::Result<String> {
    let listing = index::load(state)?;
    refs::resolve_id(state, &listing.entries, reference, None)
}

pub fn tag(project: &Project, reference: &str, name: &str) -> anyhow::Result<()> {
    let state = project.state_dir();
    let id = resolve_id(&state, reference)?;
    let name = name.strip_prefix('@').unwrap_or(name);
    match annotations::tag(&state, &id, name)? {
        Some(before) => println!("tagged {id} as @{name} (moved from {before})"),
        None => println!("tagged {id} as @{name}"),
    }
    Ok(())
}

pub fn note(project: &Project, reference: &str, text: &str) -> anyhow::Result<()> {
    let state = project.state_dir();
    let id = resolve_id(&state, reference)?;
    annotations::note(&state, &id, text)?;
    println!("noted on {id}");
    Ok(())
}
