//! Fitting (or reusing) each model for the report within its share of the
//! time budget, and the figures the report shows for it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::data::{ImageSet, PixelMode};
use crate::families::RunConfig;
use crate::run::Run;
use crate::train::TrainOptions;
use crate::{Error, Result};

/// One model's row of the report, and its samples.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Display name with the architecture.
    pub name: String,
    /// The family, as `config.toml` names it (`vae`, `gmm`, ...).
    pub kind: String,
    /// The run folder (config and weights) behind the figures.
    pub run_dir: PathBuf,
    /// What the model was fitted to: "binarized" or "grey".
    pub pixels: PixelMode,
    /// Test NLL, where the model defines a likelihood.
    pub nll: Option<crate::eval::Nll>,
    /// Trainable parameters.
    pub params: usize,
    /// Wall seconds spent training here (0 for a run folder given).
    pub train_seconds: f64,
    /// Epochs (fractional when the budget stopped one) or EM iterations.
    pub epochs: f64,
    /// 64 samples in the data's pixel space, `[64, dim]`, for the novelty test.
    pub samples: Vec<f32>,
    /// The same 64 samples as shown (pixel means for decoders with means).
    pub shown: Vec<f32>,
    /// Samples drawn per second.
    pub samples_per_second: f64,
}

/// Trains `config` into `dir` for at most `max_epochs`, stopping (with a
/// checkpoint, as Ctrl-C does) once `seconds` have passed, so a model whose
/// single epoch is longer than its share still fits the budget, on part of
/// an epoch. Returns (epochs done, fractional; wall seconds).
pub fn fit_within(
    config: &RunConfig,
    dir: &Path,
    seconds: f64,
    max_epochs: usize,
    steps_per_epoch: usize,
) -> Result<(f64, f64)> {
    let opts = TrainOptions {
        force: true,
        quiet: true,
        ..Default::default()
    };
    let mut config = config.clone();
    config.train.epochs = max_epochs;
    let started = Instant::now();
    let outcome = with_deadline(seconds, || crate::run::train(&config, dir, &opts))?;
    let epochs = match outcome.stopped_at() {
        None => max_epochs as f64,
        Some((epoch, step)) => (epoch - 1) as f64 + step as f64 / steps_per_epoch.max(1) as f64,
    };
    Ok((epochs, started.elapsed().as_secs_f64()))
}

/// Runs `work`, asking it to stop ([`crate::device::request_stop`], what
/// Ctrl-C does) if it still runs after `seconds`. A request left over when
/// it returns is cleared, so it cannot stop the next model.
fn with_deadline<T>(seconds: f64, work: impl FnOnce() -> T) -> T {
    let (finished, wait) = mpsc::channel::<()>();
    let limit = Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX);
    let timer = std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            crate::device::request_stop();
        }
    });
    let out = work();
    drop(finished);
    let _ = timer.join();
    let _ = crate::device::take_stop_request();
    out
}

/// Bernoulli draws from pixel probabilities, seeded: binary images to
/// compare with binary training images.
pub fn draw_binary(probs: &[f32], seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    probs
        .iter()
        .map(|&p| f32::from(u8::from(rng.random::<f32>() < p)))
        .collect()
}

/// `n` samples from a run of any family, timed: what the page shows
/// (probabilities or means where the model has them), and for binary data
/// pixels drawn from them for the novelty test (already binary samples,
/// e.g. a pixel model's, are unchanged by the draw).
pub fn decoder_samples(run: &Run, n: usize, seed: u64) -> Result<(Vec<f32>, Vec<f32>, f64)> {
    let started = Instant::now();
    let shown = run.sample(n, seed)?;
    let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-9);
    let samples = if run.config.data.pixels.is_binary() {
        draw_binary(&shown, seed ^ 0x5eed)
    } else {
        shown.clone()
    };
    Ok((samples, shown, rate))
}

/// Checks that a run folder given for the report was trained on images of
/// the report's shape.
pub fn check_run_shape(run: &Run, test: &ImageSet) -> Result<()> {
    run.check_shape(test).map_err(|e| {
        Error::invalid(format!(
            "run folder {} does not fit this report's data: {e}",
            run.dir.root.display()
        ))
    })
}
