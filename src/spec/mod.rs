//! Experiment specs: raw TOML → validated spec → sweep expansion.

mod check;
mod data;
pub mod diagnostics;
pub mod executor;
mod labels;
mod load;
pub mod machine;
pub mod raw;
mod run_checks;
pub mod run_params;
pub mod source;
mod sweep;
mod validate;
pub mod validated;
pub mod values;
pub mod variant;

use std::path::Path;

pub use data::training_set_size;
pub use diagnostics::{Location, SpecError, SpecErrors};
pub use machine::Machine;
pub use validate::is_safe_name;
pub use validated::*;

/// Reads, overrides, validates and expands a spec; every problem found is reported at once.
/// Machine-dependent checks assume this build, no GPU slots known and the default ceiling.
pub fn load(path: &Path, set: &[String]) -> Result<Spec, SpecErrors> {
    load_on(path, set, &Machine::default())
}

/// [`load`], checking what the spec asks of `machine` (CUDA, GPU slots, model memory).
pub fn load_on(path: &Path, set: &[String], machine: &Machine) -> Result<Spec, SpecErrors> {
    let (src, raw) = load::read_raw(path, set)?;
    validate::validate(&src, raw, machine)
}
