//! Pixel-by-pixel generation. Every pixel colour is drawn by inverting its
//! conditional CDF at a uniform u that depends only on (seed, image, pixel,
//! colour), so the naive loop and the fast sampler draw the same images for
//! the same seed, and completing an image reuses the streams of sampling.

use burn::tensor::Tensor;
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngExt;

use super::{PixelNet, one_hot, to_nchw};
use crate::image::Shape;
use crate::seeds::{self, Purpose};
use crate::{Error, Result};

/// Which sampler to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reruns the whole network once per pixel colour (H·W·C passes).
    Naive,
    /// Caches activations: each step computes only what the new pixel
    /// changes (see `fast.rs`).
    Fast,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Images: `[n, H, W, C]`; pixels before `start` are kept, the rest generated.
    pub images: Vec<f32>,
    /// Their shape.
    pub shape: Shape,
    /// First pixel (raster index) to generate.
    pub start: usize,
    /// Seed of the uniforms.
    pub seed: u64,
    /// Class label per image, for a conditional model.
    pub labels: Option<&'a [u8]>,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

impl Request<'_> {
    /// Number of images.
    pub fn n(&self) -> usize {
        self.images.len() / self.shape.dim().max(1)
    }

    /// Checks the request against `net`.
    pub fn validate(&self, net: &PixelNet) -> Result<()> {
        let dim = self.shape.dim();
        if dim == 0 || self.images.is_empty() || !self.images.len().is_multiple_of(dim) {
            return Err(Error::invalid("sampling needs at least one whole image"));
        }
        if self.start > self.shape.height * self.shape.width {
            return Err(Error::invalid(
                "the first pixel to generate is past the image",
            ));
        }
        match (net.classes(), self.labels) {
            (0, Some(_)) => Err(Error::invalid(
                "--label needs a class-conditional model (gated-pixelcnn with --classes)",
            )),
            (c, None) if c > 0 => Err(Error::invalid("this model is conditional: give a label")),
            (c, Some(l)) if l.len() != self.n() || l.iter().any(|&v| usize::from(v) >= c) => Err(
                Error::invalid(format!("labels must be one per image, each in 0..{c}")),
            ),
            _ => Ok(()),
        }
    }
}

/// The uniforms of image `b`: one per pixel colour, `[H·W·C]` in raster order.
pub fn uniforms(seed: u64, b: usize, dim: usize) -> Vec<f32> {
    let mut rng = seeds::rng(seed, b, 0, Purpose::Noise);
    (0..dim).map(|_| rng.random::<f32>()).collect()
}

/// A progress bar over `len` pixels (hidden unless `show`).
pub fn progress(len: usize, show: bool, label: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} pixels ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label.to_string());
    bar
}

/// Generates the pixels of `req` from `req.start` on with `method`; returns
/// the images `[n, H, W, C]`.
pub fn generate(net: &PixelNet, req: &Request, method: Method) -> Result<Vec<f32>> {
    req.validate(net)?;
    match method {
        Method::Naive => naive(net, req),
        Method::Fast => super::fast::generate(net, req),
    }
}

/// The naive loop: one full forward pass per pixel colour.
fn naive(net: &PixelNet, req: &Request) -> Result<Vec<f32>> {
    let (n, s) = (req.n(), req.shape);
    let (dim, k, device) = (s.dim(), net.output().classes(), net.device());
    let u: Vec<Vec<f32>> = (0..n).map(|b| uniforms(req.seed, b, dim)).collect();
    let labels = match req.labels {
        Some(l) => Some(one_hot(l, net.classes(), &device)?),
        None => None,
    };
    let mut x = req.images.clone();
    let pixels = s.height * s.width;
    let bar = progress(pixels - req.start, req.progress, "sampling (naive)");
    for p in req.start..pixels {
        let (i, j) = (p / s.width, p % s.width);
        for c in 0..s.channels {
            let xt = to_nchw(&x, [n, s.height, s.width, s.channels], &device);
            let logits = net.forward(xt, labels.as_ref()); // [n, C·K, H, W]
            let here = read(logits.narrow(1, c * k, k).narrow(2, i, 1).narrow(3, j, 1))?; // [n, K]
            for b in 0..n {
                let at = p * s.channels + c;
                x[b * dim + at] = net.output().draw(&here[b * k..(b + 1) * k], u[b][at]);
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(x)
}

fn read(t: Tensor<4>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::internal(format!("tensor read-back failed: {e:?}")))
}
