//! The command dispatch: each command parses into library calls (most
//! inline here, larger ones in the `cmd_*` modules).

use std::path::Path;

use anyhow::{Context, Result};
use elbo::data::DataSpec;
use elbo::families::{ModelConfig, RunConfig};
use elbo::folder::RunDir;
use elbo::models::VaeConfig;
use elbo::models::pixel::PixelKind;
use elbo::run::{self, Run};
use elbo::train::{DataConfig, TrainConfig, TrainOutcome};

use clap::CommandFactory;

use crate::args::{Cli, Command, DataCommand, Family, SelectFamily, TrainArgs};
use crate::args_train::{AeArgs, NetFlags, ResumeArgs, VaeArgs};
use crate::flags::{LogFlags, NewRunFlags, set};

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
    elbo::device::select_device(cli.device.parse()?)?;
    if let Some(size) = &cli.max_memory {
        let bytes = elbo::memory::parse_size(size).context("--max-memory")?;
        elbo::memory::set_max_memory(bytes);
    }
    match cli.command {
        Command::Train(args) => train_cmd(args),
        Command::Complete(a) => crate::cmd_pixel::complete(a),
        Command::Sample(a) => {
            let run = Run::load(&a.run.model)?.with_scale(a.picture.scale);
            if run.model.autoregressive().is_some() {
                return crate::cmd_pixel::sample(&run, a);
            }
            let out = a.out.unwrap_or_else(|| a.run.model.join("samples.png"));
            positive(a.n, "-n/--count")?;
            run::save_label_samples(&run, a.n, a.seed, a.label, &out)?;
            println!("wrote {} samples to {}", a.n, out.display());
            Ok(Status::Done)
        }
        Command::Reconstruct(a) => {
            let run = Run::load(&a.run.model)?.with_scale(a.picture.scale);
            positive(a.n, "-n/--count")?;
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
            let run = Run::load(&a.run.model)?.with_scale(a.picture.scale);
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
            let run = Run::load(&a.run.model)?.with_scale(a.picture.scale);
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
            let test = run::eval_images(&run, a.data.as_ref(), a.split)?;
            let n = elbo::export::save_scores(&run, &test, a.iwae, a.seed, &a.out)?;
            if a.json {
                let value = serde_json::json!({
                    "result": "score",
                    "images": n,
                    "iwae_samples": a.iwae,
                    "seed": a.seed,
                    "file": a.out,
                });
                println!("{value}");
            } else {
                println!(
                    "wrote scores of {n} images (IWAE K = {}) to {}",
                    a.iwae,
                    a.out.display()
                );
            }
            Ok(Status::Done)
        }
        Command::Embed(a) => {
            let run = Run::load(&a.run.model)?;
            let set = run::eval_images(&run, a.data.as_ref(), a.split)?;
            let n = elbo::export::save_embeddings(&run, &set, &a.out)?;
            println!(
                "wrote the latent codes of {n} images to {}",
                a.out.display()
            );
            Ok(Status::Done)
        }
        Command::Import(a) => {
            let config =
                elbo::interop::import_torch_vae_for(&a.file, &a.out, a.shape, a.data, a.force)?;
            println!(
                "imported {} into the run folder {} (data: {})",
                a.file.display(),
                a.out.display(),
                config.data.spec
            );
            Ok(Status::Done)
        }
        Command::Export(a) => {
            elbo::interop::export_torch_vae(&a.run.dir()?, &a.out)?;
            println!(
                "wrote {} (pytorch/examples VAE state_dict)",
                a.out.display()
            );
            Ok(Status::Done)
        }
        Command::Select(SelectFamily::Gmm(a)) => crate::cmd_mixture::select_cmd(a),
        Command::Completions(a) => {
            let mut cmd = Cli::command();
            clap_complete::generate(a.shell, &mut cmd, "elbo", &mut std::io::stdout());
            Ok(Status::Done)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(Status::Done)
        }
        Command::Data(d) => match d.command {
            DataCommand::Download(a) => {
                let set = elbo::data::dataset(&a.name)?;
                let dir = a.dir.unwrap_or_else(|| set.default_dir());
                let mut opts = elbo::data::DownloadOptions::from_env()?;
                // Ctrl-C stops the download and deletes the partial file.
                elbo::device::install_interrupt_handler();
                opts.deadline = a.deadline.unwrap_or(opts.deadline);
                opts.stall = a.stall.unwrap_or(opts.stall);
                for f in set.download(&dir, &opts)? {
                    println!("{}", f.display());
                }
                println!(
                    "{} is in {}: use --data {}",
                    a.name,
                    dir.display(),
                    set.spec(&dir)?
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
    match (args.resume, args.family) {
        (Some(dir), _) => resume_cmd(ResumeArgs {
            dir,
            epochs: args.epochs,
            no_pictures: args.no_pictures,
            json: false,
            log: LogFlags {
                quiet: args.quiet,
                log_every: None,
                time_limit: None,
            },
        }),
        (None, Some(Family::Resume(r))) => resume_cmd(r),
        (None, Some(Family::Gmm(g))) => crate::cmd_mixture::train_gmm(g),
        (None, Some(Family::BernoulliMixture(b))) => crate::cmd_mixture::train_bernoulli(b),
        (None, Some(Family::Pixelcnn(p))) => crate::cmd_pixel::train_cmd(PixelKind::PixelCnn, p),
        (None, Some(Family::GatedPixelcnn(p))) => crate::cmd_pixel::train_gated(p),
        (None, Some(Family::Pixelrnn(p))) => crate::cmd_pixel::train_pixelrnn(p),
        (None, Some(Family::Nade(n))) => crate::cmd_nade::train_cmd(n),
        (None, Some(Family::Vae(v))) => train_vae(v),
        (None, Some(Family::Ae(a))) => train_ae(a),
        (None, None) => anyhow::bail!(
            "say what to train: `elbo train vae`, `elbo train ae`, `elbo train gmm`, `elbo train bernoulli-mixture`, `elbo train pixelcnn`, `elbo train gated-pixelcnn`, `elbo train pixelrnn` or `elbo train nade` (`elbo train FAMILY --help` lists its flags), or continue a run with `elbo train resume RUN_DIR` (alias: --resume RUN_DIR)"
        ),
    }
}

/// `elbo train resume RUN_DIR`.
fn resume_cmd(r: ResumeArgs) -> Result<Status> {
    let outcome = run::resume(&r.dir, r.epochs, &r.log.options(false))?;
    let flags = NewRunFlags {
        force: false,
        no_pictures: r.no_pictures,
        json: r.json,
    };
    report(&r.dir, outcome, &flags)
}

/// `elbo train vae`.
fn train_vae(v: VaeArgs) -> Result<Status> {
    let mut config = base_config(v.common.optim.config.as_deref())?;
    apply_nets(&mut config, &v.nets)?;
    let o = &v.objective;
    let t = &mut config.train;
    set(&mut t.beta, o.beta);
    set(&mut t.warmup_epochs, o.warmup_epochs);
    set(&mut t.free_bits, o.free_bits);
    set(&mut t.iwae_samples, o.iwae_samples);
    v.common.optim.apply(&mut config.train);
    v.common.data.apply(&mut config.data);
    let config = crate::cmd_arch::as_family(config, false)?;
    let outcome = run::train(&config, &v.out, &v.common.log.options(v.common.run.force))?;
    report(&v.out, outcome, &v.common.run)
}

/// `elbo train ae`.
fn train_ae(a: AeArgs) -> Result<Status> {
    let mut config = base_config(a.common.optim.config.as_deref())?;
    apply_nets(&mut config, &a.nets)?;
    a.common.optim.apply(&mut config.train);
    a.common.data.apply(&mut config.data);
    let config = crate::cmd_arch::as_family(config, true)?;
    let outcome = run::train(&config, &a.out, &a.common.log.options(a.common.run.force))?;
    report(&a.out, outcome, &a.common.run)
}

/// After training (any gradient-trained family): the final test figure,
/// the pictures, where the run is, as text or one JSON object; or how to
/// continue an interrupted run.
pub fn report(dir: &Path, outcome: TrainOutcome, flags: &NewRunFlags) -> Result<Status> {
    let last = match outcome {
        TrainOutcome::Interrupted { epoch, step } => {
            eprintln!(
                "interrupted in epoch {epoch} after {step} steps; checkpoint saved. Continue with: elbo train resume {}",
                dir.display()
            );
            return Ok(Status::Interrupted);
        }
        TrainOutcome::TimeUp {
            epoch,
            step,
            used_seconds,
        } => {
            eprintln!(
                "time limit reached after {:.0} s of training, in epoch {epoch} after {step} steps; checkpoint saved. Continue with: elbo train resume {} (optionally --time-limit DURATION for more time)",
                used_seconds,
                dir.display()
            );
            return Ok(Status::Done);
        }
        TrainOutcome::Finished(last) => last,
    };
    let kind = RunConfig::load_from(&RunDir::new(dir))?.model.kind();
    let pictures = if flags.no_pictures {
        Vec::new()
    } else {
        run::save_pictures(dir)?
    };
    if flags.json {
        let value = serde_json::json!({
            "result": "train",
            "run_dir": dir,
            "kind": kind,
            "last_epoch": last,
            "pictures": pictures,
        });
        println!("{value}");
        return Ok(Status::Done);
    }
    if let Some(m) = last {
        match kind {
            _ if !m.tested() => println!(
                "final train loss {:.3} nats/image (no test images to evaluate: the test fraction is 0)",
                m.train_loss
            ),
            "vae" => println!(
                "final test loss {:.3} nats/image (recon {:.3} + KL {:.3}; one sampled z per image: `elbo eval --iwae K` gives the likelihood bound)",
                m.test_loss, m.test_recon, m.test_kl
            ),
            "ae" => println!(
                "final test reconstruction loss {:.3} nats/image",
                m.test_loss
            ),
            _ => println!("final test NLL {:.3} nats/image", m.test_loss),
        }
    }
    for p in &pictures {
        println!("wrote {}", p.display());
    }
    println!(
        "run folder: {} (metrics in {})",
        dir.display(),
        dir.join("metrics.jsonl").display()
    );
    Ok(Status::Done)
}

/// The defaults, or a (possibly partial) --config file over them.
fn base_config(path: Option<&Path>) -> Result<RunConfig> {
    let config = match path {
        Some(path) => config_file(path)?,
        None => default_config(),
    };
    if !matches!(config.model, ModelConfig::Vae(_) | ModelConfig::Ae(_)) {
        anyhow::bail!(
            "invalid argument: `elbo train vae --config` needs a [model] of kind \"vae\""
        );
    }
    Ok(config)
}

/// The network flags over the config's `[model]`.
fn apply_nets(config: &mut RunConfig, n: &NetFlags) -> Result<()> {
    let (ModelConfig::Vae(m) | ModelConfig::Ae(m)) = &mut config.model else {
        anyhow::bail!("invalid argument: the config describes no VAE or autoencoder");
    };
    set(&mut m.hidden, n.hidden.clone());
    set(&mut m.arch, n.arch);
    set(&mut m.channels, n.channels.clone());
    m.conditional |= n.conditional;
    set(&mut m.latent, n.latent);
    set(&mut m.activation, n.activation);
    set(&mut m.likelihood, n.likelihood);
    set(&mut m.variance, n.variance);
    Ok(())
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
