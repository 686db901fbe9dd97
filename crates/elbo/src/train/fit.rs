//! The training loop: Adam on a family's objective, a progress bar, a test
//! pass every `test_every` epochs, a checkpoint after every epoch and on
//! Ctrl-C, and exact resume from any checkpoint (same order, same noise,
//! same weights: every random stream is keyed by (seed, epoch, step)).

use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};

use super::budget::Budget;
use super::outcome::{Stop, TrainOutcome};
use super::{DataConfig, TrainConfig, TrainOptions};
use crate::data::{ImageSet, Splits};
use crate::folder::{
    EpochMetrics, LossSummary, LossSums, RunDir, TrainState, WriteLock, checkpoint, metrics,
};
use crate::seeds::{self, Purpose};
use crate::{Error, Result};

/// One training batch, gathered by the loop.
#[derive(Debug)]
pub struct Batch<'a> {
    /// Input rows `[rows, width]` (see [`Trainable::input_rows`]).
    pub rows: Vec<f32>,
    /// Values per row.
    pub width: usize,
    /// The images' shape.
    pub set: &'a ImageSet,
    /// Class of each row, where the data has labels.
    pub labels: Option<Vec<u8>>,
    /// Epoch (1-based) and step (0-based): keys of the batch's noise.
    pub epoch: usize,
    /// Step within the epoch.
    pub step: usize,
    /// The KL weight now (β, ramped during warm-up).
    pub beta: f64,
}

impl Batch<'_> {
    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.rows.len() / self.width.max(1)
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Why a step produced no update.
#[derive(Debug)]
pub enum StepError {
    /// The loss was NaN or infinite: the weights are left as they were.
    NonFinite(f64),
    /// Anything else (a tensor read-back failed).
    Failed(Error),
}

impl From<Error> for StepError {
    fn from(e: Error) -> Self {
        StepError::Failed(e)
    }
}

/// A family's test figures after an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestFigures {
    /// Mean test loss split as in training.
    pub loss: LossSummary,
    /// Active latent units (Burda et al. 2016), for latent models.
    pub active_units: Option<usize>,
}

/// What the loop needs from a family: input rows, the gradient of its
/// objective on a batch, and its figures on the test split.
pub trait Trainable: Module + Sized {
    /// The rows the model reads for `set` (pixels prepared with `seed`, and
    /// whatever the family appends) and their width.
    fn input_rows(
        &self,
        data: &DataConfig,
        set: &ImageSet,
        seed: u64,
    ) -> Result<(Vec<f32>, usize)> {
        Ok((data.pixels.prepare(set, seed), set.dim()))
    }

    /// The gradient of the objective on `batch` and the batch's summed
    /// (reconstruction, KL) in nats; KL is 0 for a model without one.
    fn gradients(
        &self,
        batch: &Batch<'_>,
        train: &TrainConfig,
    ) -> std::result::Result<(GradientsParams, (f64, f64)), StepError>;

    /// Mean test figures over `set` (the model without autodiff), pixels
    /// prepared with `seed`, noise from `rng_seed`'s streams.
    fn test_figures(
        &self,
        data: &DataConfig,
        set: &ImageSet,
        seed: u64,
        rng: rand::rngs::Xoshiro256PlusPlus,
    ) -> Result<TestFigures>;

    /// The line printed after an epoch.
    fn epoch_line(m: &EpochMetrics, dim: usize) -> String {
        default_epoch_line(m, dim)
    }
}

/// The step of a model trained on its exact NLL (the pixel models, NADE):
/// the gradient of the mean of `nll` (`[batch]`, −log p(x) per image),
/// with the batch's summed NLL reported as the reconstruction term and KL
/// = 0; the summed NLL itself when it is not finite.
pub fn nll_gradients<M: Module>(
    model: &M,
    nll: burn::tensor::Tensor<1>,
) -> std::result::Result<(GradientsParams, (f64, f64)), StepError> {
    let rows = nll.dims()[0];
    let total = nll.sum(); // [1]
    let value = f64::from(total.clone().detach().into_scalar::<f32>());
    if !value.is_finite() {
        return Err(StepError::NonFinite(value));
    }
    let grads = GradientsParams::from_grads(total.div_scalar(rows as f64).backward(), model);
    Ok((grads, (value, 0.0)))
}

impl TestFigures {
    /// The figures of a model scored by its exact NLL: the mean of the
    /// per-image values as the loss (KL 0), no latent units.
    pub fn from_nll(per_image: &[f64]) -> Self {
        let mut sums = LossSums::default();
        per_image.iter().for_each(|&v| sums.add(v, 0.0, 1));
        TestFigures {
            loss: sums.mean(),
            active_units: None,
        }
    }
}

