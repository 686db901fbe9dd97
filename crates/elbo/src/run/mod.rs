//! The typed API over a run folder, the one the CLI, the report and any
//! binding call: train or resume into a folder ([`train`], [`resume`]),
//! load it ([`Run::load`]), and use the model whatever its family:
//! [`Run::evaluate`] (one [`Evaluation`] schema), [`Run::sample`], and for
//! latent families [`Run::reconstruct`] and [`Run::interpolate`].

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};

use crate::data::ImageSet;
use crate::eval::{EvalOptions, Evaluation, to_vec};
use crate::families::{Model, RunConfig};
use crate::folder::RunDir;
use crate::image::{GridLayout, Shape, save_grid};
use crate::{Error, Result};

mod compare;
mod images;
mod model_ops;
pub mod pixel;
mod train;

pub use compare::save_ae_comparison;
pub use images::{Split, eval_images};
pub use model_ops::save_label_samples;
pub use train::{resume, train};

/// A run folder loaded for inference.
#[derive(Debug)]
pub struct Run {
    /// Where it lives.
    pub dir: RunDir,
    /// Its `config.toml`.
    pub config: RunConfig,
    /// The fitted model.
    pub model: Box<dyn Model>,
    /// The device the weights are on.
    pub device: Device,
    /// Pixel scale of the pictures drawn from it (`--scale`); `None` for
    /// [`crate::image::readable_scale`].
    pub scale: Option<usize>,
}

impl Run {
    /// Loads `config.toml` and `model.safetensors` from `dir`; no other
    /// input is needed.
    ///
    /// ```no_run
    /// let run = elbo::run::Run::load("runs/vae".as_ref())?;
    /// let pixels = run.sample(16, 0)?; // [16, height * width * channels]
    /// # Ok::<(), elbo::Error>(())
    /// ```
    pub fn load(dir: &Path) -> Result<Run> {
        let dir = RunDir::new(dir);
        let config = RunConfig::load_from(&dir)?;
        config.image_shape()?;
        config.check_memory(0)?;
        let device = crate::device::default_device();
        let model = config.model.family().load(&config, &dir, &device)?;
        Ok(Run {
            dir,
            config,
            model,
            device,
            scale: None,
        })
    }

    /// This run, drawing its pictures at `scale` when given.
    pub fn with_scale(self, scale: Option<usize>) -> Run {
        Run { scale, ..self }
    }

    /// A grid of `cols` columns at the run's picture scale.
    pub fn layout(&self, cols: usize, shape: Shape) -> GridLayout {
        GridLayout::new(cols, shape).with_scale(self.scale)
    }

