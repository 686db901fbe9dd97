//! elbo: likelihood-based generative models of images.
pub mod data;
pub mod error;

pub use error::{Error, Result};
