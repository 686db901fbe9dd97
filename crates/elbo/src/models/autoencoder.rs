//! A plain autoencoder with the VAE's networks: no noise and no KL term. The
//! encoder gives one code per image (the VAE's mean head alone), the decoder
//! maps it back, and the loss is the reconstruction term −log p(x | code)
//! alone (the same Bernoulli or Gaussian likelihood as the VAE).
//!
//! It is the lecture's "why VAE" foil: nothing makes its codes fill N(0, I),
//! so decoding codes drawn from N(0, I), or points between two codes, lands
//! where the decoder was never trained, and gives noise where a VAE gives
//! digits (`run::save_ae_comparison`). It has no likelihood bound: `eval`
//! reports its reconstruction loss only.
//!
//! It is configured by the same [`VaeConfig`] (`kind = "ae"` in
//! `config.toml`); the VAE-only settings (a conditional model, β, warm-up,
//! free bits, IWAE) are rejected.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};

use super::init::Init;
use super::nets::{Decoder, Encoder};
use super::{Activation, Likelihood, VaeConfig};
use crate::{Error, Result};

impl VaeConfig {
    /// Builds a freshly initialized autoencoder with this config's networks,
    /// seeded like [`VaeConfig::init`].
    pub fn init_autoencoder(&self, device: &Device, seed: u64) -> Autoencoder {
        let mut init = Init::new(seed, device);
        let (encoder, features) = self.build_encoder(&mut init);
        let code = init.linear(features, self.latent);
        let (decoder, output) = self.build_decoder(&mut init);
        Autoencoder {
            encoder,
            code,
            decoder,
            output,
            log_scale: self.log_scale(&mut init),
            activation: self.activation,
            likelihood: self.likelihood,
            variance: self.variance,
        }
    }

    /// Rejects what an autoencoder cannot be: a conditional model.
    pub fn validate_autoencoder(&self) -> Result<()> {
        self.validate()?;
        if self.conditional {
            return Err(Error::invalid(
                "the autoencoder is unconditional: conditional = true applies to the VAE only",
            ));
        }
        Ok(())
    }
}

/// Encoder → code, decoder → logits (or Gaussian means); deterministic.
#[derive(Module, Debug)]
pub struct Autoencoder {
    /// The encoder body: hidden layers (MLP) or convolutions.
    pub encoder: Encoder,
    /// Encoder features → code.
    pub code: Linear,
    /// The decoder body: hidden layers (MLP) or transposed convolutions.
    pub decoder: Decoder,
    /// MLP only: last decoder layer → one output per pixel.
    pub output: Option<Linear>,
    /// Learned per-pixel log-variance (`gaussian-learned` only): `[input_dim]`.
    pub log_scale: Option<Param<Tensor<1>>>,
    /// Nonlinearity after each hidden layer.
    #[module(skip)]
    pub activation: Activation,
    /// The decoder's p(x | code).
    #[module(skip)]
    pub likelihood: Likelihood,
    /// Fixed pixel variance of the `gaussian` likelihood.
    #[module(skip)]
    pub variance: f64,
}

impl Autoencoder {
    /// Codes `[batch, latent]` of images `x: [batch, input_dim]`.
    pub fn encode(&self, x: Tensor<2>) -> Tensor<2> {
        let h = self.encoder.forward(x, 0, self.activation);
        super::layers::dense(&self.code, h, None)
    }

    /// Decoder outputs `[batch, input_dim]` for codes `z: [batch, latent]`.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        self.decoder
            .forward(z, self.output.as_ref(), self.activation)
    }

    /// The decoder's mean image: pixel probabilities, or μ for a Gaussian.
    pub fn decode_probs(&self, z: Tensor<2>) -> Tensor<2> {
        self.likelihood.mean_image(self.decode(z))
    }

    /// The loss per image, −log p(x | decode(encode(x))) in nats: `[batch]`.
    pub fn loss(&self, x: Tensor<2>) -> Tensor<1> {
        let out = self.decode(self.encode(x.clone())); // [batch, dim]
        let log_scale = self.log_scale.as_ref().map(|p| p.val());
        self.likelihood
            .neg_log_likelihood(out, x, log_scale, self.variance)
    }

    /// The code dimension.
    pub fn latent(&self) -> usize {
        self.code.weight.dims()[1]
    }

    /// The device the weights are on.
    pub fn device(&self) -> Device {
        self.code.weight.val().device()
    }
}