    /// The family name (`vae`, `gmm`, `pixelcnn`, ...).
    pub fn kind(&self) -> &'static str {
        self.config.model.kind()
    }

    /// A name for tables: the family and its sizes.
    pub fn display_name(&self) -> String {
        self.config.model.family().display_name(&self.config)
    }

    /// Scores the images of `set` (pixels prepared as in training): the
    /// NLL and how it was obtained, the training objective, the size.
    ///
    /// ```no_run
    /// use elbo::eval::EvalOptions;
    /// use elbo::run::{test_images, Run};
    ///
    /// let run = Run::load("runs/vae".as_ref())?;
    /// let opts = EvalOptions { seed: 0, iwae_samples: Some(5000) };
    /// let e = run.evaluate(&test_images(&run, None)?, &opts)?;
    /// if let Some(nll) = e.nll {
    ///     println!("{:.2} ± {:.2} nats ({})", nll.nats, nll.std_error, nll.method.describe());
    /// }
    /// # Ok::<(), elbo::Error>(())
    /// ```
    pub fn evaluate(&self, set: &ImageSet, opts: &EvalOptions) -> Result<Evaluation> {
        self.check_shape(set)?;
        self.check_not_empty(set)?;
        self.model.evaluate(&self.config, set, opts)
    }

    /// −log P(x) per image of `set` and how it was obtained (`None` for a
    /// model without a likelihood).
    pub fn nll_per_image(
        &self,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Option<(Vec<f64>, crate::eval::NllMethod)>> {
        self.check_shape(set)?;
        self.check_not_empty(set)?;
        self.model.nll_per_image(&self.config, set, opts)
    }

    /// The shape of the images this model was trained on.
    pub fn shape(&self) -> Result<Shape> {
        self.config.image_shape()
    }

    /// `n` images drawn from the model, `[n, dim]` row-major (see
    /// [`Model::sample`]). A conditional model draws labels 0, 1, ... in
    /// turn; see [`Run::sample_label`].
    pub fn sample(&self, n: usize, seed: u64) -> Result<Vec<f32>> {
        self.sample_label(n, seed, None)
    }

    /// `n` images drawn from the model, of class `label` for a conditional
    /// model (labels 0, 1, ... in turn when `None`); a label for any other
    /// model is an error.
    pub fn sample_label(&self, n: usize, seed: u64, label: Option<usize>) -> Result<Vec<f32>> {
        if label.is_some() && self.model.classes() == 0 {
            return Err(self.no_label());
        }
        self.check_sample_memory(n)?;
        self.model.sample(&self.config, n, seed, label)
    }

    /// The error for `--label` on a model without classes, naming the run.
    pub(crate) fn no_label(&self) -> Error {
        Error::invalid(format!(
            "--label needs a conditional model, but {} holds {} {} model trained without labels",
            self.dir.root.display(),
            crate::families::article(self.kind()),
            self.kind()
        ))
    }

    /// Encodes input rows `images` (`[n, dim]`, each followed by its one-hot
    /// label for a conditional model: see [`Run::inputs`]) to their codes
    /// (posterior means) and decodes them: the reconstructions, `[n, dim]`.
    pub fn reconstruct(&self, images: &[f32]) -> Result<Vec<f32>> {
        let latent = self.latent()?;
        let codes = latent.codes(self.batch(images)?)?; // [n, latent (+ classes)]
        to_vec(latent.decode_probs(codes)?)
    }

    /// Decodes `steps` evenly spaced points on the line between the codes
    /// (posterior means, with the label of a conditional model) of input
    /// rows `a` and `b`: `[steps, dim]`.
    pub fn interpolate(&self, a: &[f32], b: &[f32], steps: usize) -> Result<Vec<f32>> {
        let latent = self.latent()?;
        if steps < 2 {
            return Err(Error::invalid("interpolation needs at least 2 steps"));
        }
        let pair: Vec<f32> = a.iter().chain(b).copied().collect();
        let codes = latent.codes(self.batch(&pair)?)?; // [2, code]
        let t: Vec<f32> = (0..steps).map(|i| i as f32 / (steps - 1) as f32).collect();
        let t = Tensor::<2>::from_data(TensorData::new(t, [steps, 1]), &self.device); // [steps, 1]
        let za = codes.clone().narrow(0, 0, 1); // [1, code]
        let zb = codes.narrow(0, 1, 1); // [1, code]
        let z = za.clone() + (zb - za) * t; // [steps, code]
        to_vec(latent.decode_probs(z)?)
    }

    /// Refuses images of another shape than the model's.
    pub fn check_shape(&self, set: &ImageSet) -> Result<()> {
        let s = self.shape()?;
        if (set.height, set.width, set.channels) != (s.height, s.width, s.channels) {
            return Err(Error::invalid(format!(
                "the data holds {}x{}x{} images but the model in {} was trained on {}x{}x{}",
                set.height,
                set.width,
                set.channels,
                self.dir.root.display(),
                s.height,
                s.width,
                s.channels
            )));
        }
        Ok(())
    }

    /// A score over no images would read as a loss of 0: refused instead.
    fn check_not_empty(&self, set: &ImageSet) -> Result<()> {
        if set.n > 0 {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "no images to evaluate: the run in {} has no test images (test fraction {}); pass --data to evaluate other images",
            self.dir.root.display(),
            self.config.data.test_fraction
        )))
    }

    pub(crate) fn batch(&self, images: &[f32]) -> Result<Tensor<2>> {
        let dim = self.shape()?.dim() + self.model.classes();
        if images.is_empty() || !images.len().is_multiple_of(dim) {
            return Err(Error::invalid(format!(
                "expected whole images of {dim} values, got {}",
                images.len()
            )));
        }
        let data = TensorData::new(images.to_vec(), [images.len() / dim, dim]);
        Ok(Tensor::from_data(data, &self.device)) // [n, dim]
    }
}

