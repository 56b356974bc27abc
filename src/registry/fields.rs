//! The fields of a listed run, by name: the one table that `runs --where`, `--sort`, `--csv`
//! and the unknown-field message all read. Spec values (`train.lr`) and overrides
//! (`set.train.lr`) are looked up beside it.

use std::cmp::Ordering;

use super::index::IndexEntry;
use super::state::StageState;

/// One run as a query sees it: its index line and its tags.
pub struct Row<'a> {
    pub entry: &'a IndexEntry,
    pub tags: Vec<&'a str>,
}

/// A field's value: numbers compare as numbers, the rest as text; a field a run lacks is
/// `Missing` (it satisfies no comparison).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Num(f64),
    Text(String),
    Missing,
}

impl Value {
    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    fn of_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Missing,
            serde_json::Value::Number(n) => n.as_f64().map_or(Value::Missing, Value::Num),
            serde_json::Value::String(s) => Value::text(s),
            other => Value::Text(other.to_string()),
        }
    }

    /// Its text, as `--csv` and the table print it.
    pub fn show(&self) -> String {
        match self {
            Value::Num(n) => n.to_string(),
            Value::Text(s) => s.clone(),
            Value::Missing => String::new(),
        }
    }

    /// For `--sort`: numbers before text, missing values last.
    pub fn order(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Num(a), Value::Num(b)) => a.total_cmp(b),
            (Value::Text(a), Value::Text(b)) => a.cmp(b),
            (Value::Missing, Value::Missing) => Ordering::Equal,
            (Value::Missing, _) | (Value::Text(_), Value::Num(_)) => Ordering::Greater,
            (_, Value::Missing) | (Value::Num(_), Value::Text(_)) => Ordering::Less,
        }
    }
}

type Getter = fn(&Row) -> Value;

fn count(r: &Row, s: StageState) -> Value {
    Value::Num(r.entry.count(s) as f64)
}

/// Record fields: name, what it is, how to read it.
pub const FIELDS: &[(&str, &str, Getter)] = &[
    ("id", "run id (sorts by start time)", |r| {
        Value::text(&r.entry.id)
    }),
    ("experiment", "experiment name", |r| {
        Value::text(&r.entry.experiment)
    }),
    ("status", "succeeded, failed or interrupted", |r| {
        Value::text(r.entry.status.as_str())
    }),
    ("started", "start time (RFC 3339)", |r| {
        Value::text(&r.entry.started_at)
    }),
    ("finished", "finish time (RFC 3339)", |r| {
        Value::text(&r.entry.finished_at)
    }),
    ("spec", "spec path", |r| Value::text(&r.entry.spec_path)),
    ("spec_sha256", "sha256 of the spec text", |r| {
        Value::text(&r.entry.spec_sha256)
    }),
    ("overrides", "the --set arguments, space-separated", |r| {
        Value::Text(r.entry.overrides.join(" "))
    }),
    ("selectors", "the --stage arguments, space-separated", |r| {
        Value::Text(r.entry.selectors.join(" "))
    }),
    ("host", "host name", |r| Value::text(&r.entry.host)),
    ("version", "pipeline version", |r| {
        Value::text(&r.entry.tool_version)
    }),
    ("devices", "devices used, comma-separated", |r| {
        Value::Text(r.entry.devices.join(","))
    }),
    ("git_commit", "commit of the spec's git working tree", |r| {
        r.entry
            .git_commit
            .as_deref()
            .map_or(Value::Missing, Value::text)
    }),
    (
        "git_dirty",
        "true when that tree had uncommitted changes",
        |r| {
            r.entry.git_dirty.map_or(Value::Missing, |d| {
                Value::text(if d { "true" } else { "false" })
            })
        },
    ),
    ("results", "results folder", |r| {
        Value::text(&r.entry.results)
    }),
    ("stages", "number of stages", |r| {
        Value::Num(r.entry.stages.values().sum::<usize>() as f64)
    }),
    ("ran", "stages that ran", |r| count(r, StageState::Ran)),
    ("cached", "stages reused from the cache", |r| {
        count(r, StageState::Cached)
    }),
    ("failed", "stages that failed", |r| {
        count(r, StageState::Failed)
    }),
    (
        "blocked",
        "stages not started because an input failed",
        |r| count(r, StageState::Blocked),
    ),
    ("seconds", "seconds spent in stages that ran", |r| {
        Value::Num(r.entry.stage_seconds)
    }),
    ("error", "first line of the run's error", |r| {
        r.entry.error.as_deref().map_or(Value::Missing, Value::text)
    }),
    ("tags", "tags, comma-separated", |r| {
        Value::Text(r.tags.join(","))
    }),
];

/// The value of `name` for `row`: a record field, `set.PATH` (that override's value as typed),
/// or a dotted spec value after overrides; `None` when `name` is none of these for this run.
pub fn lookup(row: &Row, name: &str) -> Option<Value> {
    if let Some((_, _, get)) = FIELDS.iter().find(|(n, _, _)| *n == name) {
        return Some(get(row));
    }
    if let Some(path) = name.strip_prefix("set.") {
        let value = row.entry.overrides.iter().rev().find_map(|o| {
            let (k, v) = o.split_once('=')?;
            (k.trim() == path).then(|| v.trim().trim_matches('"').to_owned())
        });
        return Some(value.map_or(Value::Missing, |v| Value::Text(v)));
    }
    row.entry.values.get(name).map(Value::of_json)
}

/// Whether `name` can be looked up for some run in `rows` (for the unknown-field error).
pub fn known(rows: &[Row], name: &str) -> bool {
    FIELDS.iter().any(|(n, _, _)| *n == name)
        || name.starts_with("set.")
        || rows.iter().any(|r| r.entry.values.contains_key(name))
}

/// "fields: id, experiment, … ; spec values such as train.lr, …" for error messages.
pub fn describe(rows: &[Row]) -> String {
    let names: Vec<&str> = FIELDS.iter().map(|(n, _, _)| *n).collect();
    let mut values: Vec<&str> = rows
        .iter()
        .flat_map(|r| r.entry.values.keys().map(String::as_str))
        .collect();
    values.sort_unstable();
    values.dedup();
    let shown: Vec<&str> = values.iter().take(12).copied().collect();
    let more = values.len().saturating_sub(shown.len());
    format!(
        "fields: {}; set.PATH for an override; spec values{}{}",
        names.join(", "),
        if shown.is_empty() {
            " (none recorded)".to_owned()
        } else {
            format!(": {}", shown.join(", "))
        },
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}
