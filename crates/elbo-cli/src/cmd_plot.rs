//! `elbo plot` (training curves) and `elbo latent-map`: thin calls into
//! `elbo::plot`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use elbo::data::DataSpec;
use elbo::run::{self, Run};

use crate::commands::Status;
use crate::flags::{ModelArg, RunArg};

/// Options of `elbo plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The run (reads its metrics.jsonl and config.toml).
    #[command(flatten)]
    pub run: RunArg,
    /// Folder for loss.png (and a VAE's kl.png, active_units.png) [default: RUN_DIR].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Options of `elbo latent-map`.
#[derive(Debug, Args)]
pub struct LatentMapArgs {
    #[command(flatten)]
    pub run: ModelArg,
    /// Data whose test split is encoded [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Output PNG [default: RUN_DIR/latent_map.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `elbo plot [--model] RUN [--out DIR]`.
pub fn plot(a: PlotArgs) -> Result<Status> {
    let dir = a.run.dir()?;
    let out = a.out.unwrap_or_else(|| dir.clone());
    let curves = elbo::plot::save_training_curves(&dir, &out)?;
    for f in &curves.files {
        println!("wrote {}", f.display());
    }
    println!(
        "({} epochs from {})",
        curves.epochs,
        dir.join("metrics.jsonl").display()
    );
    Ok(Status::Done)
}

/// `elbo latent-map --model RUN [--data D] [--out FILE]`.
pub fn latent_map(a: LatentMapArgs) -> Result<Status> {
    let run = Run::load(&a.run.model)?;
    let test = run::test_images(&run, a.data.as_ref())?;
    let out = a.out.unwrap_or_else(|| a.run.model.join("latent_map.png"));
    let map = elbo::plot::save_latent_map(&run, &test, &out)?;
    let axes = match map.explained {
        Some([a, b]) => format!(
            "first two principal axes of {} dimensions ({:.1}% + {:.1}% of the variance)",
            map.latent,
            100.0 * a,
            100.0 * b
        ),
        None => "z0, z1".to_string(),
    };
    println!(
        "wrote the latent means of {} test images ({} classes; axes: {axes}) to {}",
        map.points,
        map.classes,
        out.display()
    );
    Ok(Status::Done)
}
