//! A fitted mixture's likelihood on images (exact, or a dequantized
//! density bound), its scores in its own feature space, and its samples.

use super::{Mixture, MixtureEval};
use crate::data::ImageSet;
use crate::families::{ModelConfig, RunConfig};
#[cfg(doc)]
use crate::mixture::GmmConfig;
use crate::mixture::{Mat, Pca, dequantization_nats, dequantize};
use crate::{Error, Result};

/// The features a mixture of `config` sees for `set`: pixels as prepared
/// by the run's pixel mode, dequantized or projected where configured.
pub fn features(
    config: &RunConfig,
    set: &ImageSet,
    pca: Option<&Pca>,
    seed: u64,
) -> Result<Mat<f64>> {
    let pixels = config.data.pixels.prepare(set, seed);
    let dim = set.dim();
    let x = match &config.model {
        ModelConfig::Gmm(g) if g.dequantized() => crate::mixture::matrix_from_rows(
            &dequantize(&pixels, g.dequantization_levels(), seed),
            dim,
        )?,
        _ => crate::mixture::matrix_from_rows(&pixels, dim)?,
    };
    match pca {
        Some(p) => p.transform(x.as_ref()),
        None => Ok(x),
    }
}

/// The grey levels a GMM run dequantizes at (see
/// [`GmmConfig::dequantization_levels`]); 256 for other configs.
pub fn levels(config: &RunConfig) -> u32 {
    match &config.model {
        ModelConfig::Gmm(g) => g.dequantization_levels(),
        _ => 256,
    }
}

pub(super) fn evaluate_model(
    config: &RunConfig,
    model: &Mixture,
    set: &ImageSet,
    seed: u64,
) -> Result<MixtureEval> {
    let dim = set.dim();
    let nll = nll_per_image(config, model, set, seed)?
        .map(|v| v.iter().sum::<f64>() / v.len().max(1) as f64);
    let (ll, p) = match (model, nll) {
        // The NLL pass scored the very features EM saw: reuse it.
        (Mixture::Bernoulli(b), Some(nll)) => (-nll, b.n_parameters()),
        (Mixture::Gmm(g), Some(nll)) if g.pca.is_none() => (
            dequantization_nats(dim, levels(config)) - nll,
            g.gmm.n_parameters(),
        ),
        // PCA coordinates of the raw pixels, or pixels without dequantization.
        (Mixture::Gmm(g), _) => {
            let x = features(config, set, g.pca.as_ref(), seed)?;
            (g.gmm.score(x.as_ref())?, g.gmm.n_parameters())
        }
        (Mixture::Bernoulli(_), None) => {
            return Err(Error::internal("a Bernoulli mixture always has an NLL"));
        }
    };
    let n = set.n as f64;
    Ok(MixtureEval {
        images: set.n,
        log_likelihood: ll,
        bic: -2.0 * ll * n + p as f64 * n.ln(),
        aic: -2.0 * ll * n + 2.0 * p as f64,
        n_parameters: p,
        nll_nats: nll,
        bits_per_dim: nll.map(|v| v / (dim as f64 * std::f64::consts::LN_2)),
    })
}

/// Per image of `set`, −log P in nats where the mixture gives images a
/// probability (`None` for a GMM fitted with `dequantize = false`):
/// - Bernoulli mixture: exact, of the binary pixels.
/// - GMM on pixels: −log p(x) + D ln L of pixels x dequantized at the L
///   grey levels of the data the run was fitted on (an upper bound on
///   −log P of the quantized image, Theis et al. 2016).
/// - GMM on PCA coordinates: the same, with the pixel density p(x) =
///   q(z)·N(x⊥; 0, σ²I): the mixture on the coordinates z times probabilistic
///   PCA's isotropic Gaussian on the residual off the subspace
///   ([`Pca::residual_log_density`]).
pub fn nll_per_image(
    config: &RunConfig,
    model: &Mixture,
    set: &ImageSet,
    seed: u64,
) -> Result<Option<Vec<f64>>> {
    let dim = set.dim();
    let ll = match model {
        Mixture::Bernoulli(b) => b.score_samples(features(config, set, None, seed)?.as_ref())?,
        Mixture::Gmm(g) => {
            if !matches!(&config.model, ModelConfig::Gmm(c) if c.dequantize) {
                return Ok(None);
            }
            let pixels = config.data.pixels.prepare(set, seed);
            let x =
                crate::mixture::matrix_from_rows(&dequantize(&pixels, levels(config), seed), dim)?;
            match &g.pca {
                None => g.gmm.score_samples(x.as_ref())?,
                Some(pca) => {
                    let z = pca.transform(x.as_ref())?;
                    let inside = g.gmm.score_samples(z.as_ref())?;
                    let residual = pca.residual_log_density(x.as_ref(), z.as_ref())?;
                    inside.iter().zip(&residual).map(|(a, b)| a + b).collect()
                }
            }
        }
    };
    let shift = match model {
        Mixture::Gmm(_) => dequantization_nats(dim, levels(config)),
        _ => 0.0,
    };
    Ok(Some(ll.into_iter().map(|l| shift - l).collect()))
}

/// `n` images from a mixture run, `[n, dim]` in [0, 1]: for a GMM, m ~ P(m)
/// then x ~ N(μ_m, Σ_m) (mapped back through the PCA), clipped to [0, 1];
/// for a Bernoulli mixture, the sampled component's pixel probabilities
/// (as a VAE's samples are its decoder's probabilities).
pub fn sample(model: &Mixture, n: usize, seed: u64) -> Result<Vec<f32>> {
    let x = match model {
        Mixture::Gmm(g) => {
            let (z, _) = g.gmm.sample(n, seed)?;
            match &g.pca {
                Some(p) => p.inverse_transform(z.as_ref())?,
                None => z,
            }
        }
        Mixture::Bernoulli(b) => {
            let (_, labels) = b.sample(n, seed);
            Mat::from_fn(n, b.n_features(), |i, j| b.probs[(labels[i], j)])
        }
    };
    Ok(crate::mixture::rows_of(x.as_ref())
        .into_iter()
        .map(|v| v.clamp(0.0, 1.0) as f32)
        .collect())
}

/// Scores a mixture on `set` in its own feature space and per image.
pub fn scores(
    config: &RunConfig,
    model: &Mixture,
    set: &ImageSet,
    seed: u64,
) -> Result<MixtureEval> {
    evaluate_model(config, model, set, seed)
}
