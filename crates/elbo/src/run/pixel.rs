//! What commands ask of an autoregressive run (PixelCNN, Gated PixelCNN,
//! Row LSTM, NADE): samples with a chosen sampler, and completions of
//! half-given images.

use std::path::Path;

use crate::data::ImageSet;
use crate::families::{Autoregressive, Generate, PixelConditionals};
use crate::image::save_grid;
use crate::run::Run;
use crate::{Error, Result};

impl Run {
    /// The pixel-by-pixel generator; an error for runs of other families.
    pub fn autoregressive(&self) -> Result<&dyn Autoregressive> {
        self.model.autoregressive().ok_or_else(|| {
            Error::invalid(format!(
                "{} holds a {} model: this command applies to autoregressive runs (pixelcnn, gated-pixelcnn, pixelrnn, nade)",
                self.dir.root.display(),
                self.kind()
            ))
        })
    }

    /// `n` images generated pixel by pixel, `[n, H, W, C]`; `label` picks
    /// the class of a conditional model (default: image i gets class i mod
    /// classes); `naive` runs the whole network per pixel.
    pub fn pixel_sample(
        &self,
        n: usize,
        seed: u64,
        label: Option<usize>,
        naive: bool,
        progress: bool,
    ) -> Result<Vec<f32>> {
        let generator = self.autoregressive()?;
        if label.is_some() && self.model.classes() == 0 {
            return Err(self.no_label());
        }
        self.check_sample_memory(n)?;
        let shape = self.shape()?;
        let labels = crate::families::sample_labels(self.kind(), self.model.classes(), n, label)?
            .map(|l| l.iter().map(|&c| c as u8).collect::<Vec<u8>>());
        generator.generate(&Generate {
            images: vec![0.0; n * shape.dim()],
            shape,
            start: 0,
            seed,
            labels: labels.as_deref(),
            naive,
            progress,
        })
    }

    /// p(x_i | x_<i) at every position of images `[n, H, W, C]` with values
    /// in [0, 1], after preparing them as the model saw pixels in training
    /// (binarized for a binary model, with `seed` for dynamic binarization);
    /// `label` is the class of a conditional model. Returns the prepared
    /// images and their conditionals.
    pub fn pixel_conditionals(
        &self,
        images: &[f32],
        seed: u64,
        label: Option<usize>,
    ) -> Result<(Vec<f32>, PixelConditionals)> {
        let generator = self.autoregressive()?;
        let shape = self.shape()?;
        let dim = shape.dim();
        if dim == 0 || images.is_empty() || !images.len().is_multiple_of(dim) {
            return Err(Error::invalid(format!(
                "expected whole images of {dim} values, got {}",
                images.len()
            )));
        }
        let n = images.len() / dim;
        let labels = match (self.model.classes(), label) {
            (0, None) => None,
            (0, Some(_)) => return Err(self.no_label()),
            (c, l) => {
                let l = l.unwrap_or(0);
                if l >= c {
                    return Err(Error::invalid(format!(
                        "label {l} is outside the model's {c} classes"
                    )));
                }
                Some(vec![l as u8; n])
            }
        };
        let set = ImageSet {
            pixels: images.to_vec(),
            n,
            height: shape.height,
            width: shape.width,
            channels: shape.channels,
            labels: None,
            levels: 256,
        };
        let prepared = self.config.data.pixels.prepare(&set, seed);
        let conditionals = generator.conditionals(&prepared, shape, labels.as_deref())?;
        Ok((prepared, conditionals))
    }
}

