//! Bad input through the `elbo` binary.

mod data;
mod vae;
