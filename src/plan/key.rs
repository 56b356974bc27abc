//! Stage keys: sha256 over a canonical serialization of everything that affects a stage's output.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::stage::{StageDef, StageKind};

/// A stage's content address: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StageKey(pub String);

impl StageKey {
    pub fn short(&self) -> &str {
        &self.0[..12.min(self.0.len())]
    }

    pub fn is_valid(s: &str) -> bool {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    }
}

impl fmt::Display for StageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything hashed into a stage key, and nothing else.
///
/// Reading this struct answers "what invalidates this stage?": its kind, the version of its
/// implementation, exactly the parameters it reads, the keys of its inputs (sorted by input
/// name) and the content of files it declares as dependencies. Stage names, spec paths, mirrors
/// and display settings are deliberately absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyInputs {
    pub kind: StageKind,
    pub implementation_version: u32,
    pub params: serde_json::Value,
    pub inputs: BTreeMap<String, StageKey>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub file_deps: BTreeMap<String, String>,
}

impl KeyInputs {
    /// What a stage's key hashes, given the keys of its inputs by role: planning and a job
    /// run by key (`exec-stage`) compute it here alike, dependency files read afresh.
    pub fn of(
        def: &StageDef,
        inputs: BTreeMap<String, StageKey>,
    ) -> Result<KeyInputs, (std::path::PathBuf, std::io::Error)> {
        let mut file_deps = BTreeMap::new();
        for p in &def.file_deps {
            let sha = file_sha256(p).map_err(|e| (p.clone(), e))?;
            let shown = p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            file_deps.insert(shown, sha);
        }
        Ok(KeyInputs {
            kind: def.kind,
            implementation_version: def.implementation_version,
            params: def.params.clone(),
            inputs,
            file_deps,
        })
    }

    /// Canonical form: serde_json writes struct fields in declaration order and maps sorted
    /// (no `preserve_order`), and floats in shortest round-trip form.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("key inputs serialize")
    }

    pub fn key(&self) -> StageKey {
        let digest = Sha256::digest(self.canonical_json().as_bytes());
        StageKey(hex(&digest))
    }
}

pub use crate::data::hex;

/// sha256 of a file's content, streamed.
pub fn file_sha256(path: &std::path::Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex(&h.finalize()))
}
