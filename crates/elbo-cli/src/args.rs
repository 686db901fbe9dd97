//! Command-line arguments (clap derive). Every flag is documented in `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use elbo::data::DataSpec;

pub use crate::args_train::{Family, TrainArgs};
use crate::flags::{DEFAULT_SEED, ModelArg, PictureArgs, RunArg};

/// Likelihood-based generative models of images: train, sample, evaluate.
#[derive(Debug, Parser)]
#[command(name = "elbo", version, about, propagate_version = true)]
pub struct Cli {
    /// CPU threads for the tensor backend (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Where models train, evaluate and sample: cpu, or gpu (the first GPU
    /// adapter; needs the `gpu` feature, on by default, and a Vulkan,
    /// Metal or DX12 driver). Run folders move freely between the two.
    #[arg(long, global = true, value_parser = ["cpu", "gpu"], default_value = "cpu")]
    pub device: String,
    /// Memory elbo may use, e.g. 2G or 512M: a model, data set or sample
    /// count that needs more is refused before allocating [default: the
    /// ELBO_MAX_MEMORY variable, else the available memory].
    #[arg(long, global = true, value_name = "SIZE")]
    pub max_memory: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

// One value per process, parsed once: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model of one family, or continue a run (`elbo train resume RUN_DIR`).
    Train(TrainArgs),
    /// Draw N samples from a trained model into a PNG grid.
    Sample(SampleArgs),
    /// Show test images beside the model's reconstructions (PNG).
    Reconstruct(ReconstructArgs),
    /// Decode the line between the latent codes of two images (PNG strip).
    Interpolate(InterpolateArgs),
    /// Decode an n x n grid over a 2-D latent space through the inverse normal CDF (PNG).
    Manifold(ManifoldArgs),
    /// Test loss of a trained model on any data (and log-likelihood with --iwae K).
    Eval(EvalArgs),
    /// Per-image scores as CSV: index, label, negative ELBO, IWAE NLL (anomaly scores).
    Score(ScoreArgs),
    /// Per-image latent means and log-variances as .npy ([n, 2, latent]) or .csv.
    Embed(EmbedArgs),
    /// Training curves of a run as PNG charts: the loss per epoch, and the KL and active units of a VAE.
    Plot(crate::cmd_plot::PlotArgs),
    /// Scatter the latent means of the test set, coloured by label (PCA above 2-D), as PNG.
    LatentMap(crate::cmd_plot::LatentMapArgs),
    /// Data sets: download MNIST, Fashion-MNIST or CIFAR-10 into a cache folder.
    Data(DataArgs),
    /// Import a model from another framework: `elbo import torch-vae FILE --out RUN`.
    Import(ImportArgs),
    /// Export a run to another framework: `elbo export torch-vae RUN --out FILE`.
    Export(ExportArgs),
    /// "Why VAE": a VAE and a plain autoencoder side by side (interpolation and N(0, I) decodes, PNG).
    CompareAe(crate::cmd_arch::CompareAeArgs),
    /// Fit the model families on the same data and compare them on one HTML page.
    Report(crate::cmd_report::ReportArgs),
    /// Fit a range of mixture sizes and compare BIC/AIC: `elbo select gmm --components 2..20`.
    #[command(subcommand)]
    Select(SelectFamily),
    /// Show the top of test images and let a pixel model complete the rest (PNG).
    Complete(crate::cmd_pixel::CompleteArgs),
    /// Print a shell completion script: `elbo completions bash > /etc/bash_completion.d/elbo`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `elbo man > elbo.1; man ./elbo.1`.
    Man,
    /// Explore trained runs live in the browser (latent maps, paths, completions, samples).
    Serve(crate::cmd_serve::ServeArgs),
}

/// The families `elbo select` compares sizes of.
#[derive(Debug, Subcommand)]
pub enum SelectFamily {
    /// Gaussian mixtures with K = --components, one EM fit each.
    Gmm(crate::cmd_mixture::SelectArgs),
}

/// `elbo completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub run: ModelArg,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// Number of samples.
    #[arg(short = 'n', long = "count", alias = "n", default_value_t = 64)]
    pub n: usize,
    /// Seed of the draws.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Conditional models (VAE or gated PixelCNN): draw this class only [default: one class per column].
    #[arg(long)]
    pub label: Option<usize>,
    /// Output PNG [default: RUN_DIR/samples.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Pixel models: rerun the whole network per pixel (slow reference).
    #[arg(long, conflicts_with = "fast")]
    pub naive: bool,
    /// Pixel models: the cached sampler (the default).
    #[arg(long)]
    pub fast: bool,
}