/// Writes `n` samples as a grid PNG; returns its (width, height).
///
/// ```no_run
/// use elbo::run::{save_samples, Run};
///
/// let run = Run::load("runs/vae".as_ref())?;
/// save_samples(&run, 64, 0, "samples.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_samples(run: &Run, n: usize, seed: u64, out: &Path) -> Result<(u32, u32)> {
    let shape = run.shape()?;
    let pixels = run.sample(n, seed)?;
    save_grid(out, &pixels, shape, run.layout(cols_for(n), shape))
}

/// Writes the first `n` images of `set` above their reconstructions, eight
/// per row pair; returns the PNG's (width, height).
///
/// ```no_run
/// use elbo::run::{save_reconstructions, test_images, Run};
///
/// let run = Run::load("runs/vae".as_ref())?;
/// let test = test_images(&run, None)?; // the run's own test split
/// save_reconstructions(&run, &test, 16, 0, "recon.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_reconstructions(
    run: &Run,
    set: &ImageSet,
    n: usize,
    seed: u64,
    out: &Path,
) -> Result<(u32, u32)> {
    run.check_shape(set)?;
    let n = n.min(set.n);
    let dim = set.dim();
    let (rows, width) = run.inputs(set, seed)?;
    let inputs = run.config.data.pixels.prepare(set, seed)[..n * dim].to_vec();
    let recon = run.reconstruct(&rows[..n * width])?;
    let cols = 8.min(n.max(1));
    let mut grid = Vec::with_capacity(2 * n * dim);
    for start in (0..n).step_by(cols) {
        let end = (start + cols).min(n);
        grid.extend_from_slice(&inputs[start * dim..end * dim]);
        grid.extend_from_slice(&recon[start * dim..end * dim]);
        grid.resize(grid.len() + (cols - (end - start)) * dim, 0.0);
    }
    let shape = run.shape()?;
    // Each row of inputs above its row of reconstructions, pairs set apart.
    save_grid(out, &grid, shape, run.layout(cols, shape).grouped(2))
}

/// Writes image `a`, the decoded path from `a` to `b` in `steps` points, then
/// image `b`, as one strip; returns the PNG's (width, height).
///
/// ```no_run
/// use elbo::run::{default_pair, save_interpolation, test_images, Run};
///
/// let run = Run::load("runs/vae".as_ref())?;
/// let test = test_images(&run, None)?;
/// let (a, b) = default_pair(&test);
/// save_interpolation(&run, &test, a, b, 10, "path.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_interpolation(
    run: &Run,
    set: &ImageSet,
    a: usize,
    b: usize,
    steps: usize,
    out: &Path,
) -> Result<(u32, u32)> {
    run.check_shape(set)?;
    run.check_images_memory(steps.checked_add(2), "decoding", "path images", "--steps")?;
    for i in [a, b] {
        if i >= set.n {
            return Err(Error::invalid(format!(
                "image index {i} is out of range: the set holds {} images",
                set.n
            )));
        }
    }
    let path = run.interpolate(&run.row(set, a)?, &run.row(set, b)?, steps)?;
    let strip: Vec<f32> = set
        .image(a)
        .iter()
        .chain(&path)
        .chain(set.image(b))
        .copied()
        .collect();
    let shape = run.shape()?;
    save_grid(out, &strip, shape, run.layout(steps + 2, shape))
}

/// Two test images to interpolate between by default: the first image and
/// the first later one with a different label (different digits show the
/// path best).
pub fn default_pair(set: &ImageSet) -> (usize, usize) {
    let b = match &set.labels {
        Some(l) if !l.is_empty() => l.iter().position(|&v| v != l[0]).unwrap_or(1),
        _ => 1,
    };
    (0, b.min(set.n.saturating_sub(1)))
}

fn cols_for(n: usize) -> usize {
    (n as f64).sqrt().ceil().max(1.0) as usize
}

/// The model's parameter count.
pub fn num_params(run: &Run) -> usize {
    run.model.num_params()
}

