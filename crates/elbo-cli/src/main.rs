//! `elbo`: the command line. Parse, validate, call the library, and map
//! errors to exit codes in one place.

mod args;
mod args_train;
mod cmd_arch;
mod cmd_eval;
mod cmd_mixture;
mod cmd_nade;
mod cmd_pixel;
mod cmd_plot;
mod cmd_report;
mod cmd_serve;
mod commands;
mod flags;

use std::process::ExitCode;

use clap::Parser;

/// burn allocates a fresh buffer for most tensor ops, from several threads.
/// glibc's per-thread arenas unmap and trim freed blocks, so every training
/// step page-faults its buffers back in: `perf stat` counted 252k minor
/// faults over 4 epochs of Burda et al.'s VAE even with mallopt's mmap and
/// trim thresholds raised for the main arena. mimalloc keeps them: 6k faults,
/// and a median epoch 0.88x as long (the measurement is in
/// docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit code for an error the user can fix (bad input, bad flags, bad files).
const EXIT_ERROR: u8 = 1;
/// Exit code after Ctrl-C stopped training (checkpoint saved) or loading, as
/// shells do: 128 + SIGINT; after SIGTERM, 128 + 15 = 143.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(commands::Status::Done) => ExitCode::SUCCESS,
        Ok(commands::Status::Interrupted) => ExitCode::from(
            elbo::device::stop_signal()
                .and_then(|s| u8::try_from(128 + s).ok())
                .unwrap_or(EXIT_INTERRUPTED),
        ),
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            match err.downcast_ref::<elbo::Error>() {
                Some(elbo::Error::Interrupted(_)) => ExitCode::from(EXIT_INTERRUPTED),
                _ => ExitCode::from(EXIT_ERROR),
            }
        }
    }
}

/// The error and its causes on one line, skipping a cause whose text the
/// message before it already contains (library errors embed their source).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
