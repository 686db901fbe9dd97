//! Mixtures as run folders: train into one (`config.toml`,
//! `model.safetensors`, `metrics.jsonl`), load it back, evaluate and sample,
//! so `elbo sample` and `elbo eval` work on them as on a VAE run.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::{Convergence, GaussianMixture, Mat, Pca, dequantization_nats, dequantize, io};
use crate::data::ImageSet;
use crate::run::{Model, Run};
use crate::train::{ModelConfig, RunConfig, RunDir};
use crate::{Error, Result};

/// A Gaussian mixture over pixels or over their first PCA components.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmModel {
    /// The mixture.
    pub gmm: GaussianMixture,
    /// The PCA its features come from, if any.
    pub pca: Option<Pca>,
}

/// A mixture's log-likelihood on a set of images.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MixtureEval {
    /// Images scored.
    pub images: usize,
    /// Mean log-likelihood per image in the model's own space (a density
    /// for Gaussian mixtures; of PCA coordinates when fitted on them).
    pub log_likelihood: f64,
    /// −2 log L + p ln n on these images.
    pub bic: f64,
    /// −2 log L + 2p on these images.
    pub aic: f64,
    /// Free parameters p.
    pub n_parameters: usize,
    /// Negative log-probability of the images, nats per image: exact for a
    /// Bernoulli mixture; −log p + D ln 256 of dequantized pixels for a
    /// GMM (an upper bound; see [`nll_per_image`] for the PCA case); absent
    /// for a GMM fitted with `dequantize = false`.
    pub nll_nats: Option<f64>,
    /// The same in bits per pixel value.
    pub bits_per_dim: Option<f64>,
}

/// What training a mixture produced.
#[derive(Debug, Clone, Serialize)]
pub struct MixtureReport {
    /// How EM ended.
    pub convergence: Convergence,
    /// Scores on the training split.
    pub train: MixtureEval,
    /// Scores on the test split.
    pub test: MixtureEval,
    /// Seconds spent in EM (all initializations).
    pub fit_seconds: f64,
}

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
        ModelConfig::Gmm(g) if g.dequantized() => {
            super::matrix_from_rows(&dequantize(&pixels, seed), dim)?
        }
        _ => super::matrix_from_rows(&pixels, dim)?,
    };
    match pca {
        Some(p) => p.transform(x.as_ref()),
        None => Ok(x),
    }
}

/// Fits the mixture that `config` describes on its data's training split
/// and writes the run folder `dir` (refusing one that holds a run unless
/// `force`). Prints nothing; returns the scores.
///
/// ```no_run
/// use elbo::data::DataSpec;
/// use elbo::mixture::GmmConfig;
/// use elbo::train::{DataConfig, ModelConfig, RunConfig, TrainConfig};
///
/// let mut gmm = GmmConfig::new(10);
/// gmm.pca = Some(50);
/// let config = RunConfig {
///     model: ModelConfig::Gmm(gmm),
///     data: DataConfig::new(DataSpec::Digits),
///     train: TrainConfig::default(),
/// };
/// let report = elbo::mixture::runs::train(&config, "runs/gmm".as_ref(), false)?;
/// println!("test log-likelihood {:.2}", report.test.log_likelihood);
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn train(config: &RunConfig, dir: &Path, force: bool) -> Result<MixtureReport> {
    train_from(config, dir, force, None)
}

