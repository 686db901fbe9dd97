//! The VAE: loss terms and gradients against independent references, and the
//! convolutional, conditional and plain-autoencoder architectures.

mod architectures;
mod numerics;
