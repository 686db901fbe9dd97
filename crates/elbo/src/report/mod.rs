//! `elbo report`: the lecture's models side by side on one page.
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
pub mod plan;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use novelty::Novelty;
pub use page::{Block, Page};

use crate::data::{DataSpec, Splits};
use crate::run::Run;
use crate::train::DataConfig;
use crate::{Error, Result};

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The data every model is fitted to and evaluated on.
    pub data: DataSpec,
    /// Folder for the page, its pictures and the runs fitted for it.
    pub out: PathBuf,
    /// Minutes of fitting for all the models together (evaluating them
    /// and drawing the page come on top).
    pub budget_minutes: f64,
    /// Existing run folders to use instead of fitting their family.
    pub runs: Vec<PathBuf>,
    /// Seed of fitting and of every sample grid.
    pub seed: u64,
    /// The command line that produced the report, shown on the page.
    pub command: String,
    /// Pixel scale of the pictures (`--scale`); `None` for
    /// [`crate::image::readable_scale`].
    pub scale: Option<usize>,
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
///     scale: None,
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
    let budget = opts.budget_minutes * 60.0;
    let given_for = |kind: &'static str| {
        given
            .iter()
            .filter(move |r| plan::slot(r.config.model.kind()) == kind)
    };
    let covered = |kind: &'static str| given_for(kind).next().is_some();
    let pending = |f: &plan::Family| applies(f.kind, &splits) && !covered(f.kind);
    let mut entries = Vec::new();
    let mut missing = Vec::new();
    // Seconds of fitting so far: evaluation does not count against the budget.
    let mut spent = 0.0;
    let stage = crate::progress::Stage::start("report", plan::PLAN.len(), "families");
    for (i, family) in plan::PLAN.iter().enumerate() {
        let kind = family.kind;
        stage.set_message(kind.to_string());
        stage.inc(usize::from(i > 0));
        // The report's bar says the progress: no bars of the fits inside.
        let _silence = crate::progress::Silence::new();
        // Run folders given take their family's place (any autoregressive
        // model takes the PixelCNN's).
        if covered(kind) {
            for run in given_for(kind) {
                match plan::entry(run, &splits, opts.seed) {
                    Ok(e) => entries.push(e),
                    Err(why) => missing.push((run.dir.root.display().to_string(), why.to_string())),
                }
            }
            continue;
        }
        if !pending(family) {
            continue;
        }
        let left = budget - spent;
        if left <= 0.0 {
            let why = "the time budget was used up before it could be fitted";
            missing.push((kind.to_string(), why.to_string()));
            continue;
        }
        // What is left, split among the families still to fit by their
        // shares, so one that overran (EM runs to convergence) costs all
        // of them proportionally and the last one gets the rest.
        let rest: f64 = plan::PLAN[i..]
            .iter()
            .filter(|f| pending(f))
            .map(|f| f.share)
            .sum();
        let seconds = left * family.share / rest.max(family.share);
        let dir = opts.out.join("runs").join(kind);
        let started = Instant::now();
        match plan::fit(*family, opts, &splits, seconds, &dir) {
            Ok(e) => {
                spent += e.train_seconds;
                entries.push(e);
            }
            Err(why) => {
                spent += started.elapsed().as_secs_f64();
                missing.push((kind.to_string(), why.to_string()));
            }
        }
    }
    stage.inc(1);
    stage.finish();
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

/// Whether the report fits `kind` to this data: the autoregressive model
/// is only fitted to grey images (it models binarized grey pixels; a
/// 256-way softmax per RGB channel would not fit a report's budget).
fn applies(kind: &str, splits: &Splits) -> bool {
    !matches!(kind, "pixelcnn" | "nade") || splits.train.channels == 1
}
