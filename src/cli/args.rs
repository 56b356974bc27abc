//! Command-line arguments as typed by the user (validated into options by each command).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "pipeline",
    version,
    about = "Run declarative AE/VAE experiments as a DAG of cached stages"
)]
pub struct Cli {
    /// Project folder holding .pipeline/, data/ and results/ (default: current folder, or $PIPELINE_PROJECT).
    #[arg(long, global = true)]
    pub project: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct SpecArgs {
    /// The experiment spec (TOML).
    pub spec: PathBuf,
    /// Override a spec value, e.g. --set model.latent_dim=5 --set dataset.name=fashion-mnist.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Only these stages (by name, kind or glob like 'train/vae-*') and what they need. Repeatable.
    #[arg(long = "stage", value_name = "NAME|KIND")]
    pub stages: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every stage of the spec that is not already cached.
    Run {
        #[command(flatten)]
        spec: SpecArgs,
        /// Stages running at once (default: number of cores).
        #[arg(short, long, value_parser = at_least_one())]
        jobs: Option<usize>,
        /// Cores shared by running stages (default: number of cores).
        #[arg(long, value_parser = at_least_one())]
        cores: Option<usize>,
        /// GPU slots available to stages with device = "cuda".
        #[arg(long, default_value_t = 0)]
        gpus: usize,
        /// Folder or base URL to fetch dataset files from before the public URLs.
        #[arg(long, env = "PIPELINE_DATA_MIRROR")]
        data_mirror: Option<String>,
        /// Progress display.
        #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
        progress: ProgressMode,
        /// Where stages run (default: the spec's `[executor] kind`, else local).
        #[arg(long, value_enum)]
        executor: Option<ExecutorArg>,
    },
    /// Show every stage with its key and status (cached / will run / blocked) and why.
    Plan {
        #[command(flatten)]
        spec: SpecArgs,
        /// One machine-readable JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Print the stage graph.
    Dag {
        #[command(flatten)]
        spec: SpecArgs,
        #[arg(long, value_enum, default_value_t = DagFormat::Text)]
        format: DagFormat,
    },
    /// Explain why a stage is not cached: its hash inputs now vs its last recorded run.
    Why {
        /// Stage name, e.g. train/vae-z2-b1.
        stage: String,
        /// Spec to plan (default: the spec of the newest run that had this stage).
        #[arg(long)]
        spec: Option<PathBuf>,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Run one planned stage by key and commit it to the cache (used by cluster executors).
    ExecStage {
        key: String,
        #[arg(long, env = "PIPELINE_DATA_MIRROR")]
        data_mirror: Option<String>,
        #[arg(long, value_parser = at_least_one())]
        threads: Option<usize>,
    },
    /// List recorded runs, newest first; filter with --where, sort, limit, print JSON or CSV.
    Runs(RunsArgs),
    /// Tag a run (RUN: id, id prefix, latest, latest~N or @tag); `@NAME` then names it.
    Tag { run: String, name: String },
    /// Add a note to a run (kept beside its record; shown by `runs --json`).
    Note { run: String, text: String },
    /// Compare recorded runs member by member (Δ to a baseline, seed statistics, CI gate; see
    /// README "Comparing runs").
    Compare(super::compare::CompareArgs),
    /// Re-hash every cache entry and report corrupt ones.
    Verify,
    /// Remove cache entries that no kept run uses, stale temp folders and quarantined entries.
    Gc {
        /// Runs to keep per experiment (their stages stay cached).
        #[arg(long, default_value_t = 5)]
        keep_runs: usize,
        #[arg(long)]
        dry_run: bool,
    },
    /// Benchmarks (not tests): timings of planning and no-op reruns.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only runs of this experiment (same as --experiment).
    #[arg(value_name = "EXPERIMENT")]
    pub experiment_arg: Option<String>,
    /// Only runs of this experiment.
    #[arg(long, conflicts_with = "experiment_arg")]
    pub experiment: Option<String>,
    /// Filter, e.g. 'train.lr < 1e-3 OR @baseline' (see the README for the grammar).
    #[arg(long = "where", value_name = "EXPR")]
    pub filter: Option<String>,
    /// Sort by a field (`-FIELD`: descending); default newest first.
    #[arg(long, value_name = "FIELD", allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// At most N runs (after filtering and sorting).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// One JSON array: each run's index line plus its tags and notes.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV with one column per record field.
    #[arg(long)]
    pub csv: bool,
    /// Rebuild .pipeline/runs/index.jsonl from the run records first.
    #[arg(long)]
    pub reindex: bool,
}

impl RunsArgs {
    pub fn into_query(self) -> super::runs::RunsQuery {
        use super::runs::Format;
        super::runs::RunsQuery {
            experiment: self.experiment.or(self.experiment_arg),
            filter: self.filter,
            sort: self.sort,
            limit: self.limit,
            format: match (self.json, self.csv) {
                (true, _) => Format::Json,
                (_, true) => Format::Csv,
                _ => Format::Table,
            },
            reindex: self.reindex,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Training speed of the reference VAE (784-H-Z, ReLU, Bernoulli, Adam) on random inputs;
    /// same arguments and output line as shared/bench/torch_vae_bench.py.
    Train {
        /// mlp (the reference VAE) or conv (28×28 → conv 32, 64 (k4 s2 p1) → dense → latent,
        /// mirrored; same net as shared/bench/torch_conv_vae_bench.py).
        #[arg(long, default_value = "mlp")]
        architecture: String,
        /// Hidden width of the MLP (default 400), dense width of the conv model (default 256).
        #[arg(long)]
        hidden: Option<usize>,
        #[arg(long, default_value_t = 20)]
        latent: usize,
        #[arg(long, default_value_t = 128)]
        batch: usize,
        #[arg(long, default_value_t = 300)]
        steps: usize,
        /// Worker threads (default: all cores).
        #[arg(long, value_parser = at_least_one())]
        threads: Option<usize>,
        /// Training engine: cpu (the fast path), cuda, auto, or cpu-autodiff (dfdx's generic
        /// kernels on the CPU: the code the CUDA engine runs).
        #[arg(long, default_value = "cpu")]
        device: String,
    },
    /// Decode + preprocess a full IDX dataset (default: Debian's Fashion-MNIST); time and peak memory.
    Data {
        #[arg(long, default_value = "/usr/share/datasets/fashion-mnist")]
        dir: PathBuf,
        #[arg(long, default_value = "fashion-mnist")]
        dataset: String,
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// `runs`, `compare` and trend mode over N synthetic recorded runs of beta_sweep's shape.
    Compare {
        #[arg(long, default_value_t = 1000)]
        runs: usize,
        /// Internal: only write the synthetic runs into this project folder (the benchmark runs
        /// this in a child process, so its own memory does not count in the children's peaks).
        #[arg(long, hide = true)]
        generate_into: Option<PathBuf>,
    },
    /// Plan and no-op rerun a fully cached spec of N command stages.
    Plan {
        #[arg(long, default_value_t = 100)]
        stages: usize,
        /// Timed repetitions (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// Per-stage overhead of the executor: a sweep-shaped DAG of N trivial command stages
    /// (first run, no-op rerun, one-parameter rerun).
    Exec {
        #[arg(long, default_value_t = 503)]
        stages: usize,
        #[arg(long, default_value_t = 2, value_parser = at_least_one())]
        jobs: usize,
        /// Time this `pipeline` binary instead (e.g. an older build, for before/after).
        #[arg(long)]
        with: Option<PathBuf>,
        /// Run the stages through this executor (`slurm`: as jobs of the cluster reachable from
        /// here, with the project in the current folder, which the nodes must share).
        #[arg(long, value_enum, default_value_t = ExecutorArg::Local)]
        executor: ExecutorArg,
    },
}

/// Counts of jobs, cores and threads: 0 would mean nothing can run, so it is refused at parse.
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
pub enum ProgressMode {
    Auto,
    Bars,
    Plain,
    None,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
pub enum ExecutorArg {
    Local,
    Slurm,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
pub enum DagFormat {
    Text,
    Dot,
    Mermaid,
}
