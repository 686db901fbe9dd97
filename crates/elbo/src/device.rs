//! Which burn device runs the models, and how many CPU threads it may use.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use burn::tensor::Device;

use crate::{Error, Result};

/// The device elbo computes on: CUDA GPU 0 when built with the `cuda`
/// feature, otherwise burn's pure-Rust `flex` CPU backend.
pub fn default_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        Device::cuda(0)
    }
    #[cfg(not(feature = "cuda"))]
    {
        Device::flex()
    }
}

/// Limits the CPU backend to `n` threads (rayon's global pool). Call once,
/// before any tensor work; results are bit-for-bit reproducible for a fixed
/// seed and thread count.
pub fn set_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::invalid("threads must be positive"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Error::invalid(format!("cannot set {n} threads: {e}")))
}

/// A stop request: 0 for none, else the signal that asked (SIGINT, SIGTERM)
/// or [`REQUESTED`]. Written from the signal handler, hence one atomic.
static STOP: AtomicUsize = AtomicUsize::new(0);
/// The signal behind the last stop request taken, for the exit status.
static TAKEN: AtomicUsize = AtomicUsize::new(0);
/// A stop asked for by [`request_stop`], not by a signal.
const REQUESTED: usize = usize::MAX;

/// Installs handlers for Ctrl-C (SIGINT) and SIGTERM (what `kill`, a
/// container's shutdown or a batch scheduler sends) that ask running
/// training to checkpoint and stop after the current step. Safe to call
/// more than once.
pub fn install_interrupt_handler() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if !INSTALLED.swap(true, Ordering::SeqCst) {
        // A second signal while saving only sets the flag again: the
        // checkpoint completes.
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            if let Ok(value) = usize::try_from(signal) {
                let _ = signal_hook::flag::register_usize(signal, &STOP, value);
            }
        }
    }
}

/// Asks running training to checkpoint and stop (what Ctrl-C does).
pub fn request_stop() {
    STOP.store(REQUESTED, Ordering::SeqCst);
}

/// Whether a stop was requested, leaving the request in place (for loops
/// outside training, such as reading a large image folder, that give up
/// early).
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst) != 0
}

/// Whether a stop was requested; clears the request (a binding that set
/// it calls this after a fit that never looked, so the next fit runs).
pub fn take_stop_request() -> bool {
    let taken = STOP.swap(0, Ordering::SeqCst);
    if taken != 0 {
        TAKEN.store(taken, Ordering::SeqCst);
    }
    taken != 0
}

/// The signal number (2 for SIGINT, 15 for SIGTERM) behind the last stop
/// that training honoured, if a signal caused it: a command line exits with
/// 128 + that number, as shells report a process the signal ended.
pub fn stop_signal() -> Option<i32> {
    match TAKEN.load(Ordering::SeqCst) {
        0 | REQUESTED => None,
        s => i32::try_from(s).ok(),
    }
}
