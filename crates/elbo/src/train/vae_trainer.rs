//! The training loop of the VAE (and of the autoencoder, through
//! `objective.rs`): Adam on the summed negative ELBO, a progress bar,
//! per-epoch test loss, checkpoints, Ctrl-C and exact resume.

use std::path::Path;
use std::time::Instant;

use burn::optim::ModuleOptimizer;
use burn::tensor::{Bytes, Device, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};

use super::objective::TrainModel;
use super::seeds::{self, Purpose};
use super::{
    EpochMetrics, LossSums, ModelConfig, RunConfig, RunDir, TrainState, checkpoint, metrics,
};
use crate::data::{ImageSet, Splits};
use crate::run::Model;
use crate::{Error, Result};

/// How a training call behaves, beyond what `config.toml` records.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Overwrite a folder that already holds a run.
    pub force: bool,
    /// No progress bar and no per-epoch lines on stderr.
    pub quiet: bool,
}

/// How a training call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainOutcome {
    /// All configured epochs are done; the last epoch's figures.
    Finished(Option<EpochMetrics>),
    /// Stopped by Ctrl-C after `step` steps of epoch `epoch`; checkpoint saved.
    Interrupted {
        /// The epoch that was running (1-based).
        epoch: usize,
        /// Steps of it already taken.
        step: usize,
    },
}

/// Trains a new run of `config` in `run_dir`. A model input size of 0 is
/// taken from the data; the resolved config is saved as `config.toml`.
///
/// ```no_run
/// use elbo::data::DataSpec;
/// use elbo::models::VaeConfig;
/// use elbo::train::{train, DataConfig, ModelConfig, RunConfig, TrainConfig, TrainOptions};
///
/// let config = RunConfig {
///     model: ModelConfig::Vae(VaeConfig::new(0)),
///     data: DataConfig::new(DataSpec::Digits),
///     train: TrainConfig { epochs: 2, ..TrainConfig::default() },
/// };
/// let outcome = train(&config, "runs/digits".as_ref(), &TrainOptions::default())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn train(config: &RunConfig, run_dir: &Path, opts: &TrainOptions) -> Result<TrainOutcome> {
    let mut config = config.clone();
    let splits = config.data.load()?;
    config.resolve(&splits)?;
    config.validate()?;
    let config = &config;
    let dir = RunDir::new(run_dir);
    dir.prepare_new(opts.force)?;
    config.save(&dir.config())?;
    let device = crate::device::default_device().autodiff();
    if matches!(
        config.model,
        ModelConfig::Gmm(_) | ModelConfig::BernoulliMixture(_)
    ) {
        return Err(not_resumable(&config.model));
    }
    let seed = seeds::stream_seed(config.train.seed, 0, 0, Purpose::Init);
    if let Some((kind, pixel)) = config.model.pixel() {
        let model = pixel.init(kind, &device, seed)?;
        let trainer = super::pixel_trainer::PixelTrainer {
            config,
            dir,
            splits,
            device,
            opts,
            optim: adam(),
        };
        return trainer.run(model, TrainState::default());
    }
    let trainer = Trainer {
        config,
        dir,
        splits,
        device,
        opts,
        optim: adam(),
    };
    let (state, device) = (TrainState::default(), trainer.device.clone());
    match &config.model {
        ModelConfig::Vae(c) => trainer.run(c.init(&device, seed), state),
        ModelConfig::Ae(c) => trainer.run(c.init_autoencoder(&device, seed), state),
        m => Err(not_resumable(m)),
    }
}

