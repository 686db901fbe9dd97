//! The plain autoencoder as a family: the VAE's networks without noise or
//! KL, trained on the reconstruction loss alone. It defines no likelihood
//! (no prior over codes), so its evaluation is the reconstruction loss and
//! its "samples" decode N(0, I) draws the decoder was never trained on: the
//! lecture's "why VAE" foil.

use std::any::Any;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

use super::{Family, FitJob, Latent, Model, ModelConfig, RunConfig, no_label};
use crate::data::{ImageSet, Splits};
use crate::eval::{EvalOptions, Evaluation, NllMethod};
use crate::folder::{RunDir, checkpoint};
use crate::models::{Autoencoder, VaeConfig};
use crate::seeds::{self, Purpose};
use crate::train::TrainOutcome;
use crate::{Error, Result};

/// The autoencoder family (`kind = "ae"`).
pub struct AeFamily;

fn nets(config: &RunConfig) -> Result<&VaeConfig> {
    match &config.model {
        ModelConfig::Ae(c) => Ok(c),
        m => Err(Error::internal(format!(
            "a {} config reached the autoencoder family",
            m.kind()
        ))),
    }
}

impl Family for AeFamily {
    fn validate(&self, config: &RunConfig) -> Result<()> {
        nets(config)?.validate_autoencoder()?;
        super::reject_vae_settings(config)
    }

    fn resolve(&self, config: &mut RunConfig, splits: &Splits) -> Result<()> {
        let spec = config.data.spec.clone();
        match &mut config.model {
            ModelConfig::Ae(c) => super::nets::resolve_input(c, splits, &spec),
            _ => Ok(()),
        }
    }

    fn display_name(&self, config: &RunConfig) -> String {
        nets(config).map_or_else(
            |_| "Autoencoder".into(),
            |c| format!("Autoencoder ({})", super::nets::describe(c)),
        )
    }

    fn fit(&self, job: FitJob<'_>) -> Result<TrainOutcome> {
        let c = nets(job.config)?.clone();
        super::network::fit_network(job, |device, seed| Ok(c.init_autoencoder(device, seed)))
    }

    fn load(&self, config: &RunConfig, dir: &RunDir, device: &Device) -> Result<Box<dyn Model>> {
        let c = nets(config)?;
        super::nets::check_input(c, config, dir)?;
        let ae = checkpoint::load(c.init_autoencoder(device, 0), &dir.weights()?, device)?;
        Ok(Box::new(AeModel { ae }))
    }
}

/// A fitted autoencoder.
#[derive(Debug)]
pub struct AeModel {
    /// The networks.
    pub ae: Autoencoder,
}

impl Model for AeModel {
    fn num_params(&self) -> usize {
        self.ae.num_params()
    }

    /// The mean reconstruction loss (as the loss, KL 0); no NLL.
    fn evaluate(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Evaluation> {
        if opts.iwae_samples.is_some() {
            return Err(Error::invalid(
                "this is a plain autoencoder: it has no likelihood bound (no ELBO, no IWAE, no posterior); use a VAE run",
            ));
        }
        let pixels = config.data.pixels.prepare(set, opts.seed);
        let (loss, _) = crate::eval::ae::ae_figures(&self.ae, &pixels, set.dim())?;
        Ok(Evaluation {
            kind: config.model.kind().into(),
            images: set.n,
            nll: None,
            loss: Some(loss),
            parameters: self.num_params(),
            mixture: None,
        })
    }

    fn nll_per_image(
        &self,
        _config: &RunConfig,
        _set: &ImageSet,
        _opts: &EvalOptions,
    ) -> Result<Option<(Vec<f64>, NllMethod)>> {
        Ok(None)
    }

    /// Codes drawn from N(0, I), decoded: not samples of any distribution
    /// the autoencoder learned (it has no prior), which is the point of the
    /// "why VAE" comparison.
    fn sample(
        &self,
        _config: &RunConfig,
        n: usize,
        seed: u64,
        label: Option<usize>,
    ) -> Result<Vec<f32>> {
        if label.is_some() {
            return Err(no_label("ae"));
        }
        let latent = self.ae.latent();
        let z = seeds::normals(&mut seeds::rng(seed, 0, 0, Purpose::Noise), n * latent);
        let z = Tensor::<2>::from_data(TensorData::new(z, [n, latent]), &self.ae.device()); // [n, latent]
        crate::eval::to_vec(self.ae.decode_probs(z))
    }

    fn latent(&self) -> Option<&dyn Latent> {
        Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Latent for AeModel {
    fn latent_dim(&self) -> usize {
        self.ae.latent()
    }

    fn has_prior(&self) -> bool {
        false
    }

    fn codes(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        Ok(self.ae.encode(x)) // [n, latent]
    }

    fn decode_probs(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        Ok(self.ae.decode_probs(z))
    }
}
