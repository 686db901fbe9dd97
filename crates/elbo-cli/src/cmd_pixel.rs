//! `elbo train pixelcnn|gated-pixelcnn|pixelrnn`, and `sample`,
//! `complete` on autoregressive runs: thin calls into `elbo::run::pixel`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use elbo::data::{DataSpec, PixelMode};
use elbo::families::{ModelConfig, RunConfig};
use elbo::models::pixel::{PixelConfig, PixelKind, PixelOutput};
use elbo::run::{self, Run};
use elbo::train::{DataConfig, TrainConfig, TrainOptions};

use crate::args::{ModelArg, SampleArgs};
use crate::commands::Status;

/// Options of `elbo train pixelcnn|gated-pixelcnn|pixelrnn`; each overrides the --config file.
#[derive(Debug, Args)]
pub struct PixelArgs {
    /// TOML config file (same layout as a run's config.toml); flags win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data: digits (embedded), mnist:DIR, amat:FILE, npy:FILE or images:DIR.
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Run folder to write.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite a run folder that already holds a run.
    #[arg(long)]
    pub force: bool,
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
    /// Feature maps h (PixelCNN's residual stream has 2h) [default: 32].
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Residual blocks / gated layers / Row LSTM layers [default: 5].
    #[arg(long)]
    pub layers: Option<usize>,
    /// Kernel of the residual blocks or gated stacks (odd) [default: 3].
    #[arg(long)]
    pub kernel: Option<usize>,
    /// Kernel of the first mask-A layer (odd) [default: 7].
    #[arg(long)]
    pub first_kernel: Option<usize>,
    /// Width of the hidden 1x1 output layer [default: 64].
    #[arg(long)]
    pub output_hidden: Option<usize>,
    /// Pixel distribution: bernoulli or categorical (256-way) [default: from the data].
    #[arg(long)]
    pub output: Option<PixelOutput>,
    /// Condition on this many class labels (gated-pixelcnn only) [default: 0, off].
    #[arg(long)]
    pub classes: Option<usize>,
    /// Pixels: grey (u8/255), binary (threshold 0.5), dynamic (Bernoulli each epoch) [default: grey].
    #[arg(long)]
    pub pixels: Option<PixelMode>,
    /// Held-out fraction when the data has no test split [default: 0.1].
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// Load folder images as RGB (default grey).
    #[arg(long)]
    pub rgb: bool,
    /// No progress bar or per-epoch lines.
    #[arg(long)]
    pub quiet: bool,
    /// Skip writing samples.png after training.
    #[arg(long)]
    pub no_pictures: bool,
}

/// Options of `elbo complete`.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    #[command(flatten)]
    pub run: ModelArg,
    #[command(flatten)]
    pub picture: crate::args::PictureArgs,
    /// Data to take test images from [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Number of images.
    #[arg(short, long, default_value_t = 8)]
    pub n: usize,
    /// Fraction of the rows given (top), in (0, 1).
    #[arg(long, default_value_t = 0.5)]
    pub fraction: f64,
    /// Seed of the sampled pixels.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Rerun the whole network per pixel instead of the cached sampler.
    #[arg(long)]
    pub naive: bool,
    /// Output PNG [default: RUN_DIR/completions.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// The run config: defaults, then the --config file, then flags.
