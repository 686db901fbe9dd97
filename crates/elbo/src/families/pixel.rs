//! The autoregressive pixel models as a family: PixelCNN, Gated PixelCNN
//! and PixelRNN's Row LSTM or Diagonal BiLSTM (van den Oord et al. 2016), trained on their
//! exact NLL, sampled and completed pixel by pixel.

use std::any::Any;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use rand::rngs::Xoshiro256PlusPlus;

use super::{
    Autoregressive, Family, FitJob, Generate, Model, ModelConfig, PixelConditionals, RunConfig,
};
use crate::data::{ImageSet, Splits};
use crate::eval::{EvalOptions, Evaluation, NllMethod, to_vec};
use crate::folder::{EpochMetrics, RunDir, checkpoint};
use crate::image::Shape;
use crate::models::pixel::sampler::{self, Method, Request};
use crate::models::pixel::{PixelConfig, PixelKind, PixelNet, data, one_hot, to_nchw};
use crate::train::{
    Batch, DataConfig, StepError, TestFigures, TrainConfig, TrainOutcome, Trainable, nll_gradients,
};
use crate::{Error, Result};

/// Images per forward pass when evaluating.
const EVAL_BATCH: usize = 250;
/// Images per forward pass of the conditionals (a 256-way model's logits
/// of 64 28×28 images take 51 MB).
const CONDITIONALS_BATCH: usize = 64;

/// The pixel-model family (`kind = "pixelcnn"`, `"gated-pixelcnn"`, `"pixelrnn"`).
pub struct PixelFamily;

/// The network's kind and sizes of a pixel-model config.
pub fn pixel_config(config: &RunConfig) -> Result<(PixelKind, &PixelConfig)> {
    match &config.model {
        ModelConfig::PixelCnn(c) => Ok((PixelKind::PixelCnn, c)),
        ModelConfig::GatedPixelCnn(c) => Ok((PixelKind::Gated, c)),
        ModelConfig::PixelRnn(c) => Ok((c.recurrent_kind(), c)),
        m => Err(Error::internal(format!(
            "a {} config reached the pixel-model family",
            m.kind()
        ))),
    }
}

impl Family for PixelFamily {
    fn validate(&self, config: &RunConfig) -> Result<()> {
        let (kind, c) = pixel_config(config)?;
        c.validate(kind)?;
        super::reject_vae_settings(config)
    }

    fn resolve(&self, config: &mut RunConfig, splits: &Splits) -> Result<()> {
        let pixels = config.data.pixels;
        match &mut config.model {
            ModelConfig::PixelCnn(c) | ModelConfig::GatedPixelCnn(c) | ModelConfig::PixelRnn(c) => {
                data::resolve(c, pixels, &splits.train)
            }
            _ => Ok(()),
        }
    }

    fn display_name(&self, config: &RunConfig) -> String {
        match pixel_config(config) {
            Ok((kind, p)) => format!("{} ({} layers, {} maps)", kind.label(), p.layers, p.hidden),
            Err(_) => config.model.kind().into(),
        }
    }

    fn fit(&self, job: FitJob<'_>) -> Result<TrainOutcome> {
        let (kind, c) = pixel_config(job.config)?;
        let c = c.clone();
        if let Some(w) = data::check(&c, job.config.data.pixels, &job.splits.train)?
            && !job.opts.quiet
        {
            eprintln!("{w}");
        }
        super::network::fit_network(job, |device, seed| c.init(kind, device, seed))
    }

    fn load(&self, config: &RunConfig, dir: &RunDir, device: &Device) -> Result<Box<dyn Model>> {
        let (kind, c) = pixel_config(config)?;
        let net = checkpoint::load(c.init(kind, device, 0)?, &dir.weights()?, device)?;
        Ok(Box::new(PixelModel { net }))
    }
}

/// −log p(x) in nats for every image of `set` (pixels prepared with `seed`).
pub fn nll_per_image(
    net: &PixelNet,
    data: &DataConfig,
    set: &ImageSet,
    seed: u64,
) -> Result<Vec<f64>> {
    let pixels = data.pixels.prepare(set, seed);
    let device = net.device();
    let mut out = Vec::with_capacity(set.n);
    let idx: Vec<usize> = (0..set.n).collect();
    let stage = crate::progress::Stage::start("exact NLL", set.n, "images");
    for chunk in idx.chunks(EVAL_BATCH) {
        let mut rows = Vec::with_capacity(chunk.len() * set.dim());
        for &i in chunk {
            rows.extend_from_slice(&pixels[i * set.dim()..(i + 1) * set.dim()]);
        }
        let labels = set
            .labels
            .as_ref()
            .map(|l| chunk.iter().map(|&i| l[i]).collect::<Vec<_>>());
        let (x, labels) = batch_tensors(net, &rows, set, labels.as_deref(), &device)?;
        let nll = net.nll(x, labels.as_ref()); // [rows]
        let v = nll
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| Error::internal(format!("tensor read-back failed: {e:?}")))?;
        out.extend(v.iter().map(|&x| f64::from(x)));
        stage.inc(chunk.len());
    }
    stage.finish();
    Ok(out)
}

