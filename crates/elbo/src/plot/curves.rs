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
    /// The PNG files written: `loss.png`, `kl.png`, `active_units.png`.
    pub files: Vec<PathBuf>,
}

/// Reads `run_dir/metrics.jsonl` and writes three PNG charts into `out_dir`
/// (created if missing): `loss.png` (train and test negative ELBO per
/// epoch), `kl.png` (train and test KL term) and `active_units.png` (latent
/// dimensions with Cov_x(E_q[z]) > 0.01, Burda et al. 2016).
///
/// Errors name the file: a missing folder or `metrics.jsonl`, a file with
/// no epochs, or a line that is not an epoch record.
///
/// ```no_run
/// let curves = elbo::plot::save_training_curves("runs/mnist".as_ref(), "runs/mnist".as_ref())?;
/// for f in &curves.files {
///     println!("wrote {}", f.display());
/// }
/// # Ok::<(), elbo::Error>(())
/// ```
pub fn save_training_curves(run_dir: &Path, out_dir: &Path) -> Result<TrainingCurves> {
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
    let loss = Chart::new("Loss: negative ELBO", "epoch", "nats per image");
    let kl = Chart::new("KL(q(z|x) ‖ p(z))", "epoch", "nats per image");
    let max_units = epochs
        .iter()
        .filter_map(|m| m.active_units)
        .max()
        .unwrap_or(0);
    let units = Chart::new(
        "Active latent units (Cov(E[z]) > 0.01)",
        "epoch",
        "active units",
    )
    .y_range(0.0, (max_units as f64 * 1.1).max(max_units as f64 + 1.0));
    let files = [
        out_dir.join("loss.png"),
        out_dir.join("kl.png"),
        out_dir.join("active_units.png"),
    ];
    save_line_chart(
        &loss,
        &train_test(|m| m.train_loss, |m| m.test_loss),
        &files[0],
    )?;
    save_line_chart(&kl, &train_test(|m| m.train_kl, |m| m.test_kl), &files[1])?;
    let active = Series::new("", pick(|m| m.active_units.map_or(f64::NAN, |u| u as f64)));
    save_line_chart(&units, &[active], &files[2])?;
    Ok(TrainingCurves {
        epochs: epochs.len(),
        files: files.to_vec(),
    })
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
