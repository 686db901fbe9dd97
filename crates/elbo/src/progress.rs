//! Progress of the long jobs (evaluation, scoring, EM fits, the report): a
//! bar with an ETA when stderr is a terminal, one line per stage when it is
//! piped (a log file gets what happened, not bar redraws), nothing when
//! switched off with [`set_enabled`].

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Whether stages report at all (on by default).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Switches every later stage's bar and lines on or off (a `--quiet`).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether stages report.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// One stage of a long job: `len` units of work.
#[derive(Debug)]
pub struct Stage {
    bar: ProgressBar,
    name: String,
    started: Instant,
    /// Piped stderr: one line at the start instead of a bar.
    lines: bool,
}

impl Stage {
    /// Starts a stage named `name` over `len` `unit`s (e.g. "images").
    pub fn start(name: &str, len: usize, unit: &str) -> Stage {
        let on = enabled();
        let terminal = std::io::stderr().is_terminal();
        let bar = if on && terminal {
            progress_bar(len, name, unit)
        } else {
            ProgressBar::hidden()
        };
        if on && !terminal {
            eprintln!("{name}: {len} {unit}");
        }
        Stage {
            bar,
            name: name.to_string(),
            started: Instant::now(),
            lines: on && !terminal,
        }
    }

    /// `n` more units done.
    pub fn inc(&self, n: usize) {
        self.bar.inc(n as u64);
    }

    /// A note beside the bar (the current item).
    pub fn set_message(&self, msg: String) {
        self.bar.set_message(msg);
    }

    /// Ends the stage: clears the bar; when piped, says how long it took
    /// if that was long enough to matter.
    pub fn finish(self) {
        self.bar.finish_and_clear();
        let seconds = self.started.elapsed().as_secs_f64();
        if self.lines && seconds >= 1.0 {
            eprintln!("{}: done in {seconds:.1}s", self.name);
        }
    }
}

/// A bar over `len` units with an ETA, labelled `name`.
pub fn progress_bar(len: usize, name: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    let template = format!("{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{msg}} ({{eta}})");
    let style = ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(name.to_string());
    bar
}

/// Turns stages off until dropped, then restores the setting: for a job
/// whose inner steps would draw bars inside an outer one (a test pass
/// inside a training epoch, an EM fit inside `select`).
#[derive(Debug)]
pub struct Silence {
    was: bool,
}

impl Silence {
    /// Silences stages from now until the value is dropped.
    pub fn new() -> Silence {
        Silence {
            was: ENABLED.swap(false, Ordering::Relaxed),
        }
    }
}

impl Default for Silence {
    fn default() -> Self {
        Silence::new()
    }
}

impl Drop for Silence {
    fn drop(&mut self) {
        ENABLED.store(self.was, Ordering::Relaxed);
    }
}
