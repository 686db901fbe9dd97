//! The files of a run folder: their paths, which checkpoint is current,
//! and preparing a folder for a new run.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{EpochMetrics, LossSums, WriteLock};
use crate::{Error, Result};

/// The weights' file name, in a checkpoint folder and at the top.
pub(crate) const MODEL: &str = "model.safetensors";
/// Adam's state's file name, in a checkpoint folder (at the top in run
/// folders written before checkpoint folders existed).
pub(crate) const OPTIMIZER: &str = "optimizer.bpk";
/// The prefix of a checkpoint folder's name: `checkpoint.N`.
pub(crate) const CHECKPOINT_PREFIX: &str = "checkpoint.";

/// How far a run's training got: `state.json`, the file whose atomic
/// replacement commits a checkpoint.
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
    /// sha256 of the checkpoint's `model.safetensors`.
    pub model_sha256: String,
    /// sha256 of the checkpoint's `optimizer.bpk`.
    pub optimizer_sha256: String,
    /// The checkpoint folder (`checkpoint.N`) holding the weights and the
    /// optimizer; `None` in run folders written before checkpoint folders,
    /// whose two files sit at the top.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// The run's wall-clock training budget in seconds (`--time-limit`),
    /// counted over every call; absent when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limit_seconds: Option<f64>,
    /// Wall-clock seconds of training spent against that budget so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub time_used_seconds: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// Paths inside a run folder.
#[derive(Debug, Clone)]
pub struct RunDir {
    /// The folder itself.
    pub root: PathBuf,
}

/// Whether `name` is a checkpoint folder's name (`checkpoint.` and digits):
/// anything else in `state.json` (a path, `..`) is refused.
pub(crate) fn checkpoint_index(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(CHECKPOINT_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
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

    /// The top-level `model.safetensors`: the current checkpoint's weights
    /// (a hard link to them) for other tools, or the only weights of a
    /// mixture or imported run. elbo itself reads [`RunDir::weights`].
    pub fn model(&self) -> PathBuf {
        self.root.join(MODEL)
    }

    /// The top-level `optimizer.bpk` of a run folder written before
    /// checkpoint folders existed.
    pub fn optimizer(&self) -> PathBuf {
        self.root.join(OPTIMIZER)
    }

    /// `state.json`.
    pub fn state(&self) -> PathBuf {
        self.root.join("state.json")
    }

    /// `metrics.jsonl`.
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }

    /// `.lock`, held by the process writing the folder.
    pub fn lock_file(&self) -> PathBuf {
        self.root.join(".lock")
    }

    /// `state.json`, or `None` when there is none (no checkpoint yet, or
    /// a run without one: a mixture, an imported model).
    pub fn read_state(&self) -> Result<Option<TrainState>> {
        let path = self.state();
        if !path.is_file() {
            return Ok(None);
        }
        let state: TrainState = serde_json::from_slice(&crate::fsutil::read(&path)?)
            .map_err(|e| Error::checkpoint(&path, format!("corrupt ({e})")))?;
        if let Some(name) = &state.checkpoint
            && checkpoint_index(name).is_none()
        {
            return Err(Error::checkpoint(
                &path,
                format!("names {name:?}, which is not a checkpoint folder (checkpoint.N)"),
            ));
        }
        Ok(Some(state))
    }

    /// The folder whose files `state` describes: its checkpoint folder, or
    /// the run folder itself for the older layout.
    pub(crate) fn files_of(&self, state: &TrainState) -> PathBuf {
        match &state.checkpoint {
            Some(name) => self.root.join(name),
            None => self.root.clone(),
        }
    }

    /// The weights elbo loads: the current checkpoint's (named by
    /// `state.json`), else the top-level `model.safetensors`.
    pub fn weights(&self) -> Result<PathBuf> {
        Ok(match self.read_state()? {
            Some(state) => self.files_of(&state).join(MODEL),
            None => self.model(),
        })
    }

    /// The optimizer state of the current checkpoint (for error messages).
    pub fn optimizer_state(&self) -> Result<PathBuf> {
        Ok(match self.read_state()? {
            Some(state) => self.files_of(&state).join(OPTIMIZER),
            None => self.optimizer(),
        })
    }

    /// The lines of `metrics.jsonl` that belong to the current checkpoint:
    /// all of them when there is no `state.json`, else the first
    /// `epochs_done` (a line written just before a crash that lost its
    /// epoch's checkpoint is not shown; resuming removes it).
    pub fn read_metrics(&self) -> Result<Vec<EpochMetrics>> {
        let limit = self.read_state()?.map(|s| s.epochs_done);
        super::metrics::read_first(&self.metrics(), limit)
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

    fn holds_run(&self) -> bool {
        self.config().exists() || self.model().exists()
    }

    /// The error for a folder that already holds a run: how to replace it,
    /// and how to continue it where that can work.
    fn already_holds_run(&self) -> Error {
        let dir = self.root.display();
        if self.state().is_file() {
            Error::invalid(format!(
                "{dir} already holds a run; pass --force to overwrite it, or continue it with `elbo train resume {dir}`"
            ))
        } else if self.model().exists() {
            // A mixture fitted by EM or an imported model: no checkpoint to continue.
            Error::invalid(format!(
                "{dir} already holds a run; pass --force to overwrite it, or choose another --out"
            ))
        } else {
            Error::invalid(format!(
                "{dir} holds a run that stopped before its first checkpoint; pass --force to start it again, or `elbo train resume {dir}` to start it from its config.toml"
            ))
        }
    }

    /// Refuses a folder holding a run unless `force`, changing nothing: the
    /// check before a long fit that writes (and locks) the folder at its end.
    pub fn check_new(&self, force: bool) -> Result<()> {
        if self.holds_run() && !force {
            return Err(self.already_holds_run());
        }
        Ok(())
    }

    /// Prepares `root` for a new run and locks it for this process: refuses
    /// a folder holding a run unless `force`, and a folder another process
    /// is writing in any case. The lock is held until the guard is dropped.
    pub fn prepare_new(&self, force: bool) -> Result<WriteLock> {
        // Checked before locking too, so that a refusal leaves the folder
        // as it was (no `.lock` file appears); a writer at work is named.
        if self.holds_run() && !force {
            if self.lock_file().exists() {
                let _probe = self.lock()?;
            }
            return Err(self.already_holds_run());
        }
        let lock = self.lock()?;
        if self.holds_run() && !force {
            return Err(self.already_holds_run());
        }
        for f in [self.metrics(), self.state(), self.optimizer(), self.model()] {
            crate::fsutil::remove_file(&f)?;
        }
        self.remove_stale(None)?;
        Ok(lock)
    }

    /// Removes what a process that died while writing left behind:
    /// temporary files and checkpoint folders other than `keep`.
    pub(crate) fn remove_stale(&self, keep: Option<&str>) -> Result<()> {
        let entries = std::fs::read_dir(&self.root).map_err(|e| Error::io(&self.root, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.root, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if crate::fsutil::is_temp_name(&name) && path.is_file() {
                crate::fsutil::remove_file(&path)?;
            } else if checkpoint_index(&name).is_some() && path.is_dir() && keep != Some(&name) {
                crate::fsutil::remove_dir_all(&path)?;
            }
        }
        Ok(())
    }

    /// The checkpoint folders present, by index.
    pub(crate) fn checkpoint_folders(&self) -> Result<Vec<(u64, String)>> {
        let entries = std::fs::read_dir(&self.root).map_err(|e| Error::io(&self.root, e))?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.root, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(i) = checkpoint_index(&name) {
                found.push((i, name));
            }
        }
        found.sort();
        Ok(found)
    }
}
