//! The model families, each in its own module, all behind two traits:
//!
//! - [`Family`]: what a family is before a model exists: it validates its
//!   config section (and rejects training settings that do not apply to
//!   it), resolves it against the data, names it, fits it into a run
//!   folder (or continues one), and loads a fitted model back.
//! - [`Model`]: a fitted model of any family: its likelihood on a set of
//!   images (one [`Nll`] type, with how it was obtained), samples, its size,
//!   and optional capabilities: a latent space ([`Latent`]: encode, decode)
//!   and autoregressive generation ([`Autoregressive`]: completion).
//!
//! Adding a family: a module here with its config, its network and the two
//! impls, a variant in [`ModelConfig`] and one line in
//! [`ModelConfig::family`]. Nothing else names the families one by one.

pub mod ae;
mod config;
mod footprint;
pub mod mixture;
pub mod mixture_select;
pub mod mixture_select_plot;
pub mod nade;
mod nets;
mod network;
pub mod pixel;
pub mod vae;

use std::any::Any;
use std::fmt::Debug;

use burn::tensor::{Device, Tensor};

pub use config::{ModelConfig, RunConfig};

use crate::data::{ImageSet, Splits};
use crate::eval::{EvalOptions, Evaluation, Nll};
use crate::folder::{RunDir, TrainState};
use crate::image::Shape;
use crate::train::{TrainOptions, TrainOutcome};
use crate::{Error, Result};

/// A model family: everything elbo does with a model before it exists.
pub trait Family: Sync {
    /// Checks the model section of `config`, and that the training settings
    /// that do not apply to this family are left at their defaults.
    fn validate(&self, config: &RunConfig) -> Result<()>;

    /// Fills in what comes from the data (input sizes, classes); the image
    /// shape and batch size are checked before this is called.
    fn resolve(&self, _config: &mut RunConfig, _splits: &Splits) -> Result<()> {
        Ok(())
    }

    /// A name for tables: the family and its sizes.
    fn display_name(&self, config: &RunConfig) -> String;

    /// Fits a model of the resolved `config` on `splits` into `dir`, from
    /// scratch or, with `resume`, from that checkpoint.
    fn fit(&self, job: FitJob<'_>) -> Result<TrainOutcome>;

    /// The fitted model whose `config.toml` is `config`, from the weights in `dir`.
    fn load(&self, config: &RunConfig, dir: &RunDir, device: &Device) -> Result<Box<dyn Model>>;
}

/// What [`Family::fit`] works on.
pub struct FitJob<'a> {
    /// The resolved, validated config (already saved in `dir`).
    pub config: &'a RunConfig,
    /// The run folder.
    pub dir: &'a RunDir,
    /// Its write lock, held by this process for the whole fit.
    pub lock: &'a crate::folder::WriteLock,
    /// The data, split.
    pub splits: Splits,
    /// Where training continues from; `None` for a new run.
    pub resume: Option<Checkpoint>,
    /// Quiet, force.
    pub opts: &'a TrainOptions,
}

/// A checkpoint read back from a run folder for resuming.
pub struct Checkpoint {
    /// How far training got.
    pub state: TrainState,
    /// `model.safetensors`.
    pub model: Vec<u8>,
    /// `optimizer.bpk`.
    pub optimizer: Vec<u8>,
}

/// A fitted model of any family.
pub trait Model: Debug + Send + Sync {
    /// Free parameters.
    fn num_params(&self) -> usize;

    /// Classes of a class-conditional model; 0 for any other.
    fn classes(&self) -> usize {
        0
    }

