//! The finite mixtures as a family: a Gaussian mixture (optionally on PCA
//! components) and a mixture of Bernoullis, fitted by EM in one go (no
//! epochs, no optimizer state, nothing to resume), scored exactly (the
//! Bernoulli mixture) or by a dequantized density bound (the GMM).

use std::any::Any;
use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;

use super::{Family, FitJob, Model, ModelConfig, RunConfig};
use crate::data::ImageSet;
use crate::eval::{EvalOptions, Evaluation, MixtureScores, NllMethod};
use crate::folder::{EpochMetrics, RunDir};
use crate::mixture::{
    BernoulliMixture, Convergence, GaussianMixture, Mat, Pca, dequantization_nats, dequantize, io,
};
use crate::train::TrainOutcome;
use crate::{Error, Result};

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

/// The mixture family (`kind = "gmm"`, `"bernoulli-mixture"`).
pub struct MixtureFamily;

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
            crate::mixture::matrix_from_rows(&dequantize(&pixels, seed), dim)?
        }
        _ => crate::mixture::matrix_from_rows(&pixels, dim)?,
    };
    match pca {
        Some(p) => p.transform(x.as_ref()),
        None => Ok(x),
    }
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
    let splits = config.data.load()?;
    config.resolve(&splits)?;
    // EM first: a fit that fails leaves whatever the folder held.
    let (bytes, report) = fit_report(&config, &splits, means)?;
    let dir = RunDir::new(dir);
    dir.prepare_new(force)?;
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
    let path = dir.model();
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

fn evaluate_model(
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
        (Mixture::Gmm(g), Some(nll)) if g.pca.is_none() => {
            (dequantization_nats(dim) - nll, g.gmm.n_parameters())
        }
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
/// - GMM on pixels: −log p(x) + D ln 256 of dequantized pixels x (an upper
///   bound on −log P of the 8-bit image, Theis et al. 2016).
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
            let x = crate::mixture::matrix_from_rows(&dequantize(&pixels, seed), dim)?;
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
        Mixture::Gmm(_) => dequantization_nats(dim),
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

impl Family for MixtureFamily {
    fn validate(&self, config: &RunConfig) -> Result<()> {
        match &config.model {
            ModelConfig::Gmm(c) => c.validate()?,
            ModelConfig::BernoulliMixture(c) => c.validate()?,
            m => {
                return Err(Error::internal(format!(
                    "a {} config reached the mixture family",
                    m.kind()
                )));
            }
        }
        super::reject_vae_settings(config)
    }

    fn display_name(&self, config: &RunConfig) -> String {
        match &config.model {
            ModelConfig::Gmm(g) => format!(
                "GMM ({} {} components{})",
                g.components,
                g.covariance,
                g.pca.map(|d| format!(" on PCA-{d}")).unwrap_or_default()
            ),
            ModelConfig::BernoulliMixture(b) => {
                format!("Bernoulli mixture ({} components)", b.components)
            }
            m => m.kind().into(),
        }
    }

    /// EM in one go; a mixture run has nothing to resume.
    fn fit(&self, job: FitJob<'_>) -> Result<TrainOutcome> {
        if job.resume.is_some() {
            return Err(Error::invalid(format!(
                "a {} run is fitted by EM in one go and cannot be resumed (fit it again with `elbo train {}`)",
                job.config.model.kind(),
                job.config.model.kind()
            )));
        }
        let report = fit_into(job.config, job.dir, &job.splits, None)?;
        Ok(TrainOutcome::Finished(Some(
            report.metrics_line(job.splits.train.n),
        )))
    }

    fn load(&self, config: &RunConfig, dir: &RunDir, _device: &Device) -> Result<Box<dyn Model>> {
        Ok(Box::new(load(config, dir)?))
    }
}

impl Model for Mixture {
    fn num_params(&self) -> usize {
        match self {
            Mixture::Gmm(g) => g.gmm.n_parameters(),
            Mixture::Bernoulli(b) => b.n_parameters(),
        }
    }

    fn evaluate(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Evaluation> {
        super::refuse_iwae(config, opts)?;
        let e = evaluate_model(config, self, set, opts.seed)?;
        let mut out = super::exact_evaluation(self, config, set, opts)?;
        out.mixture = Some(MixtureScores {
            log_likelihood: e.log_likelihood,
            bic: e.bic,
            aic: e.aic,
        });
        Ok(out)
    }

    fn nll_per_image(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Option<(Vec<f64>, NllMethod)>> {
        super::refuse_iwae(config, opts)?;
        let method = match self {
            Mixture::Gmm(g) => NllMethod::DequantizedBound {
                pca: g.pca.is_some(),
            },
            Mixture::Bernoulli(_) => NllMethod::Exact,
        };
        Ok(nll_per_image(config, self, set, opts.seed)?.map(|v| (v, method)))
    }

    fn sample(
        &self,
        config: &RunConfig,
        n: usize,
        seed: u64,
        label: Option<usize>,
    ) -> Result<Vec<f32>> {
        if label.is_some() {
            return Err(super::no_label(config.model.kind()));
        }
        sample(self, n, seed)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
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
