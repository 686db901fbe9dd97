//! The decoder's likelihood p(x | z): Bernoulli for binary (or grey, as in
//! pytorch/examples) pixels, Gaussian for continuous data. Both are full
//! log-densities, the Gaussian's normalizer included, so negative ELBOs and
//! IWAE estimates of different likelihoods are in the same units (nats).

use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Which p(x | z) the decoder parameterizes; named in config files and on the
/// command line as `bernoulli`, `gaussian` or `gaussian-learned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// One Bernoulli logit per pixel.
    #[default]
    Bernoulli,
    /// N(x; μ(z), σ²) per pixel with σ² fixed (the config's `variance`).
    Gaussian,
    /// N(x; μ(z), σ_i²) with one learned log-variance per pixel, started at
    /// the config's `variance`.
    GaussianLearned,
}

impl Likelihood {
    /// Every likelihood, in the order `--help` lists them.
    pub const ALL: [Likelihood; 3] = [
        Likelihood::Bernoulli,
        Likelihood::Gaussian,
        Likelihood::GaussianLearned,
    ];

    /// The config-file spelling.
    pub fn name(self) -> &'static str {
        match self {
            Likelihood::Bernoulli => "bernoulli",
            Likelihood::Gaussian => "gaussian",
            Likelihood::GaussianLearned => "gaussian-learned",
        }
    }
}

impl std::fmt::Display for Likelihood {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Likelihood {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        Likelihood::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| {
                crate::Error::invalid(format!(
                    "unknown likelihood '{s}' (expected bernoulli, gaussian or gaussian-learned)"
                ))
            })
    }
}

impl Likelihood {
    /// −log p(x | z) per image from the decoder's output `[batch, dim]`:
    /// BCE from logits, or ½ Σ_i [(x_i − μ_i)²/σ_i² + ln σ_i² + ln 2π] with
    /// the learned per-pixel log-variance `log_scale` (`[dim]`) or the fixed
    /// `variance`.
    pub fn neg_log_likelihood(
        self,
        output: Tensor<2>,
        x: Tensor<2>,
        log_scale: Option<Tensor<1>>,
        variance: f64,
    ) -> Tensor<1> {
        if self == Likelihood::Bernoulli {
            return super::vae::bce_with_logits(output, x);
        }
        let dim = x.dims()[1];
        let log_var: Tensor<2> = match log_scale {
            Some(p) => p.unsqueeze_dim(0),                              // [1, dim]
            None => Tensor::full([1, dim], variance.ln(), &x.device()), // [1, dim]
        };
        let scaled = (x - output).square() * log_var.clone().neg().exp(); // [batch, dim]
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        (scaled + log_var)
            .add_scalar(ln_2pi)
            .sum_dim(1)
            .squeeze_dim(1)
            .mul_scalar(0.5) // [batch]
    }

    /// The mean image for decoder outputs `[batch, dim]`: pixel
    /// probabilities (sigmoid of the logits) or μ(z) itself.
    pub fn mean_image(self, output: Tensor<2>) -> Tensor<2> {
        match self {
            Likelihood::Bernoulli => burn::tensor::activation::sigmoid(output),
            Likelihood::Gaussian | Likelihood::GaussianLearned => output,
        }
    }
}
