//! The importance-weighted bound: the estimate of −log p(x), its convergence
//! to an exact likelihood, and the broadcast BCE it scores samples with.

mod bce_broadcast;
mod estimate;
mod linear_gaussian;
