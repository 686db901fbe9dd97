//! What commands ask of a run beyond its family's common API: its latent
//! space, its VAE, its input rows (with a conditional model's labels).

use std::path::Path;

use super::Run;
use burn::tensor::{Tensor, TensorData};

use crate::data::ImageSet;
use crate::eval::to_vec;
use crate::families::Latent;
use crate::families::vae::VaeModel;
use crate::image::save_grid;
use crate::models::nets::append_one_hot;
use crate::{Error, Result};

/// Values held per sampled pixel at the peak: the samples, the decoder's
/// or the sampler's activations (a few hidden units per pixel), the picture.
const SAMPLE_VALUES_PER_PIXEL: u64 = 16;

impl Run {
    /// Checks that drawing `n` samples fits in memory, before any is drawn.
    pub(crate) fn check_sample_memory(&self, n: usize) -> Result<()> {
        self.check_images_memory(Some(n), "drawing", "samples", "-n (the number of samples)")
    }

    /// Checks that generating `count` images (`None`: a count that
    /// overflowed) fits in memory; `verb`, `noun` and `knob` word the error.
    pub(crate) fn check_images_memory(
        &self,
        count: Option<usize>,
        verb: &str,
        noun: &str,
        knob: &str,
    ) -> Result<()> {
        let s = self.shape()?;
        let need = match count {
            Some(n) => {
                crate::memory::Bytes::of(&[n, s.height, s.width, s.channels], crate::memory::F32)
                    .times(SAMPLE_VALUES_PER_PIXEL)
            }
            None => crate::memory::Bytes(None),
        };
        let n = count.map_or("too many".to_string(), |n| n.to_string());
        crate::memory::check(
            &format!(
                "{verb} {n} {noun} of {}x{}x{}",
                s.height, s.width, s.channels
            ),
            knob,
            need,
        )
    }

    /// The latent space, or an error naming the run and its family unless
    /// the model has an encoder and a latent space (a VAE or an autoencoder).
    pub fn latent(&self) -> Result<&dyn Latent> {
        self.model.latent().ok_or_else(|| {
            Error::invalid(format!(
                "{} holds a {} model, which has no encoder or latent space: this command needs a VAE run (VAEs only, or an autoencoder); use sample or eval on this run",
                self.dir.root.display(),
                self.kind()
            ))
        })
    }

    /// The VAE, or an error naming the run for another family.
    pub fn vae(&self) -> Result<&VaeModel> {
        if let Some(v) = self.model.as_any().downcast_ref::<VaeModel>() {
            return Ok(v);
        }
        Err(Error::invalid(match self.kind() {
            "ae" => format!(
                "{} is a plain autoencoder: it has no likelihood bound (no ELBO, no IWAE, no posterior); use a VAE run",
                self.dir.root.display()
            ),
            kind => format!(
                "{} holds a {kind} model, which has no encoder or latent space: this command needs a VAE run",
                self.dir.root.display()
            ),
        }))
    }

    /// The codes (posterior means; the autoencoder's codes) of input rows
    /// `images` (`[n, dim]`, each followed by its one-hot label for a
    /// conditional model: see [`Run::inputs`]): `[n, latent]`, without a
    /// conditional model's label.
    pub fn encode(&self, images: &[f32]) -> Result<Vec<f32>> {
        let latent = self.latent()?;
        let codes = latent.codes(self.batch(images)?)?; // [n, latent (+ classes)]
        to_vec(codes.narrow(1, 0, latent.latent_dim())) // [n, latent]
    }

    /// The decoder's mean images of codes `z` (`[n, latent]`, flat): `[n,
    /// dim]`. A conditional model needs its label: use [`Run::reconstruct`].
    pub fn decode(&self, z: &[f32]) -> Result<Vec<f32>> {
        let latent = self.latent()?;
        let width = latent.latent_dim();
        if self.model.classes() > 0 {
            return Err(Error::invalid(format!(
                "{} is a conditional model: its decoder needs a label beside each code",
                self.dir.root.display()
            )));
        }
        if z.is_empty() || !z.len().is_multiple_of(width) {
            return Err(Error::invalid(format!(
                "expected whole codes of {width} values, got {}",
                z.len()
            )));
        }
        let data = TensorData::new(z.to_vec(), [z.len() / width, width]);
        to_vec(latent.decode_probs(Tensor::from_data(data, &self.device))?) // [n, dim]
    }

    /// −L_k per image of `set` for a VAE run (pixels prepared as in training).
    pub fn iwae(&self, set: &ImageSet, k: usize, seed: u64) -> Result<Vec<f64>> {
        self.check_shape(set)?;
        self.vae()?.iwae(&self.config, set, k, seed)
    }

    /// A VAE's loss on `set` with z = the posterior mean (see
    /// [`crate::eval::vae_loss_at_mean`]): the same for every seed.
    pub fn mean_z_loss(&self, set: &ImageSet, seed: u64) -> Result<crate::folder::LossSummary> {
        self.check_shape(set)?;
        let vae = &self.vae()?.vae;
        let (pixels, dim) = self.inputs(set, seed)?;
        Ok(crate::eval::vae_loss_at_mean(vae, &pixels, dim)?.mean())
    }

    /// The rows the model reads for `set`: pixels prepared as in training
    /// (with `seed`), each followed by its one-hot label for a conditional
    /// model; and their width.
    pub fn inputs(&self, set: &ImageSet, seed: u64) -> Result<(Vec<f32>, usize)> {
        let pixels = self.config.data.pixels.prepare(set, seed);
        crate::models::nets::model_inputs(set, pixels, self.model.classes())
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
    save_grid(out, &pixels, shape, run.layout(cols, shape))
}