/// Continues the run in `run_dir` exactly where it stopped, up to `epochs`
/// in total when given (else the configured number).
///
/// ```no_run
/// use elbo::train::{resume, TrainOptions};
///
/// // After `elbo train vae --epochs 5 --out runs/vae`: five more epochs.
/// resume("runs/vae".as_ref(), Some(10), &TrainOptions::default())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn resume(run_dir: &Path, epochs: Option<usize>, opts: &TrainOptions) -> Result<TrainOutcome> {
    let dir = RunDir::new(run_dir);
    let mut config = dir.load_config()?;
    let (state, model_bytes, optim_bytes) = dir.load_checkpoint()?;
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
    let device = crate::device::default_device().autodiff();
    let optim = adam()
        .from_bytes(Bytes::from_bytes_vec(optim_bytes))
        .map_err(|e| {
            Error::checkpoint(dir.optimizer(), format!("corrupt optimizer state ({e:?})"))
        })?;
    if let Some((kind, pixel)) = config.model.pixel() {
        let model = pixel.init(kind, &device, 0)?;
        let model = checkpoint::from_safetensors(model, &model_bytes, &dir.model(), &device)?;
        config.save(&dir.config())?;
        let trainer = super::pixel_trainer::PixelTrainer {
            config: &config,
            dir,
            splits,
            device,
            opts,
            optim,
        };
        return trainer.run(model, state);
    }
    // Weights first: a checkpoint that does not fit the config fails before
    // anything in the run folder is rewritten.
    let path = dir.model();
    let model = match &config.model {
        ModelConfig::Vae(c) => Model::Vae(checkpoint::from_safetensors(
            c.init(&device, 0),
            &model_bytes,
            &path,
            &device,
        )?),
        ModelConfig::Ae(c) => Model::Ae(checkpoint::from_safetensors(
            c.init_autoencoder(&device, 0),
            &model_bytes,
            &path,
            &device,
        )?),
        m => return Err(not_resumable(m)),
    };
    config.save(&dir.config())?;
    let trainer = Trainer {
        config: &config,
        dir,
        splits,
        device,
        opts,
        optim,
    };
    match model {
        Model::Vae(model) => trainer.run(model, state),
        Model::Ae(model) => trainer.run(model, state),
        _ => Err(not_resumable(&config.model)),
    }
}

/// Adam with PyTorch's defaults (β = 0.9, 0.999; ε = 1e-8), fused on the
/// CPU (see `fused_adam.rs` for why).
pub(super) fn adam() -> ModuleOptimizer {
    ModuleOptimizer::from(super::fused_adam::FusedAdam::default())
}

struct Trainer<'a> {
    config: &'a RunConfig,
    dir: RunDir,
    splits: Splits,
    device: Device,
    opts: &'a TrainOptions,
    optim: ModuleOptimizer,
}

/// Where an epoch ended.
enum EpochEnd {
    Done(LossSums, f64),
    Stopped(TrainState),
}

/// Mixtures are fitted in one go by EM; they have nothing to resume (and
/// pixel models have their own trainer, dispatched before this is reached).
fn not_resumable(model: &ModelConfig) -> Error {
    Error::invalid(format!(
        "a {} run is fitted by EM in one go and cannot be trained or resumed this way (use `elbo train {}`)",
        model.kind(),
        model.kind()
    ))
}

