//! The mixtures behind the [`Family`] and [`Model`] traits.

use std::any::Any;

use burn::tensor::Device;

use super::{Mixture, fit_into, load, nll_per_image, sample};
use crate::data::{ImageSet, Splits};
use crate::eval::{EvalOptions, Evaluation, MixtureScores, NllMethod};
use crate::families::{Family, FitJob, Model, ModelConfig, RunConfig};
use crate::folder::RunDir;
use crate::train::TrainOutcome;
use crate::{Error, Result};

/// The mixture family (`kind = "gmm"`, `"bernoulli-mixture"`).
pub struct MixtureFamily;

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
        crate::families::reject_vae_settings(config)
    }

    /// Records the data's grey levels, which a GMM dequantizes at.
    fn resolve(&self, config: &mut RunConfig, splits: &Splits) -> Result<()> {
        if let ModelConfig::Gmm(g) = &mut config.model {
            g.levels = Some(splits.train.levels);
        }
        Ok(())
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
        crate::families::refuse_iwae(config, opts)?;
        let e = super::score::evaluate_model(config, self, set, opts.seed)?;
        let mut out = crate::families::exact_evaluation(self, config, set, opts)?;
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
        crate::families::refuse_iwae(config, opts)?;
        let method = match self {
            Mixture::Gmm(g) => NllMethod::DequantizedBound {
                pca: g.pca.is_some(),
                levels: super::score::levels(config),
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
            return Err(crate::families::no_label(config.model.kind()));
        }
        sample(self, n, seed)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
