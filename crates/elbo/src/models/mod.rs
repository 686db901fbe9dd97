//! The model families. One file per model; each has a typed config that
//! builds it and is saved next to its weights.

pub mod activation;
pub mod fastmath;
pub mod fused;
pub mod fused_tanh;
pub mod likelihood;
pub mod pixel;
pub mod vae;

pub use activation::Activation;
pub use likelihood::Likelihood;
pub use vae::{Vae, VaeConfig, VaeLoss};