    /// Scores the images of `set` (pixels prepared as in training).
    fn evaluate(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Evaluation>;

    /// −log P(x) per image of `set` and how it was obtained; `None` for a
    /// model without a likelihood (the plain autoencoder).
    fn nll_per_image(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Option<(Vec<f64>, crate::eval::NllMethod)>>;

    /// `n` images drawn from the model, `[n, dim]` values in [0, 1]: pixel
    /// probabilities or means where the model has them (a VAE's decoder, a
    /// Bernoulli mixture's component), else the drawn pixels. `label` picks
    /// the class of a conditional model (default: image i gets class i mod
    /// classes); it is an error for any other.
    fn sample(
        &self,
        config: &RunConfig,
        n: usize,
        seed: u64,
        label: Option<usize>,
    ) -> Result<Vec<f32>>;

    /// The latent space, for models that have one.
    fn latent(&self) -> Option<&dyn Latent> {
        None
    }

    /// Pixel-by-pixel generation, for autoregressive models.
    fn autoregressive(&self) -> Option<&dyn Autoregressive> {
        None
    }

    /// The concrete model, for family-specific commands.
    fn as_any(&self) -> &dyn Any;
}

/// A model with an encoder and a decoder (VAE, autoencoder).
pub trait Latent {
    /// Code dimensions (without a conditional model's label).
    fn latent_dim(&self) -> usize;

    /// Whether codes follow a prior N(0, I) (a VAE), so that decoding a
    /// draw from it is a sample.
    fn has_prior(&self) -> bool;

    /// The code of each input row `x: [n, width]`: the posterior mean (with
    /// a conditional model's label appended), or the autoencoder's code.
    fn codes(&self, x: Tensor<2>) -> Result<Tensor<2>>;

    /// The decoder's mean image for codes `z`: `[n, dim]`.
    fn decode_probs(&self, z: Tensor<2>) -> Result<Tensor<2>>;
}

/// A model that generates an image pixel by pixel.
pub trait Autoregressive {
    /// Keeps the first `start` pixel positions (row-major, all channels) of
    /// every image of `req` and generates the rest.
    fn generate(&self, req: &Generate<'_>) -> Result<Vec<f32>>;

    /// Every pixel's conditional p(x_i | x_<i) for each image `[n, H, W,
    /// C]` of `images`, all positions in one forward pass (what a masked
    /// network computes anyway). Position i depends on the pixels before i
    /// only (and on a pixel's earlier colours), never on x_i or later ones:
    /// for a partial image whose first k pixels are known (the rest
    /// anything), positions up to k are the model's conditionals of that
    /// partial image, and position k is the next pixel's. `labels`: one
    /// class per image, for a conditional model.
    fn conditionals(
        &self,
        images: &[f32],
        shape: Shape,
        labels: Option<&[u8]>,
    ) -> Result<PixelConditionals>;
}

/// The conditionals of [`Autoregressive::conditionals`], both `[n, H, W, C]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelConditionals {
    /// P(x_i = 1 | x_<i) for a Bernoulli pixel; E[x_i | x_<i] in [0, 1]
    /// (the 256-way distribution's mean of k/255) for an 8-bit one.
    pub mean: Vec<f32>,
    /// log p(x_i | x_<i) of the value each image holds at i, in nats: their
    /// sum over an image is its exact log-likelihood (PixelRNN paper eq. 1).
    pub log_prob: Vec<f32>,
}

/// Checks a conditionals request: whole images of `shape` with values in
/// [0, 1], and labels exactly when the model has `classes` > 0 (one per
/// image, in range). The number of images.
pub(crate) fn check_conditionals(
    images: &[f32],
    shape: Shape,
    classes: usize,
    labels: Option<&[u8]>,
) -> Result<usize> {
    let dim = shape.dim();
    if dim == 0 || images.is_empty() || !images.len().is_multiple_of(dim) {
        return Err(Error::invalid(format!(
            "expected whole images of {dim} values, got {}",
            images.len()
        )));
    }
    if images.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(Error::invalid("pixel values must be in [0, 1]"));
    }
    let n = images.len() / dim;
    match (classes, labels) {
        (0, Some(_)) => Err(Error::invalid(
            "this model is not conditional: it takes no label",
        )),
        (c, None) if c > 0 => Err(Error::invalid("this model is conditional: give a label")),
        (c, Some(l)) if l.len() != n || l.iter().any(|&v| usize::from(v) >= c) => Err(
            Error::invalid(format!("labels must be one per image, each in 0..{c}")),
        ),
        _ => Ok(n),
    }
}

/// A generation request: images `[n, H, W, C]`, their given part, labels.
#[derive(Debug, Clone)]
pub struct Generate<'a> {
    /// `[n, H, W, C]` values; positions from `start` on are overwritten.
    pub images: Vec<f32>,
    /// Image shape.
    pub shape: Shape,
    /// Pixel positions (row-major) that are given.
    pub start: usize,
    /// Seeds the draws.
    pub seed: u64,
    /// Class of each image, for a conditional model.
    pub labels: Option<&'a [u8]>,
    /// The naive loop (the whole network per pixel) instead of a cached
    /// sampler, where a family has both.
    pub naive: bool,
    /// A progress bar on stderr.
    pub progress: bool,
}

