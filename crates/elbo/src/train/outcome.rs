//! How a training call ended, and why a loop stops before its last epoch.

use super::budget::Budget;
use crate::folder::EpochMetrics;

/// How a training call ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainOutcome {
    /// All configured epochs are done; the last epoch's figures.
    Finished(Option<EpochMetrics>),
    /// Stopped by Ctrl-C after `step` steps of epoch `epoch`; checkpoint saved.
    Interrupted {
        /// The epoch that was running (1-based).
        epoch: usize,
        /// Steps of it already taken.
        step: usize,
    },
    /// Stopped at the time limit after `step` steps of epoch `epoch`;
    /// checkpoint saved.
    TimeUp {
        /// The epoch that was running (1-based).
        epoch: usize,
        /// Steps of it already taken.
        step: usize,
        /// Wall-clock seconds trained against the budget, over every call.
        used_seconds: f64,
    },
}

impl TrainOutcome {
    /// Where a stopped run stopped: (epoch, steps of it taken).
    pub fn stopped_at(&self) -> Option<(usize, usize)> {
        match *self {
            TrainOutcome::Finished(_) => None,
            TrainOutcome::Interrupted { epoch, step }
            | TrainOutcome::TimeUp { epoch, step, .. } => Some((epoch, step)),
        }
    }
}

/// Why training stopped before its last epoch.
#[derive(Clone, Copy)]
pub(super) enum Stop {
    /// Ctrl-C (or a stop request).
    Interrupt,
    /// The time limit.
    TimeUp,
}

impl Stop {
    /// The stop due now, if any (a pending Ctrl-C first, then the budget).
    pub(super) fn due(budget: &Budget) -> Option<Stop> {
        if crate::device::take_stop_request() {
            Some(Stop::Interrupt)
        } else if budget.is_up() {
            Some(Stop::TimeUp)
        } else {
            None
        }
    }

    pub(super) fn outcome(self, epoch: usize, step: usize, budget: &Budget) -> TrainOutcome {
        match self {
            Stop::Interrupt => TrainOutcome::Interrupted { epoch, step },
            Stop::TimeUp => TrainOutcome::TimeUp {
                epoch,
                step,
                used_seconds: budget.used(),
            },
        }
    }
}
