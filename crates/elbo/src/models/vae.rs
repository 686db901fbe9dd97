//! The lecture's variational autoencoder (Kingma & Welling 2014, "Auto-Encoding
//! Variational Bayes").
//!
//! A VAE is an infinite mixture of Gaussians: z ~ N(0, I), x | z ~ p(x | z),
//! P(x) = ∫ P(z) P(x | z) dz. It is trained by maximizing the evidence lower
//! bound (ELBO) with an approximate posterior q(z | x) = N(m, diag(exp(σ))):
//!
//! ```text
//! log P(x) ≥ E_q[log p(x | z)] − KL(q(z | x) ‖ N(0, I))
//! ```
//!
//! The encoder is an MLP that gives, per latent dimension, a mean `m` and a
//! log-variance `σ`. With e ~ N(0, I) the code is c = exp(σ/2)·e + m (the
//! reparameterization trick, K&W 2014 §2.4), and the decoder MLP maps c to one
//! Bernoulli logit per pixel.
//!
//! The loss per image is reconstruction + KL, in nats:
//! - reconstruction = −log p(x | c) = Σ_pixels BCE(logit, x), computed from
//!   logits as softplus(l) − x·l so it stays finite for any logit;
//! - KL(q ‖ N(0, I)) = ½ Σ_j (exp(σ_j) + m_j² − 1 − σ_j), the closed form of
//!   K&W 2014, Appendix B.
//!
//! The lecture writes the regularizer as Σ_j (exp(σ_j) − (1 + σ_j) + m_j²).
//! With σ = log-variance that is exactly 2·KL: elbo implements the exact KL, so
//! its losses are true negative ELBOs (upper bounds on −log P(x)) and compare
//! directly with pytorch/examples' VAE and the published MNIST numbers.
//!
//! The networks (MLP or convolutional, optionally conditioned on a class
//! label) are in `nets.rs` and `conv.rs`.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::init::Init;
use super::layers::dense;
use super::nets::{Arch, Decoder, Encoder, split_label, with_label};
use super::{Activation, Likelihood};
use crate::{Error, Result};

/// Everything needed to build a [`Vae`]; saved as `[model]` in `config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaeConfig {
    /// Values per image (height · width · channels): 784 for MNIST; 0 until
    /// resolved from the data.
    pub input_dim: usize,
    /// Widths of the hidden layers, encoder side; the decoder mirrors them.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Latent dimension.
    #[serde(default = "default_latent")]
    pub latent: usize,
    /// Nonlinearity after each hidden layer.
    #[serde(default)]
    pub activation: Activation,
    /// The decoder's p(x | z).
    #[serde(default)]
    pub likelihood: Likelihood,
    /// Gaussian decoders: the pixel variance (fixed, or the learned one's start).
    #[serde(default = "default_variance")]
    pub variance: f64,
    /// Encoder and decoder networks: `mlp` (widths `hidden`) or `conv`.
    #[serde(default, skip_serializing_if = "is_mlp")]
    pub arch: Arch,
    /// Conv filters per stride-2 layer, encoder side (empty: 32, 64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<usize>,
    /// Image (height, width, channels) a conv model is built for; recorded
    /// from the data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<(usize, usize, usize)>,
    /// Condition encoder and decoder on the class label (a conditional VAE).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conditional: bool,
    /// Number of classes of a conditional model; 0 until resolved from the
    /// data's labels.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub classes: usize,
}

