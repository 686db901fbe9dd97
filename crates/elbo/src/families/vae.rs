//! The variational autoencoder (Kingma & Welling 2014) as a family:
//! trained on the negative ELBO (or the IWAE bound), scored by the IWAE
//! bound on −log p(x), sampled by decoding z ~ N(0, I).

use std::any::Any;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

use super::{Family, FitJob, Latent, Model, ModelConfig, RunConfig, sample_labels};
use crate::data::{ImageSet, PixelMode, Splits};
use crate::eval::{EvalOptions, Evaluation, NllMethod};
use crate::folder::{RunDir, checkpoint};
use crate::models::nets::{model_inputs, split_label, with_label};
use crate::models::{Likelihood, Vae, VaeConfig};
use crate::seeds::{self, Purpose};
use crate::train::TrainOutcome;
use crate::{Error, Result};

/// The VAE family (`kind = "vae"`).
pub struct VaeFamily;

fn nets(config: &RunConfig) -> Result<&VaeConfig> {
    match &config.model {
        ModelConfig::Vae(c) => Ok(c),
        m => Err(Error::internal(format!(
            "a {} config reached the VAE family",
            m.kind()
        ))),
    }
}

impl Family for VaeFamily {
    fn validate(&self, config: &RunConfig) -> Result<()> {
        let c = nets(config)?;
        c.validate()?;
        let binary = config.data.pixels != PixelMode::Grey;
        if binary && c.likelihood != Likelihood::Bernoulli {
            return Err(Error::invalid(format!(
                "a {} decoder gives densities of continuous pixels, not probabilities of the {} pixels asked for: use --likelihood bernoulli for binary data, or --pixels grey",
                c.likelihood, config.data.pixels
            )));
        }
        Ok(())
    }

    fn resolve(&self, config: &mut RunConfig, splits: &Splits) -> Result<()> {
        let spec = config.data.spec.clone();
        match &mut config.model {
            ModelConfig::Vae(c) => super::nets::resolve_input(c, splits, &spec),
            _ => Ok(()),
        }
    }

    fn display_name(&self, config: &RunConfig) -> String {
        nets(config).map_or_else(
            |_| "VAE".into(),
            |c| format!("VAE ({})", super::nets::describe(c)),
        )
    }

    fn fit(&self, job: FitJob<'_>) -> Result<TrainOutcome> {
        let c = nets(job.config)?.clone();
        super::network::fit_network(job, |device, seed| Ok(c.init(device, seed)))
    }

    fn load(&self, config: &RunConfig, dir: &RunDir, device: &Device) -> Result<Box<dyn Model>> {
        let c = nets(config)?;
        super::nets::check_input(c, config, dir)?;
        let vae = checkpoint::load(c.init(device, 0), &dir.weights()?, device)?;
        Ok(Box::new(VaeModel { vae }))
    }
}

/// A fitted VAE.
#[derive(Debug)]
pub struct VaeModel {
    /// The networks.
    pub vae: Vae,
}

impl VaeModel {
    /// The rows the model reads for `set`: pixels prepared as in training,
    /// each followed by a conditional model's one-hot label; and their width.
    pub fn inputs(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        seed: u64,
    ) -> Result<(Vec<f32>, usize)> {
        let pixels = config.data.pixels.prepare(set, seed);
        model_inputs(set, pixels, self.vae.classes)
    }

    /// −L_k per image of `set` with `k` importance samples (k = 1: the
    /// one-sample ELBO).
    pub fn iwae(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        k: usize,
        seed: u64,
    ) -> Result<Vec<f64>> {
        let (rows, width) = self.inputs(config, set, seed)?;
        crate::eval::iwae::iwae_nll_per_image(&self.vae, &rows, width, k, seed)
    }
}

impl Model for VaeModel {
    fn num_params(&self) -> usize {
        self.vae.num_params()
    }

    fn classes(&self) -> usize {
        self.vae.classes
    }

    fn evaluate(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Evaluation> {
        let (rows, width) = self.inputs(config, set, opts.seed)?;
        let rng = seeds::rng(opts.seed, 0, 0, Purpose::TestNoise);
        let loss = crate::eval::vae_loss(&self.vae, &rows, width, rng)?.mean();
        let nll = match opts.iwae_samples {
            Some(_) => super::summarize(self.nll_per_image(config, set, opts)?, set.dim()),
            None => None,
        };
        Ok(Evaluation {
            kind: config.model.kind().into(),
            images: set.n,
            nll,
            loss: Some(loss),
            parameters: self.num_params(),
            mixture: None,
        })
    }

    fn nll_per_image(
        &self,
        config: &RunConfig,
        set: &ImageSet,
        opts: &EvalOptions,
    ) -> Result<Option<(Vec<f64>, NllMethod)>> {
        let k = opts.iwae_samples.unwrap_or(1);
        let v = self.iwae(config, set, k, opts.seed)?;
        Ok(Some((v, NllMethod::IwaeBound { k })))
    }

    /// z ~ N(0, I), decoded to pixel probabilities (with labels 0, 1, ...
    /// in turn, or `label`, for a conditional model).
    fn sample(
        &self,
        _config: &RunConfig,
        n: usize,
        seed: u64,
        label: Option<usize>,
    ) -> Result<Vec<f32>> {
        let (latent, classes) = (self.vae.latent(), self.vae.classes);
        if label.is_some() && classes == 0 {
            return Err(Error::invalid(
                "--label needs a conditional model, but this VAE was trained without labels (train with --conditional)",
            ));
        }
        let labels = sample_labels("vae", classes, n, label)?;
        let device = self.vae.device();
        let z = seeds::normals(&mut seeds::rng(seed, 0, 0, Purpose::Noise), n * latent);
        let z = Tensor::<2>::from_data(TensorData::new(z, [n, latent]), &device); // [n, latent]
        let label = labels.map(|l| {
            let one_hot: Vec<f32> = l
                .iter()
                .flat_map(|&l| (0..classes).map(move |c| if c == l { 1.0 } else { 0.0 }))
                .collect();
            Tensor::<2>::from_data(TensorData::new(one_hot, [n, classes]), &device) // [n, classes]
        });
        crate::eval::to_vec(self.vae.decode_probs(with_label(z, label)))
    }

    fn latent(&self) -> Option<&dyn Latent> {
        Some(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Latent for VaeModel {
    fn latent_dim(&self) -> usize {
        self.vae.latent()
    }

    fn has_prior(&self) -> bool {
        true
    }

    fn codes(&self, x: Tensor<2>) -> Result<Tensor<2>> {
        let label = split_label(x.clone(), self.vae.classes).1;
        Ok(with_label(self.vae.encode(x).0, label)) // [n, latent (+ classes)]
    }

    fn decode_probs(&self, z: Tensor<2>) -> Result<Tensor<2>> {
        Ok(self.vae.decode_probs(z))
    }
}
