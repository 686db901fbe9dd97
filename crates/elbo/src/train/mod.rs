//! Training: the loop, Adam, the metrics log and checkpoints in a run folder.
//!
//! A run folder holds:
//! - `config.toml`: model, data and training settings ([`RunConfig`]);
//! - `model.safetensors`: the weights, named like the struct fields;
//! - `optimizer.bpk`: Adam's moments (burn's burnpack format);
//! - `state.json`: how far training got, with checksums of the two files above;
//! - `metrics.jsonl`: one line of [`EpochMetrics`] per epoch.

pub mod checkpoint;
pub mod config;
mod data_parallel;
pub mod fused_adam;
pub mod metrics;
mod objective;
pub mod pixel_trainer;
mod resolve_arch;
mod run_dir;
pub mod seeds;
mod vae_trainer;

pub use config::{DataConfig, ModelConfig, RunConfig, TrainConfig};
pub use metrics::{EpochMetrics, LossSummary, LossSums};
pub use run_dir::{RunDir, TrainState};
pub use vae_trainer::{TrainOptions, TrainOutcome, resume, train};