fn is_mlp(arch: &Arch) -> bool {
    *arch == Arch::Mlp
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

fn default_variance() -> f64 {
    0.01
}

fn default_hidden() -> Vec<usize> {
    vec![400]
}

fn default_latent() -> usize {
    20
}

impl VaeConfig {
    /// The canonical recipe (pytorch/examples' VAE): input-400-20-400-input, ReLU.
    pub fn new(input_dim: usize) -> Self {
        VaeConfig {
            input_dim,
            hidden: default_hidden(),
            latent: default_latent(),
            activation: Activation::Relu,
            likelihood: Likelihood::Bernoulli,
            variance: default_variance(),
            arch: Arch::Mlp,
            channels: Vec::new(),
            shape: None,
            conditional: false,
            classes: 0,
        }
    }

    /// Rejects sizes that cannot build a network. An input size of 0 is
    /// allowed here: it means "take it from the data" until training resolves it.
    pub fn validate(&self) -> Result<()> {
        if self.latent == 0 {
            return Err(Error::invalid("latent dimension must be positive"));
        }
        if !(self.variance.is_finite() && self.variance > 0.0) {
            return Err(Error::invalid(format!(
                "the Gaussian variance must be positive, got {}",
                self.variance
            )));
        }
        if let Some(w) = self.hidden.iter().find(|&&w| w == 0) {
            return Err(Error::invalid(format!(
                "hidden widths must be positive, got {w} in {:?}",
                self.hidden
            )));
        }
        self.validate_arch()
    }

    /// Builds a freshly initialized model on `device`, its weights drawn from
    /// a stream seeded by `seed` alone (independent of thread count and of
    /// burn's global RNG). Initialization follows PyTorch's `nn.Linear` and
    /// `nn.Conv2d` (weights and biases U(−1/√fan_in, 1/√fan_in)), so
    /// training curves compare with pytorch/examples from the first step.
    pub fn init(&self, device: &Device, seed: u64) -> Vae {
        let mut init = Init::new(seed, device);
        let (encoder, features) = self.build_encoder(&mut init);
        let mean = init.linear(features, self.latent);
        let log_var = init.linear(features, self.latent);
        let (decoder, output) = self.build_decoder(&mut init);
        Vae {
            encoder,
            mean,
            log_var,
            decoder,
            output,
            log_scale: self.log_scale(&mut init),
            activation: self.activation,
            likelihood: self.likelihood,
            variance: self.variance,
            classes: self.label_classes(),
        }
    }

    /// The learned per-pixel log-variance (`gaussian-learned` only),
    /// numbered after the layers.
    pub(crate) fn log_scale(&self, init: &mut Init) -> Option<Param<Tensor<1>>> {
        (self.likelihood == Likelihood::GaussianLearned).then(|| {
            let values = vec![self.variance.ln() as f32; self.input_dim];
            init.param(values, [self.input_dim])
        })
    }
}

/// The lecture's VAE: encoder → (mean, log-variance), decoder → logits.
#[derive(Module, Debug)]
pub struct Vae {
    /// The encoder body: hidden layers (MLP) or convolutions.
    pub encoder: Encoder,
    /// Encoder features → posterior mean m.
    pub mean: Linear,
    /// Encoder features → posterior log-variance σ.
    pub log_var: Linear,
    /// The decoder body: hidden layers (MLP) or transposed convolutions.
    pub decoder: Decoder,
    /// MLP only: last decoder layer → one Bernoulli logit (or Gaussian
    /// mean) per pixel.
    pub output: Option<Linear>,
    /// Learned per-pixel log-variance (`gaussian-learned` only): `[input_dim]`.
    pub log_scale: Option<Param<Tensor<1>>>,
    /// Nonlinearity after each hidden layer.
    #[module(skip)]
    pub activation: Activation,
    /// The decoder's p(x | z).
    #[module(skip)]
    pub likelihood: Likelihood,
    /// Fixed pixel variance of the `gaussian` likelihood.
    #[module(skip)]
    pub variance: f64,
    /// Classes of a conditional VAE, 0 otherwise: inputs are then the pixels
    /// and a one-hot label, codes the latent vector and the same label.
    #[module(skip)]
    pub classes: usize,
}

/// Per-image loss terms of one batch, in nats.
#[derive(Debug, Clone)]
pub struct VaeLoss {
    /// −log p(x | c) per image: `[batch]`.
    pub recon: Tensor<1>,
    /// KL(q(z | x) ‖ N(0, I)) per image: `[batch]`.
    pub kl: Tensor<1>,
    /// The KL split by latent dimension: `[batch, latent]`.
    pub kl_dims: Tensor<2>,
}

impl VaeLoss {
    /// The negative ELBO summed over the batch: the training objective,
    /// summed rather than averaged as in pytorch/examples.
    pub fn total(&self) -> Tensor<1> {
        self.recon.clone().sum() + self.kl.clone().sum()
    }

    /// The training objective summed over the batch, for KL weight `beta`
    /// and a free-bits floor `free_bits` (nats per latent dimension):
    ///
    /// recon + β · B · Σ_j max(λ, mean_batch KL_j)
    ///
    /// β ≠ 1 is the β-VAE (Higgins et al. 2017); a β ramped from 0 is KL
    /// warm-up; λ > 0 is free bits (Kingma et al. 2016, eq. 15), which stops
    /// the optimizer from pushing a dimension's KL below λ, the usual
    /// remedy for posterior collapse. β = 1, λ = 0 is the negative ELBO.
    pub fn objective(&self, beta: f64, free_bits: f64) -> Tensor<1> {
        let recon = self.recon.clone().sum();
        if free_bits <= 0.0 {
            return recon + self.kl.clone().sum().mul_scalar(beta);
        }
        let batch = self.kl_dims.dims()[0] as f64;
        let per_dim = self.kl_dims.clone().mean_dim(0).clamp_min(free_bits); // [1, latent]
        recon + per_dim.sum().mul_scalar(beta * batch)
    }
}

impl Vae {
    /// Posterior parameters for a batch `x: [batch, input_dim (+ classes)]`:
    /// (mean `[batch, latent]`, log-variance `[batch, latent]`).
    pub fn encode(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = self.encoder.forward(x, self.classes, self.activation);
        (
            dense(&self.mean, h.clone(), None),
            dense(&self.log_var, h, None),
        )
    }

    /// Bernoulli logits (or Gaussian means) `[batch, input_dim]` for codes
    /// `z: [batch, latent (+ classes)]`.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<2> {
        self.decoder
            .forward(z, self.output.as_ref(), self.activation)
    }

    /// The decoder's mean image for codes `z: [batch, latent (+ classes)]`:
    /// pixel probabilities for a Bernoulli decoder, μ(z) for a Gaussian one.
    pub fn decode_probs(&self, z: Tensor<2>) -> Tensor<2> {
        self.likelihood.mean_image(self.decode(z))
    }

    /// −log p(x | z) per image from the decoder's output `[batch, dim]`:
    /// BCE from logits, or ½ Σ_i [(x_i − μ_i)²/σ_i² + ln σ_i² + ln 2π].
    pub fn neg_log_likelihood(&self, output: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
        let log_scale = self.log_scale.as_ref().map(|p| p.val());
        self.likelihood
            .neg_log_likelihood(output, x, log_scale, self.variance)
    }

    /// The latent dimension.
    pub fn latent(&self) -> usize {
        self.mean.weight.dims()[1]
    }

    /// The device the weights are on.
    pub fn device(&self) -> Device {
        self.mean.weight.val().device()
    }

    /// The negative-ELBO terms for `x: [batch, input_dim (+ classes)]` with standard-normal
    /// noise `eps: [batch, latent]` (one sample of z per image).
    pub fn loss(&self, x: Tensor<2>, eps: Tensor<2>) -> VaeLoss {
        let (mean, log_var) = self.encode(x.clone());
        let (pixels, label) = split_label(x, self.classes);
        // Reparameterization (K&W 2014 eq. 10): c = exp(σ/2)·e + m.
        let z = log_var.clone().mul_scalar(0.5).exp() * eps + mean.clone(); // [batch, latent]
        let logits = self.decode(with_label(z, label)); // [batch, dim]
        let kl_dims = kl_per_dimension(mean, log_var);
        VaeLoss {
            recon: self.neg_log_likelihood(logits, pixels),
            kl: kl_dims.clone().sum_dim(1).squeeze_dim(1), // [batch]
            kl_dims,
        }
    }
}