/// The test split of `spec` (or of the run's own data), loaded as the run was.
pub fn test_images(run: &Run, spec: Option<&crate::data::DataSpec>) -> Result<ImageSet> {
    split_images(run, spec, false)
}

/// The training (`train = true`) or test split of `spec` (or of the run's
/// own data), loaded as the run was.
pub fn split_images(
    run: &Run,
    spec: Option<&crate::data::DataSpec>,
    train: bool,
) -> Result<ImageSet> {
    let mut data = run.config.data.clone();
    if let Some(spec) = spec {
        data.spec = spec.clone();
    }
    let splits = if spec.is_some() {
        data.load()?
    } else {
        images::load_run_data(&data)?
    };
    let set = if train { splits.train } else { splits.test };
    run.check_shape(&set)?;
    Ok(set)
}

/// Writes `samples.png`, `reconstructions.png` and `interpolation.png` into
/// the run folder (the main job's pictures) and returns their paths.
pub fn save_pictures(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let run = Run::load(dir)?;
    if run.model.latent().is_none() {
        let path = dir.join("samples.png");
        save_label_samples(&run, 64, 0, None, &path)?;
        return Ok(vec![path]);
    }
    let mut test = test_images(&run, None)?;
    if test.n == 0 {
        // Trained with a test fraction of 0: show training images instead.
        test = split_images(&run, None, true)?;
    }
    let paths = [
        dir.join("samples.png"),
        dir.join("reconstructions.png"),
        dir.join("interpolation.png"),
    ];
    save_label_samples(&run, 64, 0, None, &paths[0])?;
    save_reconstructions(&run, &test, 16, 0, &paths[1])?;
    let (a, b) = default_pair(&test);
    save_interpolation(&run, &test, a, b, 10, &paths[2])?;
    Ok(paths.to_vec())
}

/// The learned manifold of a model with a 2-D latent space (Kingma & Welling
/// 2014, Fig. 4): an `n × n` grid of decoded points z = (Φ⁻¹(u), Φ⁻¹(v)),
/// u and v evenly spaced in (0, 1), so the grid covers the prior's mass
/// evenly. Returns the PNG's (width, height).
///
/// ```no_run
/// use elbo::run::{save_manifold, Run};
///
/// let run = Run::load("runs/latent2".as_ref())?; // trained with --latent 2
/// save_manifold(&run, 20, "manifold.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_manifold(run: &Run, n: usize, out: &Path) -> Result<(u32, u32)> {
    use statrs::distribution::{ContinuousCDF, Normal};
    let model = run.latent()?;
    let latent = model.latent_dim();
    if run.model.classes() > 0 {
        return Err(Error::invalid(format!(
            "{} is a conditional model: sample one class with `elbo sample --label L` instead of the manifold grid",
            run.dir.root.display()
        )));
    }
    if latent != 2 {
        return Err(Error::invalid(format!(
            "the manifold grid needs a 2-D latent space; {} has {latent} dimensions (train with --latent 2)",
            run.dir.root.display()
        )));
    }
    if n < 2 {
        return Err(Error::invalid(
            "the manifold grid needs at least 2 points per side",
        ));
    }
    run.check_images_memory(
        n.checked_mul(n),
        "decoding",
        "grid images",
        "-n (points per side)",
    )?;
    let normal = Normal::standard();
    let q: Vec<f32> = (0..n)
        .map(|i| normal.inverse_cdf((i as f64 + 0.5) / n as f64) as f32)
        .collect();
    // Row r holds z_1 = q[n − 1 − r] (top is high), column c holds z_0 = q[c].
    let z: Vec<f32> = (0..n)
        .flat_map(|r| {
            (0..n)
                .flat_map(|c| [q[c], q[n - 1 - r]])
                .collect::<Vec<_>>()
        })
        .collect();
    let z = Tensor::<2>::from_data(TensorData::new(z, [n * n, 2]), &run.device); // [n·n, 2]
    let shape = run.shape()?;
    let pixels = to_vec(model.decode_probs(z)?)?;
    save_grid(
        out,
        &pixels,
        shape,
        GridLayout {
            padding: 0,
            ..run.layout(n, shape)
        },
    )
}
