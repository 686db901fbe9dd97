//! elbo: likelihood-based generative models of images.
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
pub mod export;
pub mod fsutil;
pub mod image;
pub mod interop;
pub mod models;
pub mod pixel_run;
pub mod plot;
pub mod report;
pub mod run;
pub mod train;

pub use error::{Error, Result};
