//! The command-line interface: arguments and one module per group of subcommands.

pub mod args;
pub mod bench;
pub mod bench_exec;
pub mod compare;
pub mod inspect;
pub mod maintain;
pub mod run;
pub mod runs;

use args::{BenchCommand, Cli, Command};

use crate::project::Project;

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let project = Project::open(cli.project.as_deref())?;
    match cli.command {
        Command::Run {
            spec,
            jobs,
            cores,
            gpus,
            data_mirror,
            progress,
            executor,
        } => {
            let limits = run::limits(jobs, cores, gpus);
            run::run(&project, spec, limits, data_mirror, progress, executor)
        }
        Command::Plan { spec, json } => inspect::plan(&project, spec, json),
        Command::Dag { spec, format } => inspect::dag(&project, spec, format),
        Command::Why { stage, spec, set } => inspect::why(&project, &stage, spec, set),
        Command::ExecStage {
            key,
            data_mirror,
            threads,
        } => maintain::exec_stage(&project, &key, data_mirror, threads),
        Command::Runs(q) => runs::list(&project, q.into_query()),
        Command::Tag { run, name } => runs::tag(&project, &run, &name),
        Command::Note { run, text } => runs::note(&project, &run, &text),
        Command::Compare(args) => compare::compare(&project, args),
        Command::Verify => maintain::verify(&project),
        Command::Gc { keep_runs, dry_run } => maintain::gc(&project, keep_runs, dry_run),
        Command::Bench(BenchCommand::Plan { stages, repeat }) => bench::plan(stages, repeat),
        Command::Bench(BenchCommand::Compare {
            runs,
            generate_into,
        }) => match generate_into {
            Some(dir) => crate::compare::bench::generate(&dir, runs),
            None => crate::compare::bench::run(runs),
        },
        Command::Bench(BenchCommand::Exec {
            stages,
            jobs,
            with,
            executor,
        }) => bench_exec::exec(stages, jobs, with, executor == args::ExecutorArg::Slurm),
        Command::Bench(BenchCommand::Train {
            architecture,
            hidden,
            latent,
            batch,
            steps,
            threads,
            device,
        }) => bench::train(
            &architecture,
            hidden,
            (latent, batch, steps),
            threads,
            &device,
        ),
        Command::Bench(BenchCommand::Data {
            dir,
            dataset,
            repeat,
        }) => bench::data(&dir, &dataset, repeat),
    }
}
