//! Training loop of the autoregressive models (PixelCNN, Gated PixelCNN,
//! Row LSTM): Adam on the exact mean NLL per image, the VAE's run folder,
//! checkpoints, Ctrl-C and resume. `metrics.jsonl` uses the VAE's fields
//! with the NLL as the loss and as `recon`, and KL = 0 (no latent variable).

use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use indicatif::ProgressBar;

use super::seeds::{self, Purpose};
use super::vae_trainer::{TrainOptions, TrainOutcome, progress_bar};
use super::{EpochMetrics, LossSums, RunConfig, RunDir, TrainState, checkpoint, metrics};
use crate::data::{ImageSet, Splits};
use crate::models::pixel::{PixelNet, one_hot, to_nchw};
use crate::{Error, Result};

/// Images per forward pass when evaluating.
const EVAL_BATCH: usize = 250;

pub(super) struct PixelTrainer<'a> {
    pub config: &'a RunConfig,
    pub dir: RunDir,
    pub splits: Splits,
    pub device: Device,
    pub opts: &'a TrainOptions,
    pub optim: ModuleOptimizer,
}

/// Mean NLL (nats per image) of `set` under `net`, pixels prepared with `seed`.
pub fn pixel_nll(net: &PixelNet, config: &RunConfig, set: &ImageSet, seed: u64) -> Result<f64> {
    let per_image = pixel_nll_per_image(net, config, set, seed)?;
    Ok(per_image.iter().sum::<f64>() / per_image.len().max(1) as f64)
}

/// −log p(x) in nats for every image of `set` (pixels prepared as in training).
pub fn pixel_nll_per_image(
    net: &PixelNet,
    config: &RunConfig,
    set: &ImageSet,
    seed: u64,
) -> Result<Vec<f64>> {
    let pixels = config.data.pixels.prepare(set, seed);
    let device = net.device();
    let mut out = Vec::with_capacity(set.n);
    let idx: Vec<usize> = (0..set.n).collect();
    for chunk in idx.chunks(EVAL_BATCH) {
        let (x, labels) = batch(net, &pixels, set, chunk, &device)?;
        let nll = net.nll(x, labels.as_ref());
        let v = nll
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| Error::invalid(format!("tensor read-back failed: {e:?}")))?;
        out.extend(v.iter().map(|&x| f64::from(x)));
    }
    Ok(out)
}

/// Images `idx` of `pixels` as `[rows, C, H, W]` and, for a conditional
/// model, their one-hot labels.
fn batch(
    net: &PixelNet,
    pixels: &[f32],
    set: &ImageSet,
    idx: &[usize],
    device: &Device,
) -> Result<(Tensor<4>, Option<Tensor<2>>)> {
    let dim = set.dim();
    let mut rows = Vec::with_capacity(idx.len() * dim);
    for &i in idx {
        rows.extend_from_slice(&pixels[i * dim..(i + 1) * dim]);
    }
    let x = to_nchw(
        &rows,
        [idx.len(), set.height, set.width, set.channels],
        device,
    );
    let classes = net.classes();
    if classes == 0 {
        return Ok((x, None));
    }
    let labels = set.labels.as_ref().ok_or_else(|| {
        Error::invalid("this model is conditioned on class labels but the data has none")
    })?;
    let picked: Vec<u8> = idx.iter().map(|&i| labels[i]).collect();
    Ok((x, Some(one_hot(&picked, classes, device)?)))
}

