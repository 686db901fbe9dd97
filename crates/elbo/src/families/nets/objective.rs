//! The objectives of the two encoder-decoder families (VAE, autoencoder)
//! on a batch, and their figures on the test split, as the training loop
//! asks for them ([`Trainable`]). Their batches are split across CPU
//! threads (`data_parallel.rs`).

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::Xoshiro256PlusPlus;

use crate::Result;
use crate::data::ImageSet;
use crate::folder::LossSummary;
use crate::models::{Autoencoder, Vae};
use crate::seeds::{self, Purpose};
use crate::train::{Batch, DataConfig, StepError, TestFigures, TrainConfig, Trainable};

/// An encoder-decoder model the training loop can fit.
pub(crate) trait TrainModel: Module + Sized {
    /// The device its weights are on.
    fn device(&self) -> Device;

    /// Classes whose one-hot label is appended to each input row.
    fn label_classes(&self) -> usize;

    /// Standard-normal values drawn per image for one step.
    fn noise_width(&self, config: &TrainConfig) -> usize;

    /// The batch's summed (reconstruction, KL) for reporting and the
    /// objective to differentiate, for input rows `x` and noise `eps`.
    fn objective(
        &self,
        x: Tensor<2>,
        eps: Vec<f32>,
        beta: f64,
        config: &TrainConfig,
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
    fn device(&self) -> Device {
        Vae::device(self)
    }

    fn label_classes(&self) -> usize {
        self.classes
    }

    fn noise_width(&self, config: &TrainConfig) -> usize {
        self.latent() * config.iwae_samples
    }

    /// The β/free-bits-weighted negative ELBO, or with `iwae_samples` = k > 1
    /// the IWAE bound −L_k (then the "reconstruction" reported is −L_k − KL,
    /// so that their sum is −L_k).
    fn objective(
        &self,
        x: Tensor<2>,
        eps: Vec<f32>,
        beta: f64,
        config: &TrainConfig,
    ) -> (Tensor<1>, Tensor<1>, Tensor<1>) {
        let (rows, latent, k) = (x.dims()[0], self.latent(), config.iwae_samples);
        let device = x.device();
        if k == 1 {
            let eps = Tensor::from_data(TensorData::new(eps, [rows, latent]), &device); // [batch, latent]
            let loss = self.loss(x, eps);
            let total = loss.objective(beta, config.free_bits);
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
    fn device(&self) -> Device {
        Autoencoder::device(self)
    }

    fn label_classes(&self) -> usize {
        0
    }

    fn noise_width(&self, _config: &TrainConfig) -> usize {
        0
    }

    /// The reconstruction loss alone; the KL reported is 0.
    fn objective(
        &self,
        x: Tensor<2>,
        _eps: Vec<f32>,
        _beta: f64,
        _config: &TrainConfig,
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

impl<M: TrainModel> Trainable for M {
    /// Pixels, each row followed by a conditional model's one-hot label.
    fn input_rows(
        &self,
        data: &DataConfig,
        set: &ImageSet,
        seed: u64,
    ) -> Result<(Vec<f32>, usize)> {
        let pixels = data.pixels.prepare(set, seed);
        crate::models::nets::model_inputs(set, pixels, self.label_classes())
    }

    fn gradients(
        &self,
        batch: &Batch<'_>,
        train: &TrainConfig,
    ) -> std::result::Result<(GradientsParams, (f64, f64)), StepError> {
        let rows = batch.len();
        let data = TensorData::new(batch.rows.clone(), [rows, batch.width]);
        let device = TrainModel::device(self);
        let x = Tensor::<2>::from_data(data, &device); // [batch, width]
        let eps = seeds::normals(
            &mut seeds::rng(train.seed, batch.epoch, batch.step, Purpose::Noise),
            rows * self.noise_width(train),
        );
        let shards = super::data_parallel::shard_count(rows, train, &device);
        super::data_parallel::gradients(self, x, eps, batch.beta, train, shards)
    }

    fn test_figures(
        &self,
        data: &DataConfig,
        set: &ImageSet,
        seed: u64,
        rng: Xoshiro256PlusPlus,
    ) -> Result<TestFigures> {
        let (rows, width) = self.input_rows(data, set, seed)?;
        let (loss, units) = TrainModel::test_figures(self, &rows, width, rng)?;
        Ok(TestFigures {
            loss,
            active_units: Some(units),
        })
    }
}
