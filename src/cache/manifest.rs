//! The manifest committed with every cache entry: outputs with sizes and checksums, timings, versions.

use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::plan::{KeyInputs, StageKey};

/// Bumped when the manifest's shape changes; entries of another version are recomputed.
pub const MANIFEST_FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub key: StageKey,
    pub stage: String,
    pub key_inputs: KeyInputs,
    pub outputs: Vec<OutputFile>,
    pub duration_s: f64,
    pub created_at: String,
    pub pipeline_version: String,
}

/// The part of a manifest that says whether its entry is intact; the rest is skipped unparsed.
#[derive(Debug, Deserialize)]
pub struct ManifestHead {
    pub format: u32,
    pub key: StageKey,
    pub outputs: Vec<OutputFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutputFile {
    /// Relative to the entry's `out/` folder, `/`-separated.
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// Modification time when committed: an unchanged size and mtime skips re-hashing on reuse.
    pub mtime_ns: u128,
}

impl OutputFile {
    pub fn describe(root: &Path, path: &Path) -> std::io::Result<OutputFile> {
        let meta = std::fs::metadata(path)?;
        Ok(OutputFile {
            path: path
                .strip_prefix(root)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/"),
            size: meta.len(),
            sha256: crate::plan::key::file_sha256(path)?,
            mtime_ns: mtime_ns(&meta),
        })
    }
}

pub fn mtime_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// Describes every file under `out_dir`, sorted by path, hashing in parallel. A symbolic link
/// anywhere (`out_dir` itself included) is refused: the cache would then point out of the
/// project, and neither its checksum nor a published copy would be of what the stage made.
pub fn describe_outputs(out_dir: &Path) -> anyhow::Result<Vec<OutputFile>> {
    use rayon::prelude::*;
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(out_dir)
        .follow_root_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_symlink() {
            anyhow::bail!("{}", symlink_refusal(out_dir, entry.path()));
        }
        if entry.file_type().is_file() {
            files.push(entry.into_path());
        }
    }
    Ok(files
        .par_iter()
        .map(|p| OutputFile::describe(out_dir, p))
        .collect::<std::io::Result<_>>()?)
}

/// Why a symlink among a stage's outputs is not cached, and what to write instead.
pub fn symlink_refusal(out_dir: &Path, link: &Path) -> String {
    let target = std::fs::read_link(link)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    let name = match link.strip_prefix(out_dir) {
        Ok(rel) if !rel.as_os_str().is_empty() => format!("output `{}`", rel.display()),
        _ => "the output folder itself".into(),
    };
    format!(
        "{name} is a symbolic link (to {target}); the cache keeps only regular files and folders, \
         so copy the content into {{out}} instead (e.g. `cp -rL`)"
    )
}
