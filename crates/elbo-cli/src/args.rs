//! Command-line arguments (clap derive). Every flag is documented in `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use elbo::data::{DataSpec, PixelMode};
use elbo::models::Activation;

/// Likelihood-based generative models of images: train, sample, evaluate.
#[derive(Debug, Parser)]
#[command(name = "elbo", version, about, propagate_version = true)]
pub struct Cli {
    /// CPU threads for the tensor backend (default: all cores).
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

// One value per process, parsed once: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model (or continue one with --resume RUN_DIR).
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
    /// Training curves of a run (loss, KL, active units per epoch) as PNG charts.
    Plot(crate::cmd_plot::PlotArgs),
    /// Scatter the latent means of the test set, coloured by label (PCA above 2-D), as PNG.
    LatentMap(crate::cmd_plot::LatentMapArgs),
    /// Data sets: download MNIST into a cache folder.
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
    Select(crate::cmd_mixture::SelectArgs),
    /// Show the top of test images and let a pixel model complete the rest (PNG).
    Complete(crate::cmd_pixel::CompleteArgs),
    /// Explore trained runs live in the browser (latent maps, paths, completions, samples).
    Serve(crate::cmd_serve::ServeArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TrainArgs {
    /// Continue the run in this folder exactly where it stopped.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// With --resume: train until this many epochs in total.
    #[arg(long, requires = "resume")]
    pub epochs: Option<usize>,
    /// No progress bar or per-epoch lines.
    #[arg(long, requires = "resume")]
    pub quiet: bool,
    /// With --resume: skip the samples/reconstructions/interpolation PNGs.
    #[arg(long, requires = "resume")]
    pub no_pictures: bool,
    #[command(subcommand)]
    pub family: Option<Family>,
}

#[derive(Debug, Subcommand)]
pub enum Family {
    /// The variational autoencoder (MLP or conv networks, optionally conditional on labels).
    Vae(VaeArgs),
    /// A plain autoencoder with the same networks (no noise, no KL), for `elbo compare-ae`.
    Ae(VaeArgs),
    /// A Gaussian mixture fitted by EM (optionally on PCA components).
    Gmm(crate::cmd_mixture::GmmArgs),
    /// A mixture of Bernoullis for binary images, fitted by EM.
    BernoulliMixture(crate::cmd_mixture::BernoulliArgs),
    /// PixelCNN: 7x7 mask-A conv, residual mask-B blocks, 1x1 output layers.
    Pixelcnn(crate::cmd_pixel::PixelArgs),
    /// Gated PixelCNN: vertical and horizontal stacks, optional class labels.
    GatedPixelcnn(crate::cmd_pixel::PixelArgs),
    /// PixelRNN with Row LSTM layers.
    Pixelrnn(crate::cmd_pixel::PixelArgs),
    /// NADE (Larochelle & Murray 2011): exact likelihood of binary images.
    Nade(crate::cmd_nade::NadeArgs),
}

/// Options of `elbo train vae`; each overrides the --config file.
#[derive(Debug, Args)]
pub struct VaeArgs {
    /// TOML config file (same layout as a run's config.toml); flags win.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data: digits (embedded), mnist:DIR, amat:FILE, npy:FILE or images:DIR.
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Run folder to write (config, weights, metrics, pictures).
    #[arg(long, default_value = "runs/vae")]
    pub out: PathBuf,
    /// Overwrite a run folder that already holds a run.
    #[arg(long)]
    pub force: bool,
    /// Passes over the training set [default: 10].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Images per step [default: 128].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam learning rate [default: 0.001].
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Seed of initialization, shuffling, binarization and noise [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Weight on the KL term (β-VAE) [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    pub beta: Option<f64>,
    /// KL warm-up: ramp β from 0 over this many epochs [default: 0, off].
    #[arg(long)]
    pub warmup_epochs: Option<usize>,
    /// Free bits: floor (nats) on each latent dimension's KL [default: 0, off].
    #[arg(long, allow_negative_numbers = true)]
    pub free_bits: Option<f64>,
    /// Train on the IWAE bound with K importance samples per image [default: 1, the ELBO].
    #[arg(long, value_name = "K")]
    pub iwae_samples: Option<usize>,
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
    /// Hidden widths, comma-separated, encoder side (decoder mirrors) [default: 400].
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Latent dimension [default: 20].
    #[arg(long)]
    pub latent: Option<usize>,
    /// Decoder likelihood: bernoulli, gaussian (fixed variance), gaussian-learned [default: bernoulli].
    #[arg(long)]
    pub likelihood: Option<elbo::models::Likelihood>,
    /// Gaussian decoders: pixel variance (fixed, or the learned one's start) [default: 0.01].
    #[arg(long, allow_negative_numbers = true)]
    pub variance: Option<f64>,
    /// Networks: mlp (--hidden widths) or conv (stride-2 4x4 convolutions) [default: mlp].
    #[arg(long)]
    pub arch: Option<elbo::models::Arch>,
    /// Conv filters per stride-2 layer, comma-separated [default: 32,64].
    #[arg(long, value_delimiter = ',')]
    pub channels: Option<Vec<usize>>,
    /// Condition encoder and decoder on the class label (conditional VAE; needs labelled data).
    #[arg(long)]
    pub conditional: bool,
    /// Hidden nonlinearity: relu, tanh, elu, gelu, silu, softplus [default: relu].
    #[arg(long)]
    pub activation: Option<Activation>,
    /// Pixels: grey (u8/255), binary (threshold 0.5), dynamic (Bernoulli each epoch) [default: grey].
    #[arg(long)]
    pub pixels: Option<PixelMode>,
    /// Held-out fraction when the data has no test split [default: 0.1].
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// Resize folder images to HxW, e.g. 32x32.
    #[arg(long, value_parser = parse_size)]
    pub image_size: Option<(usize, usize)>,
    /// Load folder images as RGB (default grey).
    #[arg(long)]
    pub rgb: bool,
    /// No progress bar or per-epoch lines.
    #[arg(long)]
    pub quiet: bool,
    /// Skip writing samples/reconstructions/interpolation PNGs after training.
    #[arg(long)]
    pub no_pictures: bool,
}

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

/// Which run to read.
#[derive(Debug, Args)]
pub struct ModelArg {
    /// A run folder written by `elbo train`.
    #[arg(long, value_name = "RUN_DIR")]
    pub model: PathBuf,
}

#[derive(Debug, Args)]
pub struct SampleArgs {
    #[command(flatten)]
    pub run: ModelArg,
    /// Number of samples.
    #[arg(short, long, default_value_t = 64)]
    pub n: usize,
    /// Seed of the latent draws.
    #[arg(long, default_value_t = 0)]
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
    /// Data to take test images from [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Number of images.
    #[arg(short, long, default_value_t = 16)]
    pub n: usize,
    /// Output PNG [default: RUN_DIR/reconstructions.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InterpolateArgs {
    #[command(flatten)]
    pub run: ModelArg,
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
    /// Points per side.
    #[arg(short, long, default_value_t = 20)]
    pub n: usize,
    /// Output PNG [default: RUN_DIR/manifold.png].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub run: ModelArg,
    /// Data to evaluate on (its test split) [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Seed of the sampled z (and of dynamic binarization).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also estimate log p(x) with K importance samples (IWAE bound, Burda et al. 2016).
    #[arg(long, value_name = "K")]
    pub iwae: Option<usize>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub run: ModelArg,
    /// Data to score (its test split) [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Importance samples per image for the IWAE estimate.
    #[arg(long, value_name = "K", default_value_t = 100)]
    pub iwae: usize,
    /// Seed of the sampled z.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output CSV file.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    #[command(flatten)]
    pub run: ModelArg,
    /// Data to encode [default: the run's data].
    #[arg(long)]
    pub data: Option<DataSpec>,
    /// Which split to encode.
    #[arg(long, value_parser = ["test", "train"], default_value = "test")]
    pub split: String,
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
    /// The run folder.
    pub run: PathBuf,
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
    #[arg(value_parser = ["mnist"])]
    pub name: String,
    /// Target folder [default: $ELBO_CACHE, else ~/.cache/elbo, then /mnist].
    #[arg(long)]
    pub dir: Option<PathBuf>,
}
