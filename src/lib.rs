//! `pipeline`: declarative TOML experiment specs expanded into a DAG of content-hashed stages.
pub mod model;
