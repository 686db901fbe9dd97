//! The GPU device (`--device gpu`, the `gpu` feature: burn's wgpu backend)
//! against the CPU one. In CI it runs on Mesa's lavapipe, a Vulkan driver
//! that executes the same WGSL compute shaders on the CPU, so what is
//! compared here is burn's GPU code path (shaders, buffers, read-back, the
//! composite formulas the fused CPU kernels fall back to), not GPU hardware.
//!
//! Tolerances: both devices compute in f32 but sum in different orders
//! (rayon chunks and faer's GEMM on the CPU, workgroup reductions on the
//! GPU) and the CPU uses polynomial exp/tanh (`kernels::fastmath`), so
//! values agree to a relative 1e-4 (losses, one step's parameters) and
//! gradients to 1e-3 relative to the tensor's largest entry; after an
//! epoch of Adam steps the test loss agrees to 0.5%.

mod checkpoints;
mod multi_device;
mod steps;
mod training;

use burn::tensor::Device;
use elbo::data::{DataSpec, PixelMode};
use elbo::families::{ModelConfig, RunConfig};
use elbo::models::pixel::{PixelConfig, RecurrentLayer};
use elbo::models::{Arch, VaeConfig};
use elbo::train::{DataConfig, TrainConfig};

/// The GPU device, or `None` (the test is skipped with a note) on a
/// machine without a GPU adapter or a software Vulkan driver, unless
/// `ELBO_REQUIRE_GPU=1` (set by `.ci/run`, which installs lavapipe): then a
/// missing adapter fails the test rather than passing unseen.
pub fn gpu() -> Option<Device> {
    match elbo::device::gpu_device() {
        Ok(device) => Some(device),
        Err(e) => {
            assert!(
                !gpu_required(),
                "ELBO_REQUIRE_GPU=1 but there is no GPU adapter: {e}"
            );
            eprintln!("note: no GPU adapter ({e}); the GPU test is skipped");
            None
        }
    }
}

/// Whether `ELBO_REQUIRE_GPU=1`: a GPU test that cannot run fails.
pub fn gpu_required() -> bool {
    std::env::var("ELBO_REQUIRE_GPU").as_deref() == Ok("1")
}

/// The networks compared: the VAE (MLP and conv), the PixelCNN, the Gated
/// PixelCNN, the Row LSTM and the Diagonal BiLSTM, small enough for a
/// software driver.
pub fn models() -> Vec<(&'static str, ModelConfig)> {
    let mlp = VaeConfig {
        hidden: vec![32],
        latent: 4,
        ..VaeConfig::new(0)
    };
    let conv = VaeConfig {
        arch: Arch::Conv,
        channels: vec![4, 8],
        latent: 4,
        ..VaeConfig::new(0)
    };
    let mut pixel = PixelConfig::new();
    (pixel.hidden, pixel.layers, pixel.output_hidden) = (4, 1, 8);
    let diagonal = PixelConfig {
        layer: Some(RecurrentLayer::DiagonalBiLstm),
        ..pixel.clone()
    };
    vec![
        ("vae-mlp", ModelConfig::Vae(mlp)),
        ("vae-conv", ModelConfig::Vae(conv)),
        ("pixelcnn", ModelConfig::PixelCnn(pixel.clone())),
        // The fused tanh·σ gate's composite fallback.
        ("gated-pixelcnn", ModelConfig::GatedPixelCnn(pixel.clone())),
        // The fused LSTM cell's composite fallback, by rows and by diagonals.
        ("row-lstm", ModelConfig::PixelRnn(pixel)),
        ("diagonal-bilstm", ModelConfig::PixelRnn(diagonal)),
    ]
}

/// `model` on the embedded digits (binarized for the pixel models), with
/// the given epochs and batch size.
pub fn config(model: ModelConfig, epochs: usize, batch_size: usize) -> RunConfig {
    let mut data = DataConfig::new(DataSpec::Digits);
    if !matches!(model, ModelConfig::Vae(_)) {
        data.pixels = PixelMode::Binary;
    }
    RunConfig {
        model,
        data,
        train: TrainConfig {
            epochs,
            batch_size,
            lr: 1e-3,
            seed: 5,
            ..TrainConfig::default()
        },
    }
}

/// The largest magnitude in `v`.
pub fn max_abs(v: &[f32]) -> f32 {
    v.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Asserts `|a − b| ≤ tol` element by element.
pub fn assert_close(what: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol,
            "{what}[{i}]: gpu {x} vs cpu {y} (tolerance {tol})"
        );
    }
}
