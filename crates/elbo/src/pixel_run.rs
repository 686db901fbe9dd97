//! A run folder of an autoregressive model (PixelCNN, Gated PixelCNN, Row
//! LSTM): sample, evaluate the exact NLL, complete half-images. Every CLI
//! command on such a run is one call here.

use std::path::Path;

use serde::Serialize;

use crate::data::ImageSet;
use crate::image::{GridLayout, save_grid};
use crate::models::pixel::sampler::{self, Method, Request};
use crate::models::pixel::{PixelNet, data};
use crate::run::{Model, Run};
use crate::{Error, Result};

/// The exact negative log-likelihood of a set of images.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PixelNll {
    /// Mean −log p(x) in nats per image.
    pub nats: f64,
    /// Standard error of that mean.
    pub std_error: f64,
    /// The same in bits per dimension: nats / (H·W·C · ln 2).
    pub bits_per_dim: f64,
    /// Images evaluated.
    pub images: usize,
}

impl Run {
    /// The autoregressive network; an error for runs of other families.
    pub fn pixel(&self) -> Result<&PixelNet> {
        match &self.model {
            Model::Pixel(p) => Ok(p),
            _ => Err(Error::invalid(format!(
                "{} holds a {} model: this command applies to pixelcnn, gated-pixelcnn and pixelrnn runs",
                self.dir.root.display(),
                self.config.model.kind()
            ))),
        }
    }

    /// Checks `set` against the model: shape, colours, binary values.
    /// Returns a warning to show for a usable but poor fit.
    pub fn check_pixel_data(&self, set: &ImageSet) -> Result<Option<String>> {
        self.check_shape(set)?;
        self.pixel()?;
        let (_, config) = self
            .config
            .model
            .pixel()
            .ok_or_else(|| Error::invalid("not a pixel model"))?;
        data::check(config, self.config.data.pixels, set)
    }

    /// The exact NLL of `set` (pixels prepared as in training).
    ///
    /// ```no_run
    /// use elbo::run::{test_images, Run};
    ///
    /// let run = Run::load("runs/pixelcnn".as_ref())?;
    /// let nll = run.pixel_nll(&test_images(&run, None)?, 0)?;
    /// println!("{:.2} nats, {:.4} bits/dim", nll.nats, nll.bits_per_dim);
    /// # Ok::<(), elbo::Error>(())
    /// ```
    pub fn pixel_nll(&self, set: &ImageSet, seed: u64) -> Result<PixelNll> {
        self.check_pixel_data(set)?;
        let v = crate::train::pixel_trainer::pixel_nll_per_image(
            self.pixel()?,
            &self.config,
            set,
            seed,
        )?;
        let est = crate::eval::iwae::summarize(&v, set.dim(), 1);
        Ok(PixelNll {
            nats: est.nats,
            std_error: est.std_error,
            bits_per_dim: est.bits_per_dim,
            images: est.images,
        })
    }

    /// `n` images generated pixel by pixel, `[n, H, W, C]`; `label` picks
    /// the class of a conditional model (default: image i gets class i mod classes).
    pub fn pixel_sample(
        &self,
        n: usize,
        seed: u64,
        label: Option<u8>,
        method: Method,
        progress: bool,
    ) -> Result<Vec<f32>> {
        let net = self.pixel()?;
        let shape = self.shape()?;
        let labels = sample_labels(net, n, label)?;
        let req = Request {
            images: vec![0.0; n * shape.dim()],
            shape,
            start: 0,
            seed,
            labels: labels.as_deref(),
            progress,
        };
        sampler::generate(net, &req, method)
    }
}

fn sample_labels(net: &PixelNet, n: usize, label: Option<u8>) -> Result<Option<Vec<u8>>> {
    let classes = net.classes();
    match (classes, label) {
        (0, None) => Ok(None),
        (0, Some(_)) => Err(Error::invalid(
            "--label needs a class-conditional model (train gated-pixelcnn with --classes)",
        )),
        (c, Some(l)) if usize::from(l) >= c => Err(Error::invalid(format!(
            "label {l} is out of range: the model knows classes 0..{c}"
        ))),
        (_, Some(l)) => Ok(Some(vec![l; n])),
        (c, None) => Ok(Some((0..n).map(|i| (i % c) as u8).collect())),
    }
}

