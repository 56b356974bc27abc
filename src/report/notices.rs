//! Notices a stage leaves for the user: a figure or table it could not make for this sweep, or
//! a result that needs a word of warning. A stage writes them to `notices.json` in its output;
//! the run summary prints every published stage's notices and the HTML report lists them.

use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub const FILE: &str = "notices.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoticeKind {
    /// Asked for but not made: the sweep lacks what it needs.
    Skipped,
    /// Made, but the result may mislead.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    /// What it is about, e.g. `figure manifold`.
    pub subject: String,
    pub message: String,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            NoticeKind::Skipped => "not drawn",
            NoticeKind::Warning => "warning",
        };
        write!(f, "{} {what}: {}", self.subject, self.message)
    }
}

/// Writes `notices` to `dir/notices.json` (also when empty, so "none" is recorded).
pub fn write(dir: &Path, notices: &[Notice]) -> anyhow::Result<()> {
    let path = dir.join(FILE);
    std::fs::write(&path, serde_json::to_vec_pretty(notices)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// The notices in `dir/notices.json`; none when the stage wrote no such file.
pub fn read(dir: &Path) -> anyhow::Result<Vec<Notice>> {
    let path = dir.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .with_context(|| format!("failed to read {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Every notice of a published run (`results/<experiment>/<run>/<stage>/notices.json`), by
/// stage folder name.
pub fn read_published(run_dir: &Path) -> Vec<(String, Notice)> {
    let mut stages: Vec<_> = std::fs::read_dir(run_dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    stages.sort();
    stages
        .iter()
        .filter(|p| p.is_dir())
        .flat_map(|dir| {
            let stage = dir.file_name().unwrap_or_default().to_string_lossy();
            let stage = stage.into_owned();
            // An unreadable notices file must not fail a run that succeeded.
            read(dir)
                .unwrap_or_default()
                .into_iter()
                .map(move |n| (stage.clone(), n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).unwrap().is_empty());
        let n = Notice {
            kind: NoticeKind::Skipped,
            subject: "figure manifold".into(),
            message: "needs a 2-D latent".into(),
        };
        write(dir.path(), std::slice::from_ref(&n)).unwrap();
        assert_eq!(read(dir.path()).unwrap(), [n.clone()]);
        assert_eq!(
            n.to_string(),
            "figure manifold not drawn: needs a 2-D latent"
        );
    }
}
