//! Experiment specs: raw TOML → validated spec → sweep expansion.

mod check;
mod data;
pub mod diagnostics;
mod load;
pub mod raw;
pub mod run_params;
pub mod source;
mod sweep;
mod validate;
pub mod validated;
pub mod variant;

use std::path::Path;

pub use data::{training_set_size, KNOWN_DATASETS};
pub use diagnostics::{Location, SpecError, SpecErrors};
pub use validate::is_safe_name;
pub use validated::*;

/// Reads, overrides, validates and expands a spec; every problem found is reported at once.
pub fn load(path: &Path, set: &[String]) -> Result<Spec, SpecErrors> {
    let (src, raw) = load::read_raw(path, set)?;
    validate::validate(&src, raw)
}
