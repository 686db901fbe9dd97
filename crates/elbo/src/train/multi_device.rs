//! Data parallelism over several devices in one process: one shard of the
//! batch per device, each shard's gradient on its own thread, summed per
//! parameter by burn's optimizer (`docs/scaling.md`).
//!
//! burn 0.22 gives the pieces: `Module::fork` copies the model onto another
//! device with fresh autodiff leaves, and `MultiGradientsParams` with
//! `ModuleOptimizer::step_multi` moves each parameter's gradients to one
//! device (`to_device`) and sums them before the update. Its collective
//! `all_reduce` (`burn::tensor::distributed`) runs only on CUDA and burn's
//! remote backend (the wgpu and flex backends have no device transport),
//! so this path reduces through `to_device`, which every pair of devices
//! supports: two GPUs, or the CPU beside a GPU.

use burn::optim::{GradientsParams, MultiGradientsParams};
use burn::tensor::Device;

use super::{Batch, StepError, TrainConfig, Trainable};
use crate::Error;

/// The gradients of `model`'s objective on `batch` split into one shard of
/// contiguous rows per device, computed in parallel, for
/// `ModuleOptimizer::step_multi`; with the summed (reconstruction, KL).
///
/// Their sum is the batch's gradient for an objective summed over images
/// (the VAE, when its noise is drawn for the whole batch and split by rows
/// as `families::nets::data_parallel` does); for an objective averaged over
/// the rows of a call (the pixel models, NADE: [`super::nll_gradients`]) it
/// is the number of devices times the batch's gradient with equal shards.
///
/// # Errors
/// Fewer rows than devices, a shard's non-finite loss or failed read-back,
/// or a panic on a device's thread.
pub fn shard_gradients<M: Trainable>(
    model: &M,
    batch: &Batch<'_>,
    train: &TrainConfig,
    devices: &[Device],
) -> Result<(MultiGradientsParams, (f64, f64)), StepError> {
    let (rows, k) = (batch.len(), devices.len());
    if k == 0 || rows < k {
        return Err(StepError::Failed(Error::invalid(format!(
            "a batch of {rows} rows cannot be split over {k} devices"
        ))));
    }
    let shards: Vec<(M, Batch<'_>)> = devices
        .iter()
        .enumerate()
        .map(|(i, device)| {
            let (start, end) = (i * rows / k, (i + 1) * rows / k);
            let shard = Batch {
                rows: batch.rows[start * batch.width..end * batch.width].to_vec(),
                labels: batch.labels.as_ref().map(|l| l[start..end].to_vec()),
                ..*batch
            };
            (model.clone().fork(&device.clone().autodiff()), shard)
        })
        .collect();
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = shards
            .into_iter()
            .map(|(m, shard)| scope.spawn(move || m.gradients(&shard, train)))
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let mut grads = MultiGradientsParams::default();
    let (mut recon, mut kl) = (0.0, 0.0);
    for (result, device) in results.into_iter().zip(devices) {
        let (g, (r, l)): (GradientsParams, _) = result.map_err(|_| {
            StepError::Failed(Error::internal("a device's gradient thread panicked"))
        })??;
        grads.grads.push((g, device.clone()));
        (recon, kl) = (recon + r, kl + l);
    }
    Ok((grads, (recon, kl)))
}
