//! Integration tests of the orchestrator core, compiled into one binary.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod cache_invalidation;
mod dag;
mod datasets;
mod download_stage;
mod execution;
mod figures;
mod hostile_filesystems;
mod quickstart;
mod random_sweeps;
mod report_tables;
mod robustness;
mod spec_errors;
mod stage_keys;
mod stage_processes;
mod store_safety;
mod sweep;
