//! Long work off the GIL that Ctrl-C can stop. Python runs signal handlers
//! only on its main thread and only when asked, so the work runs on a
//! scoped thread while the calling thread waits without the GIL and, every
//! 50 ms, takes it back to call `check_signals`. On a KeyboardInterrupt it
//! asks the library to stop (`elbo::device::request_stop`: EM and the
//! training loop end after their current step with a valid state) and
//! waits for that state, which it returns with `interrupted = true`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// Runs `work` without the GIL, watching for Ctrl-C; returns its result and
/// whether a stop was requested while it ran.
pub fn run<T: Send>(py: Python<'_>, work: impl FnOnce() -> T + Send) -> PyResult<(T, bool)> {
    // A request left over from an earlier fit that never looked must not
    // stop this one.
    let _ = elbo::device::take_stop_request();
    let done = AtomicBool::new(false);
    let waiter = std::thread::current();
    let (out, interrupted) = std::thread::scope(|s| {
        let done = &done;
        let handle = s.spawn(move || {
            let out = work();
            done.store(true, Ordering::SeqCst);
            waiter.unpark();
            out
        });
        let mut interrupted = false;
        while !done.load(Ordering::SeqCst) {
            py.detach(|| std::thread::park_timeout(Duration::from_millis(50)));
            if !interrupted && !done.load(Ordering::SeqCst) && py.check_signals().is_err() {
                interrupted = true;
                elbo::device::request_stop();
            }
        }
        (handle.join(), interrupted)
    });
    // Clear a request the work finished before seeing.
    let _ = elbo::device::take_stop_request();
    let out =
        out.map_err(|_| PyRuntimeError::new_err("elbo stopped on an internal error (a panic)"))?;
    Ok((out, interrupted))
}
