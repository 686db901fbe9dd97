//! `elbo train nade`: the config from defaults, a --config file and flags,
//! then one call into [`elbo::run::train`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use elbo::data::{DataSpec, PixelMode};
use elbo::families::nade::NadeConfig;
use elbo::families::{ModelConfig, RunConfig};
use elbo::train::{DataConfig, TrainConfig};

use crate::commands::Status;
use crate::flags::{TrainCommon, set};

/// Options of `elbo train nade`; each overrides the --config file.
#[derive(Debug, Args)]
pub struct NadeArgs {
    /// Run folder to write (config, weights, metrics, samples).
    #[arg(long, default_value = "runs/nade")]
    pub out: PathBuf,
    /// Hidden units [default: 500, the paper's].
    #[arg(long, help_heading = "Network")]
    pub hidden: Option<usize>,
    #[command(flatten)]
    pub common: TrainCommon,
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
    let mut config = match &a.common.optim.config {
        Some(path) => crate::commands::config_over(&defaults, path)?,
        None => defaults,
    };
    let ModelConfig::Nade(m) = &mut config.model else {
        anyhow::bail!(
            "invalid argument: `elbo train nade --config` needs a [model] of kind \"nade\""
        );
    };
    set(&mut m.hidden, a.hidden);
    a.common.data.apply(&mut config.data);
    a.common.optim.apply(&mut config.train);
    config.validate()?;
    Ok(config)
}

/// `elbo train nade`.
pub fn train_cmd(a: NadeArgs) -> Result<Status> {
    elbo::device::install_interrupt_handler();
    let config = config(&a)?;
    let outcome = elbo::run::train(&config, &a.out, &a.common.log.options(a.common.run.force))?;
    crate::commands::report(&a.out, outcome, &a.common.run)
}