/// Rows `[n, H·W·C]` as `[n, C, H, W]` and, for a conditional model, their
/// one-hot labels.
fn batch_tensors(
    net: &PixelNet,
    rows: &[f32],
    set: &ImageSet,
    labels: Option<&[u8]>,
    device: &Device,
) -> Result<(Tensor<4>, Option<Tensor<2>>)> {
    let n = rows.len() / set.dim().max(1);
    let x = to_nchw(rows, [n, set.height, set.width, set.channels], device);
    let classes = net.classes();
    if classes == 0 {
        return Ok((x, None));
    }
    let labels = labels.ok_or_else(|| {
        Error::invalid("this model is conditioned on class labels but the data has none")
    })?;
    Ok((x, Some(one_hot(labels, classes, device)?)))
}

impl Trainable for PixelNet {
    /// The mean NLL per image (its gradient), with the batch's summed NLL
    /// reported as the reconstruction term and KL = 0.
    fn gradients(
        &self,
        batch: &Batch<'_>,
        _train: &TrainConfig,
    ) -> std::result::Result<(GradientsParams, (f64, f64)), StepError> {
        let (x, labels) = batch_tensors(
            self,
            &batch.rows,
            batch.set,
            batch.labels.as_deref(),
            &self.device(),
        )?;
        nll_gradients(self, self.nll(x, labels.as_ref())) // [batch]
    }

    fn test_figures(
        &self,
        data: &DataConfig,
        set: &ImageSet,
        seed: u64,
        _rng: Xoshiro256PlusPlus,
    ) -> Result<TestFigures> {
        Ok(TestFigures::from_nll(&nll_per_image(
            self, data, set, seed,
        )?))
    }

    fn epoch_line(m: &EpochMetrics, dim: usize) -> String {
        crate::train::nll_epoch_line(m, dim)
    }
}

/// A fitted pixel model.
#[derive(Debug)]
pub struct PixelModel {
    /// The network.
    pub net: PixelNet,
}

impl Model for PixelModel {
    fn num_params(&self) -> usize {
        self.net.num_params()
    }

    fn classes(&self) -> usize {
        self.net.classes()
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
        let (_, c) = pixel_config(config)?;
        if let Some(w) = data::check(c, config.data.pixels, set)? {
            eprintln!("{w}");
        }
        let v = nll_per_image(&self.net, &config.data, set, opts.seed)?;
        Ok(Some((v, NllMethod::ExactAutoregressive)))
    }

    /// Images generated pixel by pixel with the cached sampler.
    fn sample(
        &self,
        config: &RunConfig,
        n: usize,
        seed: u64,
        label: Option<usize>,
    ) -> Result<Vec<f32>> {
        let labels = super::sample_labels(config.model.kind(), self.net.classes(), n, label)?
            .map(|l| l.iter().map(|&c| c as u8).collect::<Vec<u8>>());
        let shape = config.image_shape()?;
        self.generate(&Generate {
            images: vec![0.0; n * shape.dim()],
            shape,
            start: 0,
            seed,
            labels: labels.as_deref(),
            naive: false,
            progress: false,
        })
    }

    fn autoregressive(&self) -> Option<&dyn Autoregressive> {
        Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Autoregressive for PixelModel {
    fn generate(&self, req: &Generate<'_>) -> Result<Vec<f32>> {
        let request = Request {
            images: req.images.clone(),
            shape: req.shape,
            start: req.start,
            seed: req.seed,
            labels: req.labels,
            progress: req.progress,
        };
        let method = if req.naive {
            Method::Naive
        } else {
            Method::Fast
        };
        sampler::generate(&self.net, &request, method)
    }

    /// One forward pass of the network per batch: its logits at every
    /// position are the conditionals (the masks make position i see x_<i only).
    fn conditionals(
        &self,
        images: &[f32],
        shape: Shape,
        labels: Option<&[u8]>,
    ) -> Result<PixelConditionals> {
        let net = &self.net;
        if shape.channels != net.colors() {
            return Err(Error::invalid(format!(
                "the images have {} colours but the model has {}",
                shape.channels,
                net.colors()
            )));
        }
        let n = super::check_conditionals(images, shape, net.classes(), labels)?;
        let (dim, device, output) = (shape.dim(), net.device(), net.output());
        let mut out = PixelConditionals {
            mean: Vec::with_capacity(images.len()),
            log_prob: Vec::with_capacity(images.len()),
        };
        for start in (0..n).step_by(CONDITIONALS_BATCH) {
            let rows = CONDITIONALS_BATCH.min(n - start);
            let nhwc = [rows, shape.height, shape.width, shape.channels];
            let x = to_nchw(&images[start * dim..(start + rows) * dim], nhwc, &device); // [rows, C, H, W]
            let labels = labels
                .map(|l| one_hot(&l[start..start + rows], net.classes(), &device))
                .transpose()?;
            let logits = net.forward(x.clone(), labels.as_ref()); // [rows, C·K, H, W]
            // Back to the images' layout: [rows, C, H, W] → [rows, H, W, C] → [rows, dim].
            let flat = |t: Tensor<4>| to_vec(t.permute([0, 2, 3, 1]).reshape([rows, dim]));
            out.mean.extend(flat(output.means(logits.clone()))?);
            out.log_prob.extend(flat(output.log_probs(logits, x))?);
        }
        Ok(out)
    }
}