impl Run {
    /// Completes images `[n, H, W, C]` (values in [0, 1]) whose first
    /// `rows` rows are given: every later pixel is drawn from the model,
    /// pixel by pixel. `labels`: the class of each image, for a
    /// conditional model.
    pub fn complete(
        &self,
        images: Vec<f32>,
        rows: usize,
        seed: u64,
        labels: Option<&[u8]>,
    ) -> Result<Vec<f32>> {
        let (shape, generator) = (self.shape()?, self.autoregressive()?);
        let dim = shape.dim();
        if images.is_empty() || !images.len().is_multiple_of(dim) {
            return Err(Error::invalid(format!(
                "expected whole images of {dim} values, got {}",
                images.len()
            )));
        }
        if rows == 0 || rows >= shape.height {
            return Err(Error::invalid(format!(
                "the given rows must be between 1 and {} (the images have {} rows), got {rows}",
                shape.height - 1,
                shape.height
            )));
        }
        if self.model.classes() > 0 && labels.is_none() {
            return Err(Error::invalid(format!(
                "{} is conditional on class labels: give one per image",
                self.dir.root.display()
            )));
        }
        self.check_sample_memory(images.len() / dim)?;
        generator.generate(&Generate {
            images,
            shape,
            start: rows * shape.width,
            seed,
            labels,
            naive: false,
            progress: false,
        })
    }
}

/// A warning when the images of `spec` have other colours than the model's:
/// the loader converts them (RGB to luma for a grey model, grey replicated
/// for an RGB one), which works but is rarely what was meant.
pub fn colour_warning(run: &Run, spec: &crate::data::DataSpec) -> Result<Option<String>> {
    let mut data = run.config.data.clone();
    data.spec = spec.clone();
    data.rgb = true;
    // All of a single file (a one-image file has no split to hold out).
    data.test_fraction = 0.0;
    let splits = data.load()?;
    let set = if splits.test.n > 0 {
        splits.test
    } else {
        splits.train
    };
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
/// use elbo::run::Run;
///
/// let run = Run::load("runs/pixelcnn".as_ref())?;
/// elbo::run::pixel::save_pixel_samples(&run, 64, 0, None, false, "samples.png".as_ref(), true)?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_pixel_samples(
    run: &Run,
    n: usize,
    seed: u64,
    label: Option<usize>,
    naive: bool,
    out: &Path,
    progress: bool,
) -> Result<(u32, u32)> {
    let shape = run.shape()?;
    let pixels = run.pixel_sample(n, seed, label, naive, progress)?;
    let cols = (n as f64).sqrt().ceil().max(1.0) as usize;
    save_grid(out, &pixels, shape, run.layout(cols, shape))
}

/// The classic PixelRNN picture: for the first `n` images of `set`, the top
/// `fraction` of the rows is given and the model generates the rest. Writes
/// three rows (given part, completion, original) and returns the PNG's size.
///
/// ```no_run
/// use elbo::run::{test_images, Run};
///
/// let run = Run::load("runs/pixelcnn".as_ref())?;
/// let test = test_images(&run, None)?;
/// elbo::run::pixel::save_completions(&run, &test, 8, 0.5, 0, false, "complete.png".as_ref(), true)?;
/// # Ok::<(), elbo::Error>(())
/// ```
#[allow(clippy::too_many_arguments)]
pub fn save_completions(
    run: &Run,
    set: &ImageSet,
    n: usize,
    fraction: f64,
    seed: u64,
    naive: bool,
    out: &Path,
    progress: bool,
) -> Result<(u32, u32)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::invalid(format!(
            "the given fraction must be strictly between 0 and 1, got {fraction}"
        )));
    }
    run.check_shape(set)?;
    let (shape, generator) = (run.shape()?, run.autoregressive()?);
    let n = n.min(set.n).max(1);
    let dim = shape.dim();
    let original = run.config.data.pixels.prepare(set, seed)[..n * dim].to_vec();
    let rows = ((shape.height as f64 * fraction).round() as usize).clamp(1, shape.height - 1);
    let keep = rows * shape.width * shape.channels;
    let mut given = original.clone();
    for img in given.chunks_mut(dim) {
        img[keep..].fill(0.0);
    }
    let labels = match (run.model.classes(), &set.labels) {
        (0, _) => None,
        (_, Some(l)) => Some(l[..n].to_vec()),
        (_, None) => {
            return Err(Error::invalid(
                "this model is conditional but the data has no labels",
            ));
        }
    };
    let completed = generator.generate(&Generate {
        images: given.clone(),
        shape,
        start: rows * shape.width,
        seed,
        labels: labels.as_deref(),
        naive,
        progress,
    })?;
    let grid: Vec<f32> = given.into_iter().chain(completed).chain(original).collect();
    save_grid(out, &grid, shape, run.layout(n, shape))
}