/// Adam with PyTorch's defaults (β = 0.9, 0.999; ε = 1e-8), fused on the
/// CPU (see `kernels/adam.rs` for why).
pub fn adam() -> ModuleOptimizer {
    ModuleOptimizer::from(crate::kernels::adam::FusedAdam::default())
}

/// The loop over one run folder.
pub struct Loop<'a> {
    /// Optimization settings.
    pub train: &'a TrainConfig,
    /// How pixels are presented.
    pub data: &'a DataConfig,
    /// The run folder written to.
    pub dir: &'a RunDir,
    /// Its write lock, held by this process.
    pub lock: &'a WriteLock,
    /// The data.
    pub splits: Splits,
    /// The autodiff device.
    pub device: Device,
    /// Quiet.
    pub opts: &'a TrainOptions,
    /// Adam, fresh or with the checkpoint's moments.
    pub optim: ModuleOptimizer,
}

/// Where an epoch ended.
enum EpochEnd {
    Done(LossSums, f64),
    Stopped(TrainState, Stop),
}

impl Loop<'_> {
    /// Trains `model` from `state` to the configured number of epochs, or
    /// until Ctrl-C or the time limit.
    pub fn run<M: Trainable>(
        mut self,
        mut model: M,
        mut state: TrainState,
    ) -> Result<TrainOutcome> {
        let budget = Budget::new(self.opts.time_limit, &state)?;
        let mut last = None;
        let mut logged = Instant::now();
        while state.epochs_done < self.train.epochs {
            let epoch = state.epochs_done + 1;
            let end;
            (model, end) = self.epoch(model, epoch, &state, &budget)?;
            let (sums, seconds) = match end {
                EpochEnd::Done(sums, seconds) => (sums, seconds),
                EpochEnd::Stopped(stopped, why) => {
                    let step = stopped.step;
                    self.save(&model, stopped, &budget)?;
                    return Ok(why.outcome(epoch, step, &budget));
                }
            };
            let m = self.epoch_metrics(&model, epoch, sums, seconds)?;
            state = TrainState {
                epochs_done: epoch,
                ..TrainState::default()
            };
            // Decided before the checkpoint, so that a stop for time records
            // a used time at or past the limit.
            let stop = (epoch < self.train.epochs)
                .then(|| Stop::due(&budget))
                .flatten();
            // The line first: a crash before the checkpoint commits leaves
            // one line too many, which resuming cuts; the other order
            // would lose the line of a committed epoch.
            metrics::append(&self.dir.metrics(), &m)?;
            self.save(&model, state.clone(), &budget)?;
            let since = logged.elapsed().as_secs_f64();
            if !self.opts.quiet && self.opts.log_every.due(epoch, self.train.epochs, since) {
                eprintln!("{}", M::epoch_line(&m, self.splits.train.dim()));
                logged = Instant::now();
            }
            last = Some(m);
            if let Some(why) = stop {
                return Ok(why.outcome(epoch + 1, 0, &budget));
            }
        }
        Ok(TrainOutcome::Finished(last))
    }

    fn save<M: Module>(&self, model: &M, mut state: TrainState, budget: &Budget) -> Result<()> {
        budget.stamp(&mut state);
        let weights = checkpoint::to_safetensors(model)?;
        let optim = self
            .optim
            .into_bytes()
            .map_err(|e| Error::internal(format!("cannot serialize optimizer state: {e:?}")))?;
        self.dir.save_checkpoint(self.lock, &weights, &optim, state)
    }

    /// Runs the steps of `epoch`, from `state.step` on.
    fn epoch<M: Trainable>(
        &mut self,
        mut model: M,
        epoch: usize,
        state: &TrainState,
        budget: &Budget,
    ) -> Result<(M, EpochEnd)> {
        let tc = self.train;
        let set = &self.splits.train;
        let n = set.n;
        let order = seeds::permutation(&mut seeds::rng(tc.seed, epoch, 0, Purpose::Shuffle), n);
        let binarize_seed = seeds::stream_seed(tc.seed, epoch, 0, Purpose::Binarize);
        let (pixels, width) = model.input_rows(self.data, set, binarize_seed)?;
        let steps = n.div_ceil(tc.batch_size);
        let bar = self.progress(epoch, steps, state.step);
        let (mut sums, started) = (state.partial, Instant::now());
        for step in state.step..steps {
            let idx = &order[step * tc.batch_size..((step + 1) * tc.batch_size).min(n)];
            let batch = Batch {
                rows: gather(&pixels, width, idx),
                width,
                set,
                labels: set
                    .labels
                    .as_ref()
                    .map(|l| idx.iter().map(|&i| l[i]).collect()),
                epoch,
                step,
                beta: tc.beta_at((epoch - 1) as f64 + step as f64 / steps as f64),
            };
            let (grads, (recon, kl)) = match model.gradients(&batch, tc) {
                Ok(g) => g,
                Err(StepError::NonFinite(value)) => return Err(self.non_finite(value, epoch, step)),
                Err(StepError::Failed(e)) => return Err(e),
            };
            model = self.optim.step(tc.lr_at(epoch), model, grads);
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
            let why = if step + 1 < steps {
                Stop::due(budget)
            } else {
                None
            };
            if let Some(why) = why {
                bar.abandon_with_message(match why {
                    Stop::Interrupt => "interrupted: checkpoint saved",
                    Stop::TimeUp => "time limit reached: checkpoint saved",
                });
                let stopped = TrainState {
                    epochs_done: epoch - 1,
                    step: step + 1,
                    partial: sums,
                    partial_seconds: seconds,
                    ..TrainState::default()
                };
                return Ok((model, EpochEnd::Stopped(stopped, why)));
            }
        }
        bar.finish_and_clear();
        let seconds = state.partial_seconds + started.elapsed().as_secs_f64();
        Ok((model, EpochEnd::Done(sums, seconds)))
    }

    fn non_finite(&self, value: f64, epoch: usize, step: usize) -> Error {
        Error::NonFinite {
            value,
            epoch,
            step: step + 1,
            run_dir: self.dir.root.clone(),
            checkpoint: self.dir.state().is_file(),
        }
    }

    /// The epoch's figures; the test pass only every `test_every` epochs
    /// and after the last.
    fn epoch_metrics<M: Trainable>(
        &self,
        model: &M,
        epoch: usize,
        sums: LossSums,
        seconds: f64,
    ) -> Result<EpochMetrics> {
        let tc = self.train;
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
        // No test images (`test_fraction = 0`): no test figures, rather
        // than a mean over nothing.
        let due = epoch.is_multiple_of(tc.test_every) || epoch >= tc.epochs;
        if !due || self.splits.test.n == 0 {
            return Ok(m);
        }
        let seed = seeds::stream_seed(tc.seed, epoch, 0, Purpose::Binarize) ^ 1;
        let rng = seeds::rng(tc.seed, epoch, 0, Purpose::TestNoise);
        // The epoch's bar and line say the progress: no bars of the test pass.
        let _silence = crate::progress::Silence::new();
        let t = model
            .valid()
            .test_figures(self.data, &self.splits.test, seed, rng)?;
        (m.test_loss, m.test_recon, m.test_kl) = (t.loss.loss, t.loss.recon, t.loss.kl);
        m.active_units = t.active_units;
        Ok(m)
    }

    fn progress(&self, epoch: usize, steps: usize, done: usize) -> ProgressBar {
        if self.opts.quiet {
            return ProgressBar::hidden();
        }
        progress_bar(steps, done, format!("{epoch}/{}", self.train.epochs))
    }
}

