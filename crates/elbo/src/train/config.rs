//! The `[data]` and `[train]` sections of `config.toml`, shared by every
//! family. Unknown keys and wrong types are errors that name the file.

use serde::{Deserialize, Serialize};

use crate::data::{Color, DataSpec, LoadOptions, PixelMode, Splits};
use crate::{Error, Result};

/// Where the images come from and how pixels are presented to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// The `--data` argument, e.g. `digits` or `mnist:/path/to/dir`.
    pub spec: DataSpec,
    /// Grey, static binarization, or dynamic binarization.
    #[serde(default = "default_pixels")]
    pub pixels: PixelMode,
    /// Fraction held out for testing when the data set has no split of its own.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Resize images from a folder to this (height, width).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<(usize, usize)>,
    /// Load folder images as RGB instead of grey.
    #[serde(default)]
    pub rgb: bool,
    /// Seed of the train/test split.
    #[serde(default)]
    pub split_seed: u64,
    /// Image shape (height, width, channels), recorded from the data at training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<(usize, usize, usize)>,
}

fn default_pixels() -> PixelMode {
    PixelMode::Grey
}

fn default_test_fraction() -> f64 {
    0.1
}

impl DataConfig {
    /// Loads and splits the data as configured.
    pub fn load(&self) -> Result<Splits> {
        let color = if self.rgb { Color::Rgb } else { Color::Grey };
        self.spec.load(&LoadOptions {
            image_size: self.image_size,
            color,
            test_fraction: self.test_fraction,
            seed: self.split_seed,
        })
    }

    /// Grey pixels, 10% held out where the data has no split.
    pub fn new(spec: DataSpec) -> Self {
        DataConfig {
            spec,
            pixels: default_pixels(),
            test_fraction: default_test_fraction(),
            image_size: None,
            rgb: false,
            split_seed: 0,
            shape: None,
        }
    }
}

/// Optimization settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per gradient step.
    pub batch_size: usize,
    /// Adam's step size.
    pub lr: f64,
    /// Seeds initialization, shuffling, binarization and the VAE's noise.
    pub seed: u64,
    /// Weight on the KL term (β-VAE, Higgins et al. 2017); 1 is the ELBO.
    #[serde(default = "one")]
    pub beta: f64,
    /// KL warm-up: β ramps linearly from 0 to `beta` over this many epochs.
    #[serde(default)]
    pub warmup_epochs: usize,
    /// Free bits: a floor λ (nats) on each latent dimension's batch-mean KL
    /// (Kingma et al. 2016); 0 disables it.
    #[serde(default)]
    pub free_bits: f64,
    /// Train on the IWAE bound with this many importance samples per image
    /// (Burda et al. 2016); 1 trains on the ELBO.
    #[serde(default = "one_usize")]
    pub iwae_samples: usize,
    /// Burda et al.'s (2016, section 5) learning-rate decay, compressed to
    /// this many epochs; 0 keeps `lr` constant. See [`TrainConfig::lr_at`].
    #[serde(default)]
    pub lr_decay_epochs: usize,
    /// Epochs at `lr` before the decay starts (with `lr_decay_epochs` > 0):
    /// hold the rate for most of a budget and anneal at its end.
    #[serde(default)]
    pub lr_hold_epochs: usize,
    /// Evaluate the test set after every this many epochs (and always after
    /// the last); the epochs between log training figures only.
    #[serde(default = "one_usize")]
    pub test_every: usize,
}

fn one_usize() -> usize {
    1
}

fn one() -> f64 {
    1.0
}

impl Default for TrainConfig {
    /// pytorch/examples' VAE recipe: 10 epochs, batch 128, Adam 1e-3.
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 128,
            lr: 1e-3,
            seed: 1,
            beta: 1.0,
            warmup_epochs: 0,
            free_bits: 0.0,
            iwae_samples: 1,
            lr_decay_epochs: 0,
            lr_hold_epochs: 0,
            test_every: 1,
        }
    }
}

impl TrainConfig {
    /// The KL weight at `progress` epochs into training (fractional: epoch
    /// e, step s of S gives e − 1 + s/S): `beta`, ramped from 0 during warm-up.
    pub fn beta_at(&self, progress: f64) -> f64 {
        if self.warmup_epochs == 0 {
            return self.beta;
        }
        self.beta * (progress / self.warmup_epochs as f64).min(1.0)
    }

    /// Adam's step size during (1-based) `epoch`.
    ///
    /// With `lr_decay_epochs = T > 0` this is Burda et al.'s schedule (2016,
    /// section 5: 3^i passes at lr·10^(−i/7) for i = 0..7, 3,280 passes in
    /// all) with every stage's length scaled by T/3280, so the whole decay
    /// fits a smaller budget; after epoch T the last stage's rate stays.
    /// With `lr_hold_epochs = H` the rate stays at `lr` for epochs 1..=H and
    /// the compressed decay runs from epoch H + 1 on.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        if self.lr_decay_epochs == 0 || epoch <= self.lr_hold_epochs {
            return self.lr;
        }
        let scale = self.lr_decay_epochs as f64 / 3280.0;
        let done = (epoch - 1 - self.lr_hold_epochs) as f64;
        // Stage i ends after (3^(i+1) − 1)/2 paper passes.
        let stage = (0..7)
            .find(|&i| done < scale * ((3f64.powi(i + 1) - 1.0) / 2.0))
            .unwrap_or(7);
        self.lr * 10f64.powf(-(stage as f64) / 7.0)
    }

    /// Rejects settings that cannot train.
    pub fn validate(&self) -> Result<()> {
        if self.epochs == 0 {
            return Err(Error::invalid("epochs must be positive"));
        }
        if self.batch_size == 0 {
            return Err(Error::invalid("batch size must be positive"));
        }
        if !(self.beta.is_finite() && self.beta >= 0.0) {
            return Err(Error::invalid(format!(
                "beta must be a non-negative number, got {}",
                self.beta
            )));
        }
        if !(self.free_bits.is_finite() && self.free_bits >= 0.0) {
            return Err(Error::invalid(format!(
                "free bits must be a non-negative number, got {}",
                self.free_bits
            )));
        }
        if self.lr_hold_epochs > 0 && self.lr_decay_epochs == 0 {
            return Err(Error::invalid(
                "--lr-hold-epochs holds the rate before a decay: set --lr-decay-epochs too",
            ));
        }
        if self.test_every == 0 {
            return Err(Error::invalid("--test-every must be at least 1"));
        }
        if self.iwae_samples == 0 {
            return Err(Error::invalid("IWAE samples must be positive"));
        }
        if self.iwae_samples > 1
            && (self.beta != 1.0 || self.warmup_epochs > 0 || self.free_bits > 0.0)
        {
            return Err(Error::invalid(
                "the IWAE objective (--iwae-samples > 1) bounds log p(x) only with beta = 1, no warm-up and no free bits",
            ));
        }
        if self.warmup_epochs > self.epochs {
            return Err(Error::invalid(format!(
                "KL warm-up of {} epochs is longer than training ({} epochs): beta would never reach its target; lower --warmup-epochs or raise --epochs",
                self.warmup_epochs, self.epochs
            )));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::invalid(format!(
                "learning rate must be positive, got {}",
                self.lr
            )));
        }
        Ok(())
    }
}
