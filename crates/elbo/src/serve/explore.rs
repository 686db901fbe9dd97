//! One loaded run as the explorer shows it: what is computed once at start
//! (the latent map of the test set, the mixture's components, the training
//! images for the novelty check) and the model operations the API calls.
//! Everything here is synchronous; the worker lanes run it off the server's
//! async threads.

use std::sync::OnceLock;

use burn::tensor::{Tensor, TensorData};
use serde::Serialize;

use crate::data::ImageSet;
use crate::eval::{EvalOptions, to_vec};
use crate::image::Shape;
use crate::mixture::{Mat, Pca, matrix_from_rows};
use crate::run::{Run, split_images, test_images};
use crate::{Error, Result};

/// Test images placed on the latent map (and offered for picking).
pub const MAP_IMAGES: usize = 1000;
/// Test images the page's NLL figure is computed on.
pub const NLL_IMAGES: usize = 500;
/// Importance samples of a VAE's NLL figure (an IWAE bound).
pub const NLL_IWAE_K: usize = 100;

/// A run loaded for the explorer.
pub struct Served {
    /// The name given on the command line (the run folder's name).
    pub name: String,
    /// The loaded run.
    pub run: Run,
    /// Image shape.
    pub shape: Shape,
    /// The first [`MAP_IMAGES`] test images.
    pub test: ImageSet,
    /// Training images quantized to bytes (x·255), `[n, dim]`: the novelty check.
    pub train: Vec<u8>,
    /// The latent map, for a VAE or an autoencoder.
    pub latent: Option<LatentView>,
    /// The components, for a mixture.
    pub mixture: Option<MixtureView>,
    /// The test NLL once computed (in the background).
    pub nll: OnceLock<std::result::Result<NllView, String>>,
}

/// The latent space as the page draws it.
#[derive(Debug, Clone, Serialize)]
pub struct LatentView {
    /// Code dimensions (without a conditional model's label).
    pub dim: usize,
    /// Whether codes follow the prior N(0, I) (a VAE).
    pub has_prior: bool,
    /// Map coordinates `[n, 2]` of the test images' codes.
    pub points: Vec<[f32; 2]>,
    /// The map's frame: code z = origin + u·axes[0] + v·axes[1]; the
    /// identity for a 2-D code, else the two principal axes of the codes.
    pub origin: Vec<f32>,
    /// `[2][dim]`.
    pub axes: [Vec<f32>; 2],
    /// Per code dimension, the range the sliders cover.
    pub ranges: Vec<[f32; 2]>,
    /// How the map was made, for the page.
    pub projection: String,
}

/// A mixture's components as images.
#[derive(Debug, Clone, Serialize)]
pub struct MixtureView {
    /// P(m).
    pub weights: Vec<f64>,
    /// The component means as images, `[K][dim]` in [0, 1].
    pub means: Vec<Vec<f32>>,
}

/// The test NLL and how it was obtained.
#[derive(Debug, Clone, Serialize)]
pub struct NllView {
    /// Mean nats per image.
    pub nats: f64,
    /// Its standard error.
    pub std_error: f64,
    /// Bits per dimension.
    pub bits_per_dim: f64,
    /// How it was obtained, and on how many test images.
    pub method: String,
}

impl Served {
    /// Loads the run in `dir` and computes what the page shows of it.
    pub fn load(dir: &std::path::Path) -> Result<Served> {
        let run = Run::load(dir)?;
        let shape = run.shape()?;
        let mut test = test_images(&run, None)?;
        truncate(&mut test, MAP_IMAGES);
        let train = split_images(&run, None, true)?;
        let train = train
            .pixels
            .iter()
            .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        let latent = match run.model.latent() {
            Some(_) => Some(latent_view(&run, &test)?),
            None => None,
        };
        let mixture = crate::serve::components::mixture_view(&run)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        Ok(Served {
            name,
            run,
            shape,
            test,
            train,
            latent,
            mixture,
            nll: OnceLock::new(),
        })
    }

    /// Values per input row: the image, then a conditional model's one-hot label.
    pub fn classes(&self) -> usize {
        self.run.model.classes()
    }

