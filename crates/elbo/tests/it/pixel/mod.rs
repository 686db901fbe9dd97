//! Autoregressive pixel models: causality of every mask and the samplers.

mod causality;
mod sampling;
