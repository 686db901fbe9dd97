//! `elbo report`: the lecture's models side by side on one page (issue 7).
//!
//! Fits each family on the same training data within a share of a time
//! budget (or takes run folders given for them), then writes one
//! self-contained HTML page and the same content as Markdown: a likelihood
//! table, a sample grid per model from the same seed, the VAE's
//! reconstructions and interpolation beside the plain autoencoder's, and the
//! novelty test (are the samples new, or copies of training images?).
//! A model that could not be fitted is named on the page; the rest is kept.

pub mod build;
pub mod fit;
pub mod novelty;
pub mod page;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use novelty::Novelty;
pub use page::{Block, Page};

use crate::data::{DataSpec, PixelMode, Splits};
use crate::models::VaeConfig;
use crate::run::Run;
use crate::train::{DataConfig, ModelConfig, RunConfig, TrainConfig};
use crate::{Error, Result};
use fit::Entry;

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The data every model is fitted to and evaluated on.
    pub data: DataSpec,
    /// Folder for the page, its pictures and the runs fitted for it.
    pub out: PathBuf,
    /// Wall-clock minutes for all the fitting together.
    pub budget_minutes: f64,
    /// Existing run folders to use instead of fitting their family.
    pub runs: Vec<PathBuf>,
    /// Seed of fitting and of every sample grid.
    pub seed: u64,
    /// The command line that produced the report, shown on the page.
    pub command: String,
}

/// Where the report went and what it holds.
#[derive(Debug, Clone)]
pub struct ReportOutcome {
    /// The self-contained page.
    pub html: PathBuf,
    /// The same as Markdown.
    pub markdown: PathBuf,
    /// Models on the page.
    pub fitted: Vec<String>,
    /// Models that could not be fitted, with the reason.
    pub missing: Vec<(String, String)>,
}

/// The families, their share of the budget and their epoch cap.
const PLAN: [(&str, f64, usize); 2] = [("vae", 0.7, 300), ("ae", 0.3, 300)];

/// Fits the models and writes `report.html` and `report.md` into `opts.out`.
///
/// ```no_run
/// use elbo::data::DataSpec;
/// use elbo::report::{report, ReportOptions};
///
/// let outcome = report(&ReportOptions {
///     data: DataSpec::Digits,
///     out: "report".into(),
///     budget_minutes: 2.0,
///     runs: vec![],
///     seed: 1,
///     command: "elbo report --data digits".into(),
/// })?;
/// println!("open {}", outcome.html.display());
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn report(opts: &ReportOptions) -> Result<ReportOutcome> {
    if !(opts.budget_minutes.is_finite() && opts.budget_minutes > 0.0) {
        return Err(Error::invalid(format!(
            "the budget must be a positive number of minutes, got {}",
            opts.budget_minutes
        )));
    }
    check_writable(&opts.out)?;
    let data = DataConfig::new(opts.data.clone());
    let splits = data.load()?;
    let given = load_given(&opts.runs, &splits)?;
    let started = Instant::now();
    let budget = opts.budget_minutes * 60.0;
    let mut entries = Vec::new();
    let mut missing = Vec::new();
    for (kind, share, cap) in PLAN {
        let result = match given.iter().find(|r| r.config.model.kind() == kind) {
            Some(run) => given_entry(run, &splits, opts.seed).map_err(|e| e.to_string()),
            None => {
                let left = budget - started.elapsed().as_secs_f64();
                if left <= 0.0 {
                    Err("the time budget was used up before it could be fitted".to_string())
                } else {
                    fit_family(kind, &data, opts, (budget * share).min(left), cap, &splits)
                        .map_err(|e| e.to_string())
                }
            }
        };
        match result {
            Ok(e) => entries.push(e),
            Err(why) => missing.push((kind.to_string(), why)),
        }
    }
    let page = build::page(opts, &splits, &entries, &missing)?;
    let html = page.save(&opts.out)?;
    Ok(ReportOutcome {
        html,
        markdown: opts.out.join("report.md"),
        fitted: entries.iter().map(|e| e.name.clone()).collect(),
        missing,
    })
}

/// Fails early, naming the folder, when the report could not be written.
fn check_writable(out: &Path) -> Result<()> {
    crate::fsutil::create_dir_all(out)?;
    let probe = out.join(".elbo-write-check");
    crate::fsutil::atomic_write(&probe, b"")?;
    std::fs::remove_file(&probe).map_err(|e| Error::io(&probe, e))
}

/// Loads the run folders given, each checked against the data's shape.
fn load_given(runs: &[PathBuf], splits: &Splits) -> Result<Vec<Run>> {
    runs.iter()
        .map(|dir| {
            let run = Run::load(dir)?;
            fit::check_run_shape(&run, &splits.test)?;
            Ok(run)
        })
        .collect()
}

/// Binary models are fitted to statically binarized pixels, so their
/// likelihoods are probabilities of the same binary test images.
fn fit_family(
    kind: &str,
    data: &DataConfig,
    opts: &ReportOptions,
    seconds: f64,
    cap: usize,
    splits: &Splits,
) -> Result<Entry> {
    let mut data = data.clone();
    data.pixels = PixelMode::Binary;
    let nets = VaeConfig::new(0);
    let model = match kind {
        "vae" => ModelConfig::Vae(nets),
        "ae" => ModelConfig::Ae(nets),
        other => return Err(Error::invalid(format!("no report plan for '{other}'"))),
    };
    let config = RunConfig {
        model,
        data,
        train: TrainConfig {
            seed: opts.seed,
            ..TrainConfig::default()
        },
    };
    let dir = opts.out.join("runs").join(kind);
    let (epochs, secs) = fit::fit_within(&config, &dir, seconds, cap)?;
    let run = Run::load(&dir)?;
    let mut entry = given_entry(&run, splits, opts.seed)?;
    entry.train_seconds = secs;
    entry.epochs = epochs;
    Ok(entry)
}

/// The figures of a run folder: NLL where defined, samples, parameters.
fn given_entry(run: &Run, splits: &Splits, seed: u64) -> Result<Entry> {
    let (samples, shown, rate) = fit::decoder_samples(run, 64, seed)?;
    let kind = run.config.model.kind();
    let nets = run.config.model.nets()?;
    let nll = match kind {
        "vae" => Some(fit::vae_nll(run, &splits.test, 1000, seed)?),
        _ => None,
    };
    let body = match nets.arch {
        crate::models::nets::Arch::Mlp => format!("MLP {:?}", nets.hidden),
        crate::models::nets::Arch::Conv => format!("conv {:?}", nets.channels),
    };
    let family = if kind == "vae" { "VAE" } else { "Autoencoder" };
    let name = format!("{family} ({body}, latent {})", nets.latent);
    Ok(Entry {
        name,
        run_dir: run.dir.root.clone(),
        pixels: run.config.data.pixels,
        nll,
        params: crate::run::num_params(run),
        train_seconds: 0.0,
        epochs: epochs_done(run),
        samples,
        shown,
        samples_per_second: rate,
    })
}

fn epochs_done(run: &Run) -> usize {
    crate::train::metrics::read(&run.dir.metrics())
        .map(|m| m.len())
        .unwrap_or(0)
}
