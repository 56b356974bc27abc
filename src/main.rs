//! The `pipeline` binary: parse arguments, dispatch, print errors with their causes and exit codes.

use clap::Parser;

use pipeline::cli::{args::Cli, dispatch};
use pipeline::error::{exit_code_of, ErrorReport, UserError};

fn main() {
    let cli = Cli::parse();
    if let Err(err) = dispatch(cli) {
        match err.downcast_ref::<UserError>() {
            // Spec errors are already a located, multi-line list.
            Some(UserError::InvalidSpec(errors)) => eprint!("error: {errors}"),
            _ => eprint!("{}", ErrorReport(&err)),
        }
        std::process::exit(exit_code_of(&err));
    }
}

/// mimalloc rather than glibc's malloc: planning a sweep of thousands of stages is mostly small
/// allocations: a no-op rerun of 5,003 stages takes 0.10–0.14 s with it against 0.14–0.18 s
/// (medians, README "Tests and benchmarks"); training speed is unchanged, peak memory 10–60 MB
/// higher.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
