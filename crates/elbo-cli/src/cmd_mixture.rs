//! `elbo train gmm`, `elbo train bernoulli-mixture`, `elbo select gmm`, and
//! `elbo eval` on mixture runs: thin calls into `elbo::mixture`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use elbo::data::PixelMode;
use elbo::families::mixture::{self as runs, MixtureEval, MixtureReport};
use elbo::families::mixture_select::{self as select, Criterion};
use elbo::families::{ModelConfig, RunConfig};
use elbo::mixture::{BernoulliMixtureConfig, CovarianceType, GmmConfig, Init};
use elbo::run::Run;
use elbo::train::TrainConfig;

use crate::commands::Status;
use crate::flags::{DEFAULT_SEED, DataFlags, NewRunFlags};

/// EM options of a Gaussian mixture (scikit-learn's names and defaults).
#[derive(Debug, Args)]
pub struct GmmOptions {
    /// Covariance type: full, tied, diag, spherical.
    #[arg(long, default_value = "full")]
    pub covariance: CovarianceType,
    /// Added to each covariance's diagonal.
    #[arg(long, default_value_t = 1e-6)]
    pub reg_covar: f64,
    /// Stop when the mean log-likelihood changes by less than this.
    #[arg(long, default_value_t = 1e-3)]
    pub tol: f64,
    /// Most EM iterations per initialization.
    #[arg(long, default_value_t = 100)]
    pub max_iter: usize,
    /// Initializations tried (the best kept).
    #[arg(long, default_value_t = 1)]
    pub n_init: usize,
    /// Initialization: k-means++, k-means, random.
    #[arg(long, default_value = "k-means++")]
    pub init: Init,
    /// Fit on the first N principal components instead of the pixels.
    #[arg(long, value_name = "N")]
    pub pca: Option<usize>,
    /// Fit pixels as they are instead of dequantized ((u8 + u)/256).
    #[arg(long)]
    pub no_dequantize: bool,
    /// Seed of initialization and dequantization noise.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    #[command(flatten)]
    pub data: DataFlags,
}

/// `elbo train gmm`.
#[derive(Debug, Args)]
pub struct GmmArgs {
    /// Number of mixture components K.
    #[arg(long, default_value_t = 10)]
    pub components: usize,
    /// Start EM from these means: a .npy of shape [K, pixels] (float32 or uint8),
    /// in pixel space (projected by the PCA with --pca).
    #[arg(long, value_name = "FILE")]
    pub means_init: Option<PathBuf>,
    #[command(flatten)]
    pub options: GmmOptions,
    /// Run folder to write (config, weights, metrics, samples).
    #[arg(long, default_value = "runs/gmm")]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: NewRunFlags,
}

impl GmmOptions {
    fn config(&self, k: usize) -> RunConfig {
        let model = GmmConfig {
            covariance: self.covariance,
            reg_covar: self.reg_covar,
            tol: self.tol,
            max_iter: self.max_iter,
            n_init: self.n_init,
            init: self.init,
            pca: self.pca,
            dequantize: !self.no_dequantize,
            seed: self.seed,
            ..GmmConfig::new(k)
        };
        RunConfig {
            model: ModelConfig::Gmm(model),
            data: self.data.config(PixelMode::Grey),
            train: TrainConfig::default(),
        }
    }
}

/// `elbo train bernoulli-mixture`.
#[derive(Debug, Args)]
pub struct BernoulliArgs {
    /// Number of mixture components K.
    #[arg(long, default_value_t = 10)]
    pub components: usize,
    /// Most EM iterations.
    #[arg(long, default_value_t = 100)]
    pub max_iter: usize,
    /// Stop when the mean log-likelihood changes by less than this.
    #[arg(long, default_value_t = 1e-3)]
    pub tol: f64,
    /// Beta-prior pseudo-count on pixel probabilities.
    #[arg(long, default_value_t = 1e-2)]
    pub alpha: f64,
    /// Seed of the initialization.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    #[command(flatten)]
    pub data: DataFlags,
    /// Run folder to write (config, weights, metrics, samples).
    #[arg(long, default_value = "runs/bernoulli-mixture")]
    pub out: PathBuf,
    #[command(flatten)]
    pub run: NewRunFlags,
}

/// `elbo select gmm`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Range of K to fit, inclusive, e.g. 2..20.
    #[arg(long, default_value = "1..10")]
    pub components: String,
    /// Criterion that picks K: bic or aic.
    #[arg(long, default_value = "bic")]
    pub criterion: Criterion,
    #[command(flatten)]
    pub options: GmmOptions,
    /// Output folder for select.csv (and select.png).
    #[arg(long, default_value = "runs/select")]
    pub out: PathBuf,
    /// Print the result on stdout as one JSON object (schema in docs/cli-json.md).
    #[arg(long)]
    pub json: bool,
}

