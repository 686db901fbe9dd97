//! The finite mixtures as a family: a Gaussian mixture (optionally on PCA
//! components) and a mixture of Bernoullis, fitted by EM in one go (no
//! epochs, no optimizer state, nothing to resume), scored exactly (the
//! Bernoulli mixture) or by a dequantized density bound (the GMM).
//!
//! `mod.rs`: fitting and loading; `score.rs`: likelihoods and samples;
//! `family.rs`: the [`Family`](super::Family) and [`Model`](super::Model) impls.

mod family;
mod score;

use std::time::Instant;

use serde::Serialize;

pub use family::MixtureFamily;
pub use score::{features, nll_per_image, sample, scores};

use super::{ModelConfig, RunConfig};
use crate::data::ImageSet;
use crate::folder::{EpochMetrics, RunDir};
use crate::mixture::{BernoulliMixture, Convergence, GaussianMixture, Mat, Pca, io};
use crate::{Error, Result};
use score::evaluate_model;

/// A Gaussian mixture over pixels or over their first PCA components.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmModel {
    /// The mixture.
    pub gmm: GaussianMixture,
    /// The PCA its features come from, if any.
    pub pca: Option<Pca>,
}

/// A fitted mixture of either kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Mixture {
    /// A Gaussian mixture (optionally over PCA components).
    Gmm(Box<GmmModel>),
    /// A mixture of Bernoullis.
    Bernoulli(Box<BernoulliMixture>),
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
    /// Bernoulli mixture; −log p + D ln L of pixels dequantized at the
    /// data's L grey levels for a
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

/// Fits the mixture that `config` describes on its data's training split
/// and writes the run folder `dir` (refusing one that holds a run unless
/// `force`); `means` starts a Gaussian mixture from given means (see
/// [`fit_into`]). Everything is checked before the folder changes.
///
/// ```no_run
/// use elbo::data::DataSpec;
/// use elbo::families::{ModelConfig, RunConfig};
/// use elbo::mixture::GmmConfig;
/// use elbo::train::{DataConfig, TrainConfig};
///
/// let mut gmm = GmmConfig::new(10);
/// gmm.pca = Some(50);
/// let config = RunConfig {
///     model: ModelConfig::Gmm(gmm),
///     data: DataConfig::new(DataSpec::Digits),
///     train: TrainConfig::default(),
/// };
/// let report = elbo::families::mixture::train(&config, "runs/gmm".as_ref(), false, None)?;
/// println!("test log-likelihood {:.2}", report.test.log_likelihood);
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn train(
    config: &RunConfig,
    dir: &std::path::Path,
    force: bool,
    means: Option<&Mat<f64>>,
) -> Result<MixtureReport> {
    let mut config = config.clone();
    config.validate()?;
    let dir = RunDir::new(dir);
    dir.check_new(force)?;
    let splits = config.data.load()?;
    config.resolve(&splits)?;
    // EM first: a fit that fails leaves whatever the folder held.
    let (bytes, report) = fit_report(&config, &splits, means)?;
    let _lock = dir.prepare_new(force)?;
    config.save(&dir.config())?;
    write(&dir, &bytes, &report, splits.train.n)?;
    Ok(report)
}

/// Fits the mixture of the resolved `config` on `splits` and writes its
/// run folder: weights, and one `metrics.jsonl` line in the schema every
/// family writes (epoch = EM iterations, loss = NLL per image). `means`
/// starts a Gaussian mixture from given means (`[K, D]` in pixel space,
/// projected by the run's PCA when it has one).
pub fn fit_into(
    config: &RunConfig,
    dir: &RunDir,
    splits: &crate::data::Splits,
    means: Option<&Mat<f64>>,
) -> Result<MixtureReport> {
    let (bytes, report) = fit_report(config, splits, means)?;
    write(dir, &bytes, &report, splits.train.n)?;
    Ok(report)
}

