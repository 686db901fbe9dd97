//! Evaluation of a plain autoencoder: its reconstruction loss. It has no
//! likelihood bound (no prior over codes), so there is no ELBO and no IWAE.

use burn::tensor::{Tensor, TensorData};

use super::{EVAL_BATCH, count_active, to_vec};
use crate::Result;
use crate::folder::{LossSummary, LossSums};
use crate::models::Autoencoder;

/// −log p(x | decode(encode(x))) in nats for every image of `pixels` (`dim`
/// values each), and the codes `[n, latent]`.
pub fn ae_loss_per_image(
    model: &Autoencoder,
    pixels: &[f32],
    dim: usize,
) -> Result<(Vec<f64>, Vec<f32>)> {
    let device = model.device();
    let n = pixels.len() / dim.max(1);
    let (mut losses, mut codes) = (Vec::with_capacity(n), Vec::new());
    for start in (0..n).step_by(EVAL_BATCH) {
        let rows = EVAL_BATCH.min(n - start);
        let x = pixels[start * dim..(start + rows) * dim].to_vec();
        let x = Tensor::<2>::from_data(TensorData::new(x, [rows, dim]), &device); // [rows, dim]
        let code = model.encode(x.clone()); // [rows, latent]
        codes.extend(to_vec(code.clone())?);
        let out = model.decode(code); // [rows, dim]
        let log_scale = model.log_scale.as_ref().map(|p| p.val());
        let nll = model
            .likelihood
            .neg_log_likelihood(out, x, log_scale, model.variance);
        losses.extend(
            to_vec(nll.unsqueeze_dim::<2>(1))?
                .into_iter()
                .map(f64::from),
        );
    }
    Ok((losses, codes))
}

/// The mean reconstruction loss (reported as the loss, with KL 0) and the
/// number of code dimensions that vary across images (variance > 0.01).
pub fn ae_figures(model: &Autoencoder, pixels: &[f32], dim: usize) -> Result<(LossSummary, usize)> {
    let (losses, codes) = ae_loss_per_image(model, pixels, dim)?;
    let mut sums = LossSums::default();
    losses.iter().for_each(|&r| sums.add(r, 0.0, 1));
    Ok((sums.mean(), count_active(&codes, model.latent())))
}
