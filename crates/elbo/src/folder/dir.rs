//! The files of a run folder and their consistency.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::LossSums;
use crate::{Error, Result};

/// How far a run's training got; written last, after the weights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainState {
    /// Completed epochs.
    pub epochs_done: usize,
    /// Steps already taken in epoch `epochs_done + 1` (after a Ctrl-C).
    pub step: usize,
    /// Loss sums of those steps.
    pub partial: LossSums,
    /// Training seconds of those steps.
    pub partial_seconds: f64,
    /// sha256 of `model.safetensors` when this state was written.
    pub model_sha256: String,
    /// sha256 of `optimizer.bpk` when this state was written.
    pub optimizer_sha256: String,
}

/// Paths inside a run folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder itself.
    pub root: PathBuf,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl RunDir {
    /// A run folder at `root` (not created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunDir { root: root.into() }
    }

    /// `config.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    /// `model.safetensors`.
    pub fn model(&self) -> PathBuf {
        self.root.join("model.safetensors")
    }

    /// `optimizer.bpk`.
    pub fn optimizer(&self) -> PathBuf {
        self.root.join("optimizer.bpk")
    }

    /// `state.json`.
    pub fn state(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// `metrics.jsonl`.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// The text of `config.toml`; a missing folder or file says this is
    /// not a run folder.
    pub fn read_config_text(&self) -> Result<String> {
        if !self.root.is_dir() {
            return Err(Error::io(
                &self.root,
                std::io::Error::new(std::io::ErrorKind::NotFound, "run folder not found"),
            ));
        }
        if !self.config().is_file() {
            return Err(Error::checkpoint(
                self.config(),
                "missing: not an elbo run folder",
            ));
        }
        let bytes = crate::fsutil::read(&self.config())?;
        String::from_utf8(bytes)
            .map_err(|_| Error::format(self.config(), "config is not UTF-8 text"))
    }

    /// Prepares `root` for a new run: refuses a folder holding a run unless `force`.
    pub fn prepare_new(&self, force: bool) -> Result<()> {
        self.check_new(force)?;
        crate::fsutil::create_dir_all(&self.root)?;
        for f in [self.metrics(), self.state(), self.optimizer(), self.model()] {
            if f.exists() {
                std::fs::remove_file(&f).map_err(|e| Error::io(&f, e))?;
            }
        }
        Ok(())
    }

    /// Refuses a folder holding a run unless `force`, changing nothing: the
    /// check before a long fit that writes the folder at its end.
    pub fn check_new(&self, force: bool) -> Result<()> {
        let holds_run = self.config().exists() || self.model().exists();
        if holds_run && !force {
            // Only a run with a checkpoint can be continued: a mixture
            // fitted by EM or an imported model has none.
            let or_else = if self.state().is_file() {
                format!(
                    "or continue it with `elbo train resume {}`",
                    self.root.display()
                )
            } else {
                "or choose another --out".to_string()
            };
            return Err(Error::invalid(format!(
                "{} already holds a run; pass --force to overwrite it, {or_else}",
                self.root.display()
            )));
        }
        Ok(())
    }

    /// Writes weights, optimizer and state: each fully to a temporary file,
    /// then renamed into place with `state.json` last, so the folder always
    /// holds a complete checkpoint; checksums in the state catch a mixed set.
    pub fn save_checkpoint(
        &self,
        model: &[u8],
        optimizer: &[u8],
        mut state: TrainState,
    ) -> Result<()> {
        state.model_sha256 = sha256_hex(model);
        state.optimizer_sha256 = sha256_hex(optimizer);
        let state_json =
            serde_json::to_vec_pretty(&state).map_err(|e| Error::internal(e.to_string()))?;
        crate::fsutil::atomic_write(&self.optimizer(), optimizer)?;
        crate::fsutil::atomic_write(&self.model(), model)?;
        crate::fsutil::atomic_write(&self.state(), &state_json)
    }

    /// Reads state, weights and optimizer bytes, checking they belong together.
    pub fn load_checkpoint(&self) -> Result<(TrainState, Vec<u8>, Vec<u8>)> {
        let path = self.state();
        if !path.is_file() {
            return Err(Error::checkpoint(
                &path,
                "missing: this run has no checkpoint to resume",
            ));
        }
        let state: TrainState = serde_json::from_slice(&crate::fsutil::read(&path)?)
            .map_err(|e| Error::checkpoint(&path, format!("corrupt ({e})")))?;
        let model = self.read_checked(&self.model(), &state.model_sha256)?;
        let optimizer = self.read_checked(&self.optimizer(), &state.optimizer_sha256)?;
        Ok((state, model, optimizer))
    }

    fn read_checked(&self, path: &Path, sha: &str) -> Result<Vec<u8>> {
        if !path.is_file() {
            return Err(Error::checkpoint(path, "missing"));
        }
        let bytes = crate::fsutil::read(path)?;
        if sha256_hex(&bytes) != sha {
            return Err(Error::checkpoint(
                path,
                "corrupt: its checksum differs from the one recorded in state.json",
            ));
        }
        Ok(bytes)
    }
}
