//! `pipeline compare`: its arguments, validated into compare options, and where each output
//! goes (stdout, `--output`, `--html`); a failed gate is exit 3 after the output is written.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::compare::{self, gate, trend, CompareOptions, Correction};
use crate::error::UserError;
use crate::project::Project;

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
pub enum CompareFormat {
    Md,
    Csv,
    Json,
    Parquet,
    Html,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Runs to compare: run ids, unique prefixes, latest, latest~N (the first is the baseline).
    pub runs: Vec<String>,
    /// The run the others are compared with (default: the first run).
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<String>,
    /// Only these metric columns, comma-separated (default: every metric the runs have).
    #[arg(long, value_delimiter = ',', value_name = "METRIC,…")]
    pub metrics: Vec<String>,
    /// Only cells where some run differs from the baseline (or lacks the member).
    #[arg(long)]
    pub only_changed: bool,
    #[arg(long, value_enum, default_value_t = CompareFormat::Md)]
    pub format: CompareFormat,
    /// Same as --format json.
    #[arg(long)]
    pub json: bool,
    /// Write the table here instead of stdout (required for --format parquet).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the self-contained HTML compare report here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Compare failed and interrupted runs too (skipped by default).
    #[arg(long)]
    pub all: bool,
    /// Correct p-values by Benjamini–Hochberg (false discovery rate) instead of Holm.
    #[arg(long)]
    pub fdr: bool,
    /// Exit 3 when a metric moves beyond its tolerance the worse way, e.g. 'elbo:-0.5,knn_accuracy:-1%'.
    #[arg(long, value_name = "METRIC:±AMOUNT[%],…")]
    pub fail_on: Option<String>,
    /// Exit 3 on any regression significant after correction.
    #[arg(long)]
    pub fail_on_significant: bool,
    /// Trend mode: the last N succeeded runs, one row each (with --member and --metric).
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub last: Option<usize>,
    /// Trend mode: the member (label without its seed part, e.g. vae-z20-b1).
    #[arg(long)]
    pub member: Option<String>,
    /// Trend mode: the metric column.
    #[arg(long)]
    pub metric: Option<String>,
    /// Trend mode: runs of this experiment (default: the newest run's).
    #[arg(long)]
    pub experiment: Option<String>,
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    UserError::usage(message).into()
}

/// Writes `bytes` to `--output`, or stdout.
fn emit(output: &Option<PathBuf>, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    match output {
        Some(path) => crate::registry::runs::write_atomic(path, bytes),
        None => Ok(std::io::stdout().write_all(bytes)?),
    }
}

pub fn compare(project: &Project, args: CompareArgs) -> anyhow::Result<()> {
    let format = if args.json {
        CompareFormat::Json
    } else {
        args.format
    };
    let tolerances = args
        .fail_on
        .as_deref()
        .map(gate::parse_fail_on)
        .transpose()?;
    let correction = if args.fdr {
        Correction::BenjaminiHochberg
    } else {
        Correction::Holm
    };
    let (state, results) = (project.state_dir(), project.results_dir());
    if let Some(last) = args.last {
        if !args.runs.is_empty() {
            return Err(usage(
                "--last takes no run references: it picks the runs itself",
            ));
        }
        let (Some(member), Some(metric)) = (&args.member, &args.metric) else {
            return Err(usage("--last needs --member MEMBER and --metric METRIC"));
        };
        let t = trend::build(
            &state,
            &results,
            args.experiment.as_deref(),
            last,
            member,
            metric,
            args.all,
        )?;
        match format {
            CompareFormat::Json => emit(
                &args.output,
                serde_json::to_string_pretty(&trend::json(&t))?.as_bytes(),
            )?,
            CompareFormat::Md => emit(&args.output, trend::text(&t).as_bytes())?,
            other => {
                return Err(usage(format!(
                    "trend mode writes md or json (or --html), not {other:?}"
                )))
            }
        }
        if let Some(path) = &args.html {
            trend::write_html(&t, path)?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(());
    }
    if args.member.is_some() || args.metric.is_some() {
        return Err(usage(
            "--member and --metric are for trend mode: add --last N",
        ));
    }
    if args.runs.len() + usize::from(args.baseline.is_some()) < 2 {
        return Err(usage(
            "compare needs two runs or more, e.g. `pipeline compare latest~1 latest`",
        ));
    }
    if format == CompareFormat::Parquet && args.output.is_none() {
        return Err(usage("--format parquet needs --output FILE"));
    }
    let opts = CompareOptions {
        baseline: args.baseline.clone(),
        metrics: args.metrics.clone(),
        only_changed: args.only_changed,
        correction,
        all: args.all,
    };
    let c = compare::build(&state, &results, &args.runs, &opts)?;
    let failures = match (&tolerances, args.fail_on_significant) {
        (None, false) => None,
        (t, significant) => Some(gate::evaluate(
            &c.cells,
            t.as_deref().unwrap_or_default(),
            significant,
            &|i| c.members[i].label.clone(),
            &|r| c.run_id(r).to_owned(),
        )),
    };
    let gate_json = match &failures {
        None => serde_json::Value::Null,
        Some(f) => serde_json::json!({ "passed": f.is_empty(), "failures": f }),
    };
    match format {
        CompareFormat::Md => emit(&args.output, compare::render::markdown(&c)?.as_bytes())?,
        CompareFormat::Json => emit(
            &args.output,
            (serde_json::to_string_pretty(&compare::render::json(&c, &gate_json))? + "\n")
                .as_bytes(),
        )?,
        CompareFormat::Csv | CompareFormat::Parquet => {
            let df = compare::render::long_table(&c)?;
            let tmp = tempfile::tempdir()?;
            let file = tmp.path().join("table");
            if format == CompareFormat::Csv {
                crate::tables::write_csv(&df, &file)?;
            } else {
                crate::tables::write_parquet(&df, &file)?;
            }
            emit(&args.output, &std::fs::read(&file)?)?;
        }
        CompareFormat::Html => emit(
            &args.output,
            compare::html::render(&c, &project.store())?.as_bytes(),
        )?,
    }
    if let Some(path) = &args.html {
        let page = compare::html::render(&c, &project.store())?;
        crate::registry::runs::write_atomic(path, page.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    if format != CompareFormat::Json {
        for line in c.skipped.iter() {
            eprintln!("note: {line}");
        }
    }
    match failures {
        Some(f) if !f.is_empty() => {
            let lines: Vec<String> = f
                .iter()
                .map(|x| format!("  {} {} in run {}: {}", x.member, x.metric, x.run, x.reason))
                .collect();
            Err(UserError::Regression(format!(
                "{} regression(s) beyond the gate:\n{}",
                f.len(),
                lines.join("\n")
            ))
            .into())
        }
        Some(_) => {
            eprintln!("gate passed: no regression beyond the tolerances");
            Ok(())
        }
        None => Ok(()),
    }
}