/// A warning when the images of `spec` have other colours than the model's:
/// the loader converts them (RGB to luma for a grey model, grey replicated
/// for an RGB one), which works but is rarely what was meant.
pub fn colour_warning(run: &Run, spec: &crate::data::DataSpec) -> Result<Option<String>> {
    let mut data = run.config.data.clone();
    data.spec = spec.clone();
    data.rgb = true;
    let set = data.load()?.test;
    let grey_source = set
        .pixels
        .chunks_exact(3)
        .all(|p| p[0] == p[1] && p[1] == p[2]);
    Ok(match (run.config.data.rgb, grey_source) {
        (false, false) => Some(format!(
            "warning: '{spec}' holds RGB images but the model is grey: they are converted to grey (luma)"
        )),
        (true, true) => Some(format!(
            "warning: '{spec}' holds grey images but the model is RGB: the grey value is used for R, G and B"
        )),
        _ => None,
    })
}

/// Writes `n` samples as a grid PNG; returns its (width, height).
///
/// ```no_run
/// use elbo::models::pixel::sampler::Method;
/// use elbo::run::Run;
///
/// let run = Run::load("runs/pixelcnn".as_ref())?;
/// elbo::pixel_run::save_pixel_samples(&run, 64, 0, None, Method::Fast, "samples.png".as_ref(), true)?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_pixel_samples(
    run: &Run,
    n: usize,
    seed: u64,
    label: Option<u8>,
    method: Method,
    out: &Path,
    progress: bool,
) -> Result<(u32, u32)> {
    let shape = run.shape()?;
    let pixels = run.pixel_sample(n, seed, label, method, progress)?;
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    save_grid(out, &pixels, shape, GridLayout::new(cols, shape))
}

/// The classic PixelRNN picture: for the first `n` images of `set`, the top
/// `fraction` of the rows is given and the model generates the rest. Writes
/// three rows (given part, completion, original) and returns the PNG's size.
///
/// ```no_run
/// use elbo::models::pixel::sampler::Method;
/// use elbo::run::{test_images, Run};
///
/// let run = Run::load("runs/pixelcnn".as_ref())?;
/// let test = test_images(&run, None)?;
/// elbo::pixel_run::save_completions(&run, &test, 8, 0.5, 0, Method::Fast, "complete.png".as_ref(), true)?;
/// # Ok::<(), elbo::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn save_completions(
    run: &Run,
    set: &ImageSet,
    n: usize,
    fraction: f64,
    seed: u64,
    method: Method,
    out: &Path,
    progress: bool,
) -> Result<(u32, u32)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::invalid(format!(
            "the given fraction must be strictly between 0 and 1, got {fraction}"
        )));
    }
    if let Some(w) = run.check_pixel_data(set)? {
        eprintln!("{w}");
    }
    let (shape, net) = (run.shape()?, run.pixel()?);
    let n = n.min(set.n).max(1);
    let dim = shape.dim();
    let original = run.config.data.pixels.prepare(set, seed)[..n * dim].to_vec();
    let rows = ((shape.height as f64 * fraction).round() as usize).clamp(1, shape.height - 1);
    let keep = rows * shape.width * shape.channels;
    let mut given = original.clone();
    for img in given.chunks_mut(dim) {
        img[keep..].fill(0.0);
    }
    let labels = match (net.classes(), &set.labels) {
        (0, _) => None,
        (_, Some(l)) => Some(l[..n].to_vec()),
        (_, None) => {
            return Err(Error::invalid(
                "this model is conditional but the data has no labels",
            ));
        }
    };
    let req = Request {
        images: given.clone(),
        shape,
        start: rows * shape.width,
        seed,
        labels: labels.as_deref(),
        progress,
    };
    let completed = sampler::generate(net, &req, method)?;
    let grid: Vec<f32> = given.into_iter().chain(completed).chain(original).collect();
    save_grid(out, &grid, shape, GridLayout::new(n, shape))
}

/// Writes `samples.png` (64 fast samples) into a pixel model's run folder.
pub fn save_pixel_pictures(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let run = Run::load(dir)?;
    let path = dir.join("samples.png");
    save_pixel_samples(&run, 64, 0, None, Method::Fast, &path, false)?;
    Ok(vec![path])
}
