//! Flag groups shared by several commands (clap `#[command(flatten)]`), so
//! that each command takes exactly the groups it uses and every copy of a
//! flag reads the same.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use elbo::data::{DataSpec, PixelMode};
use elbo::train::DataConfig;

/// The one default seed of every command (training, sampling, evaluation,
/// the report), so that a command run twice without `--seed` agrees.
pub const DEFAULT_SEED: u64 = 1;

/// Which run to read: `--model RUN_DIR`.
#[derive(Debug, Args)]
pub struct ModelArg {
    /// A run folder written by `elbo train` (or `elbo import`).
    #[arg(long, value_name = "RUN_DIR")]
    pub model: PathBuf,
}

/// A run named either by `--model RUN_DIR`, as every command takes it, or
/// positionally (`elbo plot runs/vae`).
#[derive(Debug, Args)]
pub struct RunArg {
    /// The run folder (the same as --model RUN_DIR).
    #[arg(value_name = "RUN_DIR", required_unless_present = "model")]
    pub run: Option<PathBuf>,
    /// A run folder written by `elbo train` (or `elbo import`).
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "run")]
    pub model: Option<PathBuf>,
}

impl RunArg {
    /// The folder, whichever way it was given.
    pub fn dir(&self) -> Result<PathBuf> {
        match (&self.model, &self.run) {
            (Some(p), _) | (None, Some(p)) => Ok(p.clone()),
            (None, None) => anyhow::bail!("invalid argument: name the run with --model RUN_DIR"),
        }
    }
}

/// The flag groups every gradient-trained family takes, in their help
/// order: optimization, data, the new run folder, progress.
#[derive(Debug, Args)]
pub struct TrainCommon {
    #[command(flatten)]
    pub optim: OptimFlags,
    #[command(flatten)]
    pub data: DataFlags,
    #[command(flatten)]
    pub run: NewRunFlags,
    #[command(flatten)]
    pub log: LogFlags,
}

/// Where the data comes from and how its pixels are read (every family).
#[derive(Debug, Args)]
#[command(next_help_heading = "Data")]
pub struct DataFlags {
    /// Data: digits (embedded 8x8), mnist:DIR, amat:FILE, npy:FILE or images:DIR [default: digits].
    #[arg(long, value_name = "SPEC")]
    pub data: Option<DataSpec>,
    /// Pixels: grey (u8/255), binary (threshold 0.5), dynamic (Bernoulli each epoch)
    /// [default: grey; nade: binary].
    #[arg(long)]
    pub pixels: Option<PixelMode>,
    /// Held-out fraction when the data has no test split [default: 0.1].
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// Resize folder images to HxW, e.g. 32x32.
    #[arg(long, value_parser = parse_size)]
    pub image_size: Option<(usize, usize)>,
    /// Load folder images as RGB [default: grey].
    #[arg(long)]
    pub rgb: bool,
}

impl DataFlags {
    /// Writes the given flags over `d`.
    pub fn apply(&self, d: &mut DataConfig) {
        set(&mut d.spec, self.data.clone());
        set(&mut d.pixels, self.pixels);
        set(&mut d.test_fraction, self.test_fraction);
        if self.image_size.is_some() {
            d.image_size = self.image_size;
        }
        d.rgb |= self.rgb;
    }

    /// A data config from the flags alone, `pixels` unless --pixels says.
    pub fn config(&self, pixels: PixelMode) -> DataConfig {
        let mut d = DataConfig::new(DataSpec::Digits);
        d.pixels = pixels;
        self.apply(&mut d);
        d
    }
}

/// What to do with the run folder of a new run (every family).
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct NewRunFlags {
    /// Overwrite a run folder that already holds a run.
    #[arg(long)]
    pub force: bool,
    /// Skip writing the pictures (samples, reconstructions, interpolation) after training.
    #[arg(long)]
    pub no_pictures: bool,
    /// Print the result on stdout as one JSON object (schema in docs/cli-json.md).
    #[arg(long)]
    pub json: bool,
}

