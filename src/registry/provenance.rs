//! Where a run came from: tool version, host, the spec's bytes and the git state of its
//! working tree, recorded in format-2 run records.

use std::path::Path;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

/// The git state of the working tree holding the spec, when it is in one and git exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GitState {
    pub commit: String,
    /// Uncommitted changes anywhere in the working tree (`git status --porcelain` not empty).
    pub dirty: bool,
}

impl GitState {
    /// `None` when git is missing or `dir` is not inside a working tree with a commit.
    pub fn of(dir: &Path) -> Option<GitState> {
        let git = |args: &[&str]| -> Option<String> {
            let out = Command::new("git")
                .arg("-C")
                .arg(dir)
                .args(args)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        };
        let commit = git(&["rev-parse", "HEAD"])?.trim().to_owned();
        let dirty = !git(&["status", "--porcelain"])?.trim().is_empty();
        Some(GitState { commit, dirty })
    }
}

pub fn tool_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The devices that stages which ran asked for: a stage's `device` parameter when it has one
/// (training: `run.device`), else `cuda` for a stage holding a GPU slot and `cpu` otherwise; sorted, unique.
pub fn devices_used<'a>(ran: impl Iterator<Item = &'a crate::plan::StageDef>) -> Vec<String> {
    let mut devices: Vec<String> = ran
        .map(|d| {
            let param = d
                .params
                .get("device")
                .or_else(|| d.params.pointer("/run/device"));
            (d, param.and_then(|v| v.as_str()))
        })
        .map(|(d, param)| match param {
            Some(device) => device.to_owned(),
            None if d.resources.gpus > 0 => "cuda".to_owned(),
            None => "cpu".to_owned(),
        })
        .collect();
    devices.sort();
    devices.dedup();
    devices
}
