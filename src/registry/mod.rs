//! The run registry: records of past runs, published results, and cache-miss explanations.

pub mod refs;
pub mod runs;
pub mod why;

pub use runs::{RunRecord, StageRecord};