/// How training reports its progress and how long it may run (the
/// gradient-trained families).
#[derive(Debug, Args)]
#[command(next_help_heading = "Output")]
pub struct LogFlags {
    /// No progress bar and no per-epoch lines.
    #[arg(long)]
    pub quiet: bool,
    /// Print the epoch line every N epochs (`10`) or at most every so often
    /// (`30s`, `5m`), and after the last; metrics.jsonl keeps every epoch [default: 1].
    #[arg(long, value_name = "N|DURATION")]
    pub log_every: Option<elbo::train::LogEvery>,
    /// Stop at the first step after this much wall-clock training (2h30m, 90m, 45s),
    /// with a checkpoint; `elbo train resume` goes on with what is left, or with a
    /// new --time-limit [default: none; on resume, the run's own].
    #[arg(long, value_name = "DURATION", help_heading = "Training time")]
    pub time_limit: Option<elbo::train::TimeLimit>,
}

impl LogFlags {
    /// The library's training options.
    pub fn options(&self, force: bool) -> elbo::train::TrainOptions {
        elbo::train::TrainOptions {
            force,
            quiet: self.quiet,
            log_every: self.log_every.unwrap_or_default(),
            time_limit: self.time_limit,
        }
    }
}

/// Optimization flags of the gradient-trained families; each overrides the
/// --config file.
#[derive(Debug, Args)]
#[command(next_help_heading = "Optimization")]
pub struct OptimFlags {
    /// TOML config file (same layout as a run's config.toml); flags win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Passes over the training set [default: 10].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Images per step [default: 128 for vae and ae, 32 for the pixel models and nade].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam learning rate [default: 0.001].
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Seed of initialization, shuffling, binarization and noise [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Decay the learning rate as Burda et al. (2016) did (3^i passes at lr·10^(−i/7),
    /// i = 0..7), compressed to this many epochs [default: 0, constant].
    #[arg(long, value_name = "EPOCHS")]
    pub lr_decay_epochs: Option<usize>,
    /// Hold the learning rate for this many epochs before the decay of
    /// --lr-decay-epochs starts [default: 0].
    #[arg(long, value_name = "EPOCHS")]
    pub lr_hold_epochs: Option<usize>,
    /// Evaluate the test set every N epochs, and after the last [default: 1].
    #[arg(long, value_name = "N")]
    pub test_every: Option<usize>,
}

impl OptimFlags {
    /// Writes the given flags over `t`.
    pub fn apply(&self, t: &mut elbo::train::TrainConfig) {
        set(&mut t.epochs, self.epochs);
        set(&mut t.batch_size, self.batch_size);
        set(&mut t.lr, self.lr);
        set(&mut t.seed, self.seed);
        set(&mut t.lr_decay_epochs, self.lr_decay_epochs);
        set(&mut t.lr_hold_epochs, self.lr_hold_epochs);
        set(&mut t.test_every, self.test_every);
    }
}

/// `slot = value` where a value was given.
pub fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// Parses `HxW` (e.g. `32x32`).
pub fn parse_size(s: &str) -> Result<(usize, usize), String> {
    let (h, w) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected HxW, got '{s}'"))?;
    let parse = |v: &str| v.trim().parse::<usize>().ok().filter(|&v| v > 0);
    match (parse(h), parse(w)) {
        (Some(h), Some(w)) => Ok((h, w)),
        _ => Err(format!("expected positive HxW, got '{s}'")),
    }
}

/// How pictures are drawn (shared by every command that writes one).
#[derive(Debug, Args)]
pub struct PictureArgs {
    /// Draw each image pixel as an NxN block (nearest neighbour), 1..=64
    /// [default: the smallest that makes an image 112 px: 4 for 28x28, 14 for 8x8].
    #[arg(long, value_name = "N", value_parser = parse_scale)]
    pub scale: Option<usize>,
}

fn parse_scale(s: &str) -> Result<usize, String> {
    let max = elbo::image::MAX_SCALE;
    match s.parse::<usize>() {
        Ok(v) if (1..=max).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a whole number in 1..={max}")),
    }
}
