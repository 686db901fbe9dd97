//! The wall-clock training budget (`--time-limit`), kept across calls in
//! `state.json` so that `elbo train resume` goes on with what is left.

use std::time::Instant;

use super::TimeLimit;
use crate::folder::TrainState;
use crate::{Error, Result};

/// The budget of one training call.
#[derive(Debug)]
pub(super) struct Budget {
    /// Total seconds the run may train, over all calls; `None`: no limit.
    limit: Option<f64>,
    /// Seconds spent by earlier calls.
    used_before: f64,
    started: Instant,
}

impl Budget {
    /// This call's budget: a new `--time-limit` gives it that much more
    /// time; without one it has what the run's own budget has left.
    pub(super) fn new(new_limit: Option<TimeLimit>, state: &TrainState) -> Result<Self> {
        let used_before = state.time_used_seconds;
        let limit = match new_limit {
            Some(t) => Some(used_before + t.0.as_secs_f64()),
            None => state.time_limit_seconds,
        };
        if let Some(l) = limit.filter(|&l| used_before >= l) {
            return Err(Error::invalid(format!(
                "the run's time limit of {} is used up; give it more with --time-limit (e.g. elbo train resume RUN_DIR --time-limit 1h)",
                show(l)
            )));
        }
        Ok(Budget {
            limit,
            used_before,
            started: Instant::now(),
        })
    }

    /// Seconds trained against the budget, this call included.
    pub(super) fn used(&self) -> f64 {
        self.used_before + self.started.elapsed().as_secs_f64()
    }

    /// Whether the time is used up.
    pub(super) fn is_up(&self) -> bool {
        self.limit.is_some_and(|l| self.used() >= l)
    }

    /// Records the budget and the time used in a checkpoint's state.
    pub(super) fn stamp(&self, state: &mut TrainState) {
        if self.limit.is_some() {
            state.time_limit_seconds = self.limit;
            state.time_used_seconds = self.used();
        }
    }
}

/// Refuses to continue a run whose own time limit is used up when no new
/// `--time-limit` is given: checked before anything in the folder changes.
pub fn check_time_left(new_limit: Option<TimeLimit>, state: &TrainState) -> Result<()> {
    Budget::new(new_limit, state).map(|_| ())
}

/// `seconds` as a [`TimeLimit`] prints it (`2h30m`).
pub(super) fn show(seconds: f64) -> String {
    std::time::Duration::try_from_secs_f64(seconds.max(0.0))
        .map(|d| TimeLimit(d).to_string())
        .unwrap_or_else(|_| format!("{seconds} s"))
}
