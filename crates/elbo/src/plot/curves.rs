//! Training curves of a run folder, drawn from its `metrics.jsonl`.

use std::path::{Path, PathBuf};

use super::{Chart, Series, save_line_chart};
use crate::folder::{EpochMetrics, RunDir};
use crate::{Error, Result};

/// What [`save_training_curves`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingCurves {
    /// Epochs found in `metrics.jsonl`.
    pub epochs: usize,
    /// The PNG files written: `loss.png`, and `kl.png`, `active_units.png`
    /// for a model with a latent code.
    pub files: Vec<PathBuf>,
}

/// Reads `run_dir/metrics.jsonl` and writes the PNG charts its family has
/// into `out_dir` (created if missing): `loss.png` (train and test loss per
/// epoch: the negative ELBO of a VAE, the reconstruction loss of an
/// autoencoder, the NLL of the exact-likelihood models), and for a model
/// with a latent code `kl.png` (train and test KL term) and
/// `active_units.png` (latent dimensions with Cov_x(E_q[z]) > 0.01, Burda
/// et al. 2016). The family comes from `config.toml`; without one, the KL
/// and active-units charts are drawn when the metrics hold them.
///
/// Errors name the file: a missing folder or `metrics.jsonl`, a file with
/// no epochs, a line that is not an epoch record, or a mixture run (fitted
/// by EM in one go: no curves).
///
/// ```no_run
/// let curves = elbo::plot::save_training_curves("runs/mnist".as_ref(), "runs/mnist".as_ref())?;
/// for f in &curves.files {
///     println!("wrote {}", f.display());
/// }
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_training_curves(run_dir: &Path, out_dir: &Path) -> Result<TrainingCurves> {
    let kind = run_kind(run_dir)?;
    let epochs = read_epochs(run_dir)?;
    crate::fsutil::create_dir_all(out_dir)?;
    // Epochs without a test pass hold NaN there: left out of the lines.
    let pick = |f: fn(&EpochMetrics) -> f64| -> Vec<(f64, f64)> {
        epochs
            .iter()
            .map(|m| (m.epoch as f64, f(m)))
            .filter(|p| !p.1.is_nan())
            .collect()
    };
    let train_test = |train: fn(&EpochMetrics) -> f64, test: fn(&EpochMetrics) -> f64| {
        vec![
            Series::new("train (mean over the epoch)", pick(train)),
            Series::new("test (after the epoch)", pick(test)),
        ]
    };
    let mut files = vec![out_dir.join("loss.png")];
    let loss = Chart::new(loss_title(kind.as_deref()), "epoch", "nats per image");
    save_line_chart(
        &loss,
        &train_test(|m| m.train_loss, |m| m.test_loss),
        &files[0],
    )?;
    let has_kl = match kind.as_deref() {
        Some(k) => k == "vae",
        None => epochs.iter().any(|m| m.train_kl != 0.0),
    };
    if has_kl {
        let kl = Chart::new("KL(q(z|x) ‖ p(z))", "epoch", "nats per image");
        let path = out_dir.join("kl.png");
        save_line_chart(&kl, &train_test(|m| m.train_kl, |m| m.test_kl), &path)?;
        files.push(path);
    }
    if let Some(max_units) = epochs.iter().filter_map(|m| m.active_units).max() {
        let units = Chart::new(
            "Active latent units (Cov(E[z]) > 0.01)",
            "epoch",
            "active units",
        )
        .y_range(0.0, (max_units as f64 * 1.1).max(max_units as f64 + 1.0));
        let active = Series::new("", pick(|m| m.active_units.map_or(f64::NAN, |u| u as f64)));
        let path = out_dir.join("active_units.png");
        save_line_chart(&units, &[active], &path)?;
        files.push(path);
    }
    Ok(TrainingCurves {
        epochs: epochs.len(),
        files,
    })
}

/// The title of the loss chart of a `kind` run.
fn loss_title(kind: Option<&str>) -> &'static str {
    match kind {
        Some("vae") => "Loss: negative ELBO",
        Some("ae") => "Loss: reconstruction (binary cross-entropy or squared error)",
        Some(_) => "Negative log-likelihood",
        None => "Loss",
    }
}

/// The family of the run in `run_dir` when it has a `config.toml`; an error
/// for a mixture, which EM fits in one go (its `metrics.jsonl` holds one
/// fit report, no epochs).
fn run_kind(run_dir: &Path) -> Result<Option<String>> {
    let dir = RunDir::new(run_dir);
    if !dir.config().is_file() {
        return Ok(None);
    }
    let kind = crate::families::RunConfig::load_from(&dir)?.model.kind();
    if matches!(kind, "gmm" | "bernoulli-mixture") {
        return Err(Error::invalid(format!(
            "{} holds a {kind} run, fitted by EM in one go: it has no per-epoch training curves to plot (`elbo eval --model {}` prints its figures)",
            run_dir.display(),
            run_dir.display()
        )));
    }
    Ok(Some(kind.to_string()))
}

/// The epochs of `run_dir/metrics.jsonl`, with errors that say what is
/// wrong with which file.
fn read_epochs(run_dir: &Path) -> Result<Vec<EpochMetrics>> {
    let dir = RunDir::new(run_dir);
    if !run_dir.is_dir() {
        return Err(Error::io(
            run_dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "run folder not found"),
        ));
    }
    let path = dir.metrics();
    if !path.is_file() {
        return Err(Error::format(
            &path,
            "missing: not a training run folder, or no epoch has finished yet",
        ));
    }
    let epochs = dir.read_metrics()?;
    if epochs.is_empty() {
        return Err(Error::format(&path, "holds no epochs yet"));
    }
    Ok(epochs)
}
