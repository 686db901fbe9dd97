//! The arguments of `elbo train`: one subcommand per family, each built from
//! the shared flag groups of [`crate::flags`] it uses, plus its own.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use elbo::models::Activation;

use crate::flags::{LogFlags, TrainCommon};

/// `elbo train`: a family, or `resume`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TrainArgs {
    /// Same as `elbo train resume RUN_DIR`.
    #[arg(long, value_name = "RUN_DIR", hide = true)]
    pub resume: Option<PathBuf>,
    #[arg(long, requires = "resume", hide = true)]
    pub epochs: Option<usize>,
    #[arg(long, requires = "resume", hide = true)]
    pub quiet: bool,
    #[arg(long, requires = "resume", hide = true)]
    pub no_pictures: bool,
    #[command(subcommand)]
    pub family: Option<Family>,
}

/// The families `elbo train` fits, and `resume`.
#[derive(Debug, Subcommand)]
pub enum Family {
    /// The variational autoencoder (MLP or conv networks, optionally conditional on labels).
    Vae(VaeArgs),
    /// A plain autoencoder with the same networks (no noise, no KL), for `elbo compare-ae`.
    Ae(AeArgs),
    /// A Gaussian mixture fitted by EM (optionally on PCA components).
    Gmm(crate::cmd_mixture::GmmArgs),
    /// A mixture of Bernoullis for binary images, fitted by EM.
    BernoulliMixture(crate::cmd_mixture::BernoulliArgs),
    /// PixelCNN: 7x7 mask-A conv, residual mask-B blocks, 1x1 output layers.
    #[command(mut_arg("out", |a| a.default_value("runs/pixelcnn")))]
    Pixelcnn(crate::cmd_pixel::PixelArgs),
    /// Gated PixelCNN: vertical and horizontal stacks, optional class labels.
    GatedPixelcnn(crate::cmd_pixel::GatedArgs),
    /// PixelRNN: Row LSTM or Diagonal BiLSTM layers (--layer).
    Pixelrnn(crate::cmd_pixel::PixelRnnArgs),
    /// NADE (Larochelle & Murray 2011): exact likelihood of binary images.
    Nade(crate::cmd_nade::NadeArgs),
    /// Continue a run exactly where it stopped (gradient-trained families).
    Resume(ResumeArgs),
}

/// `elbo train resume RUN_DIR`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run folder to continue.
    #[arg(value_name = "RUN_DIR")]
    pub dir: PathBuf,
    /// Train until this many epochs in total [default: the run's own].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Skip writing the pictures after training.
    #[arg(long)]
    pub no_pictures: bool,
    /// Print the result on stdout as one JSON object (schema in docs/cli-json.md).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub log: LogFlags,
}

/// The encoder and decoder networks (`vae` and `ae`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Networks")]
pub struct NetFlags {
    /// Networks: mlp (--hidden widths) or conv (stride-2 4x4 convolutions) [default: mlp].
    #[arg(long)]
    pub arch: Option<elbo::models::Arch>,
    /// Hidden widths, comma-separated, encoder side (decoder mirrors) [default: 400].
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Conv filters per stride-2 layer, comma-separated [default: 32,64].
    #[arg(long, value_delimiter = ',')]
    pub channels: Option<Vec<usize>>,
    /// Latent dimension [default: 20].
    #[arg(long)]
    pub latent: Option<usize>,
    /// Hidden nonlinearity: relu, tanh, elu, gelu, silu, softplus [default: relu].
    #[arg(long)]
    pub activation: Option<Activation>,
    /// Decoder likelihood: bernoulli, gaussian (fixed variance), gaussian-learned [default: bernoulli].
    #[arg(long)]
    pub likelihood: Option<elbo::models::Likelihood>,
    /// Gaussian decoders: pixel variance (fixed, or the learned one's start) [default: 0.01].
    #[arg(long, allow_negative_numbers = true)]
    pub variance: Option<f64>,
    /// Condition encoder and decoder on the class label (needs labelled data).
    #[arg(long)]
    pub conditional: bool,
}

/// The VAE's objective: β, warm-up, free bits, IWAE.
#[derive(Debug, Args)]
#[command(next_help_heading = "Objective")]
pub struct ObjectiveFlags {
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
}

/// `elbo train vae`.
#[derive(Debug, Args)]
pub struct VaeArgs {
    /// Run folder to write (config, weights, metrics, pictures).
    #[arg(long, default_value = "runs/vae")]
    pub out: PathBuf,
    #[command(flatten)]
    pub nets: NetFlags,
    #[command(flatten)]
    pub objective: ObjectiveFlags,
    #[command(flatten)]
    pub common: TrainCommon,
}

/// `elbo train ae`: the VAE's networks without noise or KL.
#[derive(Debug, Args)]
pub struct AeArgs {
    /// Run folder to write (config, weights, metrics, pictures).
    #[arg(long, default_value = "runs/ae")]
    pub out: PathBuf,
    #[command(flatten)]
    pub nets: NetFlags,
    #[command(flatten)]
    pub common: TrainCommon,
}
