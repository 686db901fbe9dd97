//! The command dispatch: each command parses into library calls (most
//! inline here, larger ones in the `cmd_*` modules).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use elbo::data::DataSpec;
use elbo::families::{ModelConfig, RunConfig};
use elbo::folder::RunDir;
use elbo::models::VaeConfig;
use elbo::models::pixel::PixelKind;
use elbo::run::{self, Run};
use elbo::train::{DataConfig, TrainConfig, TrainOptions, TrainOutcome};

use crate::args::{Cli, Command, DataCommand, Family, TrainArgs, VaeArgs};

/// How a command ended, when it did not fail.
pub enum Status {
    /// Completed.
    Done,
    /// Stopped by Ctrl-C after saving a checkpoint.
    Interrupted,
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<Status> {
    if let Some(n) = cli.threads {
        elbo::device::set_threads(n)?;
    }
    match cli.command {
        Command::Train(args) => train_cmd(args),
        Command::Complete(a) => crate::cmd_pixel::complete(a),
        Command::Sample(a) => {
            let run = Run::load(&a.run.model)?;
            if run.model.autoregressive().is_some() {
                return crate::cmd_pixel::sample(&run, a);
            }
            let out = a.out.unwrap_or_else(|| a.run.model.join("samples.png"));
            positive(a.n, "-n")?;
            run::save_label_samples(&run, a.n, a.seed, a.label, &out)?;
            println!("wrote {} samples to {}", a.n, out.display());
            Ok(Status::Done)
        }
        Command::Reconstruct(a) => {
            let run = Run::load(&a.run.model)?;
            positive(a.n, "-n")?;
            let test = run::test_images(&run, a.data.as_ref())?;
            let out = a
                .out
                .unwrap_or_else(|| a.run.model.join("reconstructions.png"));
            run::save_reconstructions(&run, &test, a.n, 0, &out)?;
            println!(
                "wrote {} images and their reconstructions to {}",
                a.n.min(test.n),
                out.display()
            );
            Ok(Status::Done)
        }
        Command::Interpolate(a) => {
            let run = Run::load(&a.run.model)?;
            let test = run::test_images(&run, a.data.as_ref())?;
            let (da, db) = run::default_pair(&test);
            let (from, to) = (a.from.unwrap_or(da), a.to.unwrap_or(db));
            let out = a
                .out
                .unwrap_or_else(|| a.run.model.join("interpolation.png"));
            run::save_interpolation(&run, &test, from, to, a.steps, &out)?;
            println!(
                "wrote the path from test image {from} to {to} in {} steps to {}",
                a.steps,
                out.display()
            );
            Ok(Status::Done)
        }
        Command::Eval(a) => crate::cmd_eval::eval(a),
        Command::CompareAe(a) => crate::cmd_arch::compare_ae(a),
        Command::Report(a) => crate::cmd_report::report_cmd(a),
        Command::Serve(a) => crate::cmd_serve::serve_cmd(a),
        Command::Plot(a) => crate::cmd_plot::plot(a),
        Command::LatentMap(a) => crate::cmd_plot::latent_map(a),
        Command::Manifold(a) => {
            let run = Run::load(&a.run.model)?;
            let out = a.out.unwrap_or_else(|| a.run.model.join("manifold.png"));
            run::save_manifold(&run, a.n, &out)?;
            println!(
                "wrote the {0}x{0} latent manifold to {1}",
                a.n,
                out.display()
            );
            Ok(Status::Done)
        }
        Command::Score(a) => {
            let run = Run::load(&a.run.model)?;
            let test = run::test_images(&run, a.data.as_ref())?;
            let n = elbo::export::save_scores(&run, &test, a.iwae, a.seed, &a.out)?;
            println!(
                "wrote scores of {n} images (IWAE K = {}) to {}",
                a.iwae,
                a.out.display()
            );
            Ok(Status::Done)
        }
        Command::Embed(a) => {
            let run = Run::load(&a.run.model)?;
            let set = run::split_images(&run, a.data.as_ref(), a.split == "train")?;
            let n = elbo::export::save_embeddings(&run, &set, &a.out)?;
            println!(
                "wrote the latent codes of {n} {} images to {}",
                a.split,
                a.out.display()
            );
            Ok(Status::Done)
        }
        Command::Import(a) => {
            elbo::interop::import_torch_vae(&a.file, &a.out, a.shape, a.force)?;
            println!(
                "imported {} into the run folder {}",
                a.file.display(),
                a.out.display()
            );
            Ok(Status::Done)
        }
        Command::Export(a) => {
            elbo::interop::export_torch_vae(&a.run, &a.out)?;
            println!(
                "wrote {} (pytorch/examples VAE state_dict)",
                a.out.display()
            );
            Ok(Status::Done)
        }
        Command::Select(a) => crate::cmd_mixture::select_cmd(a),
        Command::Data(d) => match d.command {
            DataCommand::Download(a) => {
                let dir = a
                    .dir
                    .unwrap_or_else(elbo::data::download::default_cache_dir);
                let files = elbo::data::download::download_mnist(
                    &dir,
                    &elbo::data::download::MNIST_MIRRORS,
                )?;
                for f in &files {
                    println!("{}", f.display());
                }
                println!(
                    "MNIST is in {}: use --data mnist:{}",
                    dir.display(),
                    dir.display()
                );
                Ok(Status::Done)
            }
        },
    }
}

fn positive(v: usize, name: &str) -> Result<()> {
    anyhow::ensure!(v > 0, "invalid argument: {name} must be positive");
    Ok(())
}

fn train_cmd(args: TrainArgs) -> Result<Status> {
    elbo::device::install_interrupt_handler();
    let (dir, outcome, pictures) = match (args.resume, args.family) {
        (Some(dir), _) => {
            let opts = TrainOptions {
                force: false,
                quiet: args.quiet,
            };
            let outcome = run::resume(&dir, args.epochs, &opts)?;
            (dir, outcome, !args.no_pictures)
        }
        (None, Some(Family::Gmm(g))) => return crate::cmd_mixture::train_gmm(g),
        (None, Some(Family::BernoulliMixture(b))) => return crate::cmd_mixture::train_bernoulli(b),
        (None, Some(Family::Pixelcnn(p))) => {
            return crate::cmd_pixel::train_cmd(PixelKind::PixelCnn, p);
        }
        (None, Some(Family::GatedPixelcnn(p))) => {
            return crate::cmd_pixel::train_cmd(PixelKind::Gated, p);
        }
        (None, Some(Family::Pixelrnn(p))) => {
            return crate::cmd_pixel::train_cmd(PixelKind::RowLstm, p);
        }
        (None, Some(Family::Nade(n))) => return crate::cmd_nade::train_cmd(n),
        (None, Some(Family::Vae(v))) => train_nets(v, false)?,
        (None, Some(Family::Ae(v))) => train_nets(v, true)?,
        (None, None) => {
            anyhow::bail!(
                "say what to train (`elbo train vae`, `ae`, `gmm`, `bernoulli-mixture`, `pixelcnn`, `gated-pixelcnn`, `pixelrnn` or `nade`) or pass --resume RUN_DIR"
            )
        }
    };
    report(&dir, outcome, pictures)
}

/// `elbo train vae` / `elbo train ae`: (run folder, outcome, write pictures).
fn train_nets(v: VaeArgs, ae: bool) -> Result<(PathBuf, TrainOutcome, bool)> {
    let config = crate::cmd_arch::as_family(vae_config(&v)?, ae)?;
    let opts = TrainOptions {
        force: v.force,
        quiet: v.quiet,
    };
    let outcome = run::train(&config, &v.out, &opts)?;
    Ok((v.out, outcome, !v.no_pictures))
}

/// After training (any family): the final test figure, the pictures, where
/// the run is; or how to continue an interrupted run.
pub fn report(dir: &Path, outcome: TrainOutcome, pictures: bool) -> Result<Status> {
    match outcome {
        TrainOutcome::Interrupted { epoch, step } => {
            eprintln!(
                "interrupted in epoch {epoch} after {step} steps; checkpoint saved. Continue with: elbo train --resume {}",
                dir.display()
            );
            Ok(Status::Interrupted)
        }
        TrainOutcome::Finished(last) => {
            let kind = RunConfig::load_from(&RunDir::new(dir)).map(|c| c.model.kind());
            if let Some(m) = last {
                if !matches!(kind, Ok("vae" | "ae")) {
                    println!("final test NLL {:.3} nats/image", m.test_loss);
                } else if kind.is_ok_and(|k| k == "ae") {
                    println!(
                        "final test reconstruction loss {:.3} nats/image",
                        m.test_loss
                    );
                } else {
                    println!(
                        "final test loss {:.3} nats/image (recon {:.3} + KL {:.3})",
                        m.test_loss, m.test_recon, m.test_kl
                    );
                }
            }
            if pictures {
                for p in run::save_pictures(dir)? {
                    println!("wrote {}", p.display());
                }
            }
            println!(
                "run folder: {} (metrics in {})",
                dir.display(),
                dir.join("metrics.jsonl").display()
            );
            Ok(Status::Done)
        }
    }
}

/// The run config: defaults, then the --config file, then flags.
fn vae_config(v: &VaeArgs) -> Result<RunConfig> {
    let mut config = match &v.config {
        Some(path) => config_file(path)?,
        None => default_config(),
    };
    let (ModelConfig::Vae(m) | ModelConfig::Ae(m)) = &mut config.model else {
        anyhow::bail!(
            "invalid argument: `elbo train vae --config` needs a [model] of kind \"vae\""
        );
    };
    set(&mut m.hidden, v.hidden.clone());
    set(&mut m.arch, v.arch);
    set(&mut m.channels, v.channels.clone());
    m.conditional |= v.conditional;
    set(&mut m.latent, v.latent);
    set(&mut m.activation, v.activation);
    set(&mut m.likelihood, v.likelihood);
    set(&mut m.variance, v.variance);
    let (d, t) = (&mut config.data, &mut config.train);
    set(&mut d.spec, v.data.clone());
    set(&mut d.pixels, v.pixels);
    set(&mut d.test_fraction, v.test_fraction);
    if v.image_size.is_some() {
        d.image_size = v.image_size;
    }
    d.rgb |= v.rgb;
    set(&mut t.epochs, v.epochs);
    set(&mut t.batch_size, v.batch_size);
    set(&mut t.lr, v.lr);
    set(&mut t.seed, v.seed);
    set(&mut t.beta, v.beta);
    set(&mut t.warmup_epochs, v.warmup_epochs);
    set(&mut t.free_bits, v.free_bits);
    set(&mut t.iwae_samples, v.iwae_samples);
    set(&mut t.lr_decay_epochs, v.lr_decay_epochs);
    set(&mut t.lr_hold_epochs, v.lr_hold_epochs);
    set(&mut t.test_every, v.test_every);
    Ok(config)
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn default_config() -> RunConfig {
    RunConfig {
        model: ModelConfig::Vae(VaeConfig::new(0)),
        data: DataConfig::new(DataSpec::Digits),
        train: TrainConfig::default(),
    }
}

/// Reads a (possibly partial) config file over the defaults.
fn config_file(path: &Path) -> Result<RunConfig> {
    config_over(&default_config(), path)
}

/// Reads a (possibly partial) config file `path` over `defaults`: every
/// family's `--config` goes through here.
pub(crate) fn config_over(defaults: &RunConfig, path: &Path) -> Result<RunConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    let file: toml::Table = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!("{}: invalid config: {}", path.display(), e.message().trim())
    })?;
    let mut merged: toml::Table = toml::from_str(&defaults.to_toml()?)?;
    merge(&mut merged, file);
    Ok(RunConfig::from_toml(&toml::to_string(&merged)?, path)?)
}

pub(crate) fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}
