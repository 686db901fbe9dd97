//! Data parallelism across CPU threads for the VAE and the autoencoder.
//!
//! Why: burn's flex backend parallelizes inside each op, which pays off for
//! big convolutions but hardly for the matmuls of a small MLP. Measured on
//! Burda et al.'s 784-200-200-50 tanh VAE (batch 100, release build, this
//! project's 2-core machine): 4.45 s per MNIST epoch on 1 thread, 3.85 s on 2.
//! Splitting each batch into one shard per thread, each shard with its own
//! autodiff graph (`Module::fork`, which gives the copy fresh leaf nodes, so
//! burn's graph client does not merge the two graphs under one mutex), and
//! adding the shards' gradients makes the second core do whole backward
//! passes instead. The objective is a sum over images, so the summed
//! gradient is the batch's gradient: only the summation order changes.
//!
//! Free bits is the exception: its floor applies to a KL averaged over the
//! batch, which does not split into a sum over shards, so it runs unsharded.

use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::{Device, Tensor, s};
use rayon::prelude::*;

use super::objective::TrainModel;
use crate::train::{StepError, TrainConfig};

/// Fewer rows than this per shard and the threads' overhead outweighs the gain.
const MIN_SHARD_ROWS: usize = 16;

/// How many shards a batch of `rows` is split into on `device`: one per CPU
/// thread (always 1 on a GPU, which parallelizes inside each op, and with
/// free bits, see the module notes).
pub(crate) fn shard_count(rows: usize, config: &TrainConfig, device: &Device) -> usize {
    if !crate::device::is_cpu(device) || config.free_bits > 0.0 {
        return 1;
    }
    rayon::current_num_threads()
        .min(rows / MIN_SHARD_ROWS)
        .max(1)
}

/// The gradient of `model`'s objective on rows `x` with noise `eps` (`width`
/// values per row), computed in `shards` parts on separate threads and
/// summed; with the batch's summed (reconstruction, KL), or the first
/// non-finite loss found (no gradient is then returned).
pub(crate) fn gradients<M: TrainModel>(
    model: &M,
    x: Tensor<2>,
    eps: Vec<f32>,
    beta: f64,
    config: &TrainConfig,
    shards: usize,
) -> Result<(GradientsParams, (f64, f64)), StepError> {
    if shards <= 1 {
        return shard_gradients(model, x, eps, beta, config);
    }
    let rows = x.dims()[0];
    let width = eps.len() / rows.max(1);
    let device = x.device();
    let parts: Vec<_> = (0..shards)
        .map(|i| {
            let (start, end) = (i * rows / shards, (i + 1) * rows / shards);
            let xi = x.clone().slice(s![start..end, ..]); // [end - start, input]
            let ei = eps[start * width..end * width].to_vec();
            (model.clone().fork(&device), xi, ei)
        })
        .collect();
    // `collect` keeps shard order, so the sum below is reproducible.
    let results: Vec<_> = parts
        .into_par_iter()
        .map(|(m, xi, ei)| shard_gradients(&m, xi, ei, beta, config))
        .collect();
    let mut acc = GradientsAccumulator::<M>::new();
    let (mut recon, mut kl) = (0.0, 0.0);
    for result in results {
        let (grads, (r, k)) = result?;
        acc.accumulate(model, grads);
        (recon, kl) = (recon + r, kl + k);
    }
    Ok((acc.grads(), (recon, kl)))
}

/// One shard's gradient (keyed by parameter id, which `fork` keeps) and its
/// summed (reconstruction, KL).
fn shard_gradients<M: TrainModel>(
    model: &M,
    x: Tensor<2>,
    eps: Vec<f32>,
    beta: f64,
    config: &TrainConfig,
) -> Result<(GradientsParams, (f64, f64)), StepError> {
    let (recon, kl, total) = model.objective(x, eps, beta, config);
    let parts = Tensor::cat(vec![recon.detach(), kl.detach()], 0)
        .into_data()
        .convert::<f64>();
    // A failed read-back is an error of its own, not a NaN loss.
    let parts = parts.as_slice::<f64>().map(|s| (s[0], s[1])).map_err(|e| {
        StepError::Failed(crate::Error::internal(format!(
            "tensor read-back failed: {e:?}"
        )))
    })?;
    if !(parts.0 + parts.1).is_finite() {
        return Err(StepError::NonFinite(parts.0 + parts.1));
    }
    Ok((GradientsParams::from_grads(total.backward(), model), parts))
}

#[cfg(test)]
mod tests {
    use burn::module::{Module, ModuleVisitor, Param};
    use burn::tensor::{Device, TensorData};
    use rand::SeedableRng;

    use super::*;
    use crate::models::{Activation, VaeConfig};
    use crate::seeds;

    /// Every parameter's gradient, flattened, in visiting order.
    struct Collect<'a>(&'a GradientsParams, Vec<Vec<f32>>);

    impl ModuleVisitor for Collect<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let g = self
                .0
                .get::<D>(param.id)
                .expect("every parameter has a gradient");
            self.1.push(
                g.into_data()
                    .convert::<f32>()
                    .try_into_vec::<f32>()
                    .unwrap(),
            );
        }
    }

    fn config(free_bits: f64) -> TrainConfig {
        TrainConfig {
            free_bits,
            ..TrainConfig::default()
        }
    }

    fn grads_with(shards: usize) -> (Vec<Vec<f32>>, (f64, f64)) {
        let config = config(0.0);
        let mut c = VaeConfig::new(64);
        (c.hidden, c.latent, c.activation) = (vec![32, 24], 5, Activation::Tanh);
        let device = Device::flex().autodiff();
        let model = c.init(&device, 3);
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(5);
        let rows = 48;
        let x: Vec<f32> = seeds::normals(&mut rng, rows * 64)
            .iter()
            .map(|v| f32::from(u8::from(*v > 0.0)))
            .collect();
        let x = Tensor::from_data(TensorData::new(x, [rows, 64]), &device); // [rows, 64]
        let eps = seeds::normals(&mut rng, rows * 5);
        let (grads, parts) = gradients(&model, x, eps, 0.7, &config, shards)
            .unwrap_or_else(|_| panic!("the step fails"));
        let mut collect = Collect(&grads, Vec::new());
        model.visit(&mut collect);
        (collect.1, parts)
    }

    #[test]
    fn sharded_gradient_equals_the_whole_batch_gradient() {
        let (whole, whole_parts) = grads_with(1);
        for shards in [2, 3] {
            let (split, parts) = grads_with(shards);
            assert_eq!(whole.len(), split.len());
            assert!((parts.0 - whole_parts.0).abs() < 1e-3 * whole_parts.0.abs());
            assert!((parts.1 - whole_parts.1).abs() < 1e-3 * whole_parts.1.abs().max(1.0));
            for (a, b) in whole.iter().zip(&split) {
                let scale = a.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
                for (u, v) in a.iter().zip(b) {
                    assert!(
                        (u - v).abs() <= 1e-4 * scale,
                        "{u} vs {v} ({shards} shards)"
                    );
                }
            }
        }
    }

    #[test]
    fn free_bits_and_tiny_batches_are_not_split() {
        let cpu = Device::flex().autodiff();
        assert_eq!(shard_count(100, &config(0.5), &cpu), 1);
        assert_eq!(shard_count(MIN_SHARD_ROWS - 1, &config(0.0), &cpu), 1);
    }
}
