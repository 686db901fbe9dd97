//! `elbo train nade`: the config from defaults, a --config file and flags,
//! then one call into [`elbo::run::train`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use elbo::data::{DataSpec, PixelMode};
use elbo::families::nade::NadeConfig;
use elbo::families::{ModelConfig, RunConfig};
use elbo::train::{DataConfig, TrainConfig, TrainOptions};

use crate::commands::Status;

/// Options of `elbo train nade`; each overrides the --config file.
#[derive(Debug, Args)]
pub struct NadeArgs {
    /// TOML config file (same layout as a run's config.toml); flags win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data: digits (embedded), mnist:DIR, amat:FILE, npy:FILE or images:DIR.
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Run folder to write.
    #[arg(long, default_value = "runs/nade")]
    pub out: PathBuf,
    /// Overwrite a run folder that already holds a run.
    #[arg(long)]
    pub force: bool,
    /// Hidden units [default: 500, the paper's].
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Passes over the training set [default: 10].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Images per step [default: 32].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam learning rate [default: 0.001].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed of initialization, shuffling and binarization [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Pixels: binary (threshold 0.5) or dynamic (Bernoulli each epoch) [default: binary].
    #[arg(long)]
    pub pixels: Option<PixelMode>,
    /// Held-out fraction when the data has no test split [default: 0.1].
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// Test pass every this many epochs (and after the last) [default: 1].
    #[arg(long)]
    pub test_every: Option<usize>,
    /// No progress bar or per-epoch lines.
    #[arg(long)]
    pub quiet: bool,
    /// Skip writing samples.png after training.
    #[arg(long)]
    pub no_pictures: bool,
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn config(a: &NadeArgs) -> Result<RunConfig> {
    let mut data = DataConfig::new(DataSpec::Digits);
    data.pixels = PixelMode::Binary;
    let defaults = RunConfig {
        model: ModelConfig::Nade(NadeConfig::new(0)),
        data,
        train: TrainConfig {
            batch_size: 32,
            ..TrainConfig::default()
        },
    };
    let mut config = match &a.config {
        Some(path) => crate::commands::config_over(&defaults, path)?,
        None => defaults,
    };
    let ModelConfig::Nade(m) = &mut config.model else {
        anyhow::bail!(
            "invalid argument: `elbo train nade --config` needs a [model] of kind \"nade\""
        );
    };
    set(&mut m.hidden, a.hidden);
    let (d, t) = (&mut config.data, &mut config.train);
    set(&mut d.spec, a.data.clone());
    set(&mut d.pixels, a.pixels);
    set(&mut d.test_fraction, a.test_fraction);
    set(&mut t.epochs, a.epochs);
    set(&mut t.batch_size, a.batch_size);
    set(&mut t.lr, a.lr);
    set(&mut t.seed, a.seed);
    set(&mut t.test_every, a.test_every);
    config.validate()?;
    Ok(config)
}

/// `elbo train nade`.
pub fn train_cmd(a: NadeArgs) -> Result<Status> {
    elbo::device::install_interrupt_handler();
    let config = config(&a)?;
    let opts = TrainOptions {
        force: a.force,
        quiet: a.quiet,
    };
    let outcome = elbo::run::train(&config, &a.out, &opts)?;
    crate::commands::report(&a.out, outcome, !a.no_pictures)
}
