//! `elbo`: the command line. Parse, validate, call the library, and map
//! errors to exit codes in one place.

mod args;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// Exit code for an error the user can fix (bad input, bad flags, bad files).
const EXIT_ERROR: u8 = 1;
/// Exit code after Ctrl-C stopped training (checkpoint saved), as shells do.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(commands::Status::Done) => ExitCode::SUCCESS,
        Ok(commands::Status::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        Err(err) => {
            // One line: the error and its causes, no backtrace.
            let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::from(EXIT_ERROR)
        }
    }
}