impl Trainer<'_> {
    fn run<M: TrainModel>(mut self, mut model: M, mut state: TrainState) -> Result<TrainOutcome> {
        let mut last = None;
        while state.epochs_done < self.config.train.epochs {
            let epoch = state.epochs_done + 1;
            let end;
            (model, end) = self.epoch(model, epoch, &state)?;
            let (sums, seconds) = match end {
                EpochEnd::Done(sums, seconds) => (sums, seconds),
                EpochEnd::Stopped(stopped) => {
                    let step = stopped.step;
                    self.save(&model, stopped)?;
                    return Ok(TrainOutcome::Interrupted { epoch, step });
                }
            };
            let m = self.epoch_metrics(&model, epoch, sums, seconds)?;
            state = TrainState {
                epochs_done: epoch,
                ..TrainState::default()
            };
            self.save(&model, state.clone())?;
            metrics::append(&self.dir.metrics(), &m)?;
            if !self.opts.quiet {
                eprintln!("{}", epoch_line(&m));
            }
            last = Some(m);
            if state.epochs_done < self.config.train.epochs && crate::device::take_stop_request() {
                return Ok(TrainOutcome::Interrupted {
                    epoch: epoch + 1,
                    step: 0,
                });
            }
        }
        Ok(TrainOutcome::Finished(last))
    }

    fn save<M: TrainModel>(&self, model: &M, state: TrainState) -> Result<()> {
        let weights = checkpoint::to_safetensors(model)?;
        let optim = self
            .optim
            .into_bytes()
            .map_err(|e| Error::invalid(format!("cannot serialize optimizer state: {e:?}")))?;
        self.dir.save_checkpoint(&weights, &optim, state)
    }

    /// Runs the steps of `epoch`, from `state.step` on.
    fn epoch<M: TrainModel>(
        &mut self,
        mut model: M,
        epoch: usize,
        state: &TrainState,
    ) -> Result<(M, EpochEnd)> {
        let config = self.config;
        let tc = &config.train;
        let n = self.splits.train.n;
        let order = seeds::permutation(&mut seeds::rng(tc.seed, epoch, 0, Purpose::Shuffle), n);
        let binarize_seed = seeds::stream_seed(tc.seed, epoch, 0, Purpose::Binarize);
        let (pixels, dim) = self.inputs(&self.splits.train, binarize_seed)?;
        let steps = n.div_ceil(tc.batch_size);
        let bar = self.progress(epoch, steps, state.step);
        let (mut sums, started) = (state.partial, Instant::now());
        for step in state.step..steps {
            let idx = &order[step * tc.batch_size..((step + 1) * tc.batch_size).min(n)];
            let x = gather(&pixels, dim, idx, &self.device);
            let eps = seeds::normals(
                &mut seeds::rng(tc.seed, epoch, step, Purpose::Noise),
                idx.len() * model.noise_width(config),
            );
            let beta = tc.beta_at((epoch - 1) as f64 + step as f64 / steps as f64);
            let (recon, kl);
            (model, (recon, kl)) = self
                .step(model, x, eps, (beta, tc.lr_at(epoch)))
                .map_err(|value| self.non_finite(value, epoch, step))?;
            sums.add(recon, kl, idx.len());
            let seconds = state.partial_seconds + started.elapsed().as_secs_f64();
            bar.set_position((step + 1) as u64);
            bar.set_message(format!(
                "loss {:.2}  {:.0} img/s",
                sums.mean().loss,
                sums.images as f64 / seconds.max(1e-9)
            ));
            // On the last step the request is left for `run`, which stops
            // right after saving the finished epoch.
            if step + 1 < steps && crate::device::take_stop_request() {
                bar.abandon_with_message("interrupted: checkpoint saved");
                let stopped = TrainState {
                    epochs_done: epoch - 1,
                    step: step + 1,
                    partial: sums,
                    partial_seconds: seconds,
                    ..TrainState::default()
                };
                return Ok((model, EpochEnd::Stopped(stopped)));
            }
        }
        bar.finish_and_clear();
        Ok((
            model,
            EpochEnd::Done(
                sums,
                state.partial_seconds + started.elapsed().as_secs_f64(),
            ),
        ))
    }

    /// One Adam step; returns the updated model and the batch's summed
    /// (recon, KL), or the bad loss (the model is then not updated). The
    /// batch is split across CPU threads (`data_parallel.rs`).
    fn step<M: TrainModel>(
        &mut self,
        model: M,
        x: Tensor<2>,
        eps: Vec<f32>,
        (beta, lr): (f64, f64),
    ) -> std::result::Result<(M, (f64, f64)), f64> {
        let shards = super::data_parallel::shard_count(x.dims()[0], self.config);
        let (grads, parts) =
            super::data_parallel::gradients(&model, x, eps, beta, self.config, shards)?;
        Ok((self.optim.step(lr, model, grads), parts))
    }

    /// The model's input rows for `set` (pixels prepared with `seed`, and
    /// a conditional model's one-hot labels) and their width.
    fn inputs(&self, set: &ImageSet, seed: u64) -> Result<(Vec<f32>, usize)> {
        let pixels = self.config.data.pixels.prepare(set, seed);
        let classes = self.config.model.nets()?.label_classes();
        crate::models::nets::model_inputs(set, pixels, classes)
    }

    fn non_finite(&self, value: f64, epoch: usize, step: usize) -> Error {
        Error::NonFinite {
            value,
            epoch,
            step: step + 1,
            run_dir: self.dir.root.clone(),
        }
    }

    fn epoch_metrics<M: TrainModel>(
        &self,
        model: &M,
        epoch: usize,
        sums: LossSums,
        seconds: f64,
    ) -> Result<EpochMetrics> {
        let tc = &self.config.train;
        let s = sums.mean();
        let mut m = EpochMetrics {
            epoch,
            train_loss: s.loss,
            train_recon: s.recon,
            train_kl: s.kl,
            test_loss: f64::NAN,
            test_recon: f64::NAN,
            test_kl: f64::NAN,
            epoch_seconds: seconds,
            images_per_second: sums.images as f64 / seconds.max(1e-9),
            beta: tc.beta_at(epoch as f64),
            active_units: None,
        };
        if !epoch.is_multiple_of(tc.test_every) && epoch < tc.epochs {
            return Ok(m);
        }
        let test = &self.splits.test;
        let (pixels, dim) = self.inputs(
            test,
            seeds::stream_seed(tc.seed, epoch, 0, Purpose::Binarize) ^ 1,
        )?;
        let rng = seeds::rng(tc.seed, epoch, 0, Purpose::TestNoise);
        let (t, active_units) = model.valid().test_figures(&pixels, dim, rng)?;
        (m.test_loss, m.test_recon, m.test_kl) = (t.loss, t.recon, t.kl);
        m.active_units = Some(active_units);
        Ok(m)
    }

    fn progress(&self, epoch: usize, steps: usize, done: usize) -> ProgressBar {
        if self.opts.quiet {
            return ProgressBar::hidden();
        }
        progress_bar(steps, done, format!("{epoch}/{}", self.config.train.epochs))
    }
}

