//! elbo: likelihood-based generative models of images.
//!
//! Layers, lowest first; a module imports only from layers below it (see
//! `docs/architecture.md`): `error`, `fsutil`, `device`, `seeds`, `memory` · `kernels`
//! · `data`, `image`, `plot` · `models`, `mixture` · `folder` · `eval` ·
//! `train` · `families` · `run` · `report`, `export`, `interop`.
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
pub mod export;
pub mod families;
pub mod folder;
pub mod fsutil;
pub mod image;
pub mod interop;
pub mod kernels;
pub mod memory;
pub mod mixture;
pub mod models;
pub mod plot;
pub mod progress;
pub mod report;
pub mod run;
pub mod seeds;
pub mod serve;
pub mod train;

pub use error::{Error, Result};

/// The README's Rust example, compiled with the doctests so that it keeps
/// up with the library.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExamples;
