//! The integration tests of the `elbo` library, linked into one test binary
//! (one link of burn instead of one per file). One module per subject; the
//! golden files they compare against are in `tests/golden/`.

mod common;
mod compat;
mod data;
mod fuzz;
#[cfg(feature = "gpu")]
mod gpu;
mod interop;
mod iwae;
mod layers;
mod mixture;
mod objectives;
mod pixel;
mod plot;
mod report;
mod run_ops;
mod serve;
mod train;
mod vae;
