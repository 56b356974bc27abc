//! Integration tests of the orchestrator core, compiled into one binary.

mod support;

mod cache_invalidation;
mod dag;
mod datasets;
mod execution;
mod figures;
mod quickstart;
mod robustness;
mod spec_errors;
mod sweep;
