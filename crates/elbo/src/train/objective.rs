//! What the training loop needs from a model family: its objective on a
//! batch and its figures on the test split. The VAE and the autoencoder
//! share one loop (`vae_trainer.rs`).

use burn::module::Module;
use burn::tensor::{Tensor, TensorData};
use rand::rngs::Xoshiro256PlusPlus;

use super::{LossSummary, RunConfig};
use crate::Result;
use crate::models::{Autoencoder, Vae};

/// A model the training loop can fit.
pub(crate) trait TrainModel: Module + Sized {
    /// Standard-normal values drawn per image for one step.
    fn noise_width(&self, config: &RunConfig) -> usize;

    /// The batch's summed (reconstruction, KL) for reporting and the
    /// objective to differentiate, for input rows `x` and noise `eps`.
    fn objective(
        &self,
        x: Tensor<2>,
        eps: Vec<f32>,
        beta: f64,
        config: &RunConfig,
    ) -> (Tensor<1>, Tensor<1>, Tensor<1>);

    /// Mean test loss and active units over input rows `pixels` (`dim` each).
    fn test_figures(
        &self,
        pixels: &[f32],
        dim: usize,
        rng: Xoshiro256PlusPlus,
    ) -> Result<(LossSummary, usize)>;
}

impl TrainModel for Vae {
    fn noise_width(&self, config: &RunConfig) -> usize {
        self.latent() * config.train.iwae_samples
    }

    /// The β/free-bits-weighted negative ELBO, or with `iwae_samples` = k > 1
    /// the IWAE bound −L_k (then the "reconstruction" reported is −L_k − KL,
    /// so that their sum is −L_k).
    fn objective(
        &self,
        x: Tensor<2>,
        eps: Vec<f32>,
        beta: f64,
        config: &RunConfig,
    ) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
        let (rows, latent, k) = (x.dims()[0], self.latent(), config.train.iwae_samples);
        let device = x.device();
        if k == 1 {
            let eps = Tensor::from_data(TensorData::new(eps, [rows, latent]), &device); // [batch, latent]
            let loss = self.loss(x, eps);
            let total = loss.objective(beta, config.train.free_bits);
            return (loss.recon.sum(), loss.kl.sum(), total);
        }
        let eps = Tensor::from_data(TensorData::new(eps, [rows, k, latent]), &device); // [batch, k, latent]
        let (nll, kl) = self.iwae_loss(x, eps);
        let total = nll.sum();
        (total.clone() - kl.clone().sum(), kl.sum(), total)
    }

    fn test_figures(
        &self,
        pixels: &[f32],
        dim: usize,
        rng: Xoshiro256PlusPlus,
    ) -> Result<(LossSummary, usize)> {
        let loss = crate::eval::vae_loss(self, pixels, dim, rng)?.mean();
        Ok((loss, crate::eval::active_units(self, pixels, dim)?))
    }
}

impl TrainModel for Autoencoder {
    fn noise_width(&self, _config: &RunConfig) -> usize {
        0
    }

    /// The reconstruction loss alone; the KL reported is 0.
    fn objective(
        &self,
        x: Tensor<2>,
        _eps: Vec<f32>,
        _beta: f64,
        _config: &RunConfig,
    ) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
        let recon = self.loss(x).sum();
        let kl = recon.zeros_like();
        (recon.clone(), kl, recon)
    }

    fn test_figures(
        &self,
        pixels: &[f32],
        dim: usize,
        _rng: Xoshiro256PlusPlus,
    ) -> Result<(LossSummary, usize)> {
        crate::eval::ae::ae_figures(self, pixels, dim)
    }
}
