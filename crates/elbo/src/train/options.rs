//! How a training call behaves beyond what `config.toml` records: overwrite,
//! quiet, and how often the epoch line is printed.

use std::str::FromStr;

use crate::Error;

/// How a training call behaves, beyond what `config.toml` records.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// Overwrite a folder that already holds a run.
    pub force: bool,
    /// No progress bar and no per-epoch lines on stderr.
    pub quiet: bool,
    /// How often the epoch line is printed (`metrics.jsonl` gets every epoch).
    pub log_every: LogEvery,
}

/// How often training prints its epoch line: a long run piped to a log file
/// needs a line every so often, not one per epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LogEvery {
    /// Every this many epochs (1: every epoch).
    Epochs(usize),
    /// At most once per this many seconds.
    Seconds(f64),
}

impl Default for LogEvery {
    fn default() -> Self {
        LogEvery::Epochs(1)
    }
}

impl LogEvery {
    /// Whether the line of `epoch` (1-based, of `total`) is printed,
    /// `since` seconds after the last printed line (or the start). The
    /// first and last epochs always are.
    pub fn due(&self, epoch: usize, total: usize, since: f64) -> bool {
        if epoch <= 1 || epoch >= total {
            return true;
        }
        match *self {
            LogEvery::Epochs(n) => epoch.is_multiple_of(n.max(1)),
            LogEvery::Seconds(s) => since >= s,
        }
    }
}

impl FromStr for LogEvery {
    type Err = Error;

    /// `10` (epochs), or a duration: `30s`, `5m`, `1h`.
    fn from_str(s: &str) -> crate::Result<Self> {
        let bad = || {
            Error::invalid(format!(
                "--log-every: expected a positive number of epochs (10) or a duration (30s, 5m, 1h), got '{s}'"
            ))
        };
        let t = s.trim();
        if let Ok(n) = t.parse::<usize>() {
            return if n > 0 {
                Ok(LogEvery::Epochs(n))
            } else {
                Err(bad())
            };
        }
        let (value, scale) = match t.char_indices().last() {
            Some((i, 's')) => (&t[..i], 1.0),
            Some((i, 'm')) => (&t[..i], 60.0),
            Some((i, 'h')) => (&t[..i], 3600.0),
            _ => return Err(bad()),
        };
        match value.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(LogEvery::Seconds(v * scale)),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_epochs_and_durations_and_refuses_the_rest() {
        assert_eq!("10".parse::<LogEvery>().ok(), Some(LogEvery::Epochs(10)));
        assert_eq!(
            "30s".parse::<LogEvery>().ok(),
            Some(LogEvery::Seconds(30.0))
        );
        assert_eq!(
            "2m".parse::<LogEvery>().ok(),
            Some(LogEvery::Seconds(120.0))
        );
        for bad in ["0", "-3", "s", "10x", "", "0s"] {
            assert!(bad.parse::<LogEvery>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_n_epochs_prints_the_first_multiples_and_the_last() {
        let every = LogEvery::Epochs(10);
        let printed: Vec<usize> = (1..=25).filter(|&e| every.due(e, 25, 0.0)).collect();
        assert_eq!(printed, vec![1, 10, 20, 25]);
    }

    #[test]
    fn by_time_prints_when_enough_time_has_passed() {
        let every = LogEvery::Seconds(30.0);
        assert!(!every.due(5, 10, 29.0));
        assert!(every.due(5, 10, 30.0));
        assert!(every.due(10, 10, 0.0));
    }
}
