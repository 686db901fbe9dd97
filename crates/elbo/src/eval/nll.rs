//! One result type for every family's likelihood: [`Nll`] says how much and
//! how it was obtained; [`Evaluation`] is what `elbo eval --json` prints.

use serde::{Deserialize, Serialize};

use crate::folder::LossSummary;

/// How a negative log-likelihood was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum NllMethod {
    /// Exact: a finite mixture's log Σₘ P(m) P(x | m).
    Exact,
    /// Exact: Σᵢ log P(xᵢ | the pixels before it) of an autoregressive model.
    ExactAutoregressive,
    /// The IWAE bound −L_k with `k` importance samples (Burda et al. 2016,
    /// Eq. 8): an upper bound on −log p(x), tight as k grows.
    IwaeBound {
        /// Importance samples per image.
        k: usize,
    },
    /// A density on dequantized pixels, x = (k + U(0, 1))/L for pixels
    /// of L grey levels k = 0..L−1: −log p(x) + D ln L bounds −log P of
    /// the quantized image from above (Theis et al. 2016).
    DequantizedBound {
        /// Whether the density is a GMM of PCA coordinates times an
        /// isotropic Gaussian on the residual.
        pca: bool,
        /// L: the data's grey levels (256 for 8-bit images, 17 for the
        /// embedded digits).
        #[serde(default = "eight_bit")]
        levels: u32,
    },
}

impl NllMethod {
    /// One line for tables and reports.
    pub fn describe(&self) -> String {
        match self {
            NllMethod::Exact => "exact".into(),
            NllMethod::ExactAutoregressive => "exact: Σᵢ log P(xᵢ ∣ the pixels before it)".into(),
            NllMethod::IwaeBound { k } => {
                format!("IWAE upper bound, k = {k} (Burda et al. 2016)")
            }
            NllMethod::DequantizedBound { pca, levels } => format!(
                "dequantized density, an upper bound: −log p(x) + D ln {levels}, x = (k + U(0,1))/{levels} for {levels} grey levels{}",
                if *pca {
                    "; p = GMM of the PCA coordinates × isotropic Gaussian on the residual"
                } else {
                    ""
                }
            ),
        }
    }
}

/// The grey levels of results saved before they were recorded: 8-bit.
fn eight_bit() -> u32 {
    256
}

/// A negative log-likelihood over a set of images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nll {
    /// Mean −log P(x) in nats per image (or its upper bound, see `method`).
    pub nats: f64,
    /// Standard error of that mean across images.
    pub std_error: f64,
    /// The same in bits per dimension: nats / (H·W·C · ln 2).
    pub bits_per_dim: f64,
    /// Images averaged over.
    pub images: usize,
    /// How it was obtained.
    pub method: NllMethod,
}

impl Nll {
    /// Mean, standard error and bits/dim of per-image values (`dim` values
    /// per image).
    pub fn from_per_image(nll: &[f64], dim: usize, method: NllMethod) -> Nll {
        let n = nll.len().max(1) as f64;
        let mean = nll.iter().sum::<f64>() / n;
        let var = nll.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        Nll {
            nats: mean,
            std_error: (var / n).sqrt(),
            bits_per_dim: mean / (dim as f64 * std::f64::consts::LN_2),
            images: nll.len(),
            method,
        }
    }
}

/// Settings of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct EvalOptions {
    /// Seeds binarization, dequantization and the encoder's noise.
    pub seed: u64,
    /// For a VAE: importance samples of the IWAE bound; `None` reports the
    /// one-sample negative ELBO only. Other families refuse it.
    pub iwae_samples: Option<usize>,
}

/// A model scored on a set of images: the one schema of `elbo eval --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The family (`vae`, `gmm`, `pixelcnn`, ...).
    pub kind: String,
    /// Images scored.
    pub images: usize,
    /// Its negative log-likelihood and how it was obtained; absent for a
    /// model that defines none (the plain autoencoder, a GMM fitted without
    /// dequantization).
    pub nll: Option<Nll>,
    /// The training objective on these images, nats per image: the
    /// one-sample negative ELBO split into reconstruction and KL (VAE), the
    /// reconstruction loss (autoencoder), or the NLL with KL = 0.
    pub loss: Option<LossSummary>,
    /// Free parameters.
    pub parameters: usize,
    /// Mixtures only: scores in the model's own feature space.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mixture: Option<MixtureScores>,
}

/// A mixture's scores on a set, in its own feature space (pixels, or PCA
/// coordinates), as scikit-learn reports them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MixtureScores {
    /// Mean log-likelihood per image (a density for a GMM).
    pub log_likelihood: f64,
    /// −2 log L + p ln n.
    pub bic: f64,
    /// −2 log L + 2p.
    pub aic: f64,
}