impl Vae {
    /// Importance log weights log p(x, z_k) − log q(z_k | x) for images
    /// `x: [batch, input_dim (+ classes)]` with z_k = m + exp(σ/2)·e_k, `eps: [batch, k,
    /// latent]`, given the posterior (`mean`, `log_var`: `[batch, latent]`).
    /// Returns `[batch, k]`.
    pub fn log_weights(
        &self,
        x: Tensor<2>,
        mean: Tensor<2>,
        log_var: Tensor<2>,
        eps: Tensor<3>,
    ) -> Tensor<2> {
        let [batch, k, latent] = eps.dims();
        let (x, label) = split_label(x, self.classes);
        let dim = x.dims()[1];
        let lv = log_var.unsqueeze_dim::<3>(1); // [batch, 1, latent]
        let z = lv.clone().mul_scalar(0.5).exp() * eps.clone() + mean.unsqueeze_dim::<3>(1); // [batch, k, latent]
        // log p(z) − log q(z | x) = −½ Σ_j (z_j² − e_j² − σ_j): the 2π terms cancel.
        let prior_ratio = (z.clone().square() - eps.square() - lv)
            .sum_dim(2)
            .mul_scalar(-0.5); // [batch, k, 1]
        let label = label.map(|y| {
            let classes = y.dims()[1];
            y.unsqueeze_dim::<3>(1)
                .repeat_dim(1, k)
                .reshape([batch * k, classes]) // [batch·k, classes]
        });
        let logits = self.decode(with_label(z.reshape([batch * k, latent]), label)); // [batch·k, dim]
        // The Bernoulli BCE scores k logit rows against one target row, so
        // the pixels are not copied k times (12% of an IWAE-5000 run).
        let targets = match self.likelihood {
            Likelihood::Bernoulli => x, // [batch, dim]
            _ => x
                .unsqueeze_dim::<3>(1)
                .repeat_dim(1, k)
                .reshape([batch * k, dim]), // [batch·k, dim]
        };
        let log_px = self
            .neg_log_likelihood(logits, targets)
            .neg()
            .reshape([batch, k]); // [batch, k]
        log_px + prior_ratio.reshape([batch, k])
    }

