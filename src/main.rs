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
