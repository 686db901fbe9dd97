//! Training: the one loop every gradient-trained family runs (epochs,
//! steps, Adam, the learning-rate schedule, the NaN guard, progress,
//! Ctrl-C, checkpoints, exact resume, `metrics.jsonl`, `test_every`), and
//! the `[data]` and `[train]` sections of `config.toml`. A family supplies
//! its objective through [`Trainable`]; it never repeats the loop.

mod budget;
pub mod config;
mod fit;
pub mod multi_device;
mod options;
mod outcome;

pub use budget::check_time_left;
pub use config::{DataConfig, TrainConfig};
pub use fit::{
    Batch, Loop, StepError, TestFigures, Trainable, adam, nll_epoch_line, nll_gradients,
    progress_bar,
};
pub use options::{LogEvery, TimeLimit, TrainOptions};
pub use outcome::TrainOutcome;