    /// Decodes codes `[n, dim]` (without label) with `label` appended for a
    /// conditional model: `[n, image dim]`.
    pub fn decode(&self, codes: &[f32], label: Option<usize>) -> Result<Vec<f32>> {
        let rows = self.code_rows(codes, label)?;
        self.decode_rows(&rows)
    }

    /// Checks codes and appends a conditional model's one-hot label:
    /// `[n, dim + classes]`.
    pub fn code_rows(&self, codes: &[f32], label: Option<usize>) -> Result<Vec<f32>> {
        let view = self.latent_view()?;
        let classes = self.classes();
        if codes.is_empty() || !codes.len().is_multiple_of(view.dim) {
            return Err(Error::invalid(format!(
                "each point needs {} code values",
                view.dim
            )));
        }
        if codes.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid("code values must be finite numbers"));
        }
        let label = match (classes, label) {
            (0, None) => return Ok(codes.to_vec()),
            (0, Some(_)) => return Err(self.run_no_label()),
            (_, l) => l.unwrap_or(0),
        };
        if label >= classes {
            return Err(Error::invalid(format!(
                "label {label} is outside the model's {classes} classes"
            )));
        }
        let mut rows = Vec::with_capacity(codes.len() / view.dim * (view.dim + classes));
        for code in codes.chunks(view.dim) {
            rows.extend_from_slice(code);
            rows.extend((0..classes).map(|c| if c == label { 1.0 } else { 0.0 }));
        }
        Ok(rows)
    }

    /// Values per code row: the code, then a conditional model's label.
    pub fn code_width(&self) -> usize {
        self.latent.as_ref().map_or(0, |v| v.dim) + self.classes()
    }

    /// Decodes rows `[n, dim + classes]` as [`Served::code_rows`] makes them.
    pub fn decode_rows(&self, rows: &[f32]) -> Result<Vec<f32>> {
        self.latent_view()?;
        let width = self.code_width();
        let latent = self.run.latent()?;
        let z = TensorData::new(rows.to_vec(), [rows.len() / width, width]);
        to_vec(latent.decode_probs(Tensor::from_data(z, &self.run.device))?) // [n, image dim]
    }

    fn latent_view(&self) -> Result<&LatentView> {
        self.latent.as_ref().ok_or_else(|| {
            Error::invalid(format!(
                "{} is a {} model: it has no latent space",
                self.name,
                self.run.kind()
            ))
        })
    }

    fn run_no_label(&self) -> Error {
        Error::invalid(format!(
            "{} is not a conditional model: it takes no label",
            self.name
        ))
    }

    /// Test image `i` (as loaded, before binarization).
    pub fn test_image(&self, i: usize) -> Result<&[f32]> {
        if i >= self.test.n {
            return Err(Error::invalid(format!(
                "test image {i} is out of range: {} are served",
                self.test.n
            )));
        }
        Ok(self.test.image(i))
    }

    /// The training image nearest to `image` in Euclidean distance:
    /// its index and the distance.
    pub fn nearest(&self, image: &[f32]) -> Result<(usize, f32)> {
        let dim = self.shape.dim();
        if image.len() != dim {
            return Err(Error::invalid(format!(
                "an image of this model has {dim} values, got {}",
                image.len()
            )));
        }
        let mut best = (0, f32::INFINITY);
        for (i, row) in self.train.chunks_exact(dim).enumerate() {
            let d: f32 = row
                .iter()
                .zip(image)
                .map(|(&t, &x)| (t as f32 / 255.0 - x).powi(2))
                .sum();
            if d < best.1 {
                best = (i, d);
            }
        }
        if !best.1.is_finite() {
            return Err(Error::invalid("the image holds values that are not finite"));
        }
        Ok((best.0, best.1.sqrt()))
    }

    /// Training image `i` in [0, 1] (as quantized for the novelty check).
    pub fn train_image(&self, i: usize) -> Vec<f32> {
        let dim = self.shape.dim();
        self.train[i * dim..(i + 1) * dim]
            .iter()
            .map(|&v| v as f32 / 255.0)
            .collect()
    }

    /// The NLL of the first [`NLL_IMAGES`] test images and how it was
    /// obtained (`None` for a model without a likelihood).
    pub fn compute_nll(&self) -> Result<Option<NllView>> {
        let mut set = self.test.clone();
        truncate(&mut set, NLL_IMAGES);
        let iwae_samples = self.run.vae().ok().map(|_| NLL_IWAE_K);
        let opts = EvalOptions {
            seed: 0,
            iwae_samples,
        };
        let Some((values, method)) = self.run.nll_per_image(&set, &opts)? else {
            return Ok(None);
        };
        let nll = crate::eval::Nll::from_per_image(&values, set.dim(), method);
        Ok(Some(NllView {
            nats: nll.nats,
            std_error: nll.std_error,
            bits_per_dim: nll.bits_per_dim,
            method: format!("{}; on the first {} test images", method.describe(), set.n),
        }))
    }
}

