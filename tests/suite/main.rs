//! Every integration test, compiled into one binary (one link instead of seventeen): the
//! orchestrator core, data, model, metrics, figures, tables and report tests.

mod common;
mod support;

mod cache_invalidation;
mod compare_runs;
mod compare_stats;
mod compare_trend;
mod dag;
mod data_download;
mod data_fashion_real;
mod data_idx;
mod data_preprocess;
mod data_sources;
mod datasets;
mod download_stage;
mod execution;
mod figures;
mod figures_disentangle;
mod figures_render;
mod hostile_filesystems;
mod many_inputs;
mod metrics_classify;
mod metrics_latent;
mod metrics_pca;
mod model_conv;
mod model_conv_train;
mod model_device;
mod model_grad;
mod model_resident;
mod model_train;
mod quickstart;
mod random_sweeps;
mod registry;
mod registry_query;
mod report_browser;
mod report_html;
mod report_tables;
mod robustness;
mod slurm;
mod spec_errors;
mod stage_keys;
mod stage_processes;
mod store_safety;
mod sweep;
mod tables_comparison;