/// The weights' bytes and the scores of a fresh fit.
fn fit_report(
    config: &RunConfig,
    splits: &crate::data::Splits,
    means: Option<&Mat<f64>>,
) -> Result<(Vec<u8>, MixtureReport)> {
    let seed = match &config.model {
        ModelConfig::Gmm(g) => g.seed,
        ModelConfig::BernoulliMixture(b) => b.seed,
        m => {
            return Err(Error::internal(format!(
                "a {} config reached the mixture family",
                m.kind()
            )));
        }
    };
    let start = Instant::now();
    let (model, bytes) = fit(config, &splits.train, seed, means)?;
    let fit_seconds = start.elapsed().as_secs_f64();
    let train = evaluate_model(config, &model, &splits.train, seed)?;
    let test = evaluate_model(config, &model, &splits.test, seed.wrapping_add(1))?;
    let convergence = match &model {
        Mixture::Gmm(g) => g.gmm.convergence,
        Mixture::Bernoulli(b) => b.convergence,
    };
    let report = MixtureReport {
        convergence,
        train,
        test,
        fit_seconds,
    };
    Ok((bytes, report))
}

fn write(dir: &RunDir, bytes: &[u8], report: &MixtureReport, images: usize) -> Result<()> {
    crate::fsutil::atomic_write(&dir.model(), bytes)?;
    crate::folder::metrics::append(&dir.metrics(), &report.metrics_line(images))
}

impl MixtureReport {
    /// The EM fit as one line of `metrics.jsonl`. The loss is the NLL per
    /// image where the mixture gives one, else minus its log-likelihood.
    pub fn metrics_line(&self, images: usize) -> EpochMetrics {
        let loss = |e: &MixtureEval| e.nll_nats.unwrap_or(-e.log_likelihood);
        EpochMetrics {
            epoch: self.convergence.n_iter,
            train_loss: loss(&self.train),
            train_recon: loss(&self.train),
            train_kl: 0.0,
            test_loss: loss(&self.test),
            test_recon: loss(&self.test),
            test_kl: 0.0,
            epoch_seconds: self.fit_seconds,
            images_per_second: (images * self.convergence.n_iter.max(1)) as f64
                / self.fit_seconds.max(1e-9),
            beta: 1.0,
            active_units: None,
        }
    }
}

fn fit(
    config: &RunConfig,
    set: &ImageSet,
    seed: u64,
    means: Option<&Mat<f64>>,
) -> Result<(Mixture, Vec<u8>)> {
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
            Ok((Mixture::Gmm(Box::new(GmmModel { gmm, pca })), bytes))
        }
        ModelConfig::BernoulliMixture(b) => {
            let x = features(config, set, None, seed)?;
            let m = b.params().fit(x.as_ref())?;
            let bytes = io::bernoulli_to_bytes(&m)?;
            Ok((Mixture::Bernoulli(Box::new(m)), bytes))
        }
        m => Err(Error::internal(format!(
            "a {} config reached the mixture family",
            m.kind()
        ))),
    }
}

/// Loads the mixture of a run folder whose `config.toml` is `config`,
/// checking the arrays' shapes against the covariance type and image shape.
pub fn load(config: &RunConfig, dir: &RunDir) -> Result<Mixture> {
    let path = dir.weights()?;
    let bytes = crate::fsutil::read(&path)?;
    let dim = config.image_shape()?.dim();
    let (model, features) = match &config.model {
        ModelConfig::Gmm(g) => {
            let (gmm, pca) = io::gmm_from_bytes(&bytes, &path, g.covariance, g.pca.is_some())?;
            let input = pca.as_ref().map_or(gmm.n_features(), |p| p.n_features());
            (Mixture::Gmm(Box::new(GmmModel { gmm, pca })), input)
        }
        ModelConfig::BernoulliMixture(_) => {
            let m = io::bernoulli_from_bytes(&bytes, &path)?;
            let d = m.n_features();
            (Mixture::Bernoulli(Box::new(m)), d)
        }
        m => {
            return Err(Error::internal(format!(
                "a {} config reached the mixture family",
                m.kind()
            )));
        }
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