/// Fits and reports a Gaussian mixture run.
pub fn train_gmm(a: GmmArgs) -> Result<Status> {
    let config = a.options.config(a.components);
    let means = match &a.means_init {
        Some(path) => {
            let (shape, values) = elbo::data::read_npy_f32(path)?;
            anyhow::ensure!(
                shape.len() == 2 && shape[0] == a.components,
                "{}: initial means must have shape [{}, pixels], got {shape:?}",
                path.display(),
                a.components
            );
            Some(elbo::mixture::matrix_from_rows(&values, shape[1])?)
        }
        None => None,
    };
    let report = runs::train(&config, &a.out, a.run.force, means.as_ref())?;
    finish(&a.out, &a.run, &report)
}

/// Fits and reports a Bernoulli mixture run.
pub fn train_bernoulli(a: BernoulliArgs) -> Result<Status> {
    let model = BernoulliMixtureConfig {
        components: a.components,
        max_iter: a.max_iter,
        tol: a.tol,
        alpha: a.alpha,
        seed: a.seed,
    };
    let config = RunConfig {
        model: ModelConfig::BernoulliMixture(model),
        data: a.data.config(PixelMode::Grey),
        train: TrainConfig::default(),
    };
    let report = runs::train(&config, &a.out, a.run.force, None)?;
    finish(&a.out, &a.run, &report)
}

fn finish(out: &Path, flags: &NewRunFlags, r: &MixtureReport) -> Result<Status> {
    let c = &r.convergence;
    if let Some(w) = c.warning() {
        eprintln!("warning: {w}");
    }
    let mut pictures = Vec::new();
    if !flags.no_pictures {
        let path = out.join("samples.png");
        elbo::run::save_samples(&Run::load(out)?, 64, DEFAULT_SEED, &path)?;
        pictures.push(path);
    }
    if flags.json {
        let kind = RunConfig::load_from(&elbo::folder::RunDir::new(out))?
            .model
            .kind();
        let value = serde_json::json!({
            "result": "mixture-fit",
            "run_dir": out,
            "kind": kind,
            "fit": r,
            "pictures": pictures,
        });
        println!("{value}");
        return Ok(Status::Done);
    }
    println!(
        "EM: {} iterations, {}, lower bound {:.4} per sample, {:.2} s",
        c.n_iter,
        if c.converged {
            "converged"
        } else {
            "not converged"
        },
        c.lower_bound,
        r.fit_seconds
    );
    print_eval("train", &r.train);
    print_eval("test", &r.test);
    for p in &pictures {
        println!("wrote {}", p.display());
    }
    println!(
        "run folder: {} (metrics in {})",
        out.display(),
        out.join("metrics.jsonl").display()
    );
    Ok(Status::Done)
}

fn print_eval(split: &str, e: &MixtureEval) {
    println!(
        "{split}: mean log-likelihood {:.4} per image over {} images, BIC {:.1}, AIC {:.1} ({} parameters)",
        e.log_likelihood, e.images, e.bic, e.aic, e.n_parameters
    );
    match (e.nll_nats, e.bits_per_dim) {
        (Some(nll), Some(bpd)) => println!("{split}: NLL {nll:.3} nats/image, {bpd:.4} bits/dim"),
        _ => println!(
            "{split}: (fitted with dequantize = false: a density, not a probability of 8-bit images, so no NLL in nats/image)"
        ),
    }
}

/// Fits each K and writes select.csv and the plot.
pub fn select_cmd(a: SelectArgs) -> Result<Status> {
    let ks = select::parse_range(&a.components)?;
    let config = a.options.config(*ks.start());
    let rows = select::select_gmm(&config, ks.clone())?;
    elbo::fsutil::create_dir_all(&a.out)?;
    let csv = a.out.join("select.csv");
    select::write_csv(&rows, &csv)?;
    let png = a.out.join("select.png");
    elbo::families::mixture_select_plot::plot_criteria(&rows, &png)?;
    let best = select::best(&rows, a.criterion);
    let name = a.criterion.name();
    let edge = best.and_then(|b| select::edge_warning(b.k, &ks, name));
    if let Some(w) = &edge {
        eprintln!("warning: {w}");
    }
    if a.json {
        let value = serde_json::json!({
            "result": "select",
            "criterion": name,
            "best_k": best.map(|b| b.k),
            "best_at_edge": edge.is_some(),
            "rows": rows,
            "files": [csv, png],
        });
        println!("{value}");
        return Ok(Status::Done);
    }
    for r in &rows {
        println!(
            "K = {:3}: BIC {:14.1}  AIC {:14.1}  log-likelihood {:.4}",
            r.k, r.bic, r.aic, r.log_likelihood
        );
    }
    if let Some(b) = best {
        let note = if edge.is_some() {
            " (the edge of the range tried: see the warning)"
        } else {
            ""
        };
        println!("best K by {name}: {}{note}", b.k);
    }
    println!("wrote {}", csv.display());
    println!(
        "wrote {} (BIC blue, AIC orange against K; a large square marks each minimum)",
        png.display()
    );
    Ok(Status::Done)
}
