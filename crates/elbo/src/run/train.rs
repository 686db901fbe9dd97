//! Training into a run folder, for every family: validate and resolve the
//! config against the data before anything in the folder changes, then
//! hand the job to the family ([`crate::families::Family::fit`]).

use std::path::Path;

use crate::families::{Checkpoint, FitJob, RunConfig};
use crate::folder::{RunDir, TrainState};
use crate::train::{TrainOptions, TrainOutcome};
use crate::{Error, Result};

/// Trains a new run of `config` in `run_dir`. A model input size of 0 is
/// taken from the data; the resolved config is saved as `config.toml`.
///
/// ```no_run
/// use elbo::data::DataSpec;
/// use elbo::families::{ModelConfig, RunConfig};
/// use elbo::models::VaeConfig;
/// use elbo::train::{DataConfig, TrainConfig, TrainOptions};
///
/// let config = RunConfig {
///     model: ModelConfig::Vae(VaeConfig::new(0)),
///     data: DataConfig::new(DataSpec::Digits),
///     train: TrainConfig { epochs: 2, ..TrainConfig::default() },
/// };
/// let outcome = elbo::run::train(&config, "runs/digits".as_ref(), &TrainOptions::default())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn train(config: &RunConfig, run_dir: &Path, opts: &TrainOptions) -> Result<TrainOutcome> {
    let mut config = config.clone();
    config.validate()?;
    let splits = config.data.load()?;
    config.resolve(&splits)?;
    config.validate()?;
    let dir = RunDir::new(run_dir);
    let lock = dir.prepare_new(opts.force)?;
    config.save(&dir.config())?;
    let job = FitJob {
        config: &config,
        dir: &dir,
        lock: &lock,
        splits,
        resume: None,
        opts,
    };
    config.model.family().fit(job)
}

/// Continues the run in `run_dir` exactly where its last checkpoint
/// left it, up to `epochs` in total when given (else the configured
/// number). A run that stopped before its first checkpoint starts again
/// from its `config.toml`. Takes the folder's write lock, then brings the
/// folder back to its checkpoint (see [`RunDir::recover`]).
///
/// ```no_run
/// use elbo::train::TrainOptions;
///
/// // After `elbo train vae --epochs 5 --out runs/vae`: five more epochs.
/// elbo::run::resume("runs/vae".as_ref(), Some(10), &TrainOptions::default())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn resume(run_dir: &Path, epochs: Option<usize>, opts: &TrainOptions) -> Result<TrainOutcome> {
    let dir = RunDir::new(run_dir);
    let mut config = RunConfig::load_from(&dir)?;
    if matches!(config.model.kind(), "gmm" | "bernoulli-mixture") {
        return Err(Error::invalid(format!(
            "a {} run is fitted by EM in one go and cannot be trained or resumed this way (use `elbo train {}`)",
            config.model.kind(),
            config.model.kind()
        )));
    }
    let recorded_epochs = config.train.epochs;
    let lock = dir.lock()?;
    let state = dir.read_state()?;
    if state.is_none() && dir.model().exists() {
        return Err(Error::checkpoint(
            dir.state(),
            "missing: this run has weights but no training state to resume",
        ));
    }
    if let Some(e) = epochs {
        let done = state.as_ref().map_or(0, |s| s.epochs_done);
        if e < done {
            return Err(Error::invalid(format!(
                "{} already has {done} epochs; --epochs is the total to reach and cannot be {e}",
                run_dir.display()
            )));
        }
        config.train.epochs = e;
        config.validate()?;
    }
    if let Some(s) = &state {
        crate::train::check_time_left(opts.time_limit, s)?;
    }
    let splits = super::images::load_run_data(&config.data)?;
    config.resolve(&splits)?;
    // Everything is checked before anything in the run folder changes.
    let resume = match state {
        None => None,
        Some(_) => {
            let (state, model, optimizer) = dir.load_checkpoint()?;
            check_state(&dir, &state, recorded_epochs, &config, splits.train.n)?;
            let device = crate::device::default_device();
            config.model.family().load(&config, &dir, &device)?;
            Some(Checkpoint {
                state,
                model,
                optimizer,
            })
        }
    };
    dir.recover(&lock)?;
    config.save(&dir.config())?;
    let job = FitJob {
        config: &config,
        dir: &dir,
        lock: &lock,
        splits,
        resume,
        opts,
    };
    config.model.family().fit(job)
}

/// Refuses a `state.json` that cannot describe a run of `config` on
/// `n_train` images: more epochs done than `config.toml` asked for
/// (`recorded_epochs`), or a step or image count beyond an epoch.
fn check_state(
    dir: &RunDir,
    state: &TrainState,
    recorded_epochs: usize,
    config: &RunConfig,
    n_train: usize,
) -> Result<()> {
    let batch = config.train.batch_size.max(1);
    let steps = n_train.div_ceil(batch);
    let bad = |msg: String| Err(Error::checkpoint(dir.state(), msg));
    if state.epochs_done > recorded_epochs {
        return bad(format!(
            "records {} epochs done, but config.toml trains {recorded_epochs}",
            state.epochs_done
        ));
    }
    if state.step >= steps.max(1) {
        return bad(format!(
            "records step {} of an epoch of {steps} steps ({n_train} images, batch size {batch})",
            state.step
        ));
    }
    // Every step before the last takes a full batch.
    let images = state.step * batch;
    if state.partial.images != images {
        return bad(format!(
            "records {} images in {} steps of {batch}; expected {images}",
            state.partial.images, state.step
        ));
    }
    let finite = [state.partial.recon, state.partial.kl, state.partial_seconds];
    if finite.iter().any(|v| !v.is_finite()) || state.partial_seconds < 0.0 {
        return bad("records a non-finite or negative partial sum".into());
    }
    Ok(())
}
