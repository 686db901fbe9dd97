//! Memory limits: every size that comes from a file, a flag or a config key
//! is turned into a byte estimate with checked arithmetic and compared with
//! the memory elbo may use *before* anything is allocated, so a bad size is a
//! clear error instead of an abort, an overflow panic or a machine pushed into
//! swap.
//!
//! The limit is, in order: [`set_max_memory`] (the CLI's `--max-memory`),
//! the `ELBO_MAX_MEMORY` environment variable, or `MemAvailable` from
//! `/proc/meminfo`. Where none is known (not Linux) only overflow and sizes
//! beyond what the address space can hold are refused.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// The environment variable that sets the limit when `--max-memory` is not given.
pub const MAX_MEMORY_ENV: &str = "ELBO_MAX_MEMORY";

/// The limit set by [`set_max_memory`]; 0 when unset.
static OVERRIDE: AtomicU64 = AtomicU64::new(0);

/// Bytes per `f32`, the element type of every tensor and image set.
pub const F32: u64 = 4;

/// The memory elbo may use, and where that figure came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Bytes.
    pub bytes: u64,
    /// `--max-memory`, `ELBO_MAX_MEMORY` or `available memory`.
    pub source: &'static str,
}

/// Sets the limit for this process (what `--max-memory` does).
pub fn set_max_memory(bytes: u64) {
    OVERRIDE.store(bytes.max(1), Ordering::SeqCst);
}

/// Parses a size such as `2G`, `512M`, `1.5GiB`, `64k` or `1000000`
/// (suffixes are powers of 1024, case-insensitive; a bare number is bytes).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => return Err(bad_size(text)),
    };
    let value: f64 = number.parse().map_err(|_| bad_size(text))?;
    let bytes = value * (1u64 << shift) as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(bad_size(text));
    }
    Ok(bytes as u64)
}

fn bad_size(text: &str) -> Error {
    Error::invalid(format!(
        "memory size {text:?} is not a positive size such as 2G, 512M or 1000000 (bytes)"
    ))
}

/// The limit in force: `--max-memory`, else `ELBO_MAX_MEMORY`, else the
/// available memory; `None` where none is known.
pub fn limit() -> Result<Option<Limit>> {
    let set = OVERRIDE.load(Ordering::SeqCst);
    if set > 0 {
        return Ok(Some(Limit {
            bytes: set,
            source: "--max-memory",
        }));
    }
    if let Ok(text) = std::env::var(MAX_MEMORY_ENV) {
        let bytes =
            parse_size(&text).map_err(|e| Error::invalid(format!("{MAX_MEMORY_ENV}: {e}")))?;
        return Ok(Some(Limit {
            bytes,
            source: MAX_MEMORY_ENV,
        }));
    }
    Ok(available().map(|bytes| Limit {
        bytes,
        source: "available memory",
    }))
}

/// `MemAvailable` of `/proc/meminfo` in bytes, where there is one.
fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A byte count built with checked arithmetic: `None` once it overflowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub Option<u64>);

impl Bytes {
    /// The product of `factors` (e.g. images, pixels, bytes per value).
    pub fn product(factors: &[u64]) -> Bytes {
        Bytes(factors.iter().try_fold(1u64, |a, &f| a.checked_mul(f)))
    }

    /// `usize` factors times `unit` bytes.
    pub fn of(factors: &[usize], unit: u64) -> Bytes {
        let mut all: Vec<u64> = factors.iter().map(|&f| f as u64).collect();
        all.push(unit);
        Bytes::product(&all)
    }

    /// The sum of two counts.
    pub fn plus(self, other: Bytes) -> Bytes {
        Bytes(self.0.zip(other.0).and_then(|(a, b)| a.checked_add(b)))
    }

    /// This count times `k`.
    pub fn times(self, k: u64) -> Bytes {
        Bytes(self.0.and_then(|a| a.checked_mul(k)))
    }
}

/// Human-readable bytes: `1.5 GB`, `320 MB`, `12 kB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    match u {
        0 => format!("{bytes} B"),
        _ => format!("{v:.1} {}", UNITS[u]),
    }
}

/// Checks that `what` (e.g. "the vae model (weights, Adam state, a batch)")
/// fits in memory; `knobs` names the flags or config keys that set its size,
/// so the error says what to change.
pub fn check(what: &str, knobs: &str, need: Bytes) -> Result<()> {
    let Some(need) = need.0.filter(|&b| b <= isize::MAX as u64) else {
        return Err(Error::invalid(format!(
            "{what} would need more memory than any machine can address (its size overflows); \
             lower {knobs}"
        )));
    };
    match limit()? {
        Some(l) if need > l.bytes => Err(Error::invalid(format!(
            "{what} needs about {} but {} allows {}; lower {knobs} (or raise --max-memory / {MAX_MEMORY_ENV})",
            human(need),
            l.source,
            human(l.bytes)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("512mib").unwrap(), 512 << 20);
        assert_eq!(parse_size("1.5k").unwrap(), 1536);
        for bad in ["", "0", "-1G", "2X", "G", "1e99T"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overflowing_sizes_are_refused_by_name() {
        let huge = Bytes::of(&[usize::MAX, 2], F32);
        assert_eq!(huge.0, None);
        let msg = check("the thing", "--hidden", huge)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("overflows") && msg.contains("--hidden"),
            "{msg}"
        );
        assert_eq!(Bytes::of(&[3, 5], F32).plus(Bytes(Some(1))).0, Some(61));
    }

    #[test]
    fn human_sizes_round_to_one_decimal() {
        assert_eq!(human(999), "999 B");
        assert_eq!(human(1_500_000_000), "1.5 GB");
    }
}
