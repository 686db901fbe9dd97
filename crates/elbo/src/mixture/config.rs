//! The `[model]` sections of mixture run folders (`kind = "gmm"` and
//! `kind = "bernoulli-mixture"` in `config.toml`). The `[train]` section of
//! such a run is not used: EM's settings live here.

use serde::{Deserialize, Serialize};

use super::{BernoulliMixtureParams, CovarianceType, GaussianMixtureParams, Init};
use crate::{Error, Result};

/// A Gaussian mixture on pixels (optionally on their first PCA components).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GmmConfig {
    /// Number of components K.
    pub components: usize,
    /// full, tied, diag or spherical.
    #[serde(default)]
    pub covariance: CovarianceType,
    /// Added to every covariance's diagonal.
    #[serde(default = "default_reg")]
    pub reg_covar: f64,
    /// Stop when the mean log-likelihood changes by less than this.
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Most EM iterations per initialization.
    #[serde(default = "default_iter")]
    pub max_iter: usize,
    /// Initializations tried, the best kept.
    #[serde(default = "one")]
    pub n_init: usize,
    /// k-means++, k-means or random.
    #[serde(default)]
    pub init: Init,
    /// Fit on the first this-many principal components instead of pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pca: Option<usize>,
    /// Pixels as (k + u) / L at the data's L grey levels, u ~ U(0, 1), so
    /// the log-likelihood becomes a bound on the probability of the
    /// quantized images (L = 256 for 8-bit images). With `pca`, the fit sees
    /// the raw pixels' coordinates and only the NLL uses dequantized pixels
    /// (see `families::mixture::nll_per_image`).
    #[serde(default = "yes")]
    pub dequantize: bool,
    /// L, the grey levels of the data the run is fitted on, recorded when
    /// it is fitted (17 for the digits); absent in runs saved before it was
    /// recorded, which were dequantized at 256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<u32>,
    /// Seeds initialization and dequantization noise.
    #[serde(default)]
    pub seed: u64,
}

/// A mixture of Bernoullis on binary pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BernoulliMixtureConfig {
    /// Number of components K.
    pub components: usize,
    /// Most EM iterations.
    #[serde(default = "default_iter")]
    pub max_iter: usize,
    /// Stop when the mean log-likelihood changes by less than this.
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Beta-prior pseudo-count on the pixel probabilities.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Seeds initialization.
    #[serde(default)]
    pub seed: u64,
}

fn default_reg() -> f64 {
    1e-6
}
fn default_tol() -> f64 {
    1e-3
}
fn default_iter() -> usize {
    100
}
fn default_alpha() -> f64 {
    1e-2
}
fn one() -> usize {
    1
}
fn yes() -> bool {
    true
}

impl GmmConfig {
    /// scikit-learn's defaults for `k` components, pixels dequantized.
    pub fn new(k: usize) -> Self {
        GmmConfig {
            components: k,
            covariance: CovarianceType::Full,
            reg_covar: default_reg(),
            tol: default_tol(),
            max_iter: default_iter(),
            n_init: 1,
            init: Init::KmeansPlusPlus,
            pca: None,
            dequantize: true,
            levels: None,
            seed: 0,
        }
    }

    /// The grey levels pixels are dequantized at: the recorded ones, else
    /// 256 (runs saved before they were recorded).
    pub fn dequantization_levels(&self) -> u32 {
        self.levels.unwrap_or(256)
    }

    /// The EM settings.
    pub fn params(&self) -> GaussianMixtureParams {
        GaussianMixtureParams::new(self.components)
            .covariance_type(self.covariance)
            .reg_covar(self.reg_covar)
            .tol(self.tol)
            .max_iter(self.max_iter)
            .n_init(self.n_init)
            .init(self.init)
            .seed(self.seed)
    }

    /// Whether log-likelihoods are of dequantized pixels (then comparable
    /// with discrete models after the D ln 256 correction).
    pub fn dequantized(&self) -> bool {
        self.dequantize && self.pca.is_none()
    }

    /// Rejects settings that cannot fit.
    pub fn validate(&self) -> Result<()> {
        if self.components == 0 {
            return Err(Error::invalid("a mixture needs at least 1 component"));
        }
        if self.pca == Some(0) {
            return Err(Error::invalid("--pca must be at least 1"));
        }
        if !(self.reg_covar.is_finite()
            && self.reg_covar >= 0.0
            && self.tol.is_finite()
            && self.tol >= 0.0)
        {
            return Err(Error::invalid(
                "reg_covar and tol must be non-negative numbers",
            ));
        }
        if self.n_init == 0 {
            return Err(Error::invalid("n_init must be at least 1"));
        }
        Ok(())
    }
}

impl BernoulliMixtureConfig {
    /// `k` components with [`BernoulliMixtureParams::new`]'s defaults.
    pub fn new(k: usize) -> Self {
        BernoulliMixtureConfig {
            components: k,
            max_iter: default_iter(),
            tol: default_tol(),
            alpha: default_alpha(),
            seed: 0,
        }
    }

    /// The EM settings.
    pub fn params(&self) -> BernoulliMixtureParams {
        BernoulliMixtureParams {
            n_components: self.components,
            max_iter: self.max_iter,
            tol: self.tol,
            alpha: self.alpha,
            seed: self.seed,
        }
    }

    /// Rejects settings that cannot fit.
    pub fn validate(&self) -> Result<()> {
        if self.components == 0 {
            return Err(Error::invalid("a mixture needs at least 1 component"));
        }
        if !(self.alpha.is_finite() && self.alpha >= 0.0 && self.tol.is_finite() && self.tol >= 0.0)
        {
            return Err(Error::invalid("alpha and tol must be non-negative numbers"));
        }
        Ok(())
    }
}