/// The error for a training setting that applies to the VAE only.
pub(crate) fn reject_vae_settings(config: &RunConfig) -> Result<()> {
    let t = &config.train;
    if t.beta != 1.0 || t.warmup_epochs > 0 || t.free_bits > 0.0 || t.iwae_samples > 1 {
        let who = match config.model.kind() {
            "ae" => "the autoencoder".to_string(),
            kind => format!("a {kind} model"),
        };
        return Err(Error::invalid(format!(
            "{who} has no KL term: beta, warm-up, free bits and IWAE samples apply to the VAE only"
        )));
    }
    Ok(())
}

/// "a" or "an" before a family name in a sentence ("an ae model").
pub fn article(kind: &str) -> &'static str {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// The error for a label asked of a model that has no classes.
pub(crate) fn no_label(kind: &str) -> Error {
    Error::invalid(format!(
        "--label needs a class-conditional model, but this is {} {kind} model",
        article(kind)
    ))
}

/// The label of image `i` of a sample of a conditional model with
/// `classes` classes: `label`, or the classes in turn.
pub(crate) fn sample_labels(
    kind: &str,
    classes: usize,
    n: usize,
    label: Option<usize>,
) -> Result<Option<Vec<usize>>> {
    match (classes, label) {
        (0, None) => Ok(None),
        (0, Some(_)) => Err(no_label(kind)),
        (c, Some(l)) if l >= c => Err(Error::invalid(format!(
            "label {l} is outside the {c} classes the model was trained on (0..{c}, i.e. 0..={})",
            c - 1
        ))),
        (_, Some(l)) => Ok(Some(vec![l; n])),
        (c, None) => Ok(Some((0..n).map(|i| i % c).collect())),
    }
}

/// Summarizes per-image values as an [`Nll`].
pub(crate) fn summarize(
    values: Option<(Vec<f64>, crate::eval::NllMethod)>,
    dim: usize,
) -> Option<Nll> {
    values.map(|(v, method)| Nll::from_per_image(&v, dim, method))
}

/// The evaluation of a model with an exact likelihood: its NLL, and the
/// same as the loss (KL 0).
pub(crate) fn exact_evaluation(
    model: &dyn Model,
    config: &RunConfig,
    set: &ImageSet,
    opts: &EvalOptions,
) -> Result<Evaluation> {
    let nll = summarize(model.nll_per_image(config, set, opts)?, set.dim());
    let loss = nll.as_ref().map(|n| crate::folder::LossSummary {
        loss: n.nats,
        recon: n.nats,
        kl: 0.0,
        images: n.images,
    });
    Ok(Evaluation {
        kind: config.model.kind().into(),
        images: set.n,
        nll,
        loss,
        parameters: model.num_params(),
        mixture: None,
    })
}

/// The error for `--iwae` on a model whose likelihood is exact.
pub(crate) fn refuse_iwae(config: &RunConfig, opts: &EvalOptions) -> Result<()> {
    if opts.iwae_samples.is_some() {
        return Err(Error::invalid(format!(
            "--iwae needs a VAE (it estimates a likelihood by importance sampling); {} {} model has an exact likelihood (or a dequantized density bound), computed directly: use plain `elbo eval`",
            article(config.model.kind()),
            config.model.kind()
        )));
    }
    Ok(())
}
