//! How a training call behaves beyond what `config.toml` records: overwrite,
//! quiet, how often the epoch line is printed, and how long it may train.

use std::str::FromStr;
use std::time::Duration;

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
    /// Wall-clock training time this call may use (`--time-limit`): it stops
    /// at the first step boundary past it with a checkpoint. `None`: the
    /// rest of the run's own budget, if it was given one, else no limit.
    pub time_limit: Option<TimeLimit>,
}

/// A wall-clock training budget: `2h30m`, `90m`, `45s`, `1.5h`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeLimit(pub Duration);

impl FromStr for TimeLimit {
    type Err = Error;

    /// One or more `<number><unit>` groups (units h, m, s), summed.
    fn from_str(s: &str) -> crate::Result<Self> {
        let bad = |why: &str| {
            Error::invalid(format!(
                "--time-limit: {why}: expected a duration such as 2h30m, 90m, 45s or 1.5h, got '{s}'"
            ))
        };
        let mut total = 0.0f64;
        let mut number = String::new();
        for c in s.trim().chars() {
            let scale = match c {
                'h' => 3600.0,
                'm' => 60.0,
                's' => 1.0,
                '0'..='9' | '.' => {
                    number.push(c);
                    continue;
                }
                _ => return Err(bad("unknown character")),
            };
            let value: f64 = number
                .parse()
                .map_err(|_| bad("a unit needs a number before it"))?;
            total += value * scale;
            number.clear();
        }
        if !number.is_empty() {
            return Err(bad("the last number has no unit (h, m or s)"));
        }
        match Duration::try_from_secs_f64(total) {
            Ok(d) if total > 0.0 => Ok(TimeLimit(d)),
            _ => Err(bad("it must be positive")),
        }
    }
}

impl std::fmt::Display for TimeLimit {
    /// As it would be typed: `2h30m`, `90s`, `1h0m5s` → `1h5s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.as_secs_f64();
        let (h, m) = ((secs / 3600.0).floor(), ((secs % 3600.0) / 60.0).floor());
        let s = secs - h * 3600.0 - m * 60.0;
        let mut out = String::new();
        if h > 0.0 {
            out += &format!("{h}h");
        }
        if m > 0.0 {
            out += &format!("{m}m");
        }
        if s > 0.0 || out.is_empty() {
            out += &format!("{}s", (s * 1000.0).round() / 1000.0);
        }
        f.write_str(&out)
    }
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
    fn time_limits_sum_their_groups_and_refuse_the_rest() {
        let secs = |s: &str| s.parse::<TimeLimit>().map(|t| t.0.as_secs_f64()).ok();
        assert_eq!(secs("2h30m"), Some(9000.0));
        assert_eq!(secs("90m"), Some(5400.0));
        assert_eq!(secs("45s"), Some(45.0));
        assert_eq!(secs("1.5h"), Some(5400.0));
        assert_eq!(secs("1h0m5s"), Some(3605.0));
        assert_eq!(secs(" 2s "), Some(2.0));
        for bad in [
            "", "0s", "0h0m", "10", "h", "2h30", "1d", "-5s", "1..5m", "2 h",
        ] {
            let err = bad.parse::<TimeLimit>().expect_err(bad).to_string();
            assert!(
                err.contains("--time-limit") && err.contains(bad.trim()),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn time_limits_print_as_typed() {
        for (typed, shown) in [
            ("2h30m", "2h30m"),
            ("90m", "1h30m"),
            ("45s", "45s"),
            ("1h0m5s", "1h5s"),
        ] {
            let t: TimeLimit = typed.parse().expect(typed);
            assert_eq!(t.to_string(), shown);
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
