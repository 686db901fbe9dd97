//! The model families. One file per model; each has a typed config that
//! builds it and is saved next to its weights.

pub mod activation;
pub mod autoencoder;
pub mod conv;
pub mod fastmath;
pub mod fused;
pub mod fused_dense;
pub mod fused_tanh;
pub(crate) mod gemm;
pub(crate) mod init;
pub mod likelihood;
pub mod nade;
pub mod nets;
pub mod pixel;
pub mod vae;

pub use activation::Activation;
pub use autoencoder::Autoencoder;
pub use likelihood::Likelihood;
pub use nets::{Arch, Decoder, Encoder};
pub use vae::{Vae, VaeConfig, VaeLoss};