impl PixelTrainer<'_> {
    pub fn run(mut self, mut model: PixelNet, mut state: TrainState) -> Result<TrainOutcome> {
        if let Some(config) = self.config.model.pixel().map(|(_, c)| c) {
            let warning = crate::models::pixel::data::check(
                config,
                self.config.data.pixels,
                &self.splits.train,
            )?;
            if let (Some(w), false) = (warning, self.opts.quiet) {
                eprintln!("{w}");
            }
        }
        let mut last = None;
        while state.epochs_done < self.config.train.epochs {
            let epoch = state.epochs_done + 1;
            let (m, stopped);
            (model, m, stopped) = self.epoch(model, epoch, &state)?;
            if let Some(stopped) = stopped {
                let step = stopped.step;
                self.save(&model, stopped)?;
                return Ok(TrainOutcome::Interrupted { epoch, step });
            }
            state = TrainState {
                epochs_done: epoch,
                ..TrainState::default()
            };
            self.save(&model, state.clone())?;
            metrics::append(&self.dir.metrics(), &m)?;
            if !self.opts.quiet {
                let d = self.splits.train.dim() as f64 * std::f64::consts::LN_2;
                eprintln!(
                    "epoch {epoch}: train NLL {:.2} nats  test NLL {:.2} nats ({:.4} bits/dim)  {:.1}s",
                    m.train_loss,
                    m.test_loss,
                    m.test_loss / d,
                    m.epoch_seconds
                );
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

    fn save(&self, model: &PixelNet, state: TrainState) -> Result<()> {
        let weights = checkpoint::to_safetensors(model)?;
        let optim = self
            .optim
            .into_bytes()
            .map_err(|e| Error::invalid(format!("cannot serialize optimizer state: {e:?}")))?;
        self.dir.save_checkpoint(&weights, &optim, state)
    }

    /// Runs the steps of `epoch` from `state.step` on, then the test pass;
    /// returns the model, the epoch's figures and, after Ctrl-C, the state to save.
    fn epoch(
        &mut self,
        mut model: PixelNet,
        epoch: usize,
        state: &TrainState,
    ) -> Result<(PixelNet, EpochMetrics, Option<TrainState>)> {
        let tc = &self.config.train;
        let set = &self.splits.train;
        let order = seeds::permutation(&mut seeds::rng(tc.seed, epoch, 0, Purpose::Shuffle), set.n);
        let seed = seeds::stream_seed(tc.seed, epoch, 0, Purpose::Binarize);
        let pixels = self.config.data.pixels.prepare(set, seed);
        let steps = set.n.div_ceil(tc.batch_size);
        let bar = self.progress(epoch, steps, state.step);
        let (mut sums, started) = (state.partial, Instant::now());
        for step in state.step..steps {
            let idx = &order[step * tc.batch_size..((step + 1) * tc.batch_size).min(set.n)];
            let (x, labels) = batch(&model, &pixels, set, idx, &self.device)?;
            let nll;
            (model, nll) =
                adam_step(&mut self.optim, tc.lr_at(epoch), model, x, labels).map_err(|value| {
                    Error::NonFinite {
                        value,
                        epoch,
                        step: step + 1,
                        run_dir: self.dir.root.clone(),
                    }
                })?;
            sums.add(nll, 0.0, idx.len());
            let seconds = state.partial_seconds + started.elapsed().as_secs_f64();
            bar.set_position((step + 1) as u64);
            bar.set_message(format!(
                "NLL {:.2}  {:.0} img/s",
                sums.mean().loss,
                sums.images as f64 / seconds.max(1e-9)
            ));
            if step + 1 < steps && crate::device::take_stop_request() {
                bar.abandon_with_message("interrupted: checkpoint saved");
                let stopped = TrainState {
                    epochs_done: epoch - 1,
                    step: step + 1,
                    partial: sums,
                    partial_seconds: seconds,
                    ..TrainState::default()
                };
                let m = self.metrics(&model, epoch, sums, seconds, None)?;
                return Ok((model, m, Some(stopped)));
            }
        }
        bar.finish_and_clear();
        let seconds = state.partial_seconds + started.elapsed().as_secs_f64();
        let m = self.metrics(&model, epoch, sums, seconds, Some(seed ^ 1))?;
        Ok((model, m, None))
    }

    /// The epoch's figures; the test NLL only when `test_seed` is given.
    fn metrics(
        &self,
        model: &PixelNet,
        epoch: usize,
        sums: LossSums,
        seconds: f64,
        test_seed: Option<u64>,
    ) -> Result<EpochMetrics> {
        let test = match test_seed {
            Some(seed) => pixel_nll(&model.valid(), self.config, &self.splits.test, seed)?,
            None => f64::NAN,
        };
        let s = sums.mean();
        Ok(EpochMetrics {
            epoch,
            train_loss: s.loss,
            train_recon: s.loss,
            train_kl: 0.0,
            test_loss: test,
            test_recon: test,
            test_kl: 0.0,
            epoch_seconds: seconds,
            images_per_second: sums.images as f64 / seconds.max(1e-9),
            beta: 1.0,
            active_units: None,
        })
    }

    fn progress(&self, epoch: usize, steps: usize, done: usize) -> ProgressBar {
        if self.opts.quiet {
            return ProgressBar::hidden();
        }
        progress_bar(steps, done, format!("{epoch}/{}", self.config.train.epochs))
    }
}

/// One Adam step on the mean NLL; returns the updated model and the batch's
/// summed NLL, or the bad value (the model is then not updated).
fn adam_step(
    optim: &mut ModuleOptimizer,
    lr: f64,
    model: PixelNet,
    x: Tensor<4>,
    labels: Option<Tensor<2>>,
) -> std::result::Result<(PixelNet, f64), f64> {
    let rows = x.dims()[0];
    let nll = model.nll(x, labels.as_ref()).sum(); // [1]
    let total = f64::from(nll.clone().detach().into_scalar::<f32>());
    if !total.is_finite() {
        return Err(total);
    }
    let grads = GradientsParams::from_grads(nll.div_scalar(rows as f64).backward(), &model);
    Ok((optim.step(lr, model, grads), total))
}
