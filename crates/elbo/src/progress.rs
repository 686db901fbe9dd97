//! Progress of the long jobs (evaluation, scoring, EM fits, the report): a
//! bar with an ETA when stderr is a terminal; when it is piped, one line for
//! a stage that runs longer than [`LINE_AFTER_SECONDS`] and one when it ends
//! (a log file gets what took time, not bar redraws, and a short command
//! stays quiet); nothing when switched off with [`set_enabled`].
//!
//! `ELBO_PROGRESS=bar|lines|off` overrides the choice: `lines` writes a
//! stage's line at its start however short it is (for CI logs and tests).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// Whether stages report at all (on by default).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// A piped stage says what it is doing once it has run this long.
pub const LINE_AFTER_SECONDS: f64 = 2.0;

/// Switches every later stage's bar and lines on or off (a `--quiet`).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether stages report.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// How stages report, from `ELBO_PROGRESS` or where stderr goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Bar,
    /// Lines, the first one once the stage has run `after` seconds.
    Lines {
        after: f64,
    },
    Off,
}

fn mode() -> Mode {
    if !enabled() {
        return Mode::Off;
    }
    match std::env::var("ELBO_PROGRESS").as_deref() {
        Ok("bar") => Mode::Bar,
        Ok("lines") => Mode::Lines { after: 0.0 },
        Ok("off") => Mode::Off,
        _ if std::io::stderr().is_terminal() => Mode::Bar,
        _ => Mode::Lines {
            after: LINE_AFTER_SECONDS,
        },
    }
}

/// One stage of a long job: `len` units of work.
#[derive(Debug)]
pub struct Stage {
    bar: ProgressBar,
    /// What the start line says: "name: len unit".
    what: String,
    name: String,
    started: Instant,
    /// Piped: the start line is written once the stage has run this long.
    line_after: Option<f64>,
    /// Whether the start line has been written.
    said: AtomicBool,
}

impl Stage {
    /// Starts a stage named `name` over `len` `unit`s (e.g. "images").
    pub fn start(name: &str, len: usize, unit: &str) -> Stage {
        let mode = mode();
        let stage = Stage {
            bar: match mode {
                Mode::Bar => progress_bar(len, name, unit),
                _ => ProgressBar::hidden(),
            },
            what: format!("{name}: {len} {unit}"),
            name: name.to_string(),
            started: Instant::now(),
            line_after: match mode {
                Mode::Lines { after } => Some(after),
                _ => None,
            },
            said: AtomicBool::new(false),
        };
        _ = stage.say_if_due();
        stage
    }

    /// `n` more units done.
    pub fn inc(&self, n: usize) {
        self.bar.inc(n as u64);
        _ = self.say_if_due();
    }

    /// A note beside the bar (the current item); piped, once the stage has
    /// said its start line, a line of its own (one per step of a report or
    /// of `select`).
    pub fn set_message(&self, msg: String) {
        if self.say_if_due() {
            eprintln!("{}: {msg}", self.name);
        }
        self.bar.set_message(msg);
    }

    /// Piped: the start line, once the stage has run long enough; whether
    /// it has been said.
    fn say_if_due(&self) -> bool {
        let Some(after) = self.line_after else {
            return false;
        };
        if self.started.elapsed().as_secs_f64() >= after && !self.said.swap(true, Ordering::Relaxed)
        {
            eprintln!("{}", self.what);
        }
        self.said.load(Ordering::Relaxed)
    }

    /// Ends the stage: clears the bar; piped, says how long a stage that
    /// wrote its start line took.
    pub fn finish(self) {
        self.bar.finish_and_clear();
        if self.said.load(Ordering::Relaxed) {
            let seconds = self.started.elapsed().as_secs_f64();
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
