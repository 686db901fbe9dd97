//! `elbo train pixelcnn|gated-pixelcnn|pixelrnn` (Row LSTM or Diagonal BiLSTM), and `sample`,
//! `complete` on autoregressive runs: thin calls into `elbo::run::pixel`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use elbo::data::DataSpec;
use elbo::families::{ModelConfig, RunConfig};
use elbo::models::pixel::{PixelConfig, PixelKind, PixelOutput, RecurrentLayer};
use elbo::run::{self, Run};
use elbo::train::{DataConfig, TrainConfig};

use crate::args::SampleArgs;
use crate::commands::Status;
use crate::flags::{DEFAULT_SEED, ModelArg, TrainCommon, set};

/// Options of `elbo train pixelcnn|pixelrnn` (and, with --classes,
/// `gated-pixelcnn`); each overrides the --config file.
#[derive(Debug, Args)]
pub struct PixelArgs {
    /// Run folder to write (config, weights, metrics, samples).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Feature maps h (PixelCNN's residual stream has 2h) [default: 32].
    #[arg(long, help_heading = "Network")]
    pub hidden: Option<usize>,
    /// Residual blocks / gated layers / recurrent layers [default: 5].
    #[arg(long, help_heading = "Network")]
    pub layers: Option<usize>,
    /// Kernel of the residual blocks or gated stacks (odd) [default: 3].
    #[arg(long, help_heading = "Network")]
    pub kernel: Option<usize>,
    /// Kernel of the first mask-A layer (odd) [default: 7].
    #[arg(long, help_heading = "Network")]
    pub first_kernel: Option<usize>,
    /// Width of the hidden 1x1 output layer [default: 64].
    #[arg(long, help_heading = "Network")]
    pub output_hidden: Option<usize>,
    /// Pixel distribution: bernoulli or categorical (256-way) [default: from the data].
    #[arg(long, help_heading = "Network")]
    pub output: Option<PixelOutput>,
    #[command(flatten)]
    pub common: TrainCommon,
}

/// Options of `elbo train gated-pixelcnn`: the pixel models' and class labels.
#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.default_value("runs/gated-pixelcnn")))]
pub struct GatedArgs {
    /// Condition on this many class labels [default: 0, off].
    #[arg(long, help_heading = "Network")]
    pub classes: Option<usize>,
    #[command(flatten)]
    pub pixel: PixelArgs,
}

/// Options of `elbo train pixelrnn`: the pixel models' and the recurrent layer.
#[derive(Debug, Args)]
#[command(mut_arg("out", |a| a.default_value("runs/pixelrnn")))]
pub struct PixelRnnArgs {
    /// Recurrent layer: row-lstm (alias row) or diagonal-bilstm (alias diagonal) [default: row-lstm].
    #[arg(long, help_heading = "Network")]
    pub layer: Option<RecurrentLayer>,
    #[command(flatten)]
    pub pixel: PixelArgs,
}

/// What only some pixel families take: class labels (gated), the
/// recurrent layer (pixelrnn).
#[derive(Debug, Default, Clone, Copy)]
struct Extra {
    classes: Option<usize>,
    layer: Option<RecurrentLayer>,
}

/// Options of `elbo complete`.
#[derive(Debug, Args)]
pub struct CompleteArgs {
    #[command(flatten)]
    pub run: ModelArg,
    #[command(flatten)]
    pub picture: crate::flags::PictureArgs,
    /// Data to take test images from [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Number of images.
    #[arg(short = 'n', long = "count", alias = "n", default_value_t = 8)]
    pub n: usize,
    /// Fraction of the rows given (top), in (0, 1).
    #[arg(long, default_value_t = 0.5)]
    pub fraction: f64,
    /// Seed of the sampled pixels.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Rerun the whole network per pixel instead of the cached sampler.
    #[arg(long)]
    pub naive: bool,
    /// Output PNG [default: RUN_DIR/completions.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The run config: defaults, then the --config file, then flags.
fn config(kind: PixelKind, a: &PixelArgs, extra: Extra) -> Result<RunConfig> {
    let mut config = RunConfig {
        model: match kind {
            PixelKind::PixelCnn => ModelConfig::PixelCnn(PixelConfig::new()),
            PixelKind::Gated => ModelConfig::GatedPixelCnn(PixelConfig::new()),
            PixelKind::RowLstm | PixelKind::DiagonalBiLstm => {
                ModelConfig::PixelRnn(PixelConfig::new())
            }
        },
        data: DataConfig::new(DataSpec::Digits),
        train: TrainConfig {
            batch_size: 32,
            ..TrainConfig::default()
        },
    };
    if let Some(path) = &a.common.optim.config {
        // A (possibly partial) file over the defaults, as for the VAE.
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let file: toml::Table = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{}: invalid config: {}", path.display(), e.message().trim())
        })?;
        let mut merged: toml::Table = toml::from_str(&config.to_toml()?)?;
        crate::commands::merge(&mut merged, file);
        config = RunConfig::from_toml(&toml::to_string(&merged)?, path)?;
        anyhow::ensure!(
            config.model.kind() == kind.name(),
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
        set(&mut m.classes, extra.classes);
        if extra.layer.is_some() {
            m.layer = extra.layer;
        }
        if a.output.is_some() {
            m.output = a.output;
        }
    }
    a.common.data.apply(&mut config.data);
    a.common.optim.apply(&mut config.train);
    config.validate()?;
    Ok(config)
}

/// `elbo train pixelcnn|pixelrnn`.
pub fn train_cmd(kind: PixelKind, a: PixelArgs) -> Result<Status> {
    train_with(kind, a, Extra::default())
}

/// `elbo train pixelrnn [--layer row-lstm|diagonal-bilstm]`.
pub fn train_pixelrnn(a: PixelRnnArgs) -> Result<Status> {
    let extra = Extra {
        layer: a.layer,
        ..Extra::default()
    };
    train_with(PixelKind::RowLstm, a.pixel, extra)
}

/// `elbo train gated-pixelcnn`.
pub fn train_gated(a: GatedArgs) -> Result<Status> {
    let extra = Extra {
        classes: a.classes,
        ..Extra::default()
    };
    train_with(PixelKind::Gated, a.pixel, extra)
}

fn train_with(kind: PixelKind, a: PixelArgs, extra: Extra) -> Result<Status> {
    elbo::device::install_interrupt_handler();
    let config = config(kind, &a, extra)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("runs/{}", kind.name())));
    let outcome = run::train(&config, &out, &a.common.log.options(a.common.run.force))?;
    crate::commands::report(&out, outcome, &a.common.run)
}

/// `elbo sample` on an autoregressive run.
pub fn sample(run: &Run, a: SampleArgs) -> Result<Status> {
    anyhow::ensure!(a.n > 0, "invalid argument: -n/--count must be positive");
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
    anyhow::ensure!(a.n > 0, "invalid argument: -n/--count must be positive");
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
