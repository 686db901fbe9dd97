//! What every command asks of a model, whatever its family: codes,
//! decoding, and (for a conditional VAE) labels.

use std::path::Path;

use burn::tensor::{Tensor, TensorData};

use super::{Model, Run, to_vec};
use crate::data::ImageSet;
use crate::image::{GridLayout, save_grid};
use crate::models::Vae;
use crate::models::nets::{append_one_hot, model_inputs, split_label, with_label};
use crate::train::seeds::{self, Purpose};
use crate::{Error, Result};

impl Model {
    /// The latent (code) dimension.
    pub fn latent(&self) -> usize {
        match self {
            Model::Vae(v) => v.latent(),
            Model::Ae(a) => a.latent(),
            Model::Pixel(_) => 0,
        }
    }

    /// Classes of a conditional model; 0 for any other.
    pub fn classes(&self) -> usize {
        match self {
            Model::Vae(v) => v.classes,
            Model::Ae(_) | Model::Pixel(_) => 0,
        }
    }

    /// The code of each input row `x: [n, width]`: the posterior mean (with
    /// a conditional model's label appended), or the autoencoder's code.
    /// An error for autoregressive models, which have no codes.
    pub fn codes(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        match self {
            Model::Vae(v) => {
                let label = split_label(x.clone(), v.classes).1;
                Ok(with_label(v.encode(x).0, label)) // [n, latent (+ classes)]
            }
            Model::Ae(a) => Ok(a.encode(x)), // [n, latent]
            Model::Pixel(_) => Err(no_latent()),
        }
    }

    /// The decoder's mean image for codes `z`: `[n, dim]`.
    /// An error for autoregressive models, which have no decoder.
    pub fn decode_probs(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        match self {
            Model::Vae(v) => Ok(v.decode_probs(z)),
            Model::Ae(a) => Ok(a.decode_probs(z)),
            Model::Pixel(_) => Err(no_latent()),
        }
    }
}

fn no_latent() -> Error {
    Error::invalid(
        "this run holds an autoregressive model (pixelcnn, gated-pixelcnn, pixelrnn): it has no latent space; the command applies to VAEs and autoencoders",
    )
}

impl Run {
    /// The VAE, or an error naming the run for another family.
    pub fn vae(&self) -> Result<&Vae> {
        match &self.model {
            Model::Vae(v) => Ok(v),
            Model::Ae(_) => Err(Error::invalid(format!(
                "{} is a plain autoencoder: it has no likelihood bound (no ELBO, no IWAE, no posterior); use a VAE run",
                self.dir.root.display()
            ))),
            Model::Pixel(_) => Err(Error::invalid(format!(
                "{} holds a {} model: this command applies to VAEs only",
                self.dir.root.display(),
                self.config.model.kind()
            ))),
        }
    }

    /// The rows the model reads for `set`: pixels prepared as in training
    /// (with `seed`), each followed by its one-hot label for a conditional
    /// model; and their width.
    pub fn inputs(&self, set: &ImageSet, seed: u64) -> Result<(Vec<f32>, usize)> {
        let pixels = self.config.data.pixels.prepare(set, seed);
        model_inputs(set, pixels, self.model.classes())
            .map_err(|e| Error::invalid(format!("{}: {e}", self.dir.root.display())))
    }

    /// Image `i` of `set` as one input row (its label appended for a
    /// conditional model).
    pub fn row(&self, set: &ImageSet, i: usize) -> Result<Vec<f32>> {
        let classes = self.model.classes();
        let labels = set.labels.as_ref().map(|l| vec![l[i]]);
        match (classes, labels) {
            (0, _) => Ok(set.image(i).to_vec()),
            (_, Some(l)) => append_one_hot(set.image(i), set.dim(), &l, classes),
            (_, None) => Err(Error::invalid(format!(
                "{} is conditional on class labels, but these images have none",
                self.dir.root.display()
            ))),
        }
    }

    /// `n` images drawn from the model: z ~ N(0, I), decoded. A conditional
    /// model decodes them with label `label`, or with labels 0, 1, 2, ...
    /// in turn when `None`; a label for any other model is an error.
    pub fn sample_label(&self, n: usize, seed: u64, label: Option<usize>) -> Result<Vec<f32>> {
        let (latent, classes) = (self.model.latent(), self.model.classes());
        match label {
            Some(_) if classes == 0 => {
                return Err(Error::invalid(format!(
                    "--label needs a conditional model, but {} was trained without labels (train with --conditional)",
                    self.dir.root.display()
                )));
            }
            Some(l) if l >= classes => {
                return Err(Error::invalid(format!(
                    "label {l} is outside the {classes} classes {} was trained on (0..={})",
                    self.dir.root.display(),
                    classes - 1
                )));
            }
            _ => {}
        }
        let z = seeds::normals(&mut seeds::rng(seed, 0, 0, Purpose::Noise), n * latent);
        let z = Tensor::<2>::from_data(TensorData::new(z, [n, latent]), &self.device); // [n, latent]
        let label = (classes > 0).then(|| {
            let one_hot: Vec<f32> = (0..n)
                .flat_map(|i| {
                    let l = label.unwrap_or(i % classes);
                    (0..classes).map(move |c| if c == l { 1.0 } else { 0.0 })
                })
                .collect();
            Tensor::<2>::from_data(TensorData::new(one_hot, [n, classes]), &self.device) // [n, classes]
        });
        to_vec(self.model.decode_probs(with_label(z, label))?)
    }
}

/// Writes `n` samples as a grid PNG, of class `label` for a conditional
/// model (see [`Run::sample_label`]); returns its (width, height).
///
/// ```no_run
/// use elbo::run::{save_label_samples, Run};
///
/// let run = Run::load("runs/cvae".as_ref())?; // trained with --conditional
/// save_label_samples(&run, 64, 0, Some(3), "threes.png".as_ref())?;
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_label_samples(
    run: &Run,
    n: usize,
    seed: u64,
    label: Option<usize>,
    out: &Path,
) -> Result<(u32, u32)> {
    let shape = run.shape()?;
    let pixels = run.sample_label(n, seed, label)?;
    // Unlabelled draws of a conditional model go one class per column.
    let cols = match (label, run.model.classes()) {
        (None, c) if c > 0 => c,
        _ => super::cols_for(n),
    };
    save_grid(out, &pixels, shape, GridLayout::new(cols, shape))
}
