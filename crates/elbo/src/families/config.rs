//! `config.toml`: the model section (one variant per family, tagged by
//! `kind`) and the whole file. Everything needed to rebuild a run's model
//! and continue its training; unknown keys and wrong types are errors that
//! name the file. What a setting means is up to the family
//! ([`ModelConfig::family`]), which validates it and resolves it against
//! the data.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Family;
use crate::data::Splits;
use crate::folder::RunDir;
use crate::mixture::{BernoulliMixtureConfig, GmmConfig};
use crate::models::VaeConfig;
use crate::models::pixel::{PixelConfig, PixelKind};
use crate::train::{DataConfig, TrainConfig};
use crate::{Error, Result};

/// The model section: one variant per model family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelConfig {
    /// The lecture's variational autoencoder.
    Vae(VaeConfig),
    /// A plain autoencoder with the same networks (no noise, no KL).
    Ae(VaeConfig),
    /// A Gaussian mixture fitted by EM.
    Gmm(GmmConfig),
    /// A mixture of Bernoullis fitted by EM.
    BernoulliMixture(BernoulliMixtureConfig),
    /// PixelCNN (masked convolutions, residual blocks).
    #[serde(rename = "pixelcnn")]
    PixelCnn(PixelConfig),
    /// Gated PixelCNN (vertical and horizontal stacks, optional labels).
    #[serde(rename = "gated-pixelcnn")]
    GatedPixelCnn(PixelConfig),
    /// PixelRNN with Row LSTM layers.
    #[serde(rename = "pixelrnn")]
    PixelRnn(PixelConfig),
    /// NADE: the neural autoregressive distribution estimator.
    Nade(super::nade::NadeConfig),
}

impl ModelConfig {
    /// The family that gives this section its meaning: the one place a
    /// variant is mapped to its behaviour (a new family adds its variant
    /// above and one line here).
    pub fn family(&self) -> &'static dyn Family {
        match self {
            ModelConfig::Vae(_) => &super::vae::VaeFamily,
            ModelConfig::Ae(_) => &super::ae::AeFamily,
            ModelConfig::Gmm(_) | ModelConfig::BernoulliMixture(_) => {
                &super::mixture::MixtureFamily
            }
            ModelConfig::PixelCnn(_) | ModelConfig::GatedPixelCnn(_) | ModelConfig::PixelRnn(_) => {
                &super::pixel::PixelFamily
            }
            ModelConfig::Nade(_) => &super::nade::NadeFamily,
        }
    }

    /// The family name used on the command line (`elbo train vae`) and as
    /// `kind` in `config.toml`.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelConfig::Vae(_) => "vae",
            ModelConfig::Ae(_) => "ae",
            ModelConfig::Gmm(_) => "gmm",
            ModelConfig::BernoulliMixture(_) => "bernoulli-mixture",
            ModelConfig::PixelCnn(_) => PixelKind::PixelCnn.name(),
            ModelConfig::GatedPixelCnn(_) => PixelKind::Gated.name(),
            ModelConfig::PixelRnn(_) => PixelKind::RowLstm.name(),
            ModelConfig::Nade(_) => "nade",
        }
    }
}

/// The whole of `config.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Which model, and its sizes.
    pub model: ModelConfig,
    /// Which data, and how pixels are presented.
    pub data: DataConfig,
    /// How it is trained.
    pub train: TrainConfig,
}

impl RunConfig {
    /// Parses TOML text; `path` names the source in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let config: RunConfig = toml::from_str(text)
            .map_err(|e| Error::format(path, format!("invalid config: {}", e.message().trim())))?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = crate::fsutil::read(path)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::format(path, "config is not UTF-8 text"))?;
        Self::from_toml(&text, path)
    }

    /// Reads and validates the `config.toml` of run folder `dir`.
    pub fn load_from(dir: &RunDir) -> Result<Self> {
        Self::from_toml(&dir.read_config_text()?, &dir.config())
    }

    /// The TOML text of this config.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self)
            .map_err(|e| Error::invalid(format!("cannot write config: {e}")))
    }

    /// Writes `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::fsutil::atomic_write(path, self.to_toml()?.as_bytes())
    }

    /// Fills in what comes from the data (the image shape, and the model's
    /// input size where it is 0) and checks that model and data fit.
    pub fn resolve(&mut self, splits: &Splits) -> Result<()> {
        let t = &splits.train;
        let shape = (t.height, t.width, t.channels);
        if let Some(recorded) = self.data.shape
            && recorded != shape
        {
            return Err(Error::invalid(format!(
                "data '{}' holds {}x{}x{} images but the run was trained on {}x{}x{}",
                self.data.spec, shape.0, shape.1, shape.2, recorded.0, recorded.1, recorded.2
            )));
        }
        self.data.shape = Some(shape);
        if self.train.batch_size > t.n {
            return Err(Error::invalid(format!(
                "batch size {} is larger than the {} training images",
                self.train.batch_size, t.n
            )));
        }
        self.model.family().resolve(self, splits)?;
        self.check_memory(t.n)
    }

    /// Checks that training this (resolved) config on `train_images` images
    /// fits in memory (see [`crate::memory`]); the error names the flags and
    /// keys that set the model's size.
    pub fn check_memory(&self, train_images: usize) -> Result<()> {
        super::footprint::check_model(self, train_images)
    }

    /// The recorded image shape.
    pub fn image_shape(&self) -> Result<crate::image::Shape> {
        let (height, width, channels) = self
            .data
            .shape
            .ok_or_else(|| Error::invalid("config.toml records no image shape ([data] shape)"))?;
        Ok(crate::image::Shape {
            height,
            width,
            channels,
        })
    }

    /// Checks every section; the model section (and which training
    /// settings apply to it) is the family's to judge.
    pub fn validate(&self) -> Result<()> {
        self.model.family().validate(self)?;
        self.train.validate()
    }
}
