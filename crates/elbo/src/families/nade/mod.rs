//! NADE, the neural autoregressive distribution estimator (Larochelle &
//! Murray 2011), as a family: binary images, an exact likelihood computed
//! in one pass, ancestral sampling. Published: 88.86 nats on statically
//! binarized MNIST (NADE paper, Table 2; 88.33 in later tables).
//!
//! This folder is the whole family: the network (`model.rs`), its config,
//! and the two impls; outside it, only `ModelConfig` names it (its variant
//! and its line in `ModelConfig::family`).

mod model;

use std::any::Any;

use burn::optim::GradientsParams;
use burn::tensor::activation::{sigmoid, softplus};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::Xoshiro256PlusPlus;

pub use model::{Nade, NadeConfig};

use super::{
    Autoregressive, Family, FitJob, Generate, Model, ModelConfig, PixelConditionals, RunConfig,
};
use crate::data::{ImageSet, Splits};
use crate::eval::{EvalOptions, Evaluation, NllMethod};
use crate::folder::{EpochMetrics, RunDir, checkpoint};
use crate::image::Shape;
use crate::train::{
    Batch, DataConfig, StepError, TestFigures, TrainConfig, TrainOutcome, Trainable, nll_gradients,
};
use crate::{Error, Result};

/// Images per forward pass when evaluating.
const EVAL_BATCH: usize = 500;
/// Images per pass of the conditionals (their composite form holds a
/// `[batch, dim, hidden]` tensor: 25 MB for 16 MNIST images, 500 hidden).
const CONDITIONALS_BATCH: usize = 16;

/// The NADE family (`kind = "nade"`).
pub struct NadeFamily;

fn nade_config(config: &RunConfig) -> Result<&NadeConfig> {
    match &config.model {
        ModelConfig::Nade(c) => Ok(c),
        m => Err(Error::internal(format!(
            "a {} config reached the NADE family",
            m.kind()
        ))),
    }
}

/// NADE models binary pixels: grey images must be binarized.
fn check_binary(config: &RunConfig) -> Result<()> {
    if !config.data.pixels.is_binary() || config.data.rgb {
        return Err(Error::invalid(format!(
            "NADE models binary grey images: use --pixels binary or dynamic (got {}{})",
            config.data.pixels,
            if config.data.rgb { ", RGB" } else { "" }
        )));
    }
    Ok(())
}

impl Family for NadeFamily {
    fn validate(&self, config: &RunConfig) -> Result<()> {
        nade_config(config)?.validate()?;
        check_binary(config)?;
        super::reject_vae_settings(config)
    }

    fn resolve(&self, config: &mut RunConfig, splits: &Splits) -> Result<()> {
        let dim = splits.train.dim();
        if let ModelConfig::Nade(c) = &mut config.model {
            if c.input_dim == 0 {
                c.input_dim = dim;
            }
            if c.input_dim != dim {
                return Err(Error::invalid(format!(
                    "data '{}' has {dim} values per image but the NADE expects {}",
                    config.data.spec, c.input_dim
                )));
            }
        }
        Ok(())
    }

    fn display_name(&self, config: &RunConfig) -> String {
        nade_config(config)
            .map_or_else(|_| "NADE".into(), |c| format!("NADE ({} hidden)", c.hidden))
    }

    fn fit(&self, job: FitJob<'_>) -> Result<TrainOutcome> {
        let c = nade_config(job.config)?.clone();
        super::network::fit_network(job, |device, seed| Ok(c.init(device, seed)))
    }

    fn load(&self, config: &RunConfig, dir: &RunDir, device: &Device) -> Result<Box<dyn Model>> {
        let c = nade_config(config)?;
        if c.input_dim != config.image_shape()?.dim() {
            return Err(Error::checkpoint(
                dir.config(),
                format!(
                    "NADE input_dim {} does not match the recorded image shape",
                    c.input_dim
                ),
            ));
        }
        let nade = checkpoint::load(c.init(device, 0), &dir.weights()?, device)?;
        Ok(Box::new(NadeModel { nade }))
    }
}

/// −log p(x) per row of `pixels` (`dim` binary values each).
fn nll_rows(nade: &Nade, pixels: &[f32], dim: usize) -> Result<Vec<f64>> {
    let device = nade.device();
    let n = pixels.len() / dim.max(1);
    let mut out = Vec::with_capacity(n);
    let stage = crate::progress::Stage::start("exact NLL", n, "images");
    for chunk in pixels.chunks(EVAL_BATCH * dim) {
        let rows = chunk.len() / dim;
        let x = Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [rows, dim]), &device); // [rows, dim]
        let nll = nade.nll(x).unsqueeze_dim::<2>(1); // [rows, 1]
        out.extend(crate::eval::to_vec(nll)?.into_iter().map(f64::from));
        stage.inc(rows);
    }
    stage.finish();
    Ok(out)
}

