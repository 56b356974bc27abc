//! Tags and notes on recorded runs, kept beside the records in `.pipeline/runs/annotations.jsonl`
//! (a record itself is never rewritten). One appended line per `pipeline tag` / `pipeline note`;
//! a tag names one run, so tagging another run with the same name moves it.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::runs;
use crate::error::{FsContext, UserError};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Line {
    Tag {
        run: String,
        tag: String,
    },
    Note {
        run: String,
        note: String,
        at: String,
    },
}

/// Every tag and note, read in one pass over the file.
#[derive(Debug, Default)]
pub struct Annotations {
    /// Tag → the run it names now.
    pub tags: BTreeMap<String, String>,
    /// Run → its notes, oldest first, each with when it was written.
    pub notes: BTreeMap<String, Vec<(String, String)>>,
}

impl Annotations {
    pub fn load(state: &Path) -> Annotations {
        let mut all = Annotations::default();
        let text = std::fs::read_to_string(path(state)).unwrap_or_default();
        // A line cut short by a crash is skipped; every whole line before and after it counts.
        for line in text
            .lines()
            .filter_map(|l| serde_json::from_str::<Line>(l).ok())
        {
            match line {
                Line::Tag { run, tag } => {
                    all.tags.insert(tag, run);
                }
                Line::Note { run, note, at } => all.notes.entry(run).or_default().push((at, note)),
            }
        }
        all
    }

    /// Tags naming `run`, sorted.
    pub fn tags_of(&self, run: &str) -> Vec<&str> {
        self.tags
            .iter()
            .filter(|(_, r)| *r == run)
            .map(|(t, _)| t.as_str())
            .collect()
    }
}

fn path(state: &Path) -> PathBuf {
    runs::runs_dir(state).join("annotations.jsonl")
}

/// Tags `run` as `tag`; returns the run that held the tag before, if another did.
pub fn tag(state: &Path, run: &str, tag: &str) -> anyhow::Result<Option<String>> {
    check_tag_name(tag)?;
    let before = Annotations::load(state).tags.get(tag).cloned();
    append(
        state,
        &Line::Tag {
            run: run.to_owned(),
            tag: tag.to_owned(),
        },
    )?;
    Ok(before.filter(|b| b != run))
}

pub fn note(state: &Path, run: &str, text: &str) -> anyhow::Result<()> {
    if text.trim().is_empty() {
        return Err(UserError::usage(
            "the note is empty: give its text, e.g. pipeline note latest 'lr too high'",
        )
        .into());
    }
    append(
        state,
        &Line::Note {
            run: run.to_owned(),
            note: text.to_owned(),
            at: chrono::Utc::now().to_rfc3339(),
        },
    )
}

/// Tag names are written as `@name` in references and `--where`: letters, digits, `-_.`.
fn check_tag_name(tag: &str) -> anyhow::Result<()> {
    let ok = !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !tag.starts_with("latest");
    if ok {
        return Ok(());
    }
    Err(UserError::usage(format!(
        "`{tag}` is not a tag name: use letters, digits, `-`, `_` and `.` (not starting with \
         `latest`), e.g. pipeline tag latest baseline"
    ))
    .into())
}

/// One whole line per write, appended (O_APPEND), so concurrent writers do not interleave.
fn append(state: &Path, line: &Line) -> anyhow::Result<()> {
    let p = path(state);
    let mut text = serde_json::to_string(line)?;
    text.push('\n');
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .fs("open", &p)?;
    f.write_all(text.as_bytes()).fs("append to", &p)?;
    Ok(())
}