/// An epoch's progress bar: `steps` in all, `done` already, labelled `prefix`.
pub fn progress_bar(steps: usize, done: usize, prefix: String) -> ProgressBar {
    let bar = ProgressBar::new(steps as u64).with_position(done as u64);
    let style = ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(prefix);
    bar
}

/// The line printed after an epoch of a model with a KL term.
fn default_epoch_line(m: &EpochMetrics, _dim: usize) -> String {
    let train = format!(
        "epoch {}: train {:.2} (recon {:.2} + KL {:.2})",
        m.epoch, m.train_loss, m.train_recon, m.train_kl
    );
    match m.active_units.filter(|_| m.tested()) {
        Some(units) => format!(
            "{train}  test {:.2} (recon {:.2} + KL {:.2})  active units {units}  {:.2}s",
            m.test_loss, m.test_recon, m.test_kl, m.epoch_seconds
        ),
        None if m.tested() => format!(
            "{train}  test {:.2} (recon {:.2} + KL {:.2})  {:.2}s",
            m.test_loss, m.test_recon, m.test_kl, m.epoch_seconds
        ),
        None => format!("{train}  {:.2}s", m.epoch_seconds),
    }
}

/// The line printed after an epoch of a model trained on its exact NLL.
pub fn nll_epoch_line(m: &EpochMetrics, dim: usize) -> String {
    let d = dim as f64 * std::f64::consts::LN_2;
    if m.tested() {
        format!(
            "epoch {}: train NLL {:.2} nats  test NLL {:.2} nats ({:.4} bits/dim)  {:.1}s",
            m.epoch,
            m.train_loss,
            m.test_loss,
            m.test_loss / d,
            m.epoch_seconds
        )
    } else {
        format!(
            "epoch {}: train NLL {:.2} nats  {:.1}s",
            m.epoch, m.train_loss, m.epoch_seconds
        )
    }
}

/// The rows `idx` of `rows` (`width` values each).
fn gather(rows: &[f32], width: usize, idx: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(idx.len() * width);
    for &i in idx {
        out.extend_from_slice(&rows[i * width..(i + 1) * width]);
    }
    out
}
