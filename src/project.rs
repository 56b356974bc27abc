//! Where a project keeps things: `.pipeline/` (cache, locks, runs, logs), `data/`, `results/`.

use std::path::{Path, PathBuf};

use crate::cache::CacheStore;
use crate::error::UserError;

#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// The folder `pipeline` runs in, unless `--project` or `PIPELINE_PROJECT` names another.
    /// That folder must exist: a typo is an error rather than a new, empty project.
    pub fn open(root: Option<&Path>) -> Result<Self, UserError> {
        let (root, named_by) = match root {
            Some(r) => (r.to_path_buf(), "--project"),
            None => match std::env::var_os("PIPELINE_PROJECT") {
                Some(r) => (PathBuf::from(r), "$PIPELINE_PROJECT"),
                None => (PathBuf::from("."), "the current folder"),
            },
        };
        let root = std::path::absolute(&root).unwrap_or(root);
        match std::fs::metadata(&root) {
            Ok(m) if m.is_dir() => Ok(Project { root }),
            Ok(_) => Err(UserError::usage(format!(
                "project folder {} (from {named_by}) is not a folder; pass --project DIR",
                root.display()
            ))),
            Err(e) => Err(UserError::usage(format!(
                "project folder {} (from {named_by}) does not exist ({e}); create it with \
                 `mkdir -p {}` or pass --project DIR",
                root.display(),
                root.display()
            ))),
        }
    }

    /// A project in a folder known to exist (benchmarks, tests).
    pub fn at(root: &Path) -> Self {
        Project {
            root: root.to_path_buf(),
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".pipeline")
    }

    pub fn store(&self) -> CacheStore {
        CacheStore::new(self.state_dir())
    }

    pub fn results_dir(&self) -> PathBuf {
        self.root.join("results")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }
}

/// Below this much free space, a failed run says the disk is (nearly) full.
const LOW_SPACE_BYTES: u64 = 1 << 20;

impl Project {
    /// Says the disk is full when a folder the run writes to has less than 1 MiB free.
    pub fn low_space_note(&self) -> Option<String> {
        let state = self.state_dir();
        [
            state.join("tmp"),
            state.join("cache"),
            state,
            self.results_dir(),
        ]
        .iter()
        .find_map(|dir| low_space_note(dir))
    }
}

/// "the disk is full: the file system holding PATH has only N KiB free …", below 1 MiB free.
fn low_space_note(path: &Path) -> Option<String> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    let free = st.f_bavail as u64 * st.f_frsize as u64;
    (free < LOW_SPACE_BYTES).then(|| {
        format!(
            "the disk is full: the file system holding {} has only {} KiB free; \
             free space there (see `df -h {}`) and rerun \
             (finished stages stay cached)",
            path.display(),
            free / 1024,
            path.display()
        )
    })
}
