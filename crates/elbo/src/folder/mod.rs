//! The files of a run folder, below every family: paths, the checkpoint
//! (weights, optimizer state and training state written as one consistent
//! set), weights as safetensors, and `metrics.jsonl`.
//!
//! A run folder holds:
//! - `config.toml`: model, data and training settings (`families::RunConfig`);
//! - `model.safetensors`: the weights, named like the struct fields;
//! - `optimizer.bpk`: Adam's moments (burn's burnpack format), networks only;
//! - `state.json`: how far training got, with checksums of the two files above;
//! - `metrics.jsonl`: one [`EpochMetrics`] line per epoch (per EM fit for a
//!   mixture), the same schema for every family.
//!
//! The typed API over a whole folder is `Run` (in `run/`); this module only
//! reads and writes its files, so the families that write them sit above it.

pub mod checkpoint;
mod dir;
pub mod metrics;

pub use dir::{RunDir, TrainState};
pub use metrics::{EpochMetrics, LossSummary, LossSums};
