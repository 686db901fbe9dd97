//! Log-likelihood estimates by importance sampling: the IWAE bound (Burda,
//! Grosse & Salakhutdinov 2016, eq. 8),
//!
//! ```text
//! log p(x) ≥ L_K = log (1/K) Σ_k p(x | z_k) p(z_k) / q(z_k | x),  z_k ~ q(z | x),
//! ```
//!
//! which tightens as K grows (L_1 is the ELBO, L_∞ = log p(x)). The log
//! weights are accumulated with a running log-sum-exp over chunks of samples,
//! so memory is bounded by [`IMAGES_PER_PASS`] × [`SAMPLES_PER_PASS`] decoded
//! images whatever K is.

use burn::tensor::{Tensor, TensorData};

use super::{model_device, to_vec};
use crate::models::Vae;
use crate::seeds::{self, Purpose};
use crate::{Error, Result};

/// Images encoded per pass.
pub const IMAGES_PER_PASS: usize = 100;
/// Importance samples decoded per image per pass.
pub const SAMPLES_PER_PASS: usize = 50;

/// −L_K for every image of `pixels` (`dim` values each), with `k` samples
/// from q(z | x) per image, the noise drawn from streams seeded by `seed`.
pub fn iwae_nll_per_image(
    model: &Vae,
    pixels: &[f32],
    dim: usize,
    k: usize,
    seed: u64,
) -> Result<Vec<f64>> {
    if k == 0 {
        return Err(Error::invalid(
            "the number of importance samples must be positive",
        ));
    }
    let n = pixels.len() / dim.max(1);
    let mut out = Vec::with_capacity(n);
    let stage = crate::progress::Stage::start(&format!("IWAE bound, K = {k}"), n, "images");
    for (pass, start) in (0..n).step_by(IMAGES_PER_PASS).enumerate() {
        let rows = IMAGES_PER_PASS.min(n - start);
        let x = &pixels[start * dim..(start + rows) * dim];
        out.extend(batch_nll(model, x, rows, dim, k, seed, pass)?);
        stage.inc(rows);
    }
    stage.finish();
    Ok(out)
}

/// −L_K for `rows` images, accumulating log weights chunk by chunk.
fn batch_nll(
    model: &Vae,
    x: &[f32],
    rows: usize,
    dim: usize,
    k: usize,
    seed: u64,
    pass: usize,
) -> Result<Vec<f64>> {
    let device = model_device(model);
    let latent = model.mean.weight.dims()[1];
    let xt = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [rows, dim]), &device); // [rows, dim]
    let (mean, log_var) = model.encode(xt.clone());
    let mut acc = vec![LogSumExp::default(); rows];
    for (chunk, first) in (0..k).step_by(SAMPLES_PER_PASS).enumerate() {
        let s = SAMPLES_PER_PASS.min(k - first);
        let mut rng = seeds::rng(seed, pass, chunk, Purpose::TestNoise);
        let eps = Tensor::<3>::from_data(
            TensorData::new(
                seeds::normals(&mut rng, rows * s * latent),
                [rows, s, latent],
            ),
            &device,
        ); // [rows, s, latent]
        let log_w = model.log_weights(xt.clone(), mean.clone(), log_var.clone(), eps); // [rows, s]
        let log_w = to_vec(log_w)?;
        for (r, a) in acc.iter_mut().enumerate() {
            log_w[r * s..(r + 1) * s]
                .iter()
                .for_each(|&w| a.push(f64::from(w)));
        }
    }
    Ok(acc.iter().map(|a| -(a.value() - (k as f64).ln())).collect())
}

/// A running log Σ exp(v), stable for any magnitudes.
#[derive(Debug, Clone, Copy)]
struct LogSumExp {
    max: f64,
    sum: f64,
}

impl Default for LogSumExp {
    fn default() -> Self {
        LogSumExp {
            max: f64::NEG_INFINITY,
            sum: 0.0,
        }
    }
}

impl LogSumExp {
    fn push(&mut self, v: f64) {
        if v > self.max {
            self.sum = self.sum * (self.max - v).exp() + 1.0;
            self.max = v;
        } else {
            self.sum += (v - self.max).exp();
        }
    }

    fn value(&self) -> f64 {
        self.max + self.sum.ln()
    }
}

#[cfg(test)]
mod tests {
    use super::LogSumExp;

    #[test]
    fn running_log_sum_exp_is_stable_and_exact() {
        let values = [-1000.0, -1001.5, -999.25, -1003.0];
        let mut a = LogSumExp::default();
        values.iter().for_each(|&v| a.push(v));
        let m = -999.25f64;
        let want = m + values.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        assert!((a.value() - want).abs() < 1e-12);
    }
}
