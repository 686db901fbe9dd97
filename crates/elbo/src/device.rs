//! Which burn device runs the models, and how many CPU threads it may use.
//!
//! burn 0.22 tensors carry their device at run time (one `Tensor` type over
//! every backend), so every model runs on either device with no generic
//! parameter: elbo picks the device once ([`select_device`], the CLI's
//! `--device`) and the fused CPU kernels check it and take burn's composite
//! formulas elsewhere (`kernels`).

use std::cell::RefCell;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{OnceLock, RwLock};

use burn::tensor::Device;

use crate::{Error, Result};

/// Where the models compute: `--device cpu|gpu`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeviceChoice {
    /// burn's pure-Rust `flex` backend with elbo's fused kernels.
    #[default]
    Cpu,
    /// The first GPU adapter: CUDA GPU 0 in a `cuda` build, else burn's wgpu
    /// backend (Vulkan, Metal or DX12) in a `gpu` build.
    Gpu,
}

impl FromStr for DeviceChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "cpu" => Ok(DeviceChoice::Cpu),
            "gpu" => Ok(DeviceChoice::Gpu),
            _ => Err(Error::invalid(format!(
                "--device: unknown device '{s}' (expected cpu or gpu)"
            ))),
        }
    }
}

/// The process-wide device, once [`select_device`] chose one.
static SELECTED: RwLock<Option<Device>> = RwLock::new(None);

thread_local! {
    /// A device for this thread only ([`with_device`]), ahead of [`SELECTED`].
    static SCOPED: RefCell<Option<Device>> = const { RefCell::new(None) };
}

/// The CPU device: burn's `flex` backend.
pub fn cpu_device() -> Device {
    Device::flex()
}

/// Whether `device` (with or without autodiff) is the CPU backend, where
/// elbo's fused kernels and thread-sharded batches apply.
pub fn is_cpu(device: &Device) -> bool {
    device.clone().inner() == cpu_device()
}

/// The device for `choice`; the GPU one is acquired once per process.
///
/// # Errors
/// `--device gpu` in a build without the `gpu` (or `cuda`) feature, or
/// with no GPU adapter (no Vulkan driver).
pub fn device_for(choice: DeviceChoice) -> Result<Device> {
    match choice {
        DeviceChoice::Cpu => Ok(cpu_device()),
        DeviceChoice::Gpu => gpu_device(),
    }
}

/// Makes `choice` the device of every later [`default_device`] call in this
/// process (the CLI's `--device`).
///
/// # Errors
/// As [`device_for`]; the previous choice then stays.
pub fn select_device(choice: DeviceChoice) -> Result<()> {
    let device = device_for(choice)?;
    let mut slot = SELECTED.write().unwrap_or_else(|e| e.into_inner());
    *slot = Some(device);
    Ok(())
}

/// Runs `f` with `device` as this thread's [`default_device`] (tests, and
/// programs that train on two devices at once); the previous one comes
/// back afterwards, even if `f` panics.
pub fn with_device<T>(device: &Device, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Device>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.with(|s| *s.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(SCOPED.with(|s| s.borrow_mut().replace(device.clone())));
    f()
}

/// The device elbo computes on: this thread's [`with_device`], else the
/// process's [`select_device`], else the CPU.
pub fn default_device() -> Device {
    if let Some(device) = SCOPED.with(|s| s.borrow().clone()) {
        return device;
    }
    let slot = SELECTED.read().unwrap_or_else(|e| e.into_inner());
    slot.clone().unwrap_or_else(cpu_device)
}

/// The first GPU: acquired on the first call, the same device (or error)
/// after it, as burn registers a wgpu runtime only once.
///
/// # Errors
/// No `gpu`/`cuda` feature in this build, or no adapter.
pub fn gpu_device() -> Result<Device> {
    static GPU: OnceLock<std::result::Result<Device, String>> = OnceLock::new();
    GPU.get_or_init(acquire_gpu).clone().map_err(Error::invalid)
}

#[cfg(feature = "cuda")]
fn acquire_gpu() -> std::result::Result<Device, String> {
    Ok(Device::cuda(0))
}

/// burn's wgpu backend on the best adapter wgpu finds (a discrete or
/// integrated GPU first; a software Vulkan driver such as Mesa's lavapipe
/// reports itself as a CPU adapter and is taken when nothing else is).
#[cfg(all(feature = "gpu", not(feature = "cuda")))]
fn acquire_gpu() -> std::result::Result<Device, String> {
    use burn::tensor::DeviceKind;
    let best = Device::wgpu_options().init();
    best.or_else(|first| {
        Device::wgpu_options()
            .device_kind(DeviceKind::Cpu)
            .init()
            .map_err(|_| {
                format!(
                    "--device gpu: no GPU adapter ({first}); install a Vulkan driver \
                     (on Debian/Ubuntu: apt-get install mesa-vulkan-drivers) or use --device cpu"
                )
            })
    })
}

#[cfg(not(any(feature = "gpu", feature = "cuda")))]
fn acquire_gpu() -> std::result::Result<Device, String> {
    Err(
        "--device gpu: this elbo was built without the `gpu` feature; \
         rebuild the CLI with its default features (drop --no-default-features), \
         or add features = [\"gpu\"] to your elbo dependency; or use --device cpu"
            .to_string(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse_and_other_names_are_refused() {
        assert_eq!("cpu".parse::<DeviceChoice>().ok(), Some(DeviceChoice::Cpu));
        assert_eq!("gpu".parse::<DeviceChoice>().ok(), Some(DeviceChoice::Gpu));
        let err = "cuda:0"
            .parse::<DeviceChoice>()
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(err.contains("--device") && err.contains("cuda:0"), "{err}");
        assert_eq!(device_for(DeviceChoice::Cpu).ok(), Some(cpu_device()));
    }

    /// Two devices told apart without a GPU: the CPU with and without
    /// autodiff (burn's device equality ignores autodiff, so compare that).
    #[test]
    fn with_device_sets_this_threads_default_and_restores_it() {
        assert!(!default_device().is_autodiff());
        let other = cpu_device().autodiff();
        let inside = with_device(&other, || {
            let on_another_thread = std::thread::spawn(|| default_device().is_autodiff()).join();
            (default_device().is_autodiff(), on_another_thread.ok())
        });
        assert!(inside.0, "this thread sees the scoped device");
        assert_eq!(inside.1, Some(false), "other threads do not");
        assert!(!default_device().is_autodiff(), "restored afterwards");
        let scoped_panic =
            std::panic::AssertUnwindSafe(|| with_device(&other, || panic!("inside")));
        let caught = std::panic::catch_unwind(scoped_panic);
        assert!(caught.is_err());
        assert!(!default_device().is_autodiff(), "restored after a panic");
        assert!(is_cpu(&other) && is_cpu(&default_device()));
    }

    #[cfg(not(any(feature = "gpu", feature = "cuda")))]
    #[test]
    fn the_gpu_without_the_feature_is_an_error_naming_it() {
        let err = gpu_device()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("--device gpu") && err.contains("`gpu` feature"),
            "{err}"
        );
        assert!(select_device(DeviceChoice::Gpu).is_err());
        assert!(is_cpu(&default_device()), "the CPU stays the default");
    }
}
