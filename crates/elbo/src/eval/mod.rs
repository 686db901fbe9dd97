//! Evaluation of trained models on held-out images.

pub mod ae;
pub mod iwae;
mod nll;

pub use nll::{EvalOptions, Evaluation, MixtureScores, Nll, NllMethod};

use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::Xoshiro256PlusPlus;

use crate::folder::LossSums;
use crate::models::Vae;
use crate::seeds;
use crate::{Error, Result};

/// Images per forward pass when evaluating.
const EVAL_BATCH: usize = 1000;

/// The negative ELBO of every image in `pixels` (`dim` values each) with one
/// sampled z per image: pytorch/examples' test metric. Returns the sums.
pub fn vae_loss(
    model: &Vae,
    pixels: &[f32],
    dim: usize,
    rng: Xoshiro256PlusPlus,
) -> Result<LossSums> {
    let mut sums = LossSums::default();
    for (recon, kl) in vae_loss_per_image(model, pixels, dim, rng)? {
        sums.add(recon, kl, 1);
    }
    Ok(sums)
}

/// (reconstruction, KL) in nats for every image of `pixels`, one sampled z
/// per image; the negative ELBO of image i is their sum.
pub fn vae_loss_per_image(
    model: &Vae,
    pixels: &[f32],
    dim: usize,
    mut rng: Xoshiro256PlusPlus,
) -> Result<Vec<(f64, f64)>> {
    loss_rows(model, pixels, dim, |n| seeds::normals(&mut rng, n))
}

/// The summed (reconstruction, KL) of the images of `pixels` with z = the
/// posterior mean (ε = 0 in z = μ + σε): deterministic, the same for every
/// seed, but not a bound on −log p(x), since the ELBO averages the
/// reconstruction over q(z | x) rather than taking it at the mean
/// (Kingma & Welling 2014, Eq. 3).
pub fn vae_loss_at_mean(model: &Vae, pixels: &[f32], dim: usize) -> Result<LossSums> {
    let mut sums = LossSums::default();
    for (recon, kl) in loss_rows(model, pixels, dim, |n| vec![0.0; n])? {
        sums.add(recon, kl, 1);
    }
    Ok(sums)
}

/// (reconstruction, KL) per image with the noise ε of each batch from
/// `eps(rows × latent)`.
fn loss_rows(
    model: &Vae,
    pixels: &[f32],
    dim: usize,
    mut eps_for: impl FnMut(usize) -> Vec<f32>,
) -> Result<Vec<(f64, f64)>> {
    let device = model_device(model);
    let latent = model.mean.weight.dims()[1];
    let n = pixels.len() / dim.max(1);
    let mut out = Vec::with_capacity(n);
    for start in (0..n).step_by(EVAL_BATCH) {
        let rows = EVAL_BATCH.min(n - start);
        let x = pixels[start * dim..(start + rows) * dim].to_vec();
        let x = Tensor::<2>::from_data(TensorData::new(x, [rows, dim]), &device); // [rows, dim]
        let eps = eps_for(rows * latent);
        let eps = Tensor::<2>::from_data(TensorData::new(eps, [rows, latent]), &device); // [rows, latent]
        let loss = model.loss(x, eps);
        let recon = to_vec(loss.recon.unsqueeze_dim::<2>(1))?;
        let kl = to_vec(loss.kl.unsqueeze_dim::<2>(1))?;
        out.extend(
            recon
                .iter()
                .zip(&kl)
                .map(|(&r, &k)| (f64::from(r), f64::from(k))),
        );
    }
    Ok(out)
}

/// Burda et al. 2016's active units: latent dimensions whose posterior mean
/// varies across the images of `pixels`, Cov_x(E_q[z_j]) > 0.01.
pub fn active_units(model: &Vae, pixels: &[f32], dim: usize) -> Result<usize> {
    let device = model_device(model);
    let latent = model.mean.weight.dims()[1];
    let n = pixels.len() / dim.max(1);
    let mut means = Vec::with_capacity(n * latent);
    for start in (0..n).step_by(EVAL_BATCH) {
        let rows = EVAL_BATCH.min(n - start);
        let x = pixels[start * dim..(start + rows) * dim].to_vec();
        let x = Tensor::<2>::from_data(TensorData::new(x, [rows, dim]), &device); // [rows, dim]
        means.extend(to_vec(model.encode(x).0)?); // [rows, latent]
    }
    Ok(count_active(&means, latent))
}

/// The dimensions of codes `[n, latent]` whose variance across rows is
/// above 0.01 (Burda et al. 2016's threshold).
pub(crate) fn count_active(codes: &[f32], latent: usize) -> usize {
    let (mut sum, mut sq) = (vec![0.0f64; latent], vec![0.0f64; latent]);
    for row in codes.chunks(latent.max(1)) {
        for (j, &m) in row.iter().enumerate() {
            sum[j] += f64::from(m);
            sq[j] += f64::from(m) * f64::from(m);
        }
    }
    let nf = (codes.len() / latent.max(1)).max(1) as f64;
    (0..latent)
        .filter(|&j| sq[j] / nf - (sum[j] / nf).powi(2) > 0.01)
        .count()
}

/// The device a model's weights live on.
pub(crate) fn model_device(model: &Vae) -> Device {
    model.device()
}

/// A 2-D tensor's values as a flat vector.
pub fn to_vec(t: Tensor<2>) -> Result<Vec<f32>> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| Error::internal(format!("tensor read-back failed: {e:?}")))
}
