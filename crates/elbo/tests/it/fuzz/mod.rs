//! Property-based fuzzing of every reader: generators of valid files and
//! mutators of their bytes (flips, truncations, insertions, lying sizes,
//! appended garbage, gzip before or after). Each case asserts a bounded
//! outcome: the reader returns (no panic), with either a value that is
//! consistent or an error that is the user's (not an internal one) and
//! says something.
//!
//! In the test suite each reader runs a fixed number of cases (the
//! `PROPTEST_CASES` variable overrides it); `ELBO_FUZZ_SECONDS` turns each
//! into a loop of fresh random rounds for that long, which
//! `bench/fuzz_readers.sh` uses to run each reader for minutes and report
//! cases, crashes and peak memory.

mod data_readers;
mod run_files;

use std::cell::Cell;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases per reader in the test suite: the whole fuzz module stays within
/// a few seconds of a debug build.
pub const CI_CASES: u32 = 128;

/// Runs `check` over values of `strategy`: [`CI_CASES`] (or
/// `PROPTEST_CASES`) cases, or fresh rounds for `ELBO_FUZZ_SECONDS`.
/// A panic or a failed check fails the test with proptest's minimal input.
pub fn fuzz<S: Strategy>(
    reader: &str,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let seconds: Option<u64> = std::env::var("ELBO_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok());
    let deadline = seconds.map(|s| Instant::now() + Duration::from_secs(s));
    let cases = Cell::new(0u64);
    let started = Instant::now();
    loop {
        let mut config = Config::default(); // reads PROPTEST_CASES
        if std::env::var_os("PROPTEST_CASES").is_none() {
            config.cases = CI_CASES;
        }
        config.failure_persistence = None;
        let mut runner = TestRunner::new(config);
        let result = runner.run(&strategy, |v| {
            cases.set(cases.get() + 1);
            check(v)
        });
        if let Err(e) = result {
            panic!("fuzz {reader}: {e}");
        }
        if deadline.is_none_or(|d| Instant::now() >= d) {
            break;
        }
    }
    eprintln!(
        "fuzz {reader}: {} cases, 0 crashes, {:.1} s, peak RSS {} kB",
        cases.get(),
        started.elapsed().as_secs_f64(),
        peak_rss_kb().map_or("unknown".into(), |k| k.to_string())
    );
}

/// `VmHWM` of this process, in kB (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One change to a file's bytes.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// XOR the byte at (position mod length) with a non-zero mask.
    Flip(usize, u8),
    /// Cut the file at (position mod length).
    Truncate(usize),
    /// Insert bytes at (position mod length).
    Insert(usize, Vec<u8>),
    /// Overwrite 4 bytes at (position mod length) with a size a header may
    /// lie with, big- or little-endian.
    Size(usize, u32, bool),
    /// Append bytes.
    Append(Vec<u8>),
    /// Append many copies of one byte (a tail that compresses well).
    Pad(u8, usize),
}

/// Sizes a lying header likes: zero, one, powers of two, the extremes.
fn interesting_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(255),
        Just(65_535),
        Just(1 << 24),
        Just(0x7fff_ffff),
        Just(u32::MAX),
        any::<u32>(),
    ]
}

/// Any [`Mutation`].
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(p, m)| Mutation::Flip(p, m)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<usize>(), interesting_u32(), any::<bool>())
            .prop_map(|(p, v, be)| Mutation::Size(p, v, be)),
        prop::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Append),
        (any::<u8>(), 1usize..200_000).prop_map(|(b, n)| Mutation::Pad(b, n)),
    ]
}

/// Up to `max` mutations.
pub fn mutations(max: usize) -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 0..=max)
}

/// Applies `mutations` to `bytes` in order.
pub fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let at = |p: usize, len: usize| if len == 0 { 0 } else { p % len };
        match m {
            Mutation::Flip(p, mask) => {
                let i = at(*p, bytes.len());
                if let Some(b) = bytes.get_mut(i) {
                    *b ^= mask;
                }
            }
            Mutation::Truncate(p) => bytes.truncate(at(*p, bytes.len())),
            Mutation::Insert(p, b) => {
                let i = at(*p, bytes.len());
                bytes.splice(i..i, b.iter().copied());
            }
            Mutation::Size(p, v, be) => {
                let i = at(*p, bytes.len().saturating_sub(3));
                let v = if *be {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                };
                for (k, b) in v.iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(i + k) {
                        *slot = *b;
                    }
                }
            }
            Mutation::Append(b) => bytes.extend_from_slice(b),
            Mutation::Pad(b, n) => bytes.extend(std::iter::repeat_n(*b, *n)),
        }
    }
    bytes
}

/// Checks a reader's error: a user-facing error with a message, never an
/// internal one.
pub fn clean_error(e: &elbo::Error) -> Result<(), TestCaseError> {
    let msg = e.to_string();
    prop_assert!(!msg.trim().is_empty(), "empty error message");
    prop_assert!(
        !matches!(e, elbo::Error::Internal(_)),
        "a reader reported an internal error: {msg}"
    );
    Ok(())
}
