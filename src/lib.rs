//! `pipeline`: declarative TOML experiment specs expanded into a DAG of content-hashed stages.
pub mod figures;
pub mod metrics;
pub mod report;
pub mod tables;
