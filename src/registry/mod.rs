//! The run registry: records of past runs, their index, references, queries, tags and notes,
//! published results, and cache-miss explanations.

pub mod annotations;
pub mod fields;
pub mod index;
pub mod provenance;
pub mod query;
pub mod refs;
pub mod runs;
pub mod state;
pub mod why;

pub use runs::{RunRecord, StageRecord};
pub use state::{RunStatus, StageState};
