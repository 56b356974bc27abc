//! Comparing recorded runs (`pipeline compare`): their comparison tables joined on the sweep
//! key, deltas and seed statistics per cell, hash-input changes per member, a data guard, a CI
//! gate, renderings (Markdown, CSV, JSON, Parquet, HTML), trend mode, and the training
//! histories published for it.

pub mod bench;
pub mod cells;
pub mod comparison;
pub mod gate;
pub mod history;
pub mod html;
mod html_figures;
pub mod inputs;
pub mod render;
pub mod stats;
pub mod table;
pub mod trend;

pub use comparison::{build, CompareOptions, Comparison};
pub use stats::{adjust_p_values, hedges_g, welch, Correction, Summary, WelchTest};
