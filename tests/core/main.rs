//! Integration tests of the orchestrator core, compiled into one binary.

mod support;

mod cache_invalidation;
mod dag;
mod datasets;
mod execution;
mod quickstart;
mod random_sweeps;
mod robustness;
mod spec_errors;
mod sweep;
