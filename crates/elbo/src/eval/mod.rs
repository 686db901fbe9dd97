//! Evaluation of trained models on held-out images.

pub mod iwae;

use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::Xoshiro256PlusPlus;

use crate::models::Vae;
use crate::train::LossSums;
use crate::train::seeds;
use crate::{Error, Result};

/// Images per forward pass when evaluating.
const EVAL_BATCH: usize = 1000;

/// The negative ELBO of every image in `pixels` (`dim` values each) with one
/// sampled z per image: pytorch/examples' test metric. Returns the sums.
pub fn vae_loss(
    model: &Vae,
    pixels: &[f32],
    dim: usize,
    mut rng: Xoshiro256PlusPlus,
) -> Result<LossSums> {
    let device = model_device(model);
    let latent = model.mean.weight.dims()[1];
    let n = pixels.len() / dim.max(1);
    let mut sums = LossSums::default();
    for start in (0..n).step_by(EVAL_BATCH) {
        let rows = EVAL_BATCH.min(n - start);
        let x = Tensor::<2>::from_data(
            TensorData::new(
                pixels[start * dim..(start + rows) * dim].to_vec(),
                [rows, dim],
            ),
            &device,
        ); // [rows, dim]
        let eps = Tensor::<2>::from_data(
            TensorData::new(seeds::normals(&mut rng, rows * latent), [rows, latent]),
            &device,
        ); // [rows, latent]
        let loss = model.loss(x, eps);
        let recon = scalar(loss.recon.sum())?;
        let kl = scalar(loss.kl.sum())?;
        sums.add(recon, kl, rows);
    }
    Ok(sums)
}

/// The device a model's weights live on.
pub(crate) fn model_device(model: &Vae) -> Device {
    model.output.weight.val().device()
}

/// A one-element tensor as f64.
pub(crate) fn scalar(t: Tensor<1>) -> Result<f64> {
    let data = t.into_data().convert::<f64>();
    data.as_slice::<f64>()
        .ok()
        .and_then(|s| s.first().copied())
        .ok_or_else(|| Error::invalid("expected a scalar tensor"))
}

/// A 2-D tensor's values as a flat vector.
pub(crate) fn to_vec(t: Tensor<2>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::invalid(format!("tensor read-back failed: {e:?}")))
}