/// An epoch's progress bar: `steps` in all, `done` already, labelled `prefix`.
pub(super) fn progress_bar(steps: usize, done: usize, prefix: String) -> ProgressBar {
    let bar = ProgressBar::new(steps as u64).with_position(done as u64);
    let style = ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(prefix);
    bar
}

/// The rows `idx` of `pixels` (`dim` values each) as a `[rows, dim]` tensor.
/// The progress line printed after an epoch.
fn epoch_line(m: &EpochMetrics) -> String {
    let train = format!(
        "epoch {}: train {:.2} (recon {:.2} + KL {:.2})",
        m.epoch, m.train_loss, m.train_recon, m.train_kl
    );
    match m.active_units.filter(|_| m.tested()) {
        Some(units) => format!(
            "{train}  test {:.2} (recon {:.2} + KL {:.2})  active units {units}  {:.2}s",
            m.test_loss, m.test_recon, m.test_kl, m.epoch_seconds
        ),
        None => format!("{train}  {:.2}s", m.epoch_seconds),
    }
}

pub(crate) fn gather(pixels: &[f32], dim: usize, idx: &[usize], device: &Device) -> Tensor<2> {
    let mut rows = Vec::with_capacity(idx.len() * dim);
    for &i in idx {
        rows.extend_from_slice(&pixels[i * dim..(i + 1) * dim]);
    }
    Tensor::from_data(TensorData::new(rows, [idx.len(), dim]), device) // [batch, dim]
}
