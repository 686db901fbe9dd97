//! `elbo`: the command line. Parse, validate, call the library, and map
//! errors to exit codes in one place.

mod args;
mod cmd_arch;
mod cmd_pixel;
mod cmd_plot;
mod cmd_report;
mod commands;

use std::process::ExitCode;

use clap::Parser;

/// burn allocates a fresh buffer for most tensor ops. glibc serves blocks
/// above 128 KiB with mmap and unmaps them on free, so every training step
/// page-faults its activations back in (measured with `perf`: 5-10% of a VAE
/// epoch in page faults; mimalloc, tried instead, purged and re-faulted even
/// more). Keeping such blocks in the heap and never trimming it removes that.
#[cfg(target_env = "gnu")]
fn keep_freed_memory() {
    // SAFETY: mallopt only sets allocator parameters; called before any threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
    }
}

#[cfg(not(target_env = "gnu"))]
fn keep_freed_memory() {}

/// Exit code for an error the user can fix (bad input, bad flags, bad files).
const EXIT_ERROR: u8 = 1;
/// Exit code after Ctrl-C stopped training (checkpoint saved), as shells do.
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(commands::Status::Done) => ExitCode::SUCCESS,
        Ok(commands::Status::Interrupted) => ExitCode::from(EXIT_INTERRUPTED),
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::from(EXIT_ERROR)
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
