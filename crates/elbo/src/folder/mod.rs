//! The files of a run folder, below every family: paths, the checkpoint
//! (weights, optimizer state and training state committed as one unit),
//! weights as safetensors, `metrics.jsonl`, and the write lock.
//!
//! A run folder holds:
//! - `config.toml`: model, data and training settings (`families::RunConfig`);
//! - `state.json`: how far training got, which checkpoint folder is
//!   current, and the sha256 of its two files; replacing it commits a
//!   checkpoint (see `commit.rs`);
//! - `checkpoint.N/model.safetensors` and `checkpoint.N/optimizer.bpk`
//!   (Adam's moments, burn's burnpack format): the current checkpoint, and
//!   the one before it;
//! - `model.safetensors`: the weights, named like the struct fields; for a
//!   network, a hard link to the current checkpoint's, for other tools;
//! - `metrics.jsonl`: one [`EpochMetrics`] line per epoch (per EM fit for a
//!   mixture), the same schema for every family;
//! - `.lock`: the write lock (see `lock.rs`).
//!
//! Run folders written before checkpoint folders keep `optimizer.bpk` at the
//! top and a `state.json` naming no folder; they load and resume as before.
//!
//! The typed API over a whole folder is `Run` (in `run/`); this module only
//! reads and writes its files, so the families that write them sit above it.

pub mod checkpoint;
mod commit;
mod dir;
mod lock;
pub mod metrics;

pub use dir::{RunDir, TrainState};
pub use lock::WriteLock;
pub use metrics::{EpochMetrics, LossSummary, LossSums};
