//! Every random stream of a run is a pure function of (seed, epoch, step,
//! purpose). Resuming therefore needs no RNG state beyond the position, and
//! 5 + 5 epochs replay exactly the streams of 10.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// What a random stream is for; keeps the streams independent.
#[derive(Debug, Clone, Copy)]
#[repr(u64)]
pub enum Purpose {
    /// Parameter initialization.
    Init = 1,
    /// The epoch's shuffle.
    Shuffle = 2,
    /// The epoch's dynamic binarization.
    Binarize = 3,
    /// The reparameterization noise of one training step.
    Noise = 4,
    /// The noise of the test pass after an epoch.
    TestNoise = 5,
}

/// SplitMix64's finalizer: a well-mixed 64-bit hash.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of stream (`seed`, `epoch`, `step`, `purpose`).
pub fn stream_seed(seed: u64, epoch: usize, step: usize, purpose: Purpose) -> u64 {
    let mut h = mix(seed ^ 0x9e37_79b9_7f4a_7c15);
    for v in [epoch as u64, step as u64, purpose as u64] {
        h = mix(h ^ v.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    }
    h
}

/// A generator for stream (`seed`, `epoch`, `step`, `purpose`).
pub fn rng(seed: u64, epoch: usize, step: usize, purpose: Purpose) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, epoch, step, purpose))
}

/// `n` draws from N(0, 1).
pub fn normals(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<f32> {
    use rand::RngExt;
    (0..n)
        .map(|_| rng.sample(rand_distr::StandardNormal))
        .collect()
}

/// A uniformly random permutation of `0..n` (Fisher–Yates).
pub fn permutation(rng: &mut Xoshiro256PlusPlus, n: usize) -> Vec<usize> {
    use rand::seq::SliceRandom;
    let mut p: Vec<usize> = (0..n).collect();
    p.shuffle(rng);
    p
}