/// [`train`], a Gaussian mixture starting from given means (`[K, D]` in
/// pixel space, projected by the run's PCA when it has one; see
/// [`super::GaussianMixtureParams::means_init`]).
pub fn train_from(
    config: &RunConfig,
    dir: &Path,
    force: bool,
    means: Option<&Mat<f64>>,
) -> Result<MixtureReport> {
    let mut config = config.clone();
    config.validate()?;
    let splits = config.data.load()?;
    config.resolve(&splits)?;
    let seed = match &config.model {
        ModelConfig::Gmm(g) => g.seed,
        ModelConfig::BernoulliMixture(b) => b.seed,
        _ => return Err(Error::invalid("not a mixture config")),
    };
    let run_dir = RunDir::new(dir);
    let start = Instant::now();
    let (model, bytes) = fit(&config, &splits.train, seed, means)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let train = evaluate_model(&config, &model, &splits.train, seed)?;
    let test = evaluate_model(&config, &model, &splits.test, seed.wrapping_add(1))?;
    let convergence = match &model {
        Model::Gmm(g) => g.gmm.convergence,
        Model::BernoulliMixture(b) => b.convergence,
        _ => return Err(Error::invalid("not a mixture")),
    };
    let report = MixtureReport {
        convergence,
        train,
        test,
        fit_seconds,
    };
    run_dir.prepare_new(force)?;
    config.save(&run_dir.config())?;
    crate::fsutil::atomic_write(&run_dir.model(), &bytes)?;
    let line = serde_json::to_string(&report).map_err(|e| Error::invalid(e.to_string()))? + "\n";
    crate::fsutil::atomic_write(&run_dir.metrics(), line.as_bytes())?;
    Ok(report)
}

fn fit(
    config: &RunConfig,
    set: &ImageSet,
    seed: u64,
    means: Option<&Mat<f64>>,
) -> Result<(Model, Vec<u8>)> {
    match &config.model {
        ModelConfig::Gmm(g) => {
            let x = features(config, set, None, seed)?;
            let pca = match g.pca {
                Some(d) if d > x.ncols() => {
                    return Err(Error::invalid(format!(
                        "--pca {d} is more than the {} values per image",
                        x.ncols()
                    )));
                }
                Some(d) => Some(Pca::fit(x.as_ref(), d)?),
                None => None,
            };
            let x = match &pca {
                Some(p) => p.transform(x.as_ref())?,
                None => x,
            };
            let mut params = g.params();
            if let Some(m) = means {
                if m.ncols() != set.dim() {
                    return Err(Error::invalid(format!(
                        "initial means have {} values each; the images have {}",
                        m.ncols(),
                        set.dim()
                    )));
                }
                params = params.means_init(match &pca {
                    Some(p) => p.transform(m.as_ref())?,
                    None => m.clone(),
                });
            }
            let gmm = params.fit(x.as_ref())?;
            let bytes = io::gmm_to_bytes(&gmm, pca.as_ref())?;
            Ok((Model::Gmm(Box::new(GmmModel { gmm, pca })), bytes))
        }
        ModelConfig::BernoulliMixture(b) => {
            let x = features(config, set, None, seed)?;
            let m = b.params().fit(x.as_ref())?;
            let bytes = io::bernoulli_to_bytes(&m)?;
            Ok((Model::BernoulliMixture(Box::new(m)), bytes))
        }
        _ => Err(Error::invalid("not a mixture config")),
    }
}

/// Loads the mixture of a run folder whose `config.toml` is `config`,
/// checking the arrays' shapes against the covariance type and image shape.
pub fn load(config: &RunConfig, dir: &RunDir) -> Result<Model> {
    let path = dir.model();
    let bytes = crate::fsutil::read(&path)?;
    let dim = config.image_shape()?.dim();
    let (model, features) = match &config.model {
        ModelConfig::Gmm(g) => {
            let (gmm, pca) = io::gmm_from_bytes(&bytes, &path, g.covariance, g.pca.is_some())?;
            let input = pca.as_ref().map_or(gmm.n_features(), |p| p.n_features());
            (Model::Gmm(Box::new(GmmModel { gmm, pca })), input)
        }
        ModelConfig::BernoulliMixture(_) => {
            let m = io::bernoulli_from_bytes(&bytes, &path)?;
            let d = m.n_features();
            (Model::BernoulliMixture(Box::new(m)), d)
        }
        _ => return Err(Error::invalid("not a mixture config")),
    };
    if features != dim {
        return Err(Error::checkpoint(
            path,
            format!(
                "the model reads {features} values per image but config.toml records images of {dim}"
            ),
        ));
    }
    Ok(model)
}

