//! The lecture's families as the report fits them: each one's config for
//! the report's data, its share of the time budget, and the figures the
//! page shows for it (likelihood and how it was obtained, samples).

use std::path::Path;
use std::time::Instant;

use super::ReportOptions;
use super::fit::{self, Entry};
use crate::data::{PixelMode, Splits};
use crate::eval::{EvalOptions, Nll};
use crate::families::nade::NadeConfig;
use crate::families::{ModelConfig, RunConfig};
use crate::mixture::{BernoulliMixtureConfig, GmmConfig};
use crate::models::VaeConfig;
use crate::models::pixel::PixelConfig;
use crate::run::Run;
use crate::train::{DataConfig, TrainConfig};
use crate::{Error, Result};

/// One family on the page: its kind (as in `config.toml`), its share of
/// the budget and, for trained networks, the most epochs it gets. The
/// mixtures are fitted by EM to convergence (or 100 iterations), which
/// takes seconds on the data a report is made for; their share is what the
/// networks after them do not get.
#[derive(Debug, Clone, Copy)]
pub struct Family {
    /// `gmm`, `bernoulli-mixture`, `vae`, `ae` or `pixelcnn`.
    pub kind: &'static str,
    /// Fraction of the budget.
    pub share: f64,
    /// Epoch cap for networks (0 for EM).
    pub max_epochs: usize,
}

/// The lecture's arc in order: finite mixtures, the VAE (an infinite
/// mixture) beside the plain autoencoder, then an autoregressive model.
pub const PLAN: [Family; 6] = [
    Family {
        kind: "gmm",
        share: 0.05,
        max_epochs: 0,
    },
    Family {
        kind: "bernoulli-mixture",
        share: 0.05,
        max_epochs: 0,
    },
    Family {
        kind: "vae",
        share: 0.35,
        max_epochs: 300,
    },
    Family {
        kind: "ae",
        share: 0.15,
        max_epochs: 300,
    },
    // On small data the PixelCNN overfits once it is fast enough to run
    // long: on the embedded digits (1,617 images) its test NLL was lowest
    // near 40 epochs (17.7) and rose to 24.8 by 112 (2026-11-30). On MNIST
    // the budget stops it long before the cap.
    Family {
        kind: "pixelcnn",
        share: 0.3,
        max_epochs: 40,
    },
    // NADE's exact likelihood on the same binary pixels: Larochelle &
    // Murray 2011's model between the mixtures and the PixelCNN.
    Family {
        kind: "nade",
        share: 0.1,
        max_epochs: 100,
    },
];

/// The family whose place on the page a run of `kind` takes: any
/// autoregressive model takes the PixelCNN's.
pub fn slot(kind: &str) -> &str {
    match kind {
        "gated-pixelcnn" | "pixelrnn" => "pixelcnn",
        k => k,
    }
}

/// The config the report fits for `kind`: the GMM sees grey pixels (its
/// likelihood a dequantized density), every other model statically
/// binarized ones, so their likelihoods are probabilities of the same
/// binary test images.
pub fn config(kind: &str, data: &DataConfig, splits: &Splits, seed: u64) -> Result<RunConfig> {
    let (dim, n) = (splits.train.dim(), splits.train.n);
    let mut data = data.clone();
    data.pixels = PixelMode::Binary;
    let mut train = TrainConfig {
        seed,
        ..TrainConfig::default()
    };
    let model = match kind {
        "gmm" => {
            data.pixels = PixelMode::Grey;
            let mut g = GmmConfig::new(10);
            g.pca = Some((dim / 4).clamp(1, 50));
            g.seed = seed;
            ModelConfig::Gmm(g)
        }
        "bernoulli-mixture" => {
            let mut b = BernoulliMixtureConfig::new((n / 100).clamp(10, 200));
            // 50 EM iterations: K = 200 on 60,000 MNIST images is ~1.7 s each.
            b.max_iter = 50;
            b.seed = seed;
            ModelConfig::BernoulliMixture(b)
        }
        "vae" => ModelConfig::Vae(VaeConfig::new(0)),
        "ae" => ModelConfig::Ae(VaeConfig::new(0)),
        "pixelcnn" => {
            train.batch_size = 32;
            ModelConfig::PixelCnn(PixelConfig::new())
        }
        "nade" => {
            train.batch_size = 32;
            ModelConfig::Nade(NadeConfig::new(0))
        }
        other => return Err(Error::invalid(format!("no report plan for '{other}'"))),
    };
    Ok(RunConfig { model, data, train })
}

/// Fits `family` into `dir` within `seconds`; returns the run's entry with
/// the training time and epochs (or EM iterations) filled in.
pub fn fit(
    family: Family,
    opts: &ReportOptions,
    splits: &Splits,
    seconds: f64,
    dir: &Path,
) -> Result<Entry> {
    let config = config(
        family.kind,
        &DataConfig::new(opts.data.clone()),
        splits,
        opts.seed,
    )?;
    let (epochs, secs) = if family.max_epochs == 0 {
        let started = Instant::now();
        let opts = crate::train::TrainOptions {
            force: true,
            quiet: true,
            ..Default::default()
        };
        let outcome = crate::run::train(&config, dir, &opts)?;
        let iterations = match outcome {
            crate::train::TrainOutcome::Finished(Some(m)) => m.epoch as f64,
            _ => 0.0,
        };
        (iterations, started.elapsed().as_secs_f64())
    } else {
        let steps = splits.train.n.div_ceil(config.train.batch_size);
        fit::fit_within(&config, dir, seconds, family.max_epochs, steps)?
    };
    let run = Run::load(dir)?;
    let mut entry = entry(&run, splits, opts.seed)?;
    entry.train_seconds = secs;
    entry.epochs = epochs;
    Ok(entry)
}

/// The figures of a run folder: NLL where defined, 64 samples, parameters.
pub fn entry(run: &Run, splits: &Splits, seed: u64) -> Result<Entry> {
    let (samples, shown, rate) = fit::decoder_samples(run, 64, seed)?;
    let opts = EvalOptions {
        seed,
        // The VAE's likelihood is the IWAE bound; k = 1000 as in Burda et
        // al.'s tables.
        iwae_samples: (run.kind() == "vae").then_some(1000),
    };
    let nll = run
        .nll_per_image(&splits.test, &opts)?
        .map(|(v, method)| Nll::from_per_image(&v, splits.test.dim(), method));
    Ok(Entry {
        name: run.display_name(),
        kind: run.kind().to_string(),
        run_dir: run.dir.root.clone(),
        pixels: run.config.data.pixels,
        nll,
        params: run.model.num_params(),
        train_seconds: 0.0,
        epochs: epochs_done(run),
        samples,
        shown,
        samples_per_second: rate,
    })
}

fn epochs_done(run: &Run) -> f64 {
    run.dir
        .read_metrics()
        .ok()
        .and_then(|m| m.last().map(|l| l.epoch as f64))
        .unwrap_or(0.0)
}
