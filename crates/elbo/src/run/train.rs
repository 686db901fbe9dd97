//! Training into a run folder, for every family: validate and resolve the
//! config against the data before anything in the folder changes, then
//! hand the job to the family ([`crate::families::Family::fit`]).

use std::path::Path;

use crate::families::{Checkpoint, FitJob, RunConfig};
use crate::folder::RunDir;
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
    dir.prepare_new(opts.force)?;
    config.save(&dir.config())?;
    let job = FitJob {
        config: &config,
        dir: &dir,
        splits,
        resume: None,
        opts,
    };
    config.model.family().fit(job)
}

/// Continues the run in `run_dir` exactly where it stopped, up to `epochs`
/// in total when given (else the configured number).
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
    let (state, model, optimizer) = dir.load_checkpoint()?;
    if let Some(e) = epochs {
        if e < state.epochs_done {
            return Err(Error::invalid(format!(
                "{} already has {} epochs; --epochs is the total to reach and cannot be {e}",
                run_dir.display(),
                state.epochs_done
            )));
        }
        config.train.epochs = e;
        config.validate()?;
    }
    let splits = config.data.load()?;
    config.resolve(&splits)?;
    // Weights first: a checkpoint that does not fit the config fails before
    // anything in the run folder is rewritten.
    let device = crate::device::default_device();
    config.model.family().load(&config, &dir, &device)?;
    config.save(&dir.config())?;
    let job = FitJob {
        config: &config,
        dir: &dir,
        splits,
        resume: Some(Checkpoint {
            state,
            model,
            optimizer,
        }),
        opts,
    };
    config.model.family().fit(job)
}