fn evaluate_model(
    config: &RunConfig,
    model: &Model,
    set: &ImageSet,
    seed: u64,
) -> Result<MixtureEval> {
    let dim = set.dim();
    let nll = nll_per_image(config, model, set, seed)?
        .map(|v| v.iter().sum::<f64>() / v.len().max(1) as f64);
    let (ll, p) = match (model, nll) {
        // The NLL pass scored the very features EM saw: reuse it.
        (Model::BernoulliMixture(b), Some(nll)) => (-nll, b.n_parameters()),
        (Model::Gmm(g), Some(nll)) if g.pca.is_none() => {
            (dequantization_nats(dim) - nll, g.gmm.n_parameters())
        }
        // PCA coordinates of the raw pixels, or pixels without dequantization.
        (Model::Gmm(g), _) => {
            let x = features(config, set, g.pca.as_ref(), seed)?;
            (g.gmm.score(x.as_ref())?, g.gmm.n_parameters())
        }
        _ => return Err(Error::invalid("not a mixture")),
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
/// - GMM on pixels: −log p(x) + D ln 256 of dequantized pixels x (an upper
///   bound on −log P of the 8-bit image, Theis et al. 2016).
/// - GMM on PCA coordinates: the same, with the pixel density p(x) =
///   q(z)·N(x⊥; 0, σ²I): the mixture on the coordinates z times probabilistic
///   PCA's isotropic Gaussian on the residual off the subspace
///   ([`Pca::residual_log_density`]).
pub fn nll_per_image(
    config: &RunConfig,
    model: &Model,
    set: &ImageSet,
    seed: u64,
) -> Result<Option<Vec<f64>>> {
    let dim = set.dim();
    let ll = match model {
        Model::BernoulliMixture(b) => {
            b.score_samples(features(config, set, None, seed)?.as_ref())?
        }
        Model::Gmm(g) => {
            if !matches!(&config.model, ModelConfig::Gmm(c) if c.dequantize) {
                return Ok(None);
            }
            let pixels = config.data.pixels.prepare(set, seed);
            let x = super::matrix_from_rows(&dequantize(&pixels, seed), dim)?;
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
        _ => return Err(Error::invalid("not a mixture")),
    };
    let shift = match model {
        Model::Gmm(_) => dequantization_nats(dim),
        _ => 0.0,
    };
    Ok(Some(ll.into_iter().map(|l| shift - l).collect()))
}

/// Scores a mixture run on `set` (pixels prepared as in training;
/// dequantization noise from `seed`).
///
/// ```no_run
/// use elbo::run::{test_images, Run};
/// let run = Run::load("runs/gmm".as_ref())?;
/// let e = elbo::mixture::runs::evaluate(&run, &test_images(&run, None)?, 0)?;
/// println!("{:.2} per image, BIC {:.0}", e.log_likelihood, e.bic);
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn evaluate(run: &Run, set: &ImageSet, seed: u64) -> Result<MixtureEval> {
    run.check_shape(set)?;
    evaluate_model(&run.config, &run.model, set, seed)
}

/// `n` images from a mixture run, `[n, dim]` in [0, 1]: for a GMM, m ~ P(m)
/// then x ~ N(μ_m, Σ_m) (mapped back through the PCA), clipped to [0, 1];
/// for a Bernoulli mixture, the sampled component's pixel probabilities
/// (as a VAE's samples are its decoder's probabilities).
pub fn sample(model: &Model, n: usize, seed: u64) -> Result<Vec<f32>> {
    let x = match model {
        Model::Gmm(g) => {
            let (z, _) = g.gmm.sample(n, seed)?;
            match &g.pca {
                Some(p) => p.inverse_transform(z.as_ref())?,
                None => z,
            }
        }
        Model::BernoulliMixture(b) => {
            let (_, labels) = b.sample(n, seed);
            Mat::from_fn(n, b.n_features(), |i, j| b.probs[(labels[i], j)])
        }
        _ => return Err(Error::invalid("not a mixture")),
    };
    Ok(super::rows_of(x.as_ref())
        .into_iter()
        .map(|v| v.clamp(0.0, 1.0) as f32)
        .collect())
}
