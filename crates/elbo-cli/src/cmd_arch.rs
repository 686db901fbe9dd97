//! The plain autoencoder's config (`elbo train ae`) and `elbo compare-ae`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use elbo::data::DataSpec;
use elbo::families::{ModelConfig, RunConfig};
use elbo::run::{self, Run};

use crate::commands::Status;

/// Options of `elbo compare-ae`.
#[derive(Debug, Args)]
pub struct CompareAeArgs {
    #[command(flatten)]
    pub picture: crate::flags::PictureArgs,
    /// A VAE run folder (`elbo train vae`).
    #[arg(long, value_name = "RUN_DIR")]
    pub vae: PathBuf,
    /// An autoencoder run folder (`elbo train ae`), trained on the same images.
    #[arg(long, value_name = "RUN_DIR")]
    pub ae: PathBuf,
    /// Data to take the two test images from [default: the VAE run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Index of the first test image [default: 0].
    #[arg(long)]
    pub from: Option<usize>,
    /// Index of the second [default: the first test image of another label].
    #[arg(long)]
    pub to: Option<usize>,
    /// Seed of the N(0, I) draws.
    #[arg(long, default_value_t = crate::flags::DEFAULT_SEED)]
    pub seed: u64,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
}

/// `elbo compare-ae`: one call into [`run::save_ae_comparison`].
pub fn compare_ae(a: CompareAeArgs) -> Result<Status> {
    let vae = Run::load(&a.vae)?.with_scale(a.picture.scale);
    let ae = Run::load(&a.ae)?;
    let test = run::test_images(&vae, a.data.as_ref())?;
    let (da, db) = run::default_pair(&test);
    let (from, to) = (a.from.unwrap_or(da), a.to.unwrap_or(db));
    run::save_ae_comparison(&vae, &ae, &test, (from, to), a.seed, &a.out)?;
    println!(
        "wrote {}: left the VAE ({}), right the autoencoder ({}); top row the path from test image {from} to {to}, below decodes of z ~ N(0, I)",
        a.out.display(),
        a.vae.display(),
        a.ae.display()
    );
    Ok(Status::Done)
}

/// The config for `elbo train vae` (`ae` false) or `elbo train ae`: a
/// config file's `[model]` section describes the networks either way.
pub fn as_family(mut config: RunConfig, ae: bool) -> Result<RunConfig> {
    let (ModelConfig::Vae(nets) | ModelConfig::Ae(nets)) = config.model.clone() else {
        anyhow::bail!(
            "invalid argument: the config describes a {} model, not a VAE or autoencoder",
            config.model.kind()
        );
    };
    config.model = if ae {
        ModelConfig::Ae(nets)
    } else {
        ModelConfig::Vae(nets)
    };
    config.validate()?;
    Ok(config)
}