/// Keeps the first `n` images of `set`.
fn truncate(set: &mut ImageSet, n: usize) {
    let n = n.min(set.n);
    set.pixels.truncate(n * set.dim());
    if let Some(l) = set.labels.as_mut() {
        l.truncate(n);
    }
    set.n = n;
}

/// The test images' codes placed on a 2-D map.
fn latent_view(run: &Run, test: &ImageSet) -> Result<LatentView> {
    let latent = run.latent()?;
    let dim = latent.latent_dim();
    let (rows, width) = run.inputs(test, 0)?;
    let x = Tensor::<2>::from_data(TensorData::new(rows, [test.n, width]), &run.device); // [n, width]
    let full = to_vec(latent.codes(x)?)?; // [n, dim + classes]
    let code_width = full.len() / test.n.max(1);
    let codes: Vec<f32> = full
        .chunks(code_width.max(1))
        .flat_map(|c| c[..dim].to_vec())
        .collect(); // [n, dim]
    let (origin, axes, projection) = frame(&codes, dim, test.n)?;
    let points = codes
        .chunks(dim)
        .map(|c| {
            let centred: Vec<f32> = c.iter().zip(&origin).map(|(v, o)| v - o).collect();
            [dot(&centred, &axes[0]), dot(&centred, &axes[1])]
        })
        .collect();
    let ranges = (0..dim)
        .map(|j| slider_range(codes.iter().skip(j).step_by(dim), latent.has_prior()))
        .collect();
    Ok(LatentView {
        dim,
        has_prior: latent.has_prior(),
        points,
        origin,
        axes,
        ranges,
        projection,
    })
}

type Frame = (Vec<f32>, [Vec<f32>; 2], String);

/// The map's origin and axes: the code axes themselves up to 2-D, else the
/// codes' first two principal axes.
fn frame(codes: &[f32], dim: usize, n: usize) -> Result<Frame> {
    if dim <= 2 || n < 3 {
        let unit =
            |k: usize| -> Vec<f32> { (0..dim).map(|j| if j == k { 1.0 } else { 0.0 }).collect() };
        let what = format!("the {dim}-D code itself");
        return Ok((vec![0.0; dim], [unit(0), unit(1)], what));
    }
    let x: Mat<f64> = matrix_from_rows(codes, dim)?;
    let pca = Pca::fit(x.as_ref(), 2)?;
    let axis = |k: usize| -> Vec<f32> { (0..dim).map(|j| pca.components[(k, j)] as f32).collect() };
    let ratio = pca.explained_variance_ratio();
    let what = format!(
        "PCA of the {dim}-D posterior means: axes 1 and 2 ({:.0}% and {:.0}% of the variance)",
        100.0 * ratio[0],
        100.0 * ratio[1]
    );
    let origin = pca.mean.iter().map(|&m| m as f32).collect();
    Ok((origin, [axis(0), axis(1)], what))
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// ±3 for a prior N(0, 1); else the codes' range widened by a quarter.
fn slider_range<'a>(values: impl Iterator<Item = &'a f32>, prior: bool) -> [f32; 2] {
    let (lo, hi) = values.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
        (lo.min(v), hi.max(v))
    });
    if prior || !lo.is_finite() || !hi.is_finite() {
        return [lo.clamp(-10.0, -3.0), hi.clamp(3.0, 10.0)];
    }
    let pad = 0.25 * (hi - lo).max(1e-3);
    [lo - pad, hi + pad]
}
