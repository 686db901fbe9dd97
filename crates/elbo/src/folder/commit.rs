//! Checkpoints as one atomic unit. A checkpoint is written into a fresh
//! folder `checkpoint.N/` (`model.safetensors`, `optimizer.bpk`, each
//! fsynced, then the folder and the run folder fsynced); nothing names that
//! folder yet, so a crash leaves the previous checkpoint current. Then
//! `state.json`, which names the folder and holds both files' sha256, is
//! replaced atomically (temporary file, fsync, rename, fsync of the run
//! folder): that rename is the commit. After it, the top-level
//! `model.safetensors` becomes a hard link to the new weights and
//! checkpoints older than the previous one are removed; a crash there
//! leaves a committed checkpoint and leftovers that the next writer
//! removes ([`RunDir::recover`]). The previous checkpoint is kept so that
//! a reader that read `state.json` just before a commit still finds its
//! files.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::dir::{CHECKPOINT_PREFIX, MODEL, OPTIMIZER};
use super::{RunDir, TrainState, WriteLock};
use crate::fsutil;
use crate::{Error, Result};

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl RunDir {
    /// Commits weights, optimizer and state as one checkpoint (see the
    /// module documentation for the order of the steps). `_lock` proves
    /// this process is the folder's one writer.
    pub fn save_checkpoint(
        &self,
        _lock: &WriteLock,
        model: &[u8],
        optimizer: &[u8],
        mut state: TrainState,
    ) -> Result<()> {
        let previous = self.read_state()?.and_then(|s| s.checkpoint);
        let next = self.checkpoint_folders()?.last().map_or(1, |(i, _)| i + 1);
        let name = format!("{CHECKPOINT_PREFIX}{next}");
        let folder = self.root.join(&name);
        let written = (|| {
            fsutil::create_dir(&folder)?;
            fsutil::write_synced(&folder.join(MODEL), model)?;
            fsutil::write_synced(&folder.join(OPTIMIZER), optimizer)?;
            fsutil::sync_dir(&folder)?;
            fsutil::sync_dir(&self.root)
        })();
        if let Err(e) = written {
            // Nothing names the folder: removing it loses nothing.
            let _ = std::fs::remove_dir_all(&folder);
            return Err(e);
        }
        state.model_sha256 = sha256_hex(model);
        state.optimizer_sha256 = sha256_hex(optimizer);
        state.checkpoint = Some(name.clone());
        let json = serde_json::to_vec_pretty(&state).map_err(|e| Error::internal(e.to_string()))?;
        fsutil::atomic_write(&self.state(), &json)?;
        // Committed. What follows only tidies up.
        fsutil::atomic_link(&folder.join(MODEL), &self.model(), model)?;
        for (_, old) in self.checkpoint_folders()? {
            if old != name && Some(&old) != previous.as_ref() {
                fsutil::remove_dir_all(&self.root.join(old))?;
            }
        }
        fsutil::remove_file(&self.optimizer())
    }

    /// Reads state, weights and optimizer bytes of the current checkpoint,
    /// checking they belong together.
    pub fn load_checkpoint(&self) -> Result<(TrainState, Vec<u8>, Vec<u8>)> {
        let Some(state) = self.read_state()? else {
            return Err(Error::checkpoint(
                self.state(),
                "missing: this run has no checkpoint to resume",
            ));
        };
        let files = self.files_of(&state);
        let model = read_checked(&files.join(MODEL), &state.model_sha256)?;
        let optimizer = read_checked(&files.join(OPTIMIZER), &state.optimizer_sha256)?;
        Ok((state, model, optimizer))
    }

    /// Brings a folder back to its last committed checkpoint before a
    /// writer continues it: removes temporary files and uncommitted or
    /// superseded checkpoint folders, cuts `metrics.jsonl` back to the
    /// checkpoint's epochs, and points the top-level `model.safetensors`
    /// at the checkpoint's weights. Returns the checkpoint's state, `None`
    /// when the run has none yet.
    pub fn recover(&self, _lock: &WriteLock) -> Result<Option<TrainState>> {
        let state = self.read_state()?;
        let current = state.as_ref().and_then(|s| s.checkpoint.clone());
        self.remove_stale(current.as_deref())?;
        let epochs = state.as_ref().map_or(0, |s| s.epochs_done);
        super::metrics::truncate(&self.metrics(), epochs)?;
        if let (Some(s), Some(name)) = (&state, &current) {
            let weights = self.root.join(name).join(MODEL);
            let top = std::fs::read(self.model()).unwrap_or_default();
            if sha256_hex(&top) != s.model_sha256 {
                let bytes = read_checked(&weights, &s.model_sha256)?;
                fsutil::atomic_link(&weights, &self.model(), &bytes)?;
            }
            fsutil::remove_file(&self.optimizer())?;
        }
        Ok(state)
    }
}

fn read_checked(path: &Path, sha: &str) -> Result<Vec<u8>> {
    if !path.is_file() {
        return Err(Error::checkpoint(path, "missing"));
    }
    let bytes = fsutil::read(path)?;
    if sha256_hex(&bytes) != sha {
        return Err(Error::checkpoint(
            path,
            "corrupt: its checksum differs from the one recorded in state.json",
        ));
    }
    Ok(bytes)
}
