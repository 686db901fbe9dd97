//! The fast sampler (placeholder until the cached engine lands).

use super::PixelNet;
use super::sampler::Request;
use crate::Result;

/// Generates like the naive loop.
pub fn generate(net: &PixelNet, req: &Request) -> Result<Vec<f32>> {
    super::sampler::generate(net, req, super::sampler::Method::Naive)
}