#[derive(Debug, Args)]
pub struct ReconstructArgs {
    #[command(flatten)]
    pub run: ModelArg,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// Data to take test images from [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Number of images.
    #[arg(short = 'n', long = "count", alias = "n", default_value_t = 16)]
    pub n: usize,
    /// Output PNG [default: RUN_DIR/reconstructions.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InterpolateArgs {
    #[command(flatten)]
    pub run: ModelArg,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// Data to take the two test images from [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Index of the first test image [default: 0].
    #[arg(long)]
    pub from: Option<usize>,
    /// Index of the second [default: the first test image of another label].
    #[arg(long)]
    pub to: Option<usize>,
    /// Points on the line, both ends included.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Output PNG [default: RUN_DIR/interpolation.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ManifoldArgs {
    #[command(flatten)]
    pub run: ModelArg,
    #[command(flatten)]
    pub picture: PictureArgs,
    /// Points per side.
    #[arg(short = 'n', long = "count", alias = "n", default_value_t = 20)]
    pub n: usize,
    /// Output PNG [default: RUN_DIR/manifold.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub run: ModelArg,
    /// Data to evaluate on [default: the run's data, its test split].
    #[arg(long, value_name = "SPEC")]
    pub data: Option<DataSpec>,
    /// Which images: test, train or all [default: test of the run's data; with --data,
    /// all of a single file or folder, the test files of a data set that has them].
    #[arg(long)]
    pub split: Option<elbo::run::Split>,
    /// Seed of the sampled z (and of dynamic binarization).
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Also estimate log p(x) with K importance samples (IWAE bound, Burda et al. 2016):
    /// a VAE's headline figure, as it hardly moves with --seed.
    #[arg(long, value_name = "K")]
    pub iwae: Option<usize>,
    /// VAE: also the loss with z = the posterior mean, the same for every --seed
    /// (a reproducible figure, not a bound on -log p(x)).
    #[arg(long)]
    pub mean_z: bool,
    /// Print the result as one JSON object (schema in docs/cli-json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub run: ModelArg,
    /// Data to score [default: the run's data, its test split].
    #[arg(long, value_name = "SPEC")]
    pub data: Option<DataSpec>,
    /// Which images: test, train or all [default: as `elbo eval`].
    #[arg(long)]
    pub split: Option<elbo::run::Split>,
    /// Importance samples per image for the IWAE estimate.
    #[arg(long, value_name = "K", default_value_t = 100)]
    pub iwae: usize,
    /// Seed of the sampled z.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Output CSV file.
    #[arg(long)]
    pub out: PathBuf,
    /// Print the summary on stdout as one JSON object (schema in docs/cli-json.md).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    pub run: ModelArg,
    /// Data to encode [default: the run's data, its test split].
    #[arg(long, value_name = "SPEC")]
    pub data: Option<DataSpec>,
    /// Which images: test, train or all [default: as `elbo eval`].
    #[arg(long)]
    pub split: Option<elbo::run::Split>,
    /// Output file: .npy or .csv.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Format: torch-vae (a pytorch/examples VAE state_dict saved as safetensors).
    #[arg(value_parser = ["torch-vae"])]
    pub format: String,
    /// The safetensors file.
    pub file: PathBuf,
    /// Run folder to create.
    #[arg(long)]
    pub out: PathBuf,
    /// Image shape HxWxC the model was trained on.
    #[arg(long, default_value = "28x28x1", value_parser = parse_shape)]
    pub shape: (usize, usize, usize),
    /// The data the model was trained on, recorded in the run so that `eval`,
    /// `sample` and the others find it [default: mnist in the cache folder].
    #[arg(long, value_name = "SPEC")]
    pub data: Option<DataSpec>,
    /// Overwrite a folder that already holds a run.
    #[arg(long)]
    pub force: bool,
}

fn parse_shape(s: &str) -> Result<(usize, usize, usize), String> {
    let parts: Vec<usize> = s
        .split(['x', 'X'])
        .map(|v| v.trim().parse().unwrap_or(0))
        .collect();
    match parts[..] {
        [h, w, c] if h > 0 && w > 0 && (c == 1 || c == 3) => Ok((h, w, c)),
        _ => Err(format!("expected HxWxC with C = 1 or 3, got '{s}'")),
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Format: torch-vae.
    #[arg(value_parser = ["torch-vae"])]
    pub format: String,
    #[command(flatten)]
    pub run: RunArg,
    /// Output safetensors file.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download a data set (sha256-verified, atomic) into a cache folder.
    Download(DownloadArgs),
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Which data set.
    #[arg(value_parser = ["mnist", "fashion-mnist", "cifar10"])]
    pub name: String,
    /// Target folder [default: $ELBO_CACHE, else ~/.cache/elbo, then /NAME].
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Give up after this many seconds in all [default: $ELBO_DOWNLOAD_DEADLINE, else 3600].
    #[arg(long, value_name = "SECONDS", value_parser = elbo::data::download::parse_seconds)]
    pub deadline: Option<std::time::Duration>,
    /// Try the next mirror when one sends under 1 KiB in this many seconds
    /// [default: $ELBO_DOWNLOAD_STALL, else 60].
    #[arg(long, value_name = "SECONDS", value_parser = elbo::data::download::parse_seconds)]
    pub stall: Option<std::time::Duration>,
}
