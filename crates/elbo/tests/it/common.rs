//! Helpers shared by the tests: fixture writers for the data tests, and the
//! lock that keeps training in this process apart from a training deadline.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Every training loop in a process polls one stop request (what Ctrl-C and
/// a report's fitting deadline set), and the first loop to see it takes it.
/// The tests share one process, so a test that stops training at a
/// deadline must not train beside another test's training: that one could
/// take its stop request, and each would then fail the other.
static TRAINING: RwLock<()> = RwLock::new(());

/// Held by a test while it trains or downloads (a stop request ends a
/// download too): any number of these run side by side.
pub fn training() -> RwLockReadGuard<'static, ()> {
    TRAINING.read().unwrap_or_else(PoisonError::into_inner)
}

/// Held by a test that stops training at a deadline: it trains alone.
pub fn training_alone() -> RwLockWriteGuard<'static, ()> {
    TRAINING.write().unwrap_or_else(PoisonError::into_inner)
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

pub fn idx_images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0x0803, n, rows, cols] {
        v.extend_from_slice(&u32::to_be_bytes(x));
    }
    v.extend((0..n * rows * cols).map(|i| (i % 256) as u8));
    v
}

pub fn idx_labels(n: u32) -> Vec<u8> {
    let mut v = Vec::new();
    for x in [0x0801, n] {
        v.extend_from_slice(&u32::to_be_bytes(x));
    }
    v.extend((0..n).map(|i| (i % 10) as u8));
    v
}

pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The error message of `r`, checked to mention the file and every needle.
pub fn err_mentions<T: std::fmt::Debug>(r: elbo::Result<T>, file: &Path, needles: &[&str]) {
    let msg = r.unwrap_err().to_string();
    let name = file.file_name().unwrap().to_string_lossy();
    assert!(msg.contains(&*name), "message does not name {name}: {msg}");
    for n in needles {
        assert!(msg.contains(n), "message lacks {n:?}: {msg}");
    }
}
