//! Integration tests of the orchestrator core, compiled into one binary.

mod support;

mod cache_invalidation;
mod dag;
mod datasets;
mod execution;
mod hostile_filesystems;
mod quickstart;
mod report_tables;
mod robustness;
mod spec_errors;
mod stage_keys;
mod store_safety;
mod sweep;