    /// The IWAE training objective per image (Burda et al. 2016, eq. 8):
    /// −L_k = −log (1/k) Σ_k w_k, computed with a stable log-sum-exp, for
    /// `eps: [batch, k, latent]`. Also returns the analytic KL per image, for
    /// reporting. k = 1 is a one-sample ELBO with a sampled KL.
    pub fn iwae_loss(&self, x: Tensor<2>, eps: Tensor<3>) -> (Tensor<1>, Tensor<1>) {
        let k = eps.dims()[1];
        let (mean, log_var) = self.encode(x.clone());
        let kl = kl_standard_normal(mean.clone(), log_var.clone());
        let log_w = self.log_weights(x, mean, log_var, eps); // [batch, k]
        let max = log_w.clone().max_dim(1).detach(); // [batch, 1]
        let lse = (log_w - max.clone()).exp().sum_dim(1).log() + max; // [batch, 1]
        (lse.sub_scalar((k as f64).ln()).neg().squeeze_dim(1), kl) // [batch]
    }
}

/// −log Bernoulli(x; sigmoid(l)) summed per row: `[batch, d] → [batch]`
/// (targets may also be `[batch / k, d]`, each scoring k consecutive rows).
///
/// softplus(l) − x·l, written as max(l, 0) − x·l + log(1 + e^−|l|) so that
/// neither term overflows: finite for every finite logit, where the naive
/// −x·log σ(l) − (1−x)·log(1−σ(l)) gives inf once σ(l) rounds to 0 or 1.
pub fn bce_with_logits(logits: Tensor<2>, x: Tensor<2>) -> Tensor<1> {
    // One fused pass forward and backward on the CPU (see `fused.rs` for the
    // measurement that motivated it); the composite formula elsewhere.
    crate::kernels::bce::bce_with_logits(logits, x)
}

/// KL(N(m, diag(exp(σ))) ‖ N(0, I)) per row: `[batch, latent] → [batch]`.
///
/// ½ Σ_j (exp(σ_j) + m_j² − 1 − σ_j): Kingma & Welling 2014, Appendix B. The
/// lecture's Σ_j (exp(σ_j) − (1 + σ_j) + m_j²) is twice this.
pub fn kl_standard_normal(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<1> {
    kl_per_dimension(mean, log_var).sum_dim(1).squeeze_dim(1) // [batch]
}

/// The same KL, one term per latent dimension: `[batch, latent]`.
pub fn kl_per_dimension(mean: Tensor<2>, log_var: Tensor<2>) -> Tensor<2> {
    (log_var.clone().exp() + mean.square() - log_var.add_scalar(1.0)).mul_scalar(0.5)
}
