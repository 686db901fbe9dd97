//! Per-epoch figures, one JSON object per line in `metrics.jsonl`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Mean loss terms over a set of images, in nats per image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LossSummary {
    /// Negative ELBO: `recon + kl`.
    pub loss: f64,
    /// Reconstruction term, −log p(x | z).
    pub recon: f64,
    /// KL(q(z | x) ‖ p(z)).
    pub kl: f64,
    /// Number of images averaged over.
    pub images: usize,
}

/// Running sums from which a [`LossSummary`] is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LossSums {
    /// Σ reconstruction over images.
    pub recon: f64,
    /// Σ KL over images.
    pub kl: f64,
    /// Images summed.
    pub images: usize,
}

impl LossSums {
    /// Adds one batch's sums.
    pub fn add(&mut self, recon: f64, kl: f64, images: usize) {
        self.recon += recon;
        self.kl += kl;
        self.images += images;
    }

    /// Per-image means.
    pub fn mean(&self) -> LossSummary {
        let n = self.images.max(1) as f64;
        LossSummary {
            loss: (self.recon + self.kl) / n,
            recon: self.recon / n,
            kl: self.kl / n,
            images: self.images,
        }
    }
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss (nats/image) while the epoch ran.
    pub train_loss: f64,
    /// Its reconstruction part.
    pub train_recon: f64,
    /// Its KL part.
    pub train_kl: f64,
    /// Mean test loss after the epoch: BCE + KL with one sampled z per image
    /// (pytorch/examples' metric). NaN (left out of the JSON) for an epoch
    /// without a test pass (`TrainConfig::test_every`).
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub test_loss: f64,
    /// Its reconstruction part.
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub test_recon: f64,
    /// Its KL part.
    #[serde(default = "nan", skip_serializing_if = "is_nan")]
    pub test_kl: f64,
    /// Wall time of the epoch's training steps (not the test pass).
    pub epoch_seconds: f64,
    /// Training images per second.
    pub images_per_second: f64,
    /// The KL weight at the end of the epoch (1 unless β-VAE or warm-up).
    #[serde(default = "one")]
    pub beta: f64,
    /// Latent dimensions whose Cov_x(E_q[z]) over the test images exceeds
    /// 0.01 (Burda et al. 2016's active units); few means collapse. None
    /// for models without a latent code and epochs without a test pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_units: Option<usize>,
}

impl EpochMetrics {
    /// Whether the test set was evaluated after this epoch.
    pub fn tested(&self) -> bool {
        !self.test_loss.is_nan()
    }
}

fn one() -> f64 {
    1.0
}

fn nan() -> f64 {
    f64::NAN
}

fn is_nan(v: &f64) -> bool {
    v.is_nan()
}

/// Appends one line to `path` (created if missing) in one `write()`, so
/// that a crash leaves the line whole or absent (never half of it, nor two
/// objects on one line), and syncs it.
pub fn append(path: &Path, m: &EpochMetrics) -> Result<()> {
    let mut line = serde_json::to_string(m).map_err(|e| Error::internal(e.to_string()))?;
    line.push('\n');
    let result = (|| {
        crate::fsutil::fault_point("append", path)?;
        let mut f = OpenOptions::new().create(true).append(true).open(path)?;
        f.write_all(line.as_bytes())?;
        crate::fsutil::fault_point("fsync", path)?;
        f.sync_data()
    })();
    result.map_err(|e| Error::io(path, e))
}

/// Reads every line of a `metrics.jsonl` file.
pub fn read(path: &Path) -> Result<Vec<EpochMetrics>> {
    read_first(path, None)
}

/// Reads the first `limit` lines of a `metrics.jsonl` file (all with
/// `None`); what follows them is not read.
pub fn read_first(path: &Path, limit: Option<usize>) -> Result<Vec<EpochMetrics>> {
    let text = String::from_utf8(crate::fsutil::read(path)?)
        .map_err(|_| Error::format(path, "not UTF-8 text"))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .take(limit.unwrap_or(usize::MAX))
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::format(path, format!("line {}: {e}", i + 1)))
        })
        .collect()
}

/// Cuts `path` back to its first `epochs` complete lines (a line without
/// its newline is incomplete), so that it matches a checkpoint of that many
/// epochs; rewritten atomically, and only when something is cut. A missing
/// file stands for no lines.
pub fn truncate(path: &Path, epochs: usize) -> Result<()> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut keep = 0;
    for _ in 0..epochs {
        match bytes[keep..].iter().position(|&b| b == b'\n') {
            Some(end) => keep += end + 1,
            None => break,
        }
    }
    if keep == bytes.len() {
        return Ok(());
    }
    crate::fsutil::atomic_write(path, &bytes[..keep])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(epoch: usize) -> EpochMetrics {
        EpochMetrics {
            epoch,
            train_loss: 1.0,
            train_recon: 1.0,
            train_kl: 0.0,
            test_loss: f64::NAN,
            test_recon: f64::NAN,
            test_kl: f64::NAN,
            epoch_seconds: 1.0,
            images_per_second: 1.0,
            beta: 1.0,
            active_units: None,
        }
    }

    #[test]
    fn truncate_keeps_the_checkpoints_epochs_and_drops_a_torn_line() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("metrics.jsonl");
        for e in 1..=3 {
            append(&path, &line(e)).unwrap();
        }
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"epoch\": 4, \"train_lo");
        std::fs::write(&path, &bytes).unwrap();
        truncate(&path, 2).unwrap();
        let epochs: Vec<usize> = read(&path).unwrap().iter().map(|m| m.epoch).collect();
        assert_eq!(epochs, [1, 2]);
        truncate(&path, 5).unwrap();
        assert_eq!(read(&path).unwrap().len(), 2, "nothing to cut, nothing cut");
        truncate(&path, 0).unwrap();
        assert!(read(&path).unwrap().is_empty());
    }
}
