//! Autoregressive pixel models: causality of every mask, the samplers and
//! the per-pixel conditionals.

mod causality;
mod conditionals;
mod diagonal_reference;
mod sampling;
