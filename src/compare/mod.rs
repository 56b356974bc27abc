//! Comparing results across runs: the statistics that say whether a difference between two runs
//! is more than seed noise (the `pipeline compare` command builds on this).

pub mod stats;

pub use stats::{adjust_p_values, hedges_g, welch, Correction, Summary, WelchTest};
