//! Which burn device runs the models, and how many CPU threads it may use.

use std::sync::atomic::{AtomicBool, Ordering};

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

static STOP: AtomicBool = AtomicBool::new(false);

/// Installs a Ctrl-C handler that asks running training to checkpoint and
/// stop after the current step. Safe to call more than once.
pub fn install_interrupt_handler() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if !INSTALLED.swap(true, Ordering::SeqCst) {
        // A second Ctrl-C while saving is ignored: the checkpoint completes.
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    }
}

/// Asks running training to checkpoint and stop (what Ctrl-C does).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether a stop was requested; clears the request (a binding that set
/// it calls this after a fit that never looked, so the next fit runs).
pub fn take_stop_request() -> bool {
    STOP.swap(false, Ordering::SeqCst)
}
