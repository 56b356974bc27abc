//! `pipeline`: declarative TOML experiment specs expanded into a DAG of content-hashed stages.

pub mod cache;
pub mod cli;
pub mod compare;
pub mod data;
pub mod error;
pub mod exec;
pub mod figures;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod platform;
pub mod process_stats;
pub mod project;
pub mod registry;
pub mod report;
pub mod spec;
pub mod stages;
pub mod tables;
pub mod workflow;