fn config(kind: PixelKind, a: &PixelArgs) -> Result<RunConfig> {
    let mut config = RunConfig {
        model: match kind {
            PixelKind::PixelCnn => ModelConfig::PixelCnn(PixelConfig::new()),
            PixelKind::Gated => ModelConfig::GatedPixelCnn(PixelConfig::new()),
            PixelKind::RowLstm => ModelConfig::PixelRnn(PixelConfig::new()),
        },
        data: DataConfig::new(DataSpec::Digits),
        train: TrainConfig {
            batch_size: 32,
            ..TrainConfig::default()
        },
    };
    if let Some(path) = &a.config {
        // A (possibly partial) file over the defaults, as for the VAE.
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let file: toml::Table = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{}: invalid config: {}", path.display(), e.message().trim())
        })?;
        let mut merged: toml::Table = toml::from_str(&config.to_toml()?)?;
        crate::commands::merge(&mut merged, file);
        config = RunConfig::from_toml(&toml::to_string(&merged)?, path)?;
        let found = elbo::families::pixel::pixel_config(&config)
            .ok()
            .map(|(k, _)| k);
        anyhow::ensure!(
            found == Some(kind),
            "{}: the config describes a {} model, not {}",
            path.display(),
            config.model.kind(),
            kind.name()
        );
    }
    if let ModelConfig::PixelCnn(m) | ModelConfig::GatedPixelCnn(m) | ModelConfig::PixelRnn(m) =
        &mut config.model
    {
        set(&mut m.hidden, a.hidden);
        set(&mut m.layers, a.layers);
        set(&mut m.kernel, a.kernel);
        set(&mut m.first_kernel, a.first_kernel);
        set(&mut m.output_hidden, a.output_hidden);
        set(&mut m.classes, a.classes);
        if a.output.is_some() {
            m.output = a.output;
        }
    }
    let (d, t) = (&mut config.data, &mut config.train);
    set(&mut d.spec, a.data.clone());
    set(&mut d.pixels, a.pixels);
    set(&mut d.test_fraction, a.test_fraction);
    d.rgb |= a.rgb;
    set(&mut t.epochs, a.epochs);
    set(&mut t.batch_size, a.batch_size);
    set(&mut t.lr, a.lr);
    set(&mut t.seed, a.seed);
    config.validate()?;
    Ok(config)
}

/// `elbo train pixelcnn|gated-pixelcnn|pixelrnn`.
pub fn train_cmd(kind: PixelKind, a: PixelArgs) -> Result<Status> {
    elbo::device::install_interrupt_handler();
    let config = config(kind, &a)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/{}", kind.name())));
    let opts = TrainOptions {
        force: a.force,
        quiet: a.quiet,
    };
    let outcome = run::train(&config, &out, &opts)?;
    crate::commands::report(&out, outcome, !a.no_pictures)
}

/// `elbo sample` on an autoregressive run.
pub fn sample(run: &Run, a: SampleArgs) -> Result<Status> {
    anyhow::ensure!(a.n > 0, "invalid argument: -n must be positive");
    let out = a.out.unwrap_or_else(|| a.run.model.join("samples.png"));
    let started = std::time::Instant::now();
    run::pixel::save_pixel_samples(run, a.n, a.seed, a.label, a.naive, &out, true)?;
    println!(
        "wrote {} samples to {} ({} sampler, {:.2}s)",
        a.n,
        out.display(),
        if a.naive { "naive" } else { "fast" },
        started.elapsed().as_secs_f64()
    );
    Ok(Status::Done)
}

fn warn_colours(run: &Run, spec: Option<&DataSpec>) -> Result<()> {
    if let Some(w) = spec
        .map(|s| run::pixel::colour_warning(run, s))
        .transpose()?
        .flatten()
    {
        eprintln!("{w}");
    }
    Ok(())
}

/// `elbo complete`: top rows given, the model completes the rest.
pub fn complete(a: CompleteArgs) -> Result<Status> {
    anyhow::ensure!(
        a.fraction > 0.0 && a.fraction < 1.0,
        "invalid argument: --fraction must be strictly between 0 and 1, got {}",
        a.fraction
    );
    anyhow::ensure!(a.n > 0, "invalid argument: -n must be positive");
    let run = Run::load(&a.run.model)?.with_scale(a.picture.scale);
    let test = run::test_images(&run, a.data.as_ref())?;
    warn_colours(&run, a.data.as_ref())?;
    let out = a.out.unwrap_or_else(|| a.run.model.join("completions.png"));
    run::pixel::save_completions(&run, &test, a.n, a.fraction, a.seed, a.naive, &out, true)?;
    println!(
        "wrote {} completions (top {:.0}% given; rows: given, completed, original) to {}",
        a.n.min(test.n),
        a.fraction * 100.0,
        out.display()
    );
    Ok(Status::Done)
}