impl Trainable for Nade {
    /// The mean NLL per image (Larochelle & Murray 2011, Eq. 2-3), with the
    /// batch's summed NLL reported as the reconstruction term and KL = 0.
    fn gradients(
        &self,
        batch: &Batch<'_>,
        _train: &TrainConfig,
    ) -> std::result::Result<(GradientsParams, (f64, f64)), StepError> {
        let rows = batch.len();
        let data = TensorData::new(batch.rows.clone(), [rows, batch.width]);
        let x = Tensor::<2>::from_data(data, &self.device()); // [batch, dim]
        nll_gradients(self, self.nll(x)) // [batch]
    }

    fn test_figures(
        &self,
        data: &DataConfig,
        set: &ImageSet,
        seed: u64,
        _rng: Xoshiro256PlusPlus,
    ) -> Result<TestFigures> {
        let pixels = data.pixels.prepare(set, seed);
        Ok(TestFigures::from_nll(&nll_rows(self, &pixels, set.dim())?))
    }

    fn epoch_line(m: &EpochMetrics, dim: usize) -> String {
        crate::train::nll_epoch_line(m, dim)
    }
}

/// A fitted NADE.
#[derive(Debug)]
pub struct NadeModel {
    /// The network.
    pub nade: Nade,
}

impl Model for NadeModel {
    fn num_params(&self) -> usize {
        self.nade.num_params()
    }

    fn evaluate(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Evaluation> {
        super::exact_evaluation(self, config, set, opts)
    }

    fn nll_per_image(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Option<(Vec<f64>, NllMethod)>> {
        super::refuse_iwae(config, opts)?;
        let pixels = config.data.pixels.prepare(set, opts.seed);
        Ok(Some((
            nll_rows(&self.nade, &pixels, set.dim())?,
            NllMethod::ExactAutoregressive,
        )))
    }

    /// Ancestral samples: binary images, pixel by pixel.
    fn sample(
        &self,
        config: &RunConfig,
        n: usize,
        seed: u64,
        label: Option<usize>,
    ) -> Result<Vec<f32>> {
        if label.is_some() {
            return Err(super::no_label(config.model.kind()));
        }
        self.nade.sample(n, seed)
    }

    fn autoregressive(&self) -> Option<&dyn Autoregressive> {
        Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Autoregressive for NadeModel {
    /// NADE's sampler already costs O(D·H) per image (the running
    /// pre-activation), so the naive and the cached method are one.
    fn generate(&self, req: &Generate<'_>) -> Result<Vec<f32>> {
        if req.labels.is_some() {
            return Err(Error::invalid("NADE is unconditional: it takes no labels"));
        }
        if req.start == 0 {
            let n = req.images.len() / req.shape.dim().max(1);
            return self.nade.sample(n, req.seed);
        }
        self.nade
            .complete(&req.images, req.start * req.shape.channels, req.seed)
    }

    /// The logits of every conditional in one pass (NADE paper eq. 2-3).
    fn conditionals(
        &self,
        images: &[f32],
        shape: Shape,
        labels: Option<&[u8]>,
    ) -> Result<PixelConditionals> {
        let dim = self.nade.dim();
        if shape.channels != 1 || shape.dim() != dim {
            return Err(Error::invalid(format!(
                "the images are {}x{}x{} but the NADE models grey images of {dim} pixels",
                shape.height, shape.width, shape.channels
            )));
        }
        super::check_conditionals(images, shape, 0, labels)?;
        let device = self.nade.device();
        let mut out = PixelConditionals {
            mean: Vec::with_capacity(images.len()),
            log_prob: Vec::with_capacity(images.len()),
        };
        for chunk in images.chunks(CONDITIONALS_BATCH * dim) {
            let rows = chunk.len() / dim;
            let x = Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [rows, dim]), &device); // [rows, dim]
            let logits = self.nade.logits(x.clone()); // [rows, dim]
            out.mean
                .extend(crate::eval::to_vec(sigmoid(logits.clone()))?);
            // log Bernoulli(x; σ(l)) = x·l − softplus(l), finite for any logit.
            let log_prob = x * logits.clone() - softplus(logits, 1.0);
            out.log_prob.extend(crate::eval::to_vec(log_prob)?);
        }
        Ok(out)
    }
}
